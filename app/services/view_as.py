"""Support staff viewing a tenant as one of its users: read-only, time-limited, with a
reason, and audited in the user's tenant when it starts and when it ends.

The state is a ``ViewAsSession`` row, not the cookie: the web layer (``app.web.view_as``)
keeps only the row's public id in the session and asks here, on every request, whether
that row is still live for the signed-in staff account. Ending one (by hand, on sign-out,
when its time is up, when it is replaced, when the staff account is deactivated) stamps
``ended_at`` with a conditional UPDATE, so a replayed cookie finds an ended row and gets
nothing, and two requests racing to end the same row audit its end once.

A staff member views as one user at a time: starting a view-as ends every other live one
of theirs, in this browser or any other (audited as "replaced"). Someone who opens a
second view-as expects to be looking as that user now, not to leave an earlier read-only
window quietly open somewhere for the rest of its 30 minutes.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.actors import Actor
from app.errors import ValidationFailed
from app.extensions import db
from app.models import StaffUser, Tenant, User, ViewAsSession, utcnow
from app.policy import StaffAction, require_staff_permission
from app.services import audit

VIEW_AS_MINUTES = 30
MAX_REASON = 300

# end_reason values (the column holds 16 characters)
ENDED = "ended"
EXPIRED = "expired"
REPLACED = "replaced"
SIGNED_OUT = "signed out"
DEACTIVATED = "deactivated"


def clean_reason(raw: str | None) -> str:
    reason = " ".join((raw or "").split())
    if not reason:
        raise ValidationFailed("Say why you need to see what this user sees.", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"Keep it under {MAX_REASON} characters.", field="reason")
    return reason


def start_view_as(actor: Actor, user: User, reason: str) -> ViewAsSession:
    """Start a read-only look at the tenant as ``user``: the row and its audit event, in
    the caller's transaction. The staff member's other live view-as sessions end first
    ("replaced"). Raises ValidationFailed for a missing reason, before anything changes."""
    require_staff_permission(actor, StaffAction.VIEW_AS, "view as a user")
    reason = clean_reason(reason)
    staff = actor.staff
    assert staff is not None  # only staff hold VIEW_AS
    end_all_for(actor, staff, why=REPLACED)
    now = utcnow()
    row = ViewAsSession(
        staff_id=staff.id,
        user_id=user.id,
        tenant_id=user.tenant_id,
        reason=reason,
        started_at=now,
        expires_at=now + timedelta(minutes=VIEW_AS_MINUTES),
    )
    db.session.add(row)
    db.session.flush()
    _record_view_as(
        actor,
        "staff.view_as_started",
        user,
        {"reason": reason, "until": row.expires_at.isoformat()},
    )
    return row


def find_open(staff: StaffUser, public_id: str) -> tuple[ViewAsSession, User] | None:
    """The not-yet-ended view-as ``public_id`` of ``staff``, with its user (and the user's
    tenant) in the same query; None for an ended one, another staff member's, or an
    unknown id. It may have expired without being ended yet: the caller checks
    ``is_live`` and ends it (``end_view_as(..., why=EXPIRED)``)."""
    found = db.session.execute(
        sa.select(ViewAsSession, User)
        .join(User, User.id == ViewAsSession.user_id)
        .join(Tenant, Tenant.id == User.tenant_id)
        .options(so.contains_eager(User.tenant))
        .where(
            ViewAsSession.public_id == public_id,
            ViewAsSession.staff_id == staff.id,
            ViewAsSession.ended_at.is_(None),
            Tenant.deleted_at.is_(None),
        )
    ).first()
    return None if found is None else (found[0], found[1])


def end_view_as(actor: Actor, row: ViewAsSession, user: User, *, why: str) -> bool:
    """End ``row`` and audit it; False (and no event) if it had already ended.

    ``why``: "ended", "expired", "replaced", "signed out", "deactivated". One conditional
    UPDATE decides, so two requests ending the same view-as at once record one end.
    """
    now = utcnow()
    ended = db.session.execute(
        sa.update(ViewAsSession)
        .where(ViewAsSession.id == row.id, ViewAsSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=why)
        .execution_options(synchronize_session=False)
    ).rowcount
    if ended != 1:
        return False
    row.ended_at, row.end_reason = now, why  # the loaded object agrees with the row
    after = {"reason": why, "view_reason": row.reason}
    if actor.staff is None or actor.staff.id != row.staff_id:
        after["view_as_session"] = row.public_id  # someone else ended it (deactivation)
    _record_view_as(actor, "staff.view_as_ended", user, after)
    return True


def end_all_for(actor: Actor, staff: StaffUser, *, why: str) -> int:
    """End every live view-as of ``staff`` (one that ran out of time is recorded as
    "expired", whatever ``why``); returns how many ended here."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(ViewAsSession, User)
        .join(User, User.id == ViewAsSession.user_id)
        .where(ViewAsSession.staff_id == staff.id, ViewAsSession.ended_at.is_(None))
        .order_by(ViewAsSession.id)
    ).all()
    return sum(
        end_view_as(actor, row, user, why=why if row.is_live(now) else EXPIRED)
        for row, user in rows
    )


def _record_view_as(actor: Actor, action: str, user: User, after: dict[str, str]) -> None:
    tenant = db.session.get(Tenant, user.tenant_id)
    audit.record(actor, action, tenant=tenant, target=user, after=after)
