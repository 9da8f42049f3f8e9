"""Signing in, signing up and ending sessions, for tenant users and staff."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so

from app.actors import Actor
from app.credentials import hash_password, password_needs_rehash, verify_password
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import StaffRole, StaffUser, Tenant, TenantRole, User, utcnow
from app.policy import StaffAction, TenantPerm, require_staff_permission, tenant_can
from app.services import audit, email_verification, orgs, sign_in_throttle, view_as
from app.services.pagination import Cursor, KeysetPage, keyset_page
from app.services.validation import (
    check_password,
    clean_name,
    escape_like,
    normalize_email,
)

SIGN_IN_FAILED = "That email and password don't match an account here."


def users_query(tenant: Tenant, *, query: str = "") -> sa.Select[tuple[User]]:
    """The tenant's users, optionally those whose name or email contains ``query``."""
    stmt = sa.select(User).where(User.tenant_id == tenant.id)
    if query:
        pattern = f"%{escape_like(query.lower())}%"
        stmt = stmt.where(
            sa.or_(
                User.email.like(pattern, escape="\\"),
                sa.func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    return stmt


def find_user(tenant: Tenant, email: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(User.tenant_id == tenant.id, User.email == email)
    )


def authenticate_user(tenant: Tenant, email: str, password: str) -> User:
    """The user, or ValidationFailed with one message whatever was wrong.

    Failures in a row block the address for a while, whether or not it has an account
    here (``sign_in_throttle``); the caller commits after a refusal too, so the count
    stays. While blocked, even the right password is refused, unchecked.
    """
    email = _address_or_nothing(email)
    user = find_user(tenant, email) if email else None
    _check_password(tenant, email, user, password)
    assert user is not None
    _after_sign_in(user, password)
    audit.record(Actor.for_user(user), "user.signed_in", tenant=tenant, target=user)
    return user


def authenticate_staff(email: str, password: str) -> StaffUser:
    """As ``authenticate_user``: staff accounts reach every tenant, and are throttled per
    account in the same way."""
    email = _address_or_nothing(email)
    staff = (
        db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email)) if email else None
    )
    _check_password(None, email, staff, password)
    assert staff is not None
    _after_sign_in(staff, password)
    audit.record(Actor.for_staff(staff), "staff.signed_in", target=staff)
    return staff


def _address_or_nothing(raw: str) -> str:
    """A malformed address signs in as nobody, with the same answer as a wrong password."""
    try:
        return normalize_email(raw)
    except ValidationFailed:
        return ""


def _check_password(
    tenant: Tenant | None, email: str, account: User | StaffUser | None, password: str
) -> None:
    """Refuse a blocked address unchecked, and a wrong password, an unknown address or a
    deactivated account alike (counting the failure); pass otherwise."""
    wait = sign_in_throttle.blocked_for(tenant, email, account)
    if wait is not None:
        raise ValidationFailed(sign_in_throttle.wait_message(wait))
    if (
        not verify_password(account.password_hash if account else None, password)
        or account is None
        or not account.is_active_account
    ):
        block = sign_in_throttle.record_failure(tenant, email, account)
        if block is None:
            raise ValidationFailed(SIGN_IN_FAILED)
        raise ValidationFailed(f"{SIGN_IN_FAILED} {sign_in_throttle.wait_message(block)}")


def _after_sign_in(account: User | StaffUser, password: str) -> None:
    account.last_login_at = utcnow()
    sign_in_throttle.clear(account)
    if account.password_hash and password_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)


def end_all_sessions(account: User | StaffUser) -> None:
    """Every session cookie issued so far for this account stops working."""
    account.session_version += 1


def signup_refusal(tenant: Tenant, email: str | None = None) -> str | None:
    """Why this tenant (or this address) can't sign up here, or None if it can."""
    if not tenant.allow_signup:
        return "This organization doesn't offer sign-up: ask an administrator to invite you."
    if email and not tenant.admits_address(email):
        allowed = ", ".join(tenant.signup_email_domains)
        return f"Sign-up here is limited to addresses at {allowed}."
    return None


def sign_up(tenant: Tenant, *, email: str, name: str, password: str) -> User | None:
    """A new, unproven account, emailed a link that proves its address; None when the
    address already has an account here (that address is told instead, and nothing is
    made). Both answer the same, in about the same time: no one learns who has an account.
    """
    email = normalize_email(email)
    refusal = signup_refusal(tenant)
    if refusal:
        raise PermissionDenied(refusal)
    refusal = signup_refusal(tenant, email)
    if refusal:
        raise ValidationFailed(refusal, field="email")
    name = clean_name(name)
    check_password(password)
    existing = find_user(tenant, email)
    if existing is not None:
        email_verification.signup_on_existing(tenant, existing, password)
        return None
    user = create_user(tenant, email=email, name=name, password=password)
    audit.record(Actor.for_user(user), "user.signed_up", tenant=tenant, target=user)
    if tenant.personal_orgs:
        user.last_org_id = orgs.create_personal_org(user, tenant).id
    email_verification.send_verification(tenant, user)
    return user


def create_user(
    tenant: Tenant,
    *,
    email: str,
    name: str,
    password: str | None,
    tenant_role: str = TenantRole.MEMBER,
    email_verified: bool = False,
) -> User:
    """Insert a user whose input is already validated; flushes so the id is known.

    ``email_verified`` only where the address is vouched for (seeded data, an operator)."""
    if tenant_role not in TenantRole.ALL:
        raise ValidationFailed(f"Unknown tenant role “{tenant_role}”.", field="tenant_role")
    user = User(
        tenant_id=tenant.id,
        email=email,
        name=name,
        password_hash=hash_password(password) if password else None,
        tenant_role=tenant_role,
        email_verified_at=utcnow() if email_verified else None,
    )
    try:
        # A savepoint: two sign-ups with one address at the same instant get a form error.
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except sa_exc.IntegrityError:
        raise ValidationFailed(
            "An account with this email already exists here.", field="email"
        ) from None
    return user


def create_staff(
    actor: Actor, *, email: str, password: str, name: str = "", role: str = StaffRole.SUPPORT
) -> StaffUser:
    require_staff_permission(actor, StaffAction.STAFF_MANAGE, "create staff accounts")
    email = normalize_email(email)
    check_password(password)
    if role not in StaffRole.ALL:
        raise ValidationFailed(
            f"Unknown staff role “{role}”: use superadmin or support.", field="role"
        )
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
        raise Conflict(f"A staff account for {email} already exists.")
    staff = StaffUser(
        email=email, name=" ".join(name.split()), password_hash=hash_password(password), role=role
    )
    db.session.add(staff)
    db.session.flush()
    audit.record(
        actor, "staff.created", target=staff, after={"email": staff.email, "role": staff.role}
    )
    return staff


# --- deactivating and reactivating accounts ------------------------------------------


def lock_tenant(tenant: Tenant) -> None:
    """Serialise owner-count checks within a tenant (a row lock on PostgreSQL)."""
    db.session.execute(sa.select(Tenant.id).where(Tenant.id == tenant.id).with_for_update())


def deactivate_user(actor: Actor, tenant: Tenant, user: User) -> User:
    """The user can no longer sign in, and every session they have ends now."""
    if user.tenant_id != tenant.id:
        raise NotFound("No such user.")
    _require_user_manager(actor, user, "deactivate")
    if not user.is_active_account:
        raise Conflict(f"{user.email} is already deactivated.")
    if user.tenant_role == TenantRole.OWNER:
        lock_tenant(tenant)
        other_owners = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(
                User.tenant_id == tenant.id,
                User.tenant_role == TenantRole.OWNER,
                User.is_active_account.is_(True),
                User.id != user.id,
            )
        )
        if not other_owners:
            raise Conflict(
                f"{user.email} is the last active owner of {tenant.name}: make someone else "
                "a tenant owner first."
            )
    user.is_active_account = False
    end_all_sessions(user)
    _record_user_change(actor, tenant, user, "user.deactivated", active=False)
    return user


def reactivate_user(actor: Actor, tenant: Tenant, user: User) -> User:
    if user.tenant_id != tenant.id:
        raise NotFound("No such user.")
    _require_user_manager(actor, user, "reactivate")
    if user.is_active_account:
        raise Conflict(f"{user.email} is already active.")
    user.is_active_account = True
    _record_user_change(actor, tenant, user, "user.reactivated", active=True)
    return user


def _require_user_manager(actor: Actor, user: User, verb: str) -> None:
    """Staff who may manage users, or a tenant owner/admin (not on themselves, and only an
    owner on an owner)."""
    require_staff_permission(actor, StaffAction.USERS_MANAGE, f"{verb} users")
    if actor.key_scope is not None:
        actor.key_scope.require(TenantPerm.USERS_MANAGE)
    me = actor.user
    if me is None:
        return
    if not tenant_can(me, TenantPerm.USERS_MANAGE):
        raise PermissionDenied(f"Only tenant owners and admins can {verb} users.")
    if me.id == user.id:
        raise PermissionDenied(f"You can't {verb} your own account.")
    if user.tenant_role == TenantRole.OWNER and me.tenant_role != TenantRole.OWNER:
        raise PermissionDenied(f"Only a tenant owner can {verb} an owner.")


def _record_user_change(
    actor: Actor, tenant: Tenant, user: User, action: str, *, active: bool
) -> None:
    db.session.flush()
    audit.record(
        actor,
        action,
        tenant=tenant,
        target=user,
        before={"is_active": not active},
        after={"is_active": active},
    )


def deactivate_staff(actor: Actor, staff: StaffUser) -> StaffUser:
    """A staff account that can no longer sign in; its sessions end now."""
    require_staff_permission(actor, StaffAction.STAFF_MANAGE, "deactivate staff accounts")
    if actor.staff is not None and actor.staff.id == staff.id:
        raise Conflict("You can't deactivate your own account.")
    if not staff.is_active_account:
        raise Conflict(f"{staff.email} is already deactivated.")
    if staff.role == StaffRole.SUPERADMIN:
        others = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(StaffUser)
            .where(
                StaffUser.role == StaffRole.SUPERADMIN,
                StaffUser.is_active_account.is_(True),
                StaffUser.id != staff.id,
            )
        )
        if not others:
            raise Conflict(f"{staff.email} is the last active superadmin.")
    staff.is_active_account = False
    end_all_sessions(staff)
    _record_staff_change(actor, staff, "staff.deactivated", active=False)
    view_as.end_all_for(actor, staff, why=view_as.DEACTIVATED)
    return staff


def reactivate_staff(actor: Actor, staff: StaffUser) -> StaffUser:
    require_staff_permission(actor, StaffAction.STAFF_MANAGE, "reactivate staff accounts")
    if staff.is_active_account:
        raise Conflict(f"{staff.email} is already active.")
    staff.is_active_account = True
    _record_staff_change(actor, staff, "staff.reactivated", active=True)
    return staff


def _record_staff_change(actor: Actor, staff: StaffUser, action: str, *, active: bool) -> None:
    db.session.flush()
    audit.record(
        actor, action, target=staff, before={"is_active": not active}, after={"is_active": active}
    )


# --- across tenants (the support console) --------------------------------------------


def get_user_anywhere(public_id: str | None) -> User:
    """A user of any (not deleted) tenant, with the tenant loaded: for support staff, who
    belong to no tenant."""
    user = db.session.scalar(
        sa.select(User)
        .join(Tenant, Tenant.id == User.tenant_id)
        .options(so.contains_eager(User.tenant))
        .where(User.public_id == (public_id or ""), Tenant.deleted_at.is_(None))
    )
    if user is None:
        raise NotFound("No such user.")
    return user


# --- staff accounts ------------------------------------------------------------------


STAFF_PAGE = 50
STAFF_CURSOR = (str,)  # a page's edge row: its email (unique)


def list_staff(*, cursor: Cursor | None = None, per_page: int = STAFF_PAGE) -> KeysetPage:
    """Staff accounts by email, as plain rows, a page by key."""
    stmt = sa.select(
        StaffUser.id,
        StaffUser.public_id,
        StaffUser.email,
        StaffUser.name,
        StaffUser.role,
        StaffUser.is_active_account,
        StaffUser.last_login_at,
    )
    return keyset_page(
        stmt, [StaffUser.email], cursor=cursor, per_page=per_page, key_of=lambda row: (row.email,)
    )


def get_staff(public_id: str) -> StaffUser:
    staff = db.session.scalar(sa.select(StaffUser).where(StaffUser.public_id == public_id))
    if staff is None:
        raise NotFound("No such staff account.")
    return staff


def update_name(tenant: Tenant, user: User, name: str) -> User:
    """The name a user gives themselves on their account page."""
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
