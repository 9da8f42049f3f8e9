"""What support staff do inside a tenant that must outlive a request."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.ids import id_factory
from app.models.base import UTCDateTime, utcnow


class ViewAsSession(db.Model):
    """A staff member viewing a tenant as one of its users, read-only and time-limited.

    The state lives here, not in the cookie: the cookie names the row, and a row that
    has ended (``ended_at``) or expired lets nobody back in, whatever cookie is replayed.
    """

    __tablename__ = "view_as_sessions"
    __table_args__ = (sa.Index("ix_view_as_sessions_staff_id_ended_at", "staff_id", "ended_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("view_as")
    )
    staff_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(300))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # "ended", "expired", "replaced", "signed out"
    end_reason: so.Mapped[str | None] = so.mapped_column(sa.String(16))

    def is_live(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now

    def __repr__(self) -> str:
        return f"<ViewAsSession {self.public_id} staff {self.staff_id} as user {self.user_id}>"
