from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.web.forms import BaseForm

OWNER_CONFIRMED = "yes"


class ChangeRoleForm(BaseForm):
    """A member row's Role select and its Save button; which roles the viewer may give is
    the service's call. Granting Owner is asked again: ``confirm_owner`` says it was."""

    role = StringField("Role", validators=[DataRequired("Choose a role."), Length(max=40)])
    confirm_owner = HiddenField()

    @property
    def owner_confirmed(self) -> bool:
        return self.confirm_owner.data == OWNER_CONFIRMED


class UndoRemovalForm(BaseForm):
    """The Undo button after a removal: it carries the removal's signed snapshot."""

    token = HiddenField(validators=[DataRequired(), Length(max=2000)])


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
