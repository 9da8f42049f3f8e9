"""What lets code reach Tenantry: tenant API keys, and the keys that sign access tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.ids import id_factory
from app.models.base import UTCDateTime, utcnow


class ApiKey(db.Model):
    """A tenant's machine-to-machine credential (``tk_…``), shown once; only its hash stays.

    A key holds the permissions chosen when it was made (``permissions``: org ``Perm``
    and tenant ``TenantPerm`` names), over the whole tenant or, with ``org_id``, over one
    org and everything below it. A key made before permission sets existed has
    ``permissions`` None: "full access", as such keys always had.
    """

    __tablename__ = "api_keys"
    __table_args__ = (sa.Index("ix_api_keys_tenant_id_created_at", "tenant_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("api_key")
    )
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    # The first characters of the secret, so people can tell their keys apart.
    display_prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    permissions: so.Mapped[list[str] | None] = so.mapped_column(sa.JSON)
    org_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    @property
    def has_full_access(self) -> bool:
        return self.permissions is None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def __repr__(self) -> str:
        return f"<ApiKey {self.display_prefix}… of tenant {self.tenant_id}>"


class SigningKey(db.Model):
    """One of a tenant's RS256 keys for access tokens, published in its JWKS by ``kid``.

    The newest unretired key signs; a retired key stays published until the tokens it
    signed have expired (``published_until``), so rotating never breaks a valid token.
    """

    __tablename__ = "signing_keys"
    __table_args__ = (sa.Index("ix_signing_keys_tenant_id_created_at", "tenant_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    kid: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    algorithm: so.Mapped[str] = so.mapped_column(sa.String(16), default="RS256")
    public_jwk: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    private_key_pem: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    retired_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    published_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    def is_published(self, now: datetime) -> bool:
        return self.published_until is None or self.published_until > now

    def __repr__(self) -> str:
        return f"<SigningKey {self.kid}>"
