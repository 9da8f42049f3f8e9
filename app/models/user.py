from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from app.extensions import db
from app.ids import id_factory
from app.models.base import TimestampMixin, UTCDateTime, postgresql_only
from app.models.tenant import Tenant


class TenantRole:
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    ALL = (OWNER, ADMIN, MEMBER)


class StaffRole:
    SUPERADMIN = "superadmin"
    SUPPORT = "support"
    ALL = (SUPERADMIN, SUPPORT)


class SessionIdentity(UserMixin):
    """Flask-Login identity: kind, public id and session version.

    Bumping ``session_version`` (sign-out, password change) invalidates every cookie that
    carries the old one, so a copied session cookie stops working after sign-out.
    """

    kind: str
    public_id: str
    session_version: int
    is_active_account: bool

    def get_id(self) -> str:
        return f"{self.kind}:{self.public_id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_active_account


class User(SessionIdentity, TimestampMixin, db.Model):
    """A person in one tenant. The same address in two tenants is two users."""

    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "email"),
        # Member lists read users in (name, id) order and filter on name/email: cover
        # both (with id, a filtered walk stops at a page, not at the end of a run of
        # equal names).
        sa.Index("ix_users_tenant_id_name_id_email", "tenant_id", "name", "id", "email"),
        # The API pages a tenant's users in id order (keyset cursors).
        sa.Index("ix_users_tenant_id_id", "tenant_id", "id"),
        # Member searches and the support console's cross-tenant search match anywhere in
        # a name or address (LIKE '%x%'); on PostgreSQL trigram indexes answer those
        # without reading every user.
        postgresql_only(
            sa.Index(
                "ix_users_email_trigram",
                "email",
                postgresql_using="gin",
                postgresql_ops={"email": "gin_trgm_ops"},
            )
        ),
        postgresql_only(
            sa.Index(
                "ix_users_lower_name_trigram",
                sa.func.lower(sa.column("name")).label("lower_name"),
                postgresql_using="gin",
                postgresql_ops={"lower_name": "gin_trgm_ops"},
            )
        ),
        sa.CheckConstraint("tenant_role IN ('owner', 'admin', 'member')", name="tenant_role_valid"),
    )
    kind = "user"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("user")
    )
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    tenant_role: so.Mapped[str] = so.mapped_column(sa.String(16), default=TenantRole.MEMBER)
    is_active_account: so.Mapped[bool] = so.mapped_column("is_active", default=True)
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # When this address was proven to reach its holder (a verification, invitation or
    # password link opened); None until then, and an unproven account sees no org.
    email_verified_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Per-account sign-in throttling, shared by every worker: failures in a row, and
    # the moment before which a further attempt is refused (a delay that grows).
    failed_sign_ins: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    sign_in_blocked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The org the switcher last chose, restored at the next sign-in.
    last_org_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL", use_alter=True)
    )

    tenant: so.Mapped[Tenant] = so.relationship(back_populates="users")

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_tenant_admin(self) -> bool:
        return self.tenant_role in (TenantRole.OWNER, TenantRole.ADMIN)

    def __repr__(self) -> str:
        return f"<User {self.email} in tenant {self.tenant_id}>"


# The trigram indexes (on tenants, users and organizations) need pg_trgm, before the
# first table (a trusted extension: the database owner may add it).
sa.event.listen(
    db.metadata,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


class StaffUser(SessionIdentity, TimestampMixin, db.Model):
    """The platform's own people; they belong to no tenant."""

    __tablename__ = "staff_users"
    __table_args__ = (sa.CheckConstraint("role IN ('superadmin', 'support')", name="role_valid"),)
    kind = "staff"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("staff")
    )
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default=StaffRole.SUPPORT)
    is_active_account: so.Mapped[bool] = so.mapped_column("is_active", default=True)
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The same per-account sign-in throttling as a tenant user's (sign_in_throttle).
    failed_sign_ins: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    sign_in_blocked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<StaffUser {self.email}>"
