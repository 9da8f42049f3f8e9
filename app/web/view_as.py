"""Viewing a tenant as one of its users: read-only, for 30 minutes, with a reason.

The staff member stays signed in as staff: Flask-Login's ``current_user`` is still the
staff account and nothing makes them a tenant user. The state is a ``ViewAsSession`` row
(``app.services.view_as``); the session cookie holds only that row's public id, under
``view_as``. Every request that would use it looks the row up again (one query, with the
user): an ended row, another staff member's, or one of a tenant since deleted counts for
nothing and the cookie forgets it, so replaying a cookie saved before "End view as" gets
nowhere. ``app.web.identity.visitor_in`` reads it through ``viewing_in`` when it resolves
who is visiting a tenant, and the tenant scope lets such a visitor make GET and HEAD
requests only. Starting and ending are audited in the user's tenant (as support).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import session

from app.actors import Actor
from app.models import StaffUser, Tenant, User, ViewAsSession, utcnow
from app.policy import StaffAction, staff_can
from app.services import view_as as view_as_service

SESSION_KEY = "view_as"
READ_ONLY = "You are viewing as this user: read-only."


@dataclass(frozen=True)
class Viewing:
    """A view-as of the signed-in staff member that has not been ended: the banner's
    facts, and the row to end."""

    row: ViewAsSession
    user: User
    staff: StaffUser

    @property
    def reason(self) -> str:
        return self.row.reason

    @property
    def until(self) -> datetime:
        return self.row.expires_at

    @property
    def expired(self) -> bool:
        return not self.row.is_live(utcnow())


def _cookie_id() -> str | None:
    """The public id the session names, or None (anything else there is dropped: an
    older cookie carried the whole state, which is no longer trusted)."""
    raw: Any = session.get(SESSION_KEY)
    if raw is None:
        return None
    if isinstance(raw, str) and raw.startswith("va_") and len(raw) <= 40:
        return raw
    session.pop(SESSION_KEY, None)
    return None


def current(staff: StaffUser | None) -> Viewing | None:
    """The session's view-as if it is ``staff``'s and not ended (it may have run out of
    time: see ``Viewing.expired``); otherwise None, and the session forgets it. One
    query, and none without a view-as in the session."""
    public_id = _cookie_id()
    if public_id is None:
        return None
    found = None
    if staff is not None and staff_can(staff, StaffAction.VIEW_AS):
        found = view_as_service.find_open(staff, public_id)
    if staff is None or found is None:
        session.pop(SESSION_KEY, None)
        return None
    row, user = found
    return Viewing(row=row, user=user, staff=staff)


def start(staff: StaffUser, user: User, reason: str) -> datetime:
    """Start a view-as and name it in the session; whatever view-as this staff member had
    running, here or in another browser, ends ("replaced"). Raises ValidationFailed for a
    missing reason, before anything changes."""
    row = view_as_service.start_view_as(Actor.for_staff(staff), user, reason)
    session[SESSION_KEY] = row.public_id
    return row.expires_at


def end(staff: StaffUser, why: str) -> User | None:
    """End the session's view-as (if it is still running) and forget it; returns the user
    it was for, or None when there was nothing to end."""
    viewing = current(staff)
    session.pop(SESSION_KEY, None)
    if viewing is None:
        return None
    if viewing.expired:
        why = view_as_service.EXPIRED  # its time ran out before anyone ended it
    ended = view_as_service.end_view_as(Actor.for_staff(staff), viewing.row, viewing.user, why=why)
    return viewing.user if ended else None


def end_expired(viewing: Viewing) -> None:
    """A view-as whose time ran out, found on this request: ended (and audited) once."""
    session.pop(SESSION_KEY, None)
    view_as_service.end_view_as(
        Actor.for_staff(viewing.staff), viewing.row, viewing.user, why=view_as_service.EXPIRED
    )


def end_everywhere(staff: StaffUser, why: str) -> None:
    """Signing out is "sign out everywhere": every live view-as of the account ends."""
    session.pop(SESSION_KEY, None)
    view_as_service.end_all_for(Actor.for_staff(staff), staff, why=why)


def viewing_in(staff: StaffUser | None, tenant: Tenant) -> tuple[Viewing | None, bool]:
    """``(viewing, expired)`` for a request in ``tenant``.

    Only ``staff`` (the signed-in staff account) with the permission, holding a view-as
    that it started and has not ended, for a user of this very tenant, gets one; anything
    else is ``(None, False)`` (a view-as of another tenant stays untouched). ``expired``
    is True when the view-as applies here but its time is up: the caller ends it.
    """
    viewing = current(staff)
    if viewing is None or viewing.user.tenant_id != tenant.id:
        return None, False
    return viewing, viewing.expired
