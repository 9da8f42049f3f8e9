from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.policy import KEY_PERMISSION_LABELS, PERMISSION_LABELS
from app.services import api_keys, roles
from app.services.access_tokens import MAX_LIFETIME_MINUTES, MIN_LIFETIME_MINUTES
from app.services.api_keys import MAX_EXPIRY_DAYS
from app.web.forms import BaseForm


class UpdateTenantRulesForm(BaseForm):
    allow_signup = BooleanField("Anyone can sign up")
    signup_email_domains = TextAreaField(
        "Sign-up limited to these email domains",
        validators=[Length(max=2000)],
        description="One per line or separated by commas, e.g. example.com. Empty: any domain.",
    )
    personal_orgs = BooleanField("Give every new user a personal organization")
    members_can_create_orgs = BooleanField("Members may create top-level organizations")
    seat_limit = IntegerField(
        "Members per organization, at most",
        validators=[Optional(), NumberRange(min=1, max=1_000_000)],
        description="Empty: no limit.",
    )
    submit = SubmitField("Save settings")


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoleForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=roles.MAX_NAME_LENGTH)])
    key = StringField(
        "Key",
        validators=[DataRequired(), Length(max=roles.MAX_KEY_LENGTH)],
        description="Used by the API and in tokens, e.g. billing_manager. It can't change later.",
    )
    description = StringField(
        "Description", validators=[Optional(), Length(max=roles.MAX_DESCRIPTION_LENGTH)]
    )
    permissions = CheckboxListField(
        "Permissions",
        choices=[SelectChoice(key, label) for key, label in PERMISSION_LABELS.items()],
        validate_choice=True,
    )
    submit = SubmitField("Save role")


class DeleteRoleForm(BaseForm):
    reassign_to = SelectField("Give its members this role instead", choices=[])
    submit = SubmitField("Delete role")


def _key_permission_field() -> CheckboxListField:
    return CheckboxListField(
        "What the key may do",
        choices=[SelectChoice(key, label) for key, label in KEY_PERMISSION_LABELS.items()],
        validate_choice=True,
    )


def _limit_to_org_field() -> StringField:
    return StringField(
        "Limit to organization",
        validators=[Optional(), Length(max=120)],
        description="An organization's slug (from its address): the key reaches it and "
        "everything below it, nothing else. Empty: the whole tenant.",
    )


class CreateApiKeyForm(BaseForm):
    # Not "name": the role form on the same page has one, and ids must be unique.
    key_name = StringField(
        "Key name",
        validators=[DataRequired(), Length(max=api_keys.MAX_NAME_LENGTH)],
        description="What uses it, e.g. “billing sync”.",
    )
    key_permissions = _key_permission_field()
    limit_to_org = _limit_to_org_field()
    expires_in_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(min=1, max=MAX_EXPIRY_DAYS)],
        description="Empty: it works until you revoke it.",
    )
    submit = SubmitField("Create API key")


class NarrowApiKeyForm(BaseForm):
    key_permissions = _key_permission_field()
    limit_to_org = _limit_to_org_field()
    submit = SubmitField("Save what the key may do")


class UpdateTokenSettingsForm(BaseForm):
    token_audience = StringField(
        "Audience (aud)",
        validators=[Optional(), Length(max=200)],
        description="Who the tokens are for, e.g. your API's URL. Empty: this tenant's id.",
    )
    token_lifetime_minutes = IntegerField(
        "Lifetime (minutes)",
        validators=[
            InputRequired(),
            NumberRange(min=MIN_LIFETIME_MINUTES, max=MAX_LIFETIME_MINUTES),
        ],
        description=(
            f"How long an access token is valid: {MIN_LIFETIME_MINUTES} to "
            f"{MAX_LIFETIME_MINUTES} minutes."
        ),
    )
    submit = SubmitField("Save token settings")
