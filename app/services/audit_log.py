"""Reading the audit trail."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db
from app.models import AuditEvent, Tenant
from app.pagination import Page, paginate


def recent_events(*, tenant: Tenant, limit: int = 20) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.tenant_id == tenant.id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def list_events(*, page: int = 1, per_page: int = 50) -> Page[AuditEvent]:
    """Every event across the platform, newest first (the staff console's view)."""
    stmt = (
        sa.select(AuditEvent)
        .options(so.joinedload(AuditEvent.tenant))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    return paginate(stmt, page, per_page)
