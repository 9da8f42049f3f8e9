"""Password reset and first-password links, sent by email through the outbox."""

from __future__ import annotations

from datetime import timedelta

from app import mail
from app.actors import Actor
from app.credentials import hash_password, hash_token, new_token
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import PasswordResetToken, Tenant, User, utcnow
from app.policy import StaffAction, require_staff_permission
from app.services import audit, email_verification, sign_in_throttle, single_use_links
from app.services.accounts import end_all_sessions, find_user
from app.services.validation import check_password, normalize_email

RESET_LIFETIME = timedelta(hours=1)
WELCOME_LIFETIME = timedelta(days=7)


def _issue(user: User, purpose: str, lifetime: timedelta) -> str:
    # Only the newest link works: a fresh one retires every earlier one.
    now = utcnow()
    single_use_links.retire_all(PasswordResetToken, user)
    token = new_token()
    db.session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=hash_token(token),
            purpose=purpose,
            expires_at=now + lifetime,
        )
    )
    return token


def request_reset(tenant: Tenant, raw_email: str, *, actor: Actor | None = None) -> None:
    """Email a reset link if the address has an account here; say nothing either way.

    ``actor`` is who asked: support staff sending one for a user; anonymous by default.
    """
    try:
        email = normalize_email(raw_email)
    except ValidationFailed:
        return
    user = find_user(tenant, email)
    if user is None or not user.is_active_account:
        return
    token = _issue(user, "reset", RESET_LIFETIME)
    mail.queue_email(
        kind="password_reset",
        to=user.email,
        subject=f"Reset your {tenant.name} password",
        template="password_reset",
        tenant=tenant,
        user=user,
        link=mail.external_url("tenant.auth.reset_password", tenant=tenant.slug, token=token),
        expires_at=utcnow() + RESET_LIFETIME,
    )
    audit.record(
        actor or Actor.anonymous(), "user.password_reset_requested", tenant=tenant, target=user
    )


def send_owner_welcome(tenant: Tenant, owner: User) -> None:
    """A new tenant's owner without a password gets a link to choose one."""
    token = _issue(owner, "welcome", WELCOME_LIFETIME)
    mail.queue_email(
        kind="owner_welcome",
        to=owner.email,
        subject=f"You're the owner of {tenant.name} on Tenantry",
        template="owner_welcome",
        tenant=tenant,
        user=owner,
        link=mail.external_url("tenant.auth.reset_password", tenant=tenant.slug, token=token),
        expires_at=utcnow() + WELCOME_LIFETIME,
    )


def valid_token(tenant: Tenant, token: str) -> PasswordResetToken | None:
    return single_use_links.find_live(PasswordResetToken, tenant, token)


def reset_password(tenant: Tenant, token: str, new_password: str) -> User:
    """Set the password, spend the link, and end every session the user had."""
    row = valid_token(tenant, token)
    if row is None:
        raise ValidationFailed(single_use_links.INVALID_LINK)
    check_password(new_password)
    if not single_use_links.spend(row):
        raise ValidationFailed(single_use_links.INVALID_LINK)
    user = db.session.get(User, row.user_id)
    assert user is not None
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)
    sign_in_throttle.clear(user)  # the owner's way past a block, whoever caused it
    # The link reached the account's address: that proves the address too.
    email_verification.mark_verified(user, via=f"password_{row.purpose}")
    audit.record(
        Actor.for_user(user), "user.password_changed", tenant=tenant, target=user,
        after={"via": row.purpose},
    )  # fmt: skip
    return user


def send_reset(actor: Actor, user: User) -> None:
    """Support staff email the user a reset link now (the same email and audit as
    "Forgot password")."""
    require_staff_permission(actor, StaffAction.USERS_MANAGE, "send password resets")
    if not user.is_active_account:
        raise Conflict(f"{user.email} is deactivated: reactivate the account first.")
    tenant = db.session.get(Tenant, user.tenant_id)
    assert tenant is not None
    request_reset(tenant, user.email, actor=actor)
