from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.credentials import MAX_PASSWORD_LENGTH
from app.services.validation import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH
from app.web.forms import BaseForm


class UpdateNameForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    submit = SubmitField("Save name")


class ChangeEmailForm(BaseForm):
    email = EmailField(
        "New email address",
        validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)],
        description="We email a link to it; your address changes when you open it.",
    )
    password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    submit = SubmitField("Change email address")


class CancelEmailChangeForm(BaseForm):
    submit = SubmitField("Keep my current address")


class ResendVerificationForm(BaseForm):
    submit = SubmitField("Resend the link")


class ConfirmEmailForm(BaseForm):
    submit = SubmitField("Confirm email address")


class SwitchAccountForm(BaseForm):
    submit = SubmitField("Sign out and continue")
