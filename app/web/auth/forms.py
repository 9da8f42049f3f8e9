from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.credentials import MAX_PASSWORD_LENGTH
from app.services.validation import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH
from app.web.forms import NEW_PASSWORD_HINT, BaseForm, new_password_rules


class SignInForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    next = HiddenField()
    submit = SubmitField("Sign in")


class SignUpForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    password = PasswordField(
        "Password",
        validators=new_password_rules(),
        description=NEW_PASSWORD_HINT,
    )
    submit = SubmitField("Create account")


class SignOutForm(BaseForm):
    submit = SubmitField("Sign out")


class RequestPasswordResetForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    submit = SubmitField("Email me a link")


class ResetPasswordForm(BaseForm):
    password = PasswordField(
        "New password",
        validators=new_password_rules(),
        description=NEW_PASSWORD_HINT,
    )
    submit = SubmitField("Set password")
