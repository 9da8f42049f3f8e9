from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.ids import id_factory
from app.models.base import TimestampMixin, UTCDateTime, postgresql_only

if TYPE_CHECKING:
    from app.models.user import User


def new_cache_stamp() -> str:
    return secrets.token_urlsafe(12)


class TenantStatus:
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ALL = (ACTIVE, SUSPENDED)


class Tenant(TimestampMixin, db.Model):
    """An isolated pool of users, organizations, roles and keys."""

    __tablename__ = "tenants"
    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'suspended')", name="status_valid"),
        # The support console finds tenants by any part of their name or slug.
        postgresql_only(
            sa.Index(
                "ix_tenants_lower_name_trigram",
                sa.func.lower(sa.column("name")).label("lower_name"),
                postgresql_using="gin",
                postgresql_ops={"lower_name": "gin_trgm_ops"},
            )
        ),
        postgresql_only(
            sa.Index(
                "ix_tenants_slug_trigram",
                "slug",
                postgresql_using="gin",
                postgresql_ops={"slug": "gin_trgm_ops"},
            )
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("tenant")
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    slug: so.Mapped[str] = so.mapped_column(sa.String(63), unique=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=TenantStatus.ACTIVE)
    suspended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    deleted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Self-service sign-up; when signup_email_domains is non-empty only those domains may.
    allow_signup: so.Mapped[bool] = so.mapped_column(default=False)
    signup_email_domains: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    # Every new user gets an organization of their own, with them as owner.
    personal_orgs: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # How long an emailed invitation stays valid.
    invitation_days: so.Mapped[int] = so.mapped_column(default=7, server_default="7")
    # At most this many direct members per org; None means no limit.
    seat_limit: so.Mapped[int | None] = so.mapped_column()
    # Whether plain members may create top-level organizations (owners/admins always can).
    members_can_create_orgs: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )
    # Access tokens (JWTs) for the product's own backend: who they are for, how long
    # they live. Without an audience of its own, a token's `aud` is the tenant's id.
    token_audience: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    token_lifetime_minutes: so.Mapped[int] = so.mapped_column(default=10, server_default="10")

    # Replaced by every change to what app/tenant_cache.py keeps of the tenant in process;
    # requests read it to know whether their copy is current.
    cache_stamp: so.Mapped[str] = so.mapped_column(
        sa.String(40), default=new_cache_stamp, server_default=""
    )

    users: so.WriteOnlyMapped[User] = so.relationship(back_populates="tenant")

    @property
    def is_suspended(self) -> bool:
        return self.status == TenantStatus.SUSPENDED

    def admits_address(self, email: str) -> bool:
        """Does the tenant's domain rule (sign-up, invitations, email changes) let this
        (normalised) address in? Any address, without a rule."""
        domains = self.signup_email_domains
        return not domains or email.rsplit("@", 1)[-1] in domains

    @property
    def effective_token_audience(self) -> str:
        return self.token_audience or self.public_id

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"
