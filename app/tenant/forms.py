from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import Length

from app.forms import BaseForm


class UpdateTenantRulesForm(BaseForm):
    allow_signup = BooleanField("Anyone can sign up")
    signup_email_domains = TextAreaField(
        "Sign-up limited to these email domains",
        validators=[Length(max=2000)],
        description="One per line or separated by commas, e.g. example.com. Empty: any domain.",
    )
    personal_orgs = BooleanField("Give every new user a personal organization")
    members_can_create_orgs = BooleanField("Members may create top-level organizations")
    submit = SubmitField("Save settings")
