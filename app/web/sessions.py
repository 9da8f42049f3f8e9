"""Starting and ending a signed-in session (shared by tenant and staff sign-in)."""

from __future__ import annotations

from flask import request, session
from flask_login import login_user, logout_user

from app.models import StaffUser, User
from app.services.accounts import end_all_sessions
from app.web.security import is_safe_next


def start_session(account: User | StaffUser) -> None:
    """A fresh session: nothing from before sign-in survives (no fixation)."""
    session.clear()
    login_user(account)
    session.permanent = False


def end_session(account: User | StaffUser | None) -> None:
    """Sign out; the old cookie, even copied elsewhere, no longer works."""
    if account is not None:
        end_all_sessions(account)
    logout_user()
    session.clear()


def next_url(default: str) -> str:
    target = request.values.get("next")
    return target if is_safe_next(target) else default
