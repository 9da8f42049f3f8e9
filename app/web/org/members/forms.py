from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.web.forms import BaseForm


class ChangeRoleForm(BaseForm):
    """A member row's Role select; which roles the viewer may give is the service's call."""

    role = StringField("Role", validators=[DataRequired("Choose a role."), Length(max=40)])


class TransferOwnershipForm(BaseForm):
    # The service decides who may receive ownership; the list only helps to pick.
    user = SelectField(
        "New owner",
        choices=[],
        validate_choice=False,
        validators=[DataRequired("Choose a member.")],
    )
    confirm = BooleanField(
        "I understand I will become an admin",
        validators=[DataRequired("Tick the box to confirm.")],
    )
    submit = SubmitField("Transfer ownership")
