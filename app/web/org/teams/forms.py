from wtforms import EmailField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.web.forms import BaseForm


class CreateTeamForm(BaseForm):
    name = StringField("Team name", validators=[DataRequired(), Length(max=80)])
    submit = SubmitField("Create team")


class RenameTeamForm(BaseForm):
    name = StringField("Team name", validators=[DataRequired(), Length(max=80)])
    submit = SubmitField("Rename")


class AddTeamMemberForm(BaseForm):
    email = EmailField(
        "Member's email",
        validators=[DataRequired(), Length(max=254)],
        description="Someone who is already a member of this organization.",
    )
    submit = SubmitField("Add to team")
