from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.ids import id_factory
from app.models.base import TimestampMixin, UTCDateTime


class InvitationStatus:
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"
    ALL = (PENDING, ACCEPTED, DECLINED, REVOKED, EXPIRED)


class Invitation(TimestampMixin, db.Model):
    """An emailed invitation to one org with one role, bound to one address.

    The token is at least 256 random bits and only its hash is stored; a resend replaces
    it, so an older link stops working. A pending invitation past ``expires_at`` reads
    as expired everywhere (``effective_status``), whether or not a job has marked it.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        sa.Index("ix_invitations_org_id_status_created_at", "org_id", "status", "created_at"),
        # The invitations page's order (newest first, by key): a deep page starts here.
        sa.Index("ix_invitations_org_id_created_at_id", "org_id", "created_at", "id"),
        sa.Index("ix_invitations_tenant_id_email_status", "tenant_id", "email", "status"),
        sa.Index("ix_invitations_inviter_id_created_at", "inviter_id", "created_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')",
            name="status_valid",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("invitation")
    )
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    org_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id", ondelete="CASCADE"))
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    role: so.Mapped[str] = so.mapped_column(sa.String(40))
    team_ids: so.Mapped[list[int]] = so.mapped_column(sa.JSON, default=list)
    message: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    inviter_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=InvitationStatus.PENDING)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    sent_count: so.Mapped[int] = so.mapped_column(default=1)
    last_sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    responded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    accepted_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    def effective_status(self, now: datetime) -> str:
        if self.status == InvitationStatus.PENDING and self.expires_at <= now:
            return InvitationStatus.EXPIRED
        return self.status


class JoinLink(TimestampMixin, db.Model):
    """A shareable link that lets people join an org with a role, within limits."""

    __tablename__ = "join_links"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(40), unique=True, default=id_factory("join_link")
    )
    tenant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    org_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    role: so.Mapped[str] = so.mapped_column(sa.String(40))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    max_uses: so.Mapped[int | None] = so.mapped_column()
    uses: so.Mapped[int] = so.mapped_column(default=0)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    allowed_domain: so.Mapped[str | None] = so.mapped_column(sa.String(253))
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
