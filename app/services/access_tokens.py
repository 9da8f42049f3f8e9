"""Access tokens: short-lived JWTs saying who a user is, in which tenant and org, with
which role, for the product's own backend to verify against the tenant's JWKS.

Each tenant signs with its own RS256 key, so a token of one tenant never verifies with
another's keys. Rotating starts a new key and keeps the old one published until every
token it signed has expired.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app, has_request_context, request
from jwt.algorithms import RSAAlgorithm
from ulid import ULID

from app import tenant_cache
from app.actors import Actor
from app.errors import ServiceError, ValidationFailed
from app.extensions import db
from app.models import Membership, Organization, SigningKey, Tenant, User, utcnow
from app.policy import NO_ACCESS, OrgAccess, TenantPerm, access, require_tenant
from app.services import accounts, audit, orgs

ALGORITHM = "RS256"
MIN_LIFETIME_MINUTES = 1
MAX_LIFETIME_MINUTES = 24 * 60
# Clocks differ a little between Tenantry and the backends that verify its tokens.
LEEWAY = timedelta(seconds=30)
REQUIRED_CLAIMS = ["iss", "aud", "sub", "tenant_id", "iat", "exp", "jti"]


class InvalidToken(ServiceError):
    status_code = 401
    code = "invalid_token"


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_in: int  # seconds


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict[str, Any]
    tenant: Tenant
    user: User


# --- keys ------------------------------------------------------------------------------


def issuer(tenant: Tenant) -> str:
    """``<BASE_URL or this site's origin>/t/<slug>``: what ``iss`` says and backends check."""
    base = current_app.config.get("BASE_URL")
    if not base and has_request_context():
        base = request.host_url.rstrip("/")
    return f"{base or 'http://localhost'}/t/{tenant.slug}"


def _new_key(tenant: Tenant) -> SigningKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = str(ULID()).lower()
    public_jwk = RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    key = SigningKey(
        tenant_id=tenant.id,
        kid=kid,
        algorithm=ALGORITHM,
        public_jwk={**public_jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"},
        private_key_pem=private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )
    db.session.add(key)
    db.session.flush()
    return key


def _signing_key(tenant: Tenant) -> SigningKey:
    """The tenant's current key; the first one is made on first use (under a row lock,
    so two first tokens at once don't make two keys on PostgreSQL)."""
    current = _current_key(tenant)
    if current is not None:
        return current
    accounts.lock_tenant(tenant)
    return _current_key(tenant) or _new_key(tenant)


def _current_key(tenant: Tenant) -> SigningKey | None:
    return db.session.scalar(
        sa.select(SigningKey)
        .where(SigningKey.tenant_id == tenant.id, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
        .limit(1)
    )


def published_keys(tenant: Tenant) -> list[SigningKey]:
    """The current key and the retired ones whose tokens may still be valid."""
    now = utcnow()
    return list(
        db.session.scalars(
            sa.select(SigningKey)
            .where(
                SigningKey.tenant_id == tenant.id,
                sa.or_(SigningKey.published_until.is_(None), SigningKey.published_until > now),
            )
            .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
        )
    )


def jwks(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    return {"keys": [key.public_jwk for key in published_keys(tenant)]}


def rotate(actor: Actor, tenant: Tenant) -> SigningKey:
    """A new signing key; the old one stays published until its last token expires."""
    require_tenant(actor, TenantPerm.SIGNING_KEYS_MANAGE)
    accounts.lock_tenant(tenant)
    now = utcnow()
    retired = list(
        db.session.scalars(
            sa.select(SigningKey).where(
                SigningKey.tenant_id == tenant.id, SigningKey.retired_at.is_(None)
            )
        )
    )
    for old in retired:
        old.retired_at = now
        old.published_until = now + timedelta(minutes=tenant.token_lifetime_minutes) + LEEWAY
    # Keys no token can need any more are of no use to anyone: drop them.
    db.session.execute(
        sa.delete(SigningKey).where(
            SigningKey.tenant_id == tenant.id, SigningKey.published_until <= now
        )
    )
    key = _new_key(tenant)
    audit.record(
        actor, "signing_key.rotated", tenant=tenant, target=key, label=tenant.name,
        before={"kids": [old.kid for old in retired]}, after={"kid": key.kid},
    )  # fmt: skip
    return key


@functools.lru_cache(maxsize=256)
def _private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode(), password=None)


@functools.lru_cache(maxsize=256)
def _public_key(jwk_json: str):
    return RSAAlgorithm.from_jwk(jwk_json)


# --- tokens ----------------------------------------------------------------------------


def authorization(user: User) -> dict[str, dict[str, list[str]]]:
    """Every org the user is a direct member of, with their roles there (as Userfront
    does); roles hold in sub-organizations too, which the tree says. None for an account
    whose address is not proven: it sees no org anywhere."""
    if not user.email_verified:
        return {}
    rows = db.session.execute(
        sa.select(Organization.public_id, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(
            Membership.user_id == user.id,
            Organization.tenant_id == user.tenant_id,
            Organization.deleted_at.is_(None),
        )
        .order_by(Organization.id)
    )
    result: dict[str, dict[str, list[str]]] = {}
    for org_id, role in rows:
        result.setdefault(org_id, {"roles": []})["roles"].append(role)
    return result


def org_access(user: User, org: Organization | None) -> OrgAccess:
    return access(user, org) if org is not None else NO_ACCESS


def mint(tenant: Tenant, user: User, org: Organization | None) -> AccessToken:
    """A signed token for ``user`` with ``org`` (their current one) and their role there.

    ``email_verified`` says whether the address is proven; an unproven account's token
    names no org, role or permission."""
    if not user.email_verified:
        org = None
    key = _signing_key(tenant)
    now = utcnow()
    lifetime = timedelta(minutes=tenant.token_lifetime_minutes)
    granted = org_access(user, org)
    claims = {
        "iss": issuer(tenant),
        "aud": tenant.effective_token_audience,
        "sub": user.public_id,
        "email": user.email,
        "email_verified": user.email_verified,
        "tenant_id": tenant.public_id,
        "tenant_role": user.tenant_role,
        "org_id": org.public_id if org is not None else None,
        "role": granted.role,
        "permissions": sorted(granted.permissions),
        "authorization": authorization(user),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": str(ULID()),
    }
    value = jwt.encode(
        claims, _private_key(key.private_key_pem), algorithm=ALGORITHM, headers={"kid": key.kid}
    )
    return AccessToken(value=value, expires_in=int(lifetime.total_seconds()))


def verify(token: str) -> VerifiedToken:
    """The token's claims, tenant and (still active) user; InvalidToken for a bad
    signature, another tenant's key, ``alg: none``, a wrong ``aud`` or ``iss``, or expiry."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("This is not a Tenantry access token.") from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str) or len(kid) > 40:
        raise InvalidToken("This token is not signed the way Tenantry signs its tokens.")
    row = db.session.execute(
        sa.select(SigningKey, Tenant)
        .join(Tenant, Tenant.id == SigningKey.tenant_id)
        .where(SigningKey.kid == kid)
    ).first()
    if row is None or not row[0].is_published(utcnow()):
        raise InvalidToken("This token's signing key is unknown or no longer published.")
    key, tenant = row
    if tenant.is_suspended or tenant.deleted_at is not None:
        raise InvalidToken("This token's tenant is not active.")
    tenant_cache.loaded(tenant)
    try:
        claims = jwt.decode(
            token,
            _public_key(json.dumps(key.public_jwk, sort_keys=True)),
            algorithms=[ALGORITHM],
            audience=tenant.effective_token_audience,
            issuer=issuer(tenant),
            leeway=LEEWAY,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("This token has expired: ask for a new one.") from None
    except jwt.PyJWTError as error:
        raise InvalidToken(f"This token is not valid here ({error}).") from None
    if claims.get("tenant_id") != tenant.public_id:
        raise InvalidToken("This token belongs to another tenant.")
    user = db.session.scalar(
        sa.select(User).where(User.tenant_id == tenant.id, User.public_id == claims["sub"])
    )
    if user is None or not user.is_active_account:
        raise InvalidToken("This token's user no longer exists or is deactivated.")
    return VerifiedToken(claims=claims, tenant=tenant, user=user)


def current_org(verified: VerifiedToken) -> Organization | None:
    """The token's org, if the user can still see it now (an account whose address is
    not proven, as of now, sees none)."""
    if not verified.user.email_verified:
        return None
    org_id = verified.claims.get("org_id")
    return orgs.accessible_org(verified.user, org_id) if isinstance(org_id, str) else None


# --- settings --------------------------------------------------------------------------


def update_settings(
    actor: Actor, tenant: Tenant, *, audience: str | None, lifetime_minutes: int
) -> Tenant:
    require_tenant(actor, TenantPerm.SIGNING_KEYS_MANAGE)
    if not MIN_LIFETIME_MINUTES <= lifetime_minutes <= MAX_LIFETIME_MINUTES:
        raise ValidationFailed(
            f"Use {MIN_LIFETIME_MINUTES} to {MAX_LIFETIME_MINUTES} minutes.",
            field="token_lifetime_minutes",
        )
    audience = " ".join((audience or "").split()) or None
    if audience is not None and len(audience) > 200:
        raise ValidationFailed("Keep the audience under 200 characters.", field="token_audience")
    before = {"audience": tenant.token_audience, "lifetime": tenant.token_lifetime_minutes}
    tenant.token_audience = audience
    tenant.token_lifetime_minutes = lifetime_minutes
    after = {"audience": audience, "lifetime": lifetime_minutes}
    if after != before:
        db.session.flush()
        audit.record(
            actor, "tenant.token_settings_updated", tenant=tenant, target=tenant,
            changes=audit.before_after(before, after),
        )  # fmt: skip
    return tenant
