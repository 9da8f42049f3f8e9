"""Support staff viewing a tenant as one of its users: read-only, time-limited, with a
reason, and audited in the user's tenant when it starts and when it ends. The web layer
keeps the state (``app.web.view_as``); this is the rule and the record."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.actors import Actor
from app.errors import ValidationFailed
from app.extensions import db
from app.models import Tenant, User, utcnow
from app.policy import StaffAction, require_staff_permission
from app.services import audit

VIEW_AS_MINUTES = 30
MAX_REASON = 300


def clean_reason(raw: str | None) -> str:
    reason = " ".join((raw or "").split())
    if not reason:
        raise ValidationFailed("Say why you need to see what this user sees.", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"Keep it under {MAX_REASON} characters.", field="reason")
    return reason


def start_view_as(actor: Actor, user: User, reason: str) -> datetime:
    """Audit the start of a read-only look at the tenant as ``user``; returns its end."""
    require_staff_permission(actor, StaffAction.VIEW_AS, "view as a user")
    reason = clean_reason(reason)
    until = utcnow() + timedelta(minutes=VIEW_AS_MINUTES)
    _record_view_as(
        actor, "staff.view_as_started", user, {"reason": reason, "until": until.isoformat()}
    )
    return until


def end_view_as(actor: Actor, user: User, *, why: str, reason: str) -> None:
    """``why``: "expired", "ended", "replaced", "signed out"; ``reason``: the one given
    at the start."""
    _record_view_as(actor, "staff.view_as_ended", user, {"reason": why, "view_reason": reason})


def _record_view_as(actor: Actor, action: str, user: User, after: dict[str, str]) -> None:
    tenant = db.session.get(Tenant, user.tenant_id)
    audit.record(actor, action, tenant=tenant, target=user, after=after)
