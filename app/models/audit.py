from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.ids import id_factory
from app.models.base import UTCDateTime, utcnow
from app.models.tenant import Tenant


class ActorType:
    USER = "user"
    STAFF = "staff"
    API_KEY = "api_key"
    SYSTEM = "system"
    ALL = (USER, STAFF, API_KEY, SYSTEM)


class AuditEvent(db.Model):
    """One row per change, written in the same transaction as the change.

    Actor and target are kept as public id plus a label copied at the time, so the
    record still reads correctly after the thing it names is renamed or deleted.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # The logs' order (newest first, the id breaking ties), so a page read by key
        # starts at its place in the index however deep it is. An org's log names its
        # tenant too: with both in the index no planner takes the whole tenant's instead.
        sa.Index("ix_audit_events_tenant_id_created_at_id", "tenant_id", "created_at", "id"),
        sa.Index("ix_audit_events_created_at", "created_at"),
        sa.Index(
            "ix_audit_events_org_id_tenant_id_created_at_id",
            "org_id",
            "tenant_id",
            "created_at",
            "id",
        ),
        sa.CheckConstraint(
            "actor_type IN ('user', 'staff', 'api_key', 'system')", name="actor_type_valid"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("event")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    tenant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE")
    )
    org_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL")
    )
    actor_type: so.Mapped[str] = so.mapped_column(sa.String(16))
    actor_id: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    actor_label: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    target_type: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    target_id: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    target_label: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    before: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    after: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(255))

    tenant: so.Mapped[Tenant | None] = so.relationship(lazy="raise")

    @property
    def is_support(self) -> bool:
        return self.actor_type == ActorType.STAFF

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.target_id}>"
