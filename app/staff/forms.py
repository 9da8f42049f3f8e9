from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.forms import BaseForm
from app.models import StaffRole


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


class ChangeMemberRoleForm(BaseForm):
    """A membership row's Role select on the user view; the service decides what's allowed."""

    role = StringField("Role", validators=[DataRequired("Choose a role."), Length(max=40)])
    submit = SubmitField("Change role")


class ViewAsUserForm(BaseForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Say why you need to see what this user sees."), Length(max=300)],
        description="Recorded in the tenant's audit log. Read-only, for 30 minutes.",
    )
    submit = SubmitField("View as this user")


class CreateStaffForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=10, max=1024)],
        description="At least 10 characters; hand it over in person or in a password manager.",
    )
    role = SelectField(
        "Role",
        choices=[
            SelectChoice(StaffRole.SUPPORT, "Support"),
            SelectChoice(StaffRole.SUPERADMIN, "Superadmin"),
        ],
        default=StaffRole.SUPPORT,
    )
    submit = SubmitField("Create staff account")
