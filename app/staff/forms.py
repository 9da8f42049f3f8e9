from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import BaseForm


class StaffSignInForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Sign in")


class CreateTenantForm(BaseForm):
    name = StringField("Tenant name", validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        "Slug",
        validators=[Optional(), Length(max=60)],
        description="The tenant's address: /t/<slug>/. Leave empty to derive it from the name.",
    )
    owner_name = StringField("Owner name", validators=[Optional(), Length(max=120)])
    owner_email = EmailField("Owner email", validators=[DataRequired(), Length(max=254)])
    owner_password = PasswordField(
        "Owner password",
        validators=[Optional(), Length(min=10, max=1024)],
        description="Leave empty to email the owner a link to choose one (recommended).",
    )
    submit = SubmitField("Create tenant")


class ConfirmForm(BaseForm):
    """A button-only POST (suspend, reactivate, sign out); the CSRF token is the point."""

    submit = SubmitField("Confirm")
