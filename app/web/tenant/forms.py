from __future__ import annotations

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
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.policy import KEY_PERMISSION_LABELS, PERMISSION_LABELS
from app.services import api_keys, roles
from app.services.access_tokens import MAX_LIFETIME_MINUTES, MIN_LIFETIME_MINUTES
from app.services.api_keys import MAX_EXPIRY_DAYS
from app.web.forms import BaseForm


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit:,} characters.")


class WholeNumberField(IntegerField):
    """A whole number from ``low`` to ``high`` whose every refusal says ``message``, the
    one thing its hint says (instead of WTForms' "Not a valid integer value." and
    "Number must be between…")."""

    def __init__(self, label: str, *, low: int, high: int, message: str, **kwargs) -> None:
        validators = list(kwargs.pop("validators", []))
        super().__init__(label, validators=[*validators, self._within], **kwargs)
        self.low, self.high, self.message = low, high, message

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.message) from None

    @staticmethod
    def _within(_form, field: WholeNumberField) -> None:
        if field.data is not None and not field.low <= field.data <= field.high:
            raise ValidationError(field.message)


MAX_SEATS = 1_000_000
SEATS_MESSAGE = f"Use a whole number from 1 to {MAX_SEATS:,}, or leave it empty."


class UpdateOrgRulesForm(BaseForm):
    """The General page: how organizations come to be."""

    personal_orgs = BooleanField(
        "Give every new user a personal organization",
        description="Made at sign-up, with the new user as its owner.",
    )
    members_can_create_orgs = BooleanField(
        "Members may create top-level organizations",
        description="Off: only tenant owners and admins can. Anyone may still create "
        "sub-organizations where their role allows it.",
    )
    submit = SubmitField("Save organization rules")


class UpdateSignUpForm(BaseForm):
    allow_signup = BooleanField(
        "Anyone can sign up", description="Off: people join only through an invitation."
    )
    signup_email_domains = TextAreaField(
        "Sign-up limited to these email domains",
        validators=[_at_most(2000)],
        description="One per line or separated by commas, e.g. example.com. Empty: any domain.",
    )
    submit = SubmitField("Save sign-up rules")


class UpdateSeatsForm(BaseForm):
    seat_limit = WholeNumberField(
        "Members per organization, at most",
        low=1,
        high=MAX_SEATS,
        message=SEATS_MESSAGE,
        validators=[Optional()],
        description=f"From 1 to {MAX_SEATS:,}. Empty: no limit.",
    )
    submit = SubmitField("Save seat limit")


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoleForm(BaseForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter a name."), _at_most(roles.MAX_NAME_LENGTH)]
    )
    key = StringField(
        "Key",
        validators=[DataRequired("Enter a key."), _at_most(roles.MAX_KEY_LENGTH)],
        description=f"Lowercase letters, digits and underscores, at most {roles.MAX_KEY_LENGTH} "
        "characters, e.g. billing_manager. Used by the API and in tokens; it can't change later.",
    )
    description = StringField(
        "Description", validators=[Optional(), _at_most(roles.MAX_DESCRIPTION_LENGTH)]
    )
    permissions = CheckboxListField(
        "Permissions",
        choices=[SelectChoice(key, label) for key, label in PERMISSION_LABELS.items()],
        validate_choice=True,
    )
    submit = SubmitField("Save role")


class DeleteRoleForm(BaseForm):
    reassign_to = SelectField(
        "Give its members this role instead",
        choices=[],
        validate_choice=False,  # the service says which roles may be given
    )
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
        validators=[Optional(), _at_most(120)],
        description="An organization's slug (from its address): the key reaches it and "
        "everything below it, nothing else. Empty: the whole tenant.",
    )


class CreateApiKeyForm(BaseForm):
    # Not "name": the role form on the same page has one, and ids must be unique.
    key_name = StringField(
        "Key name",
        validators=[DataRequired("Name the key."), _at_most(api_keys.MAX_NAME_LENGTH)],
        description="What uses it, e.g. “billing sync”.",
    )
    key_permissions = _key_permission_field()
    limit_to_org = _limit_to_org_field()
    expires_in_days = WholeNumberField(
        "Expires after (days)",
        low=1,
        high=MAX_EXPIRY_DAYS,
        message=f"Use a whole number of days from 1 to {MAX_EXPIRY_DAYS:,}, or leave it empty.",
        validators=[Optional()],
        description=f"1 to {MAX_EXPIRY_DAYS:,} days. Empty: it works until you revoke it.",
    )
    submit = SubmitField("Create API key")


class NarrowApiKeyForm(BaseForm):
    key_permissions = _key_permission_field()
    limit_to_org = _limit_to_org_field()
    submit = SubmitField("Save what the key may do")


LIFETIME_MESSAGE = (
    f"Use a whole number of minutes from {MIN_LIFETIME_MINUTES} to {MAX_LIFETIME_MINUTES:,}."
)


class UpdateTokenSettingsForm(BaseForm):
    token_audience = StringField(
        "Audience (aud)",
        validators=[Optional(), _at_most(200)],
        description="Who the tokens are for, e.g. your API's URL. Empty: this tenant's id.",
    )
    token_lifetime_minutes = WholeNumberField(
        "Lifetime (minutes)",
        low=MIN_LIFETIME_MINUTES,
        high=MAX_LIFETIME_MINUTES,
        message=LIFETIME_MESSAGE,
        validators=[InputRequired(LIFETIME_MESSAGE)],
        description=(
            f"How long an access token is valid: {MIN_LIFETIME_MINUTES} to "
            f"{MAX_LIFETIME_MINUTES:,} minutes."
        ),
    )
    submit = SubmitField("Save token settings")
