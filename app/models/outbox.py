from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxEmail(db.Model):
    """Every email is a row first, written in the same transaction as the change that
    caused it; ``flask mail deliver`` sends it later, with retries. No email is lost when
    SMTP is down, and none is sent for a change that was rolled back."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        sa.Index("ix_outbox_emails_status_next_attempt_at", "status", "next_attempt_at"),
        sa.Index("ix_outbox_emails_tenant_id_created_at", "tenant_id", "created_at"),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')", name="status_valid"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    tenant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE")
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    to_address: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    text_body: so.Mapped[str] = so.mapped_column(sa.Text)
    html_body: so.Mapped[str] = so.mapped_column(sa.Text)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=OutboxStatus.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # A worker that claimed the row holds it until then; a crashed worker's claim expires.
    locked_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class PasswordResetToken(db.Model):
    """A single-use link to set a password; only the token's hash is stored."""

    __tablename__ = "password_reset_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    purpose: so.Mapped[str] = so.mapped_column(sa.String(16), default="reset")
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class EmailVerificationToken(db.Model):
    """A single-use link proving that ``email`` reaches ``user``: the account's own
    address after sign-up, or a new address it asked to change to. Only the hash is kept."""

    __tablename__ = "email_verification_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
