from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.forms import BaseForm


class AcceptWithSignUpForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=10, max=1024)],
        description="At least 10 characters.",
    )
    submit = SubmitField("Accept invitation")


class AcceptWithSignInForm(BaseForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Sign in and accept")
