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
from app.services import audit
from app.services.validation import email_domain, normalize_email

VERIFY_LIFETIME = timedelta(days=3)
# A person may ask for another link once a minute (the pages also limit per hour).
RESEND_COOLDOWN = timedelta(minutes=1)
# "Someone tried to sign up with your address" notes: at most this many a day per address.
SIGNUP_NOTICES_PER_DAY = 3

UNVERIFIED = "Confirm your email address first: open the link we emailed you, or ask for a new one."
INVALID_LINK = "This link is no longer valid: it was used, replaced or has expired."
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


def _retire_links(user: User) -> None:
    db.session.execute(
        sa.update(EmailVerificationToken)
        .where(EmailVerificationToken.user_id == user.id, EmailVerificationToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _retire_password_links(user: User) -> None:
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def _issue(user: User, email: str) -> str:
    """A new link proving ``email`` for ``user``; every earlier link of theirs dies."""
    _retire_links(user)
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
    token = _issue(user, user.email)
    mail.queue_email(
        kind="email_verification",
        to=user.email,
        subject=f"Confirm your email address for {tenant.name}",
        template="email_verification",
        tenant=tenant,
        user=user,
        email=user.email,
        changing=False,
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
        _send_change_link(tenant, user, pending.email)
        return pending.email
    send_verification(tenant, user)
    return user.email


def find_link(tenant: Tenant, token: str) -> EmailVerificationToken | None:
    """The live link ``token`` names, of an active account of ``tenant``; else None."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        sa.select(EmailVerificationToken)
        .join(User, User.id == EmailVerificationToken.user_id)
        .where(
            EmailVerificationToken.token_hash == hash_token(token),
            EmailVerificationToken.used_at.is_(None),
            EmailVerificationToken.expires_at > utcnow(),
            User.tenant_id == tenant.id,
            User.is_active_account.is_(True),
        )
    )


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
        raise ValidationFailed(INVALID_LINK)
    spent = db.session.execute(
        sa.update(EmailVerificationToken)
        .where(EmailVerificationToken.id == row.id, EmailVerificationToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise ValidationFailed(INVALID_LINK)
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
    _retire_links(user)  # links sent to the old address prove nothing about the new one
    _retire_password_links(user)  # nor may the old mailbox still set the password
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
    domains = tenant.signup_email_domains
    if domains and email_domain(email) not in domains:
        raise ValidationFailed(f"Addresses here must be at {', '.join(domains)}.", field="email")
    _send_change_link(tenant, user, email)
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


def _send_change_link(tenant: Tenant, user: User, email: str) -> None:
    token = _issue(user, email)
    mail.queue_email(
        kind="email_verification",
        to=email,
        subject=f"Confirm your new email address for {tenant.name}",
        template="email_verification",
        tenant=tenant,
        user=user,
        email=email,
        changing=True,
        link=_link(tenant, token),
        expires_at=utcnow() + VERIFY_LIFETIME,
    )


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


# --- the profile ---------------------------------------------------------------------------


def update_name(tenant: Tenant, user: User, name: str) -> User:
    from app.services.validation import clean_name

    name = clean_name(name)
    if name != user.name:
        before = user.name
        user.name = name
        db.session.flush()
        audit.record(
            Actor.for_user(user), "user.profile_updated", tenant=tenant, target=user,
            changes=audit.before_after({"name": before}, {"name": name}),
        )  # fmt: skip
    return user


def owner_of(link: EmailVerificationToken) -> User:
    user = db.session.get(User, link.user_id)
    assert user is not None
    return user
