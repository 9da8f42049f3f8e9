from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import PasswordInput

from app.credentials import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.models import StaffRole
from app.services.validation import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, MAX_SLUG_LENGTH
from app.services.view_as import MAX_REASON, VIEW_AS_MINUTES
from app.web.audit.forms import DayRangeFilters, day_field
from app.web.forms import BaseForm


class StaffSignInForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    submit = SubmitField("Sign in")


class CreateTenantForm(BaseForm):
    name = StringField("Tenant name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    slug = StringField(
        "Slug",
        validators=[Optional(), Length(max=MAX_SLUG_LENGTH)],
        description="The tenant's address: /t/<slug>/. Leave empty to derive it from the name.",
    )
    owner_name = StringField("Owner name", validators=[Optional(), Length(max=MAX_NAME_LENGTH)])
    owner_email = EmailField(
        "Owner email", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)]
    )
    owner_password = PasswordField(
        "Owner password",
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description="Leave empty to email the owner a link to choose one (recommended).",
    )
    submit = SubmitField("Create tenant")
    # Pressed on the warning that another tenant has the same name.
    create_anyway = SubmitField("Create anyway")

    def keep_password_for_confirmation(self) -> None:
        """Show the typed password again: asking to confirm must not lose it."""
        self.owner_password.widget = PasswordInput(hide_value=False)


class ConfirmForm(BaseForm):
    """A button-only POST (suspend, reactivate, sign out); the CSRF token is the point."""

    submit = SubmitField("Confirm")


class ChangeMemberRoleForm(BaseForm):
    """A membership row's Role select on the user view; the service decides what's allowed."""

    role = StringField("Role", validators=[DataRequired("Choose a role."), Length(max=40)])
    submit = SubmitField("Change role")


class ViewAsUserForm(BaseForm):
    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired("Say why you need to see what this user sees."),
            Length(max=MAX_REASON),
        ],
        description=(
            f"Recorded in the tenant's audit log. Read-only, for {VIEW_AS_MINUTES} minutes."
        ),
    )
    submit = SubmitField("View as this user")


class CreateStaffForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=MAX_EMAIL_LENGTH)])
    name = StringField("Name", validators=[Optional(), Length(max=MAX_NAME_LENGTH)])
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH)],
        description="At least 10 characters; hand it over in person or in a password manager.",
    )
    role = SelectField(
        "Role",
        choices=[
            SelectChoice(StaffRole.SUPPORT, "Support"),
            SelectChoice(StaffRole.SUPERADMIN, "Superadmin"),
        ],
        default=StaffRole.SUPPORT,
    )
    submit = SubmitField("Create staff account")


class FilterPlatformEventsForm(DayRangeFilters):
    """The platform log's filters."""

    actor = StringField(
        "Who",
        validators=[Length(max=254, message="Use at most 254 characters.")],
        description="Part of an email or name, or an id.",
    )
    action = StringField(
        "Action",
        validators=[Length(max=64, message="Use at most 64 characters.")],
        description="The start of an action, e.g. tenant. or member.removed",
    )
    tenant = StringField(
        "Tenant",
        validators=[
            Length(max=MAX_NAME_LENGTH, message=f"Use at most {MAX_NAME_LENGTH} characters.")
        ],
        description="Part of its name or slug, or its id.",
    )
    since = day_field("From", description="YYYY-MM-DD, UTC")
    until = day_field("To", description="YYYY-MM-DD, included")
