"""A tenant's outbox as support staff see it: the emails that failed for good, and
putting one back in the queue (audited in the tenant's log). Delivery itself is
``app.mail``."""

from __future__ import annotations

import sqlalchemy as sa

from app.actors import Actor
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import OutboxEmail, OutboxStatus, Tenant, utcnow
from app.policy import StaffAction, require_staff_permission
from app.services import audit

FAILED_EMAILS_LIMIT = 50


def failed_emails(tenant: Tenant, *, limit: int = FAILED_EMAILS_LIMIT) -> list[OutboxEmail]:
    return list(
        db.session.scalars(
            sa.select(OutboxEmail)
            .where(OutboxEmail.tenant_id == tenant.id, OutboxEmail.status == OutboxStatus.FAILED)
            .order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
            .limit(limit)
        )
    )


def get_email(tenant: Tenant, email_id: str) -> OutboxEmail:
    """One of this tenant's outbox emails (emails have no public id: the row id, checked
    against the tenant, so another tenant's number is simply not found)."""
    if not email_id.isdigit() or len(email_id) > 18:
        raise NotFound("No such email.")
    email = db.session.scalar(
        sa.select(OutboxEmail).where(
            OutboxEmail.id == int(email_id), OutboxEmail.tenant_id == tenant.id
        )
    )
    if email is None:
        raise NotFound("No such email.")
    return email


def retry_email(actor: Actor, tenant: Tenant, email: OutboxEmail) -> OutboxEmail:
    """Put a failed email back in the queue, due now, with a fresh set of attempts."""
    require_staff_permission(actor, StaffAction.OUTBOX_RETRY, "retry emails")
    if email.tenant_id != tenant.id:
        raise NotFound("No such email.")
    before = {"status": email.status, "attempts": email.attempts}
    # Conditional: a second click (or a second person) can't queue it twice.
    changed = db.session.execute(
        sa.update(OutboxEmail)
        .where(OutboxEmail.id == email.id, OutboxEmail.status == OutboxStatus.FAILED)
        .values(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(), locked_until=None
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(f"Only a failed email can be retried; this one is {email.status}.")
    db.session.refresh(email)
    audit.record(
        actor,
        "email.retried",
        tenant=tenant,
        target=email,
        before=before,
        after={"status": email.status, "attempts": email.attempts},
    )
    return email
