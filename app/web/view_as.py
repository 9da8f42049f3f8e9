"""Viewing a tenant as one of its users: read-only, for 30 minutes, with a reason.

The staff member stays signed in as staff: Flask-Login's ``current_user`` is still the
staff account and nothing makes them a tenant user. The session holds ``view_as``;
``app.web.identity.visitor_in`` reads it through ``viewing_in`` when it resolves who is
visiting a tenant, and the tenant scope lets such a visitor make GET and HEAD requests
only. Starting and ending are audited in the user's tenant (as support).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import session

from app.actors import Actor
from app.errors import NotFound
from app.models import StaffUser, Tenant, User, utcnow
from app.policy import StaffAction, staff_can
from app.services import accounts
from app.services import view_as as view_as_service

SESSION_KEY = "view_as"
READ_ONLY = "You are viewing as this user: read-only."


@dataclass(frozen=True)
class ViewAs:
    """What the session holds, parsed."""

    user_id: str
    staff_id: str
    reason: str
    until: datetime

    @property
    def expired(self) -> bool:
        return self.until <= utcnow()


@dataclass(frozen=True)
class Viewing:
    """An active view-as in the tenant being visited: the banner's facts."""

    user: User
    staff: StaffUser
    reason: str
    until: datetime


def stored() -> ViewAs | None:
    """The session's view-as, or None (a malformed one is dropped)."""
    raw: Any = session.get(SESSION_KEY)
    if raw is None:
        return None
    try:
        until = datetime.fromisoformat(raw["until"])
        state = ViewAs(str(raw["user"]), str(raw["staff"]), str(raw["reason"]), until)
        if until.tzinfo is None:
            state = ViewAs(state.user_id, state.staff_id, state.reason, until.replace(tzinfo=UTC))
    except (KeyError, TypeError, ValueError):
        session.pop(SESSION_KEY, None)
        return None
    return state


def start(staff: StaffUser, user: User, reason: str) -> datetime:
    """Audit the start and remember it in the session; a view-as already running ends
    first (audited as "replaced"). Raises ValidationFailed for a missing reason."""
    reason = view_as_service.clean_reason(reason)  # refused before anything changes
    if stored() is not None:
        end(staff, "replaced")
    until = view_as_service.start_view_as(Actor.for_staff(staff), user, reason)
    session[SESSION_KEY] = {
        "user": user.public_id,
        "staff": staff.public_id,
        "reason": reason,
        "until": until.isoformat(),
    }
    return until


def end(staff: StaffUser, why: str) -> User | None:
    """Forget the session's view-as and audit its end; returns the user it was for."""
    state = stored()
    session.pop(SESSION_KEY, None)
    if state is None:
        return None
    user = _user(state.user_id)
    if user is not None:
        view_as_service.end_view_as(Actor.for_staff(staff), user, why=why, reason=state.reason)
    return user


def viewing_in(staff: StaffUser | None, tenant: Tenant) -> tuple[Viewing | None, bool]:
    """``(viewing, expired)`` for a request in ``tenant``.

    Only ``staff`` (the signed-in staff account) with the permission, holding a view-as that it
    started, for a user of this very tenant, gets one; anything else is ``(None, False)``
    (a view-as of another tenant stays untouched). ``expired`` is True when the
    view-as applies here but its time is up: the caller ends it.
    """
    state = stored()
    if staff is None or state is None:
        return None, False
    if state.staff_id != staff.public_id or not staff_can(staff, StaffAction.VIEW_AS):
        session.pop(SESSION_KEY, None)
        return None, False
    user = _user(state.user_id)
    if user is None:
        session.pop(SESSION_KEY, None)
        return None, False
    if user.tenant_id != tenant.id:
        return None, False
    viewing = Viewing(user=user, staff=staff, reason=state.reason, until=state.until)
    return viewing, state.expired


def _user(public_id: str) -> User | None:
    try:
        return accounts.get_user_anywhere(public_id)
    except NotFound:
        return None
