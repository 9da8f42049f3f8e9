"""Per-account sign-in throttling, kept where every worker sees it.

The per-address limit (Flask-Limiter, on the form) stops one client guessing fast; this
stops many clients guessing one account's password, a tenant user's or a staff
member's (``tenant`` None). The count lives on the account's row
(``failed_sign_ins``, ``sign_in_blocked_until``), so every worker shares it, and each
failure is one ``UPDATE … SET failed_sign_ins = failed_sign_ins + 1``: failures landing
on several workers at once are all counted.

The first ``FREE_FAILURES`` failures in a row cost nothing (people mistype). Each failure
after that blocks the account for a delay that doubles from ``FIRST_BLOCK`` up to
``LONGEST_BLOCK``; while blocked, an attempt is refused without checking the password
(a right one too) and is not counted, so the delay stays bounded: an attacker can keep
an account waiting, not lock it for good, and the owner always has the password-reset
link, which clears the count (``clear``). A successful sign-in clears it as well.

An address with no account here must answer the same way, or the block message would
say which addresses have one. Its failures are counted in the rate limiter's storage
(Redis in production, shared like the database; ``memory://`` counts per worker), under
a hash of tenant and address, with the same delays and messages.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db, limiter
from app.models import StaffUser, Tenant, User, utcnow

Account = User | StaffUser

FREE_FAILURES = 5
FIRST_BLOCK = timedelta(seconds=5)
LONGEST_BLOCK = timedelta(minutes=15)
# How long failures for an address without an account are remembered (an account's
# count stays until it signs in or resets its password).
UNKNOWN_MEMORY = timedelta(days=1)


def delay_after(failures: int) -> timedelta | None:
    """How long the ``failures``-th failure in a row blocks the account (None: not at all)."""
    if failures <= FREE_FAILURES:
        return None
    doublings = min(failures - FREE_FAILURES - 1, 20)  # 5 s · 2^20 is far past the cap
    return min(FIRST_BLOCK * 2**doublings, LONGEST_BLOCK)


def wait_message(remaining: timedelta) -> str:
    minutes = max(1, math.ceil(remaining.total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f"Too many failed sign-ins with this email: try again in {minutes} {unit}, "
        "or reset your password."
    )


def blocked_for(tenant: Tenant | None, email: str, user: Account | None) -> timedelta | None:
    """How long sign-in with ``email`` stays refused, or None when it may be tried now."""
    now = utcnow()
    until = (
        user.sign_in_blocked_until if user is not None else _unknown_blocked_until(tenant, email)
    )
    return until - now if until is not None and until > now else None


def record_failure(tenant: Tenant | None, email: str, user: Account | None) -> timedelta | None:
    """Count a failed sign-in; returns the block it starts, if any. For an account the
    caller commits (the count must outlive the refused request)."""
    if user is None:
        return _record_unknown_failure(tenant, email)
    model = type(user)
    failures = db.session.execute(
        sa.update(model)
        .where(model.id == user.id)
        .values(failed_sign_ins=model.failed_sign_ins + 1)
        .returning(model.failed_sign_ins)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    delay = delay_after(failures)
    if delay is None:
        return None
    until = utcnow() + delay
    # Only ever later: of two workers failing at once, the longer block stands.
    db.session.execute(
        sa.update(model)
        .where(
            model.id == user.id,
            sa.or_(model.sign_in_blocked_until.is_(None), model.sign_in_blocked_until < until),
        )
        .values(sign_in_blocked_until=until)
        .execution_options(synchronize_session=False)
    )
    return delay


def clear(user: Account) -> None:
    """A successful sign-in or a used password-reset link: the count starts over."""
    user.failed_sign_ins = 0
    user.sign_in_blocked_until = None


# --- addresses without an account ----------------------------------------------------


def _unknown_key(tenant: Tenant | None, email: str) -> str:
    where = tenant.id if tenant is not None else "staff"
    digest = hashlib.sha256(f"{where}:{email}".encode()).hexdigest()[:32]
    return f"sign-in-failures:{digest}"


def _unknown_blocked_until(tenant: Tenant | None, email: str) -> datetime | None:
    if not email or not limiter.enabled:
        return None
    key = _unknown_key(tenant, email) + ":blocked"
    if not limiter.storage.get(key):
        return None
    return datetime.fromtimestamp(limiter.storage.get_expiry(key), UTC)


def _record_unknown_failure(tenant: Tenant | None, email: str) -> timedelta | None:
    if not email or not limiter.enabled:
        return None
    key = _unknown_key(tenant, email)
    failures = limiter.storage.incr(key, int(UNKNOWN_MEMORY.total_seconds()))
    delay = delay_after(failures)
    if delay is not None:
        # A key that lives exactly as long as the block (only counted while not blocked,
        # so it is always a fresh key with this expiry).
        limiter.storage.incr(key + ":blocked", math.ceil(delay.total_seconds()))
    return delay
