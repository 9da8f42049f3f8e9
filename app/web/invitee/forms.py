from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.credentials import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.services.validation import MAX_NAME_LENGTH
from app.web.forms import BaseForm

TOO_LONG_PASSWORD = f"Use at most {MAX_PASSWORD_LENGTH:,} characters."


class AcceptWithSignUpForm(BaseForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter your name."),
            Length(max=MAX_NAME_LENGTH, message=f"Use at most {MAX_NAME_LENGTH} characters."),
        ],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=MIN_PASSWORD_LENGTH, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."
            ),
            Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG_PASSWORD),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    submit = SubmitField("Accept invitation")


class AcceptWithSignInForm(BaseForm):
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("Enter your password."),
            Length(max=MAX_PASSWORD_LENGTH, message=TOO_LONG_PASSWORD),
        ],
    )
    submit = SubmitField("Sign in and accept")
