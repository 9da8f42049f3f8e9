"""Errors services raise; one policy in app.web.error_pages turns them into pages or fragments."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    @property
    def details(self) -> list[dict[str, str]] | None:
        """Where the problem is, field by field, for answers that list it (the API's)."""
        return None


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class PermissionDenied(ServiceError):
    status_code = 403
    code = "forbidden"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class ValidationFailed(ServiceError):
    """Bad input; ``field_errors`` maps a form field name to its message."""

    status_code = 422
    code = "invalid"

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field_errors: dict[str, str] = {field: message} if field else {}

    @property
    def details(self) -> list[dict[str, str]] | None:
        if not self.field_errors:
            return None
        return [{"field": name, "message": text} for name, text in self.field_errors.items()]
