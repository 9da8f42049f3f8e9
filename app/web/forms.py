"""The base form every blueprint's forms derive from."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field

from app.errors import ValidationFailed

_CONTROL = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {"\x7f"}


class BaseForm(FlaskForm):
    """Refuses control characters (NUL and friends) in any text a person typed."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and any(ch in _CONTROL for ch in field.data):
                field.errors = [*field.errors, "Remove the invisible control characters."]
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
