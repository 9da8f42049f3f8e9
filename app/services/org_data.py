"""An org's JSON documents: public metadata (members read it), private metadata (admins)
and settings. Typed in the pages as key/value rows, sent whole through the API; the same
limits hold either way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from app.actors import Actor
from app.errors import ValidationFailed
from app.extensions import db
from app.models import Organization, Tenant
from app.policy import Perm
from app.services import audit
from app.services.orgs import require
from app.services.validation import FORBIDDEN_MESSAGE, has_forbidden_chars

MAX_JSON_BYTES = 8 * 1024
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 4000  # one value typed in a row; the document as a whole is MAX_JSON_BYTES

FIELDS = ("public_metadata", "private_metadata", "settings")


def parse_value(raw: str) -> Any:
    """A value typed in a key/value row: JSON when it looks like JSON, else plain text."""
    text = raw.strip()
    if not text:
        return ""
    if text[0] in '{["' or text in ("true", "false", "null") or _looks_numeric(text):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not valid JSON ({exc.args[0].split(':')[0]})") from exc
    return raw


def format_value(value: Any) -> str:
    """How a stored value is shown in its key/value row (the inverse of parse_value)."""
    if isinstance(value, str):
        try:
            parse_value(value)
        except ValueError:
            return json.dumps(value)
        return value if parse_value(value) == value else json.dumps(value)
    return json.dumps(value)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def from_rows(field_name: str, rows: list[tuple[str, str]]) -> dict[str, Any]:
    """Key/value rows into a JSON object: keys unique and short, values valid, size-limited."""
    data: dict[str, Any] = {}
    for number, (raw_key, raw_value) in enumerate(rows, start=1):
        key = raw_key.strip()
        if not key and not raw_value.strip():
            continue
        if not key:
            raise ValidationFailed(f"Row {number}: give the value a key.", field=field_name)
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(
                f"Row {number}: keys are at most {MAX_KEY_LENGTH} characters.", field=field_name
            )
        if key in data:
            raise ValidationFailed(f"Row {number}: “{key}” appears twice.", field=field_name)
        try:
            data[key] = parse_value(raw_value)
        except ValueError as exc:
            raise ValidationFailed(
                f"Row {number} (“{key}”): the value is {exc}.", field=field_name
            ) from exc
    if len(json.dumps(data)) > MAX_JSON_BYTES:
        raise ValidationFailed(
            f"Keep this under {MAX_JSON_BYTES // 1024} KB of JSON.", field=field_name
        )
    return data


def check(field_name: str, data: dict[str, Any]) -> None:
    """The limits every JSON document of an org keeps, however it arrives."""
    for key in data:
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed(
                f"Keys are 1 to {MAX_KEY_LENGTH} characters, not blank.", field=field_name
            )
    if any(has_forbidden_chars(text) for text in _texts(data)):
        raise ValidationFailed(FORBIDDEN_MESSAGE, field=field_name)
    try:
        encoded = json.dumps(data, allow_nan=False)
    except ValueError:
        raise ValidationFailed(
            "Numbers must be finite (no NaN or Infinity).", field=field_name
        ) from None
    if len(encoded) > MAX_JSON_BYTES:
        raise ValidationFailed(
            f"Keep this under {MAX_JSON_BYTES // 1024} KB of JSON.", field=field_name
        )


def _texts(value: Any) -> Iterator[str]:
    """Every key and string in a JSON value, however deeply nested."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def update(
    actor: Actor, tenant: Tenant, org: Organization, field_name: str, data: dict[str, Any]
) -> Organization:
    """Replace one of the org's JSON documents (metadata or settings)."""
    if field_name not in FIELDS:
        raise ValidationFailed("Unknown field.")
    require(actor, org, Perm.SETTINGS_UPDATE)
    check(field_name, data)
    before = getattr(org, field_name) or {}
    if before == data:
        return org
    setattr(org, field_name, data)
    db.session.flush()
    audit.record(
        actor,
        f"org.{field_name}_updated",
        tenant=tenant,
        org=org,
        target=org,
        before={field_name: before},
        after={field_name: data},
    )
    return org
