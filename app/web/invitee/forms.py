from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.credentials import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.services.validation import MAX_NAME_LENGTH
from app.web.forms import BaseForm


class AcceptWithSignUpForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description="At least 10 characters.",
    )
    submit = SubmitField("Accept invitation")


class AcceptWithSignInForm(BaseForm):
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    submit = SubmitField("Sign in and accept")
