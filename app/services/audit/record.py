"""Writing the audit trail: one event per change, in the change's own transaction."""

from __future__ import annotations

import re
from typing import Any

from app.actors import Actor
from app.extensions import db
from app.models import AuditEvent, Organization, Tenant

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")
SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "secret", "key"})


def clean_label(text: str | None, limit: int = 254) -> str:
    """Labels are one line: newlines or control characters in a name can't forge entries."""
    return _CONTROL_CHARS.sub(" ", text or "").strip()[:limit]


def _scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: ("[redacted]" if k in SECRET_KEYS else v) for k, v in values.items()}


def record(
    actor: Actor,
    action: str,
    *,
    tenant: Tenant | None = None,
    org: Organization | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    target_label: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        tenant_id=tenant.id if tenant is not None else None,
        org_id=org.id if org is not None else None,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=clean_label(actor.label),
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=clean_label(target_label),
        before=_scrub(before),
        after=_scrub(after),
        ip=actor.ip,
        user_agent=actor.user_agent,
    )
    db.session.add(event)
    return event
