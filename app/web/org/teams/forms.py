from wtforms import EmailField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.services.teams import MAX_NAME_LENGTH
from app.services.validation import MAX_EMAIL_LENGTH
from app.web.forms import BaseForm


class CreateTeamForm(BaseForm):
    name = StringField("Team name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    submit = SubmitField("Create team")


class RenameTeamForm(BaseForm):
    name = StringField("Team name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    submit = SubmitField("Rename")


class AddTeamMemberForm(BaseForm):
    email = EmailField(
        "Member's email",
        validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)],
        description="Someone who is already a member of this organization.",
    )
    submit = SubmitField("Add to team")
