"""Tenant API keys: created by those with ``api_keys:manage``, shown once, stored hashed."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app.actors import Actor
from app.credentials import hash_token, new_token
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import ApiKey, Tenant, utcnow
from app.policy import TenantPerm, require_tenant
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


def list_keys(tenant: Tenant) -> list[ApiKey]:
    return list(
        db.session.scalars(
            sa.select(ApiKey)
            .where(ApiKey.tenant_id == tenant.id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


def get_key(tenant: Tenant, public_id: str) -> ApiKey:
    key = db.session.scalar(
        sa.select(ApiKey).where(ApiKey.tenant_id == tenant.id, ApiKey.public_id == public_id)
    )
    if key is None:
        raise NotFound("No such API key.")
    return key


def create_key(
    actor: Actor, tenant: Tenant, *, name: str, expires_in_days: int | None = None
) -> NewApiKey:
    require_tenant(actor, TenantPerm.API_KEYS_MANAGE)
    name = clean_name(name, limit=MAX_NAME_LENGTH)
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
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        actor, "api_key.created", tenant=tenant, target=key,
        after={"name": key.name, "prefix": key.display_prefix,
               "expires_at": key.expires_at.isoformat() if key.expires_at else None},
    )  # fmt: skip
    return NewApiKey(key, secret)


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


def authenticate(secret: str) -> tuple[ApiKey, Tenant] | None:
    """The live key this secret belongs to, with its (active) tenant; None otherwise.

    Revoked, expired, altered and unknown keys, and keys of a suspended tenant, all get
    None: the caller answers 401 without saying which.
    """
    if not secret.startswith(KEY_PREFIX) or len(secret) > 100:
        return None
    row = db.session.execute(
        sa.select(ApiKey, Tenant)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.token_hash == hash_token(secret))
    ).first()
    if row is None:
        return None
    key, tenant = row
    now = utcnow()
    if key.state(now) != "active" or tenant.is_suspended or tenant.deleted_at is not None:
        return None
    _touch(key, now)
    return key, tenant


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
