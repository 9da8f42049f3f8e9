"""The base form every blueprint's forms derive from."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field

from app.errors import ValidationFailed
from app.services.validation import FORBIDDEN_MESSAGE, has_forbidden_chars


class BaseForm(FlaskForm):
    """Refuses control characters (NUL and friends) and direction overrides in any text a
    person typed, as the services do for every door."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and has_forbidden_chars(field.data):
                field.errors = [*field.errors, FORBIDDEN_MESSAGE]
                ok = False
        return ok

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
