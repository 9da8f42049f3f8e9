from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.services.org_data import MAX_KEY_LENGTH, MAX_VALUE_LENGTH
from app.services.validation import MAX_NAME_LENGTH, MAX_SLUG_LENGTH
from app.web.forms import BaseForm


class CreateOrgForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    slug = StringField(
        "Address",
        validators=[Optional(), Length(max=MAX_SLUG_LENGTH)],
        description="Letters, digits and hyphens; leave empty to derive it from the name.",
    )
    submit = SubmitField("Create organization")


class UpdateOrgForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    slug = StringField(
        "Address",
        validators=[DataRequired(), Length(max=MAX_SLUG_LENGTH)],
        description="Old addresses keep redirecting here after a change.",
    )
    logo_url = StringField(
        "Logo URL", validators=[Optional(), Length(max=500)], description="An https:// image."
    )
    submit = SubmitField("Save changes")


class KeyValueRow(Form):
    key = StringField("Key", validators=[Length(max=MAX_KEY_LENGTH)])
    value = StringField("Value", validators=[Length(max=MAX_VALUE_LENGTH)])


class UpdateOrgDataForm(BaseForm):
    """One of an org's JSON documents as key/value rows."""

    field_name = HiddenField()
    rows = FieldList(FormField(KeyValueRow), min_entries=0, max_entries=100)
    submit = SubmitField("Save")


class MoveOrgForm(BaseForm):
    parent = SelectField("New parent", choices=[], validate_choice=True)
    submit = SubmitField("Move organization")


class SwitchOrgForm(BaseForm):
    org = HiddenField(validators=[DataRequired(), Length(max=40)])
