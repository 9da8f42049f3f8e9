from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.ids import id_factory
from app.models.base import TimestampMixin, UTCDateTime, postgresql_only, utcnow


class Organization(TimestampMixin, db.Model):
    """A node of a tenant's org tree, nested to any depth through ``parent_id``.

    ``OrgClosure`` holds every (ancestor, descendant) pair beside ``parent_id`` so that a
    subtree, the ancestors and the members inherited from above are each one indexed join.
    """

    __tablename__ = "organizations"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "slug"),
        # One level of the tree by name and then id: "show more" starts at its key.
        sa.Index(
            "ix_organizations_tenant_id_parent_id_name_id", "tenant_id", "parent_id", "name", "id"
        ),
        sa.Index("ix_organizations_parent_id", "parent_id"),
        # Name search and the switcher read in name order and stop at a page.
        sa.Index("ix_organizations_tenant_id_name_id", "tenant_id", "name", "id"),
        # The API pages a tenant's orgs in id order (keyset cursors).
        sa.Index("ix_organizations_tenant_id_id", "tenant_id", "id"),
        # The support console's cross-tenant search matches anywhere in a name.
        postgresql_only(
            sa.Index(
                "ix_organizations_lower_name_trigram",
                sa.func.lower(sa.column("name")).label("lower_name"),
                postgresql_using="gin",
                postgresql_ops={"lower_name": "gin_trgm_ops"},
            )
        ),
        sa.Index("ix_organizations_deleted_root_id", "deleted_root_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("org")
    )
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    parent_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE")
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    slug: so.Mapped[str] = so.mapped_column(sa.String(63))
    logo_url: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    public_metadata: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    private_metadata: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    settings: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    is_personal: so.Mapped[bool] = so.mapped_column(default=False)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    deleted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The org whose deletion hid this one: restoring that org brings back exactly these.
    deleted_root_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"


class OrgClosure(db.Model):
    """Every ancestor of every org, itself included at depth 0."""

    __tablename__ = "organization_closure"
    __table_args__ = (
        sa.Index("ix_organization_closure_descendant_id_depth", "descendant_id", "depth"),
    )

    ancestor_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    descendant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    depth: so.Mapped[int]


class OrgSlugRedirect(db.Model):
    """An org's former slug, so old links keep working after a rename."""

    __tablename__ = "organization_slug_redirects"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "old_slug"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    old_slug: so.Mapped[str] = so.mapped_column(sa.String(63))
    org_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Membership(db.Model):
    """A user's role in one org; it holds in every descendant org too."""

    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("org_id", "user_id"),
        sa.Index("ix_memberships_user_id_org_id", "user_id", "org_id"),
        # Filtering members by role: who holds role R in these orgs.
        sa.Index("ix_memberships_org_id_role_user_id", "org_id", "role", "user_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    org_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    role: so.Mapped[str] = so.mapped_column(sa.String(40))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
