from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm


class SignInForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField("Sign in")


class SignUpForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=10, max=1024)],
        description="At least 10 characters.",
    )
    submit = SubmitField("Create account")


class SignOutForm(BaseForm):
    submit = SubmitField("Sign out")


class RequestPasswordResetForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Email me a link")


class ResetPasswordForm(BaseForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=10, max=1024)],
        description="At least 10 characters.",
    )
    submit = SubmitField("Set password")
