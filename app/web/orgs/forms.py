from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.services.org_data import MAX_KEY_LENGTH, MAX_VALUE_LENGTH
from app.services.validation import MAX_NAME_LENGTH, MAX_SLUG_LENGTH
from app.web.forms import BaseForm

MAX_LOGO_URL_LENGTH = 500


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit:,} characters.")


class CreateOrgForm(BaseForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter a name."), _at_most(MAX_NAME_LENGTH)]
    )
    slug = StringField(
        "Address",
        validators=[Optional(), _at_most(MAX_SLUG_LENGTH)],
        description="Letters, digits and hyphens; leave empty to derive it from the name.",
    )
    submit = SubmitField("Create organization")


class UpdateOrgForm(BaseForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter a name."), _at_most(MAX_NAME_LENGTH)]
    )
    slug = StringField(
        "Address",
        validators=[DataRequired("Enter an address."), _at_most(MAX_SLUG_LENGTH)],
        description="Lowercase letters, digits and hyphens. "
        "Old addresses keep redirecting here after a change.",
    )
    logo_url = StringField(
        "Logo URL",
        validators=[Optional(), _at_most(MAX_LOGO_URL_LENGTH)],
        description="An https:// image address. Empty: no logo.",
    )
    submit = SubmitField("Save changes")


class KeyValueRow(Form):
    key = StringField("Key", validators=[_at_most(MAX_KEY_LENGTH)])
    value = StringField("Value", validators=[_at_most(MAX_VALUE_LENGTH)])


class UpdateOrgDataForm(BaseForm):
    """One of an org's JSON documents as key/value rows."""

    field_name = HiddenField()
    rows = FieldList(FormField(KeyValueRow), min_entries=0, max_entries=100)
    submit = SubmitField("Save")


class MoveOrgForm(BaseForm):
    parent = SelectField(
        "New parent",
        choices=[],
        validate_choice=False,  # the service decides where it may go, and says why not
        description="It moves with everything below it. Who can see and manage it changes: "
        "roles held in the new parent and above it hold here too, those of the old one no "
        "longer do.",
    )
    submit = SubmitField("Move organization")


class DeleteOrgForm(BaseForm):
    """Deleting asks for the org's name, typed: the one step nobody takes by accident."""

    confirm_name = StringField(
        "Type the organization's name to confirm",
        validators=[DataRequired("Type the organization's name."), _at_most(MAX_NAME_LENGTH)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField("Delete this organization")

    def __init__(self, *args, org_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.org_name = org_name
        self.confirm_name.description = f"Its name is “{org_name}”, exactly as written here."

    def validate_confirm_name(self, field: StringField) -> None:
        if (field.data or "").strip() != self.org_name:
            raise ValidationError(f"That is not its name: type “{self.org_name}” exactly.")


class SwitchOrgForm(BaseForm):
    org = HiddenField(validators=[DataRequired(), Length(max=40)])
