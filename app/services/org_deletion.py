"""What deleting an organization would take with it, told before anyone asks for it.

The deletion itself is ``orgs.delete_org``; this is what the Danger zone page shows first,
so the page can say how much goes and refuse up front what the deletion would refuse."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Organization, Tenant
from app.services.orgs import subtree_query


@dataclass(frozen=True)
class DeletionPreview:
    sub_orgs: int  # live organizations below it, at any depth
    personal_below: bool  # a personal org below it: the deletion would be refused

    @property
    def sub_orgs_text(self) -> str:
        return f"{self.sub_orgs} sub-organization{'' if self.sub_orgs == 1 else 's'}"


def preview(tenant: Tenant, org: Organization) -> DeletionPreview:
    """How many live orgs sit below ``org``, and whether one is personal; one query."""
    below = subtree_query(tenant, org).subquery()
    count, personal = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.max(sa.case((below.c.is_personal, 1), else_=0)), 0),
        ).select_from(below)
    ).one()
    return DeletionPreview(sub_orgs=count, personal_below=bool(personal))
