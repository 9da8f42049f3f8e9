"""Proving that an address reaches the person who holds the account.

A self-service sign-up is unproven until its holder opens the link emailed to the address
(``send_verification``); so is an address someone asks to change to (``request_change``:
the old address stays until the link sent to the new one is opened, and the old one is
told). Other emailed links prove the address on the way (``mark_verified``): accepting an
invitation through its link, setting a password from a reset or welcome link.

Until proven, an account sees no org, accepts no invitation and joins by no link
(``require_verified``). Links are single use, expire, and only the newest one of an
account works; only their SHA-256 hash is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from app import mail
from app.actors import Actor
from app.credentials import hash_password, hash_token, new_token, verify_password
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import (
    EmailVerificationToken,
    OutboxEmail,
    PasswordResetToken,
    Tenant,
    User,
    utcnow,
)
from app.services import audit, single_use_links
from app.services.validation import normalize_email

VERIFY_LIFETIME = timedelta(days=3)
# A person may ask for another link once a minute (the pages also limit per hour).
RESEND_COOLDOWN = timedelta(minutes=1)
# "Someone tried to sign up with your address" notes: at most this many a day per address.
SIGNUP_NOTICES_PER_DAY = 3

UNVERIFIED = "Confirm your email address first: open the link we emailed you, or ask for a new one."
WRONG_PASSWORD = "That isn't your current password."  # noqa: S105 (a message)


class EmailNotVerified(PermissionDenied):
    """The account's address is not proven yet: it may not see or join any org."""

    code = "email_unverified"


class TooSoon(Conflict):
    status_code = 429
    code = "rate_limited"


def require_verified(user: User) -> None:
    if not user.email_verified:
        raise EmailNotVerified(UNVERIFIED)


def mark_verified(user: User, *, via: str, actor: Actor | None = None) -> bool:
    """An emailed link to ``user.email`` was used: the address is proven. True if it was
    not before (then an audit event says how)."""
    if user.email_verified:
        return False
    user.email_verified_at = utcnow()
    db.session.flush()
    audit.record(
        actor or Actor.for_user(user),
        "user.email_verified",
        tenant=db.session.get(Tenant, user.tenant_id),
        target=user,
        after={"via": via},
    )
    return True


# --- links -------------------------------------------------------------------------------


def _issue(user: User, email: str) -> str:
    """A new link proving ``email`` for ``user``; every earlier link of theirs dies."""
    single_use_links.retire_all(EmailVerificationToken, user)
    token = new_token()
    db.session.add(
        EmailVerificationToken(
            user_id=user.id,
            email=email,
            token_hash=hash_token(token),
            expires_at=utcnow() + VERIFY_LIFETIME,
        )
    )
    db.session.flush()
    return token


def _link(tenant: Tenant, token: str) -> str:
    return mail.external_url("tenant.account.verify_email", tenant=tenant.slug, token=token)


def send_verification(tenant: Tenant, user: User) -> None:
    """Email ``user`` a link that proves their current address."""
    _send_link(tenant, user, user.email)


def _send_link(tenant: Tenant, user: User, email: str) -> None:
    """A link to ``email`` proving it for ``user``: their own address, or a new one."""
    token = _issue(user, email)
    changing = email != user.email
    mail.queue_email(
        kind="email_verification",
        to=email,
        subject=f"Confirm your {'new ' if changing else ''}email address for {tenant.name}",
        template="email_verification",
        tenant=tenant,
        user=user,
        email=email,
        changing=changing,
        link=_link(tenant, token),
        expires_at=utcnow() + VERIFY_LIFETIME,
    )


def pending_change(user: User) -> EmailVerificationToken | None:
    """The live link for an address ``user`` asked to change to, if any."""
    return db.session.scalar(
        sa.select(EmailVerificationToken)
        .where(
            EmailVerificationToken.user_id == user.id,
            EmailVerificationToken.used_at.is_(None),
            EmailVerificationToken.expires_at > utcnow(),
            EmailVerificationToken.email != user.email,
        )
        .order_by(EmailVerificationToken.created_at.desc(), EmailVerificationToken.id.desc())
        .limit(1)
    )


def resend(tenant: Tenant, user: User) -> str:
    """Another link, to the address waiting for proof (a pending change's, else the
    account's own); refused within a minute of the last one. Returns the address."""
    pending = pending_change(user)
    if pending is None and user.email_verified:
        raise Conflict(f"{user.email} is already confirmed.")
    last = db.session.scalar(
        sa.select(sa.func.max(EmailVerificationToken.created_at)).where(
            EmailVerificationToken.user_id == user.id
        )
    )
    if last is not None and last > utcnow() - RESEND_COOLDOWN:
        raise TooSoon("We sent a link less than a minute ago: give it a moment to arrive.")
    if pending is not None:
        _send_link(tenant, user, pending.email)
        return pending.email
    send_verification(tenant, user)
    return user.email


def find_link(tenant: Tenant, token: str) -> EmailVerificationToken | None:
    return single_use_links.find_live(EmailVerificationToken, tenant, token)


class Outcome:
    VERIFIED = "verified"  # the account's own address is proven
    CHANGED = "changed"  # the account now has the new, proven address
    TAKEN = "taken"  # the new address belongs to another account here: nothing changed


@dataclass(frozen=True)
class Verification:
    user: User
    outcome: str
    email: str  # the address the link proved (or, when taken, would have)


def verify(tenant: Tenant, token: str) -> Verification:
    """Spend the link and prove its address: the account's own, or the one it asked to
    change to (refused, with the link spent, if another account here has it by now)."""
    row = find_link(tenant, token)
    if row is None:
        raise ValidationFailed(single_use_links.INVALID_LINK)
    if not single_use_links.spend(row):
        raise ValidationFailed(single_use_links.INVALID_LINK)
    user = db.session.get(User, row.user_id)
    assert user is not None
    if row.email == user.email:
        mark_verified(user, via="link")
        return Verification(user, Outcome.VERIFIED, row.email)
    return _change_to(tenant, user, row.email)


def _taken(tenant: Tenant, email: str, user: User) -> bool:
    return (
        db.session.scalar(
            sa.select(User.id).where(
                User.tenant_id == tenant.id, User.email == email, User.id != user.id
            )
        )
        is not None
    )


def _change_to(tenant: Tenant, user: User, email: str) -> Verification:
    if _taken(tenant, email, user):
        return Verification(user, Outcome.TAKEN, email)
    old = user.email
    try:
        # A savepoint: an account taking the address at this very moment loses us only this.
        with db.session.begin_nested():
            user.email = email
            user.email_verified_at = utcnow()
            db.session.flush()
    except sa_exc.IntegrityError:
        db.session.refresh(user)
        return Verification(user, Outcome.TAKEN, email)
    # Links sent to the old address prove nothing about the new one, and its mailbox may
    # no longer set the password.
    single_use_links.retire_all(EmailVerificationToken, user)
    single_use_links.retire_all(PasswordResetToken, user)
    audit.record(
        Actor.for_user(user), "user.email_changed", tenant=tenant, target=user,
        before={"email": old}, after={"email": email},
    )  # fmt: skip
    return Verification(user, Outcome.CHANGED, email)


# --- changing one's address -------------------------------------------------------------


def request_change(tenant: Tenant, user: User, *, new_email: str, password: str) -> str:
    """Send a link to the new address; the account keeps its old one until it is opened.

    Needs the current password. Whether another account here has the new address is not
    said (the link is sent either way; opening it then changes nothing). The old address,
    when proven, is told. Returns the normalised new address."""
    if not verify_password(user.password_hash, password or ""):
        raise ValidationFailed(WRONG_PASSWORD, field="password")
    email = normalize_email(new_email, field="email")
    if email == user.email:
        raise ValidationFailed("That is already your address.", field="email")
    if not tenant.admits_address(email):
        allowed = ", ".join(tenant.signup_email_domains)
        raise ValidationFailed(f"Addresses here must be at {allowed}.", field="email")
    _send_link(tenant, user, email)
    if user.email_verified:
        mail.queue_email(
            kind="email_change_notice",
            to=user.email,
            subject=f"Your {tenant.name} email address is being changed",
            template="email_change_notice",
            tenant=tenant,
            user=user,
            new_email=email,
            reset_link=mail.external_url("tenant.auth.forgot_password", tenant=tenant.slug),
        )
    audit.record(
        Actor.for_user(user), "user.email_change_requested", tenant=tenant, target=user,
        after={"email": email},
    )  # fmt: skip
    return email


def cancel_change(user: User) -> None:
    """Forget a pending change: its link stops working."""
    pending = pending_change(user)
    if pending is not None:
        pending.used_at = utcnow()
        db.session.flush()


# --- sign-up on an address that already has an account -----------------------------------


def signup_on_existing(tenant: Tenant, user: User, password: str) -> None:
    """Someone signed up with ``user``'s address: change nothing, tell the address (a few
    times a day at most), and spend the time a real sign-up spends hashing."""
    hash_password(password)
    since = utcnow() - timedelta(days=1)
    recent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxEmail)
        .where(
            OutboxEmail.tenant_id == tenant.id,
            OutboxEmail.kind == "signup_existing",
            OutboxEmail.to_address == user.email,
            OutboxEmail.created_at >= since,
        )
    )
    if recent >= SIGNUP_NOTICES_PER_DAY or not user.is_active_account:
        return
    mail.queue_email(
        kind="signup_existing",
        to=user.email,
        subject=f"Someone tried to sign up at {tenant.name} with your address",
        template="signup_existing",
        tenant=tenant,
        user=user,
        login_link=mail.external_url("tenant.auth.login", tenant=tenant.slug),
        reset_link=mail.external_url("tenant.auth.forgot_password", tenant=tenant.slug),
    )


def owner_of(link: EmailVerificationToken) -> User:
    user = db.session.get(User, link.user_id)
    assert user is not None
    return user
