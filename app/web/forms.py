"""The base form every blueprint's forms derive from."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import DataRequired, Length

from app.credentials import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.errors import ValidationFailed
from app.services.validation import CONTROL_CHARS, FORBIDDEN_MESSAGE, has_forbidden_chars


class BaseForm(FlaskForm):
    """Refuses control characters (NUL and friends) in any text a person typed, and in
    text that is kept, direction overrides too, as the services do for every door."""

    # A form that only searches (the audit log's filters) keeps nothing: a direction
    # override in it is simply searched for.
    keeps_text = True

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and self._refuses(field.data):
                field.errors = [*field.errors, FORBIDDEN_MESSAGE]
                ok = False
        return ok

    def _refuses(self, text: str) -> bool:
        if self.keeps_text:
            return has_forbidden_chars(text)
        return not CONTROL_CHARS.isdisjoint(text)

    def apply_service_error(self, error: ValidationFailed) -> None:
        """Show a service's validation message next to the field it names."""
        placed = False
        for name, message in error.field_errors.items():
            field: Field | None = getattr(self, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
                placed = True
        if not placed:
            self.form_errors.append(error.message)


NEW_PASSWORD_HINT = f"At least {MIN_PASSWORD_LENGTH} characters."


def new_password_rules() -> list:
    """A new password's validators, whose messages say what the hint says (not WTForms'
    stock "Field must be between 10 and 1024 characters long.")."""
    return [
        DataRequired(message="Choose a password."),
        Length(min=MIN_PASSWORD_LENGTH, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."),
        Length(max=MAX_PASSWORD_LENGTH, message=f"Use at most {MAX_PASSWORD_LENGTH:,} characters."),
    ]
