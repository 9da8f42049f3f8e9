"""Writing the audit trail: one event per change, in the change's own transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.actors import Actor
from app.extensions import db
from app.models import (
    ApiKey,
    AuditEvent,
    CustomRole,
    Invitation,
    JoinLink,
    Organization,
    OutboxEmail,
    SigningKey,
    StaffUser,
    Team,
    Tenant,
    User,
)

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]+")
SECRET_KEYS = frozenset({"password", "password_hash", "token", "token_hash", "secret", "key"})

# What an event says about its target, by the target's model: the ``target_type`` it is
# filed under, the attribute that is its ``target_id``, and the attribute that labels it.
# A join link and a signing key have no name of their own: their callers pass ``label=``.
TARGETS: dict[type, tuple[str, str, str | None]] = {
    Organization: ("org", "public_id", "name"),
    Tenant: ("tenant", "public_id", "name"),
    User: ("user", "public_id", "email"),
    StaffUser: ("staff", "public_id", "email"),
    Invitation: ("invitation", "public_id", "email"),
    Team: ("team", "public_id", "name"),
    CustomRole: ("role", "public_id", "name"),
    ApiKey: ("api_key", "public_id", "name"),
    JoinLink: ("join_link", "public_id", None),
    SigningKey: ("signing_key", "kid", None),
    OutboxEmail: ("email", "id", "to_address"),
}


def clean_label(text: str | None, limit: int = 254) -> str:
    """Labels are one line: newlines or control characters in a name can't forge entries."""
    return _CONTROL_CHARS.sub(" ", text or "").strip()[:limit]


def _scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: ("[redacted]" if k in SECRET_KEYS else v) for k, v in values.items()}


@dataclass(frozen=True)
class Changes:
    """What an update changed: the old and the new value of each key that differs."""

    before: dict[str, Any]
    after: dict[str, Any]


def before_after(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    """Two snapshots of the same keys narrowed to the ones whose value changed, each side
    in its own snapshot's key order; a key only one side has counts as changed."""
    return Changes(
        before={k: v for k, v in before.items() if k not in after or after[k] != v},
        after={k: v for k, v in after.items() if k not in before or before[k] != v},
    )


def _target(target: Any, label: str | None) -> tuple[str | None, str | None, str | None]:
    if target is None:
        return None, None, label
    try:
        target_type, id_attr, label_attr = TARGETS[type(target)]
    except KeyError:
        raise TypeError(f"No audit target type for {type(target).__name__}.") from None
    if label is None:
        if label_attr is None:
            raise TypeError(f"A {type(target).__name__} target needs label=.")
        label = getattr(target, label_attr)
    target_id = getattr(target, id_attr)
    return target_type, None if target_id is None else str(target_id), label


def event(
    actor: Actor,
    action: str,
    *,
    target: Any = None,
    tenant: Tenant | None = None,
    org: Organization | None = None,
    label: str | None = None,
    changes: Changes | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """One event, not yet in the session (``record`` adds it; many at once can be
    inserted together). The arguments are ``record``'s."""
    if changes is not None:
        if before is not None or after is not None:
            raise TypeError("Pass changes= or before=/after=, not both.")
        before, after = changes.before, changes.after
    target_type, target_id, target_label = _target(target, label)
    return AuditEvent(
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


def record(
    actor: Actor,
    action: str,
    *,
    target: Any = None,
    tenant: Tenant | None = None,
    org: Organization | None = None,
    label: str | None = None,
    changes: Changes | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """One event: ``actor`` did ``action`` to ``target`` (a model row, see ``TARGETS``),
    in ``tenant`` and ``org``. An update passes ``changes=before_after(old, new)``; a
    creation or a single change passes plain ``after=`` (and ``before=``) snapshots."""
    made = event(
        actor, action, target=target, tenant=tenant, org=org, label=label, changes=changes,
        before=before, after=after,
    )  # fmt: skip
    db.session.add(made)
    return made
