"""Tenant API keys: created by those with ``api_keys:manage``, shown once, stored hashed.

A key holds a permission set and, optionally, one org's subtree; nobody makes or narrows
a key to more than they hold themselves (``policy.key_permissions_grantable``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app import tenant_cache
from app.actors import Actor
from app.credentials import hash_token, new_token
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import ApiKey, Organization, Tenant, User, utcnow
from app.policy import (
    KEY_PERMISSION_LABELS,
    KEY_PERMISSIONS,
    KeyScope,
    TenantPerm,
    key_permissions_grantable,
    key_scope_of,
    require_tenant,
)
from app.services import audit
from app.services.validation import clean_name

KEY_PREFIX = "tk_"
MAX_KEYS_PER_TENANT = 100
MAX_EXPIRY_DAYS = 3650
MAX_NAME_LENGTH = 80
# last_used_at is a hint, not a log: write it at most this often per key, not per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass
class NewApiKey:
    key: ApiKey
    secret: str  # shown once; only its hash is stored


@dataclass(frozen=True)
class AuthenticatedKey:
    key: ApiKey
    tenant: Tenant
    scope: KeyScope
    creator_email: str | None


@dataclass(frozen=True)
class KeyRow:
    key: ApiKey
    org: Organization | None  # the subtree it is limited to
    maker: User | None  # None: made on the command line

    def state(self, now) -> str:
        """The key's own state, or "stopped" while its maker is deactivated (it answers
        401 then, and works again if they are reactivated)."""
        state = self.key.state(now)
        if state == "active" and self.maker is not None and not self.maker.is_active_account:
            return "stopped"
        return state

    @property
    def scope(self) -> KeyScope:
        return key_scope_of(self.key.permissions, self.org)

    @property
    def summary(self) -> str:
        """ "full access", or its permissions and, if limited, where."""
        if self.key.has_full_access:
            return "full access"
        held = ", ".join(self.key.permissions or [])
        return f"{held} in {self.org.name} and below" if self.org is not None else held


def list_keys_with_scope(tenant: Tenant) -> list[KeyRow]:
    """The tenant's keys, newest first, each with the org it is limited to and its maker;
    one query."""
    rows = db.session.execute(
        sa.select(ApiKey, Organization, User)
        .outerjoin(Organization, Organization.id == ApiKey.org_id)
        .outerjoin(User, User.id == ApiKey.created_by_id)
        .where(ApiKey.tenant_id == tenant.id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return [KeyRow(key, org, maker) for key, org, maker in rows]


def row_of(key: ApiKey) -> KeyRow:
    maker = db.session.get(User, key.created_by_id) if key.created_by_id is not None else None
    return KeyRow(key, key_org(key), maker)


def get_key(tenant: Tenant, public_id: str) -> ApiKey:
    key = db.session.scalar(
        sa.select(ApiKey).where(ApiKey.tenant_id == tenant.id, ApiKey.public_id == public_id)
    )
    if key is None:
        raise NotFound("No such API key.")
    return key


def grantable_permissions(actor: Actor, org: Organization | None) -> frozenset[str]:
    """What ``actor`` may put in a key over ``org``'s subtree (None: the whole tenant)."""
    if actor.user is not None:
        return key_permissions_grantable(actor.user, org)
    if actor.key_scope is not None:
        return actor.key_scope.permissions & KEY_PERMISSIONS
    return KEY_PERMISSIONS  # the command line acts for the tenant as a whole


def _check_permissions(
    actor: Actor, tenant: Tenant, permissions: list[str] | None, org: Organization | None
) -> list[str]:
    if org is not None and (org.tenant_id != tenant.id or org.deleted_at is not None):
        raise NotFound("No such organization.")
    chosen = set(permissions) if permissions is not None else set(KEY_PERMISSIONS)
    unknown = chosen - KEY_PERMISSIONS
    if unknown:
        raise ValidationFailed(
            f"Unknown permission: {', '.join(sorted(unknown))}.", field="permissions"
        )
    if not chosen:
        raise ValidationFailed("Choose at least one permission.", field="permissions")
    beyond = chosen - grantable_permissions(actor, org)
    if beyond:
        where = f" in {org.name}" if org is not None else " across the whole tenant"
        raise ValidationFailed(
            "A key can't hold more than you do: you don't hold "
            f"{', '.join(sorted(beyond))}{where}.",
            field="permissions",
        )
    # Listed in the order people choose them from, so a key reads the same everywhere.
    return [perm for perm in KEY_PERMISSION_LABELS if perm in chosen]


def create_key(
    actor: Actor,
    tenant: Tenant,
    *,
    name: str,
    permissions: list[str] | None = None,
    org: Organization | None = None,
    expires_in_days: int | None = None,
) -> NewApiKey:
    """``permissions`` None: every permission a key may hold (the command line's
    default; anyone else is refused what they don't hold themselves)."""
    require_tenant(actor, TenantPerm.API_KEYS_MANAGE)
    name = clean_name(name, limit=MAX_NAME_LENGTH)
    chosen = _check_permissions(actor, tenant, permissions, org)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValidationFailed(
            f"Use 1 to {MAX_EXPIRY_DAYS} days, or leave it empty for a key that doesn't expire.",
            field="expires_in_days",
        )
    live = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ApiKey)
        .where(ApiKey.tenant_id == tenant.id, ApiKey.revoked_at.is_(None))
    )
    if live >= MAX_KEYS_PER_TENANT:
        raise Conflict(f"A tenant can hold {MAX_KEYS_PER_TENANT} keys: revoke an old one first.")
    secret = KEY_PREFIX + new_token()
    key = ApiKey(
        tenant_id=tenant.id,
        name=name,
        display_prefix=secret[:10],
        token_hash=hash_token(secret),
        created_by_id=actor.user.id if actor.user else None,
        permissions=chosen,
        org_id=org.id if org is not None else None,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        actor, "api_key.created", tenant=tenant, target=key,
        after={"name": key.name, "prefix": key.display_prefix, "permissions": chosen,
               "org": org.public_id if org is not None else None,
               "expires_at": key.expires_at.isoformat() if key.expires_at else None},
    )  # fmt: skip
    return NewApiKey(key, secret)


def narrow_key(
    actor: Actor, tenant: Tenant, key: ApiKey, *, permissions: list[str], org: Organization | None
) -> ApiKey:
    """Give a key fewer permissions, or a smaller subtree; never more than it had, nor
    more than the person narrowing it holds."""
    require_tenant(actor, TenantPerm.API_KEYS_MANAGE)
    if key.tenant_id != tenant.id:
        raise NotFound("No such API key.")
    if key.revoked_at is not None:
        raise Conflict(f"The key “{key.name}” is revoked.")
    chosen = _check_permissions(actor, tenant, permissions, org)
    before_scope = key_scope_of(key.permissions, key_org(key))
    widened = set(chosen) - before_scope.permissions
    if widened:
        raise ValidationFailed(
            "Narrowing only takes permissions away: the key does not hold "
            f"{', '.join(sorted(widened))}. Make a new key for more.",
            field="permissions",
        )
    if not before_scope.tenant_wide and (org is None or not before_scope.reaches(org)):
        raise ValidationFailed(
            f"The key is limited to {before_scope.org_name}: choose that organization or "
            "one below it.",
            field="limit_to_org",
        )
    before = {"permissions": key.permissions or "full access",
              "org": key_org(key).public_id if key.org_id else None}  # fmt: skip
    key.permissions = chosen
    key.org_id = org.id if org is not None else None
    db.session.flush()
    audit.record(
        actor, "api_key.narrowed", tenant=tenant, target=key, before=before,
        after={"permissions": chosen, "org": org.public_id if org is not None else None},
    )  # fmt: skip
    return key


def key_org(key: ApiKey) -> Organization | None:
    return db.session.get(Organization, key.org_id) if key.org_id is not None else None


def revoke_key(actor: Actor, tenant: Tenant, key: ApiKey) -> ApiKey:
    require_tenant(actor, TenantPerm.API_KEYS_MANAGE)
    if key.tenant_id != tenant.id:
        raise NotFound("No such API key.")
    if key.revoked_at is not None:
        raise Conflict(f"The key “{key.name}” is already revoked.")
    key.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "api_key.revoked", tenant=tenant, target=key,
        before={"revoked": False}, after={"revoked": True},
    )  # fmt: skip
    return key


def authenticate(secret: str) -> AuthenticatedKey | None:
    """The live key this secret belongs to, with its (active) tenant, its scope and its
    maker's address; None otherwise.

    Revoked, expired, altered and unknown keys, keys of a suspended tenant, and keys whose
    maker has been deactivated all get None: the caller answers 401 without saying which.
    A key never does more than its maker may do now: demote the maker and their keys
    shrink with them. (A key limited to a deleted org still authenticates and finds
    nothing live in its subtree.)
    """
    if not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    row = db.session.execute(
        sa.select(ApiKey, Tenant, Organization, User)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .outerjoin(Organization, Organization.id == ApiKey.org_id)
        .outerjoin(User, User.id == ApiKey.created_by_id)
        .where(ApiKey.token_hash == hash_token(secret))
    ).first()
    if row is None:
        return None
    key, tenant, org, maker = row
    now = utcnow()
    if key.state(now) != "active" or tenant.is_suspended or tenant.deleted_at is not None:
        return None
    tenant_cache.loaded(tenant)
    if maker is not None and not maker.is_active_account:
        return None
    scope = key_scope_of(key.permissions, org)
    # Keys made before permission sets keep the full access they always had, until
    # narrowed; any other key holds at most what its maker may still give.
    if maker is not None and key.permissions is not None:
        scope = scope.limited_to(key_permissions_grantable(maker, org))
    _touch(key, now)
    return AuthenticatedKey(key, tenant, scope, maker.email if maker is not None else None)


def _touch(key: ApiKey, now) -> None:
    """Stamp last use, at most once a minute (one conditional UPDATE, usually no row)."""
    if key.last_used_at is not None and key.last_used_at > now - LAST_USED_RESOLUTION:
        return
    # A hint may wait for the next request: if the database is busy with a writer (SQLite
    # refuses a read-only request's write then), the request goes on without it.
    with contextlib.suppress(sa.exc.OperationalError), db.session.begin_nested():
        db.session.execute(
            sa.update(ApiKey)
            .where(
                ApiKey.id == key.id,
                sa.or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at <= now - LAST_USED_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        key.last_used_at = now
