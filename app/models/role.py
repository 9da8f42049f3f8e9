from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.ids import id_factory
from app.models.base import TimestampMixin, UTCDateTime, utcnow


class CustomRole(TimestampMixin, db.Model):
    """A tenant's own named permission set, beside the built-in owner/admin/member/viewer.

    Memberships refer to roles by ``key`` (built-in keys are reserved), so a role's name
    and description can change without touching a single membership.
    """

    __tablename__ = "custom_roles"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("role")
    )
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    key: so.Mapped[str] = so.mapped_column(sa.String(40))
    name: so.Mapped[str] = so.mapped_column(sa.String(80))
    description: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    permissions: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)


class Team(TimestampMixin, db.Model):
    """A sub-group of an org's members."""

    __tablename__ = "teams"
    __table_args__ = (sa.UniqueConstraint("org_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("team")
    )
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    org_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    name: so.Mapped[str] = so.mapped_column(sa.String(80))


class TeamMember(db.Model):
    __tablename__ = "team_members"
    __table_args__ = (sa.Index("ix_team_members_user_id", "user_id"),)

    team_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
