"""Internal ids to public ones, in batches: what API answers name instead of integers."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from app.extensions import db


def public_ids(model: type, ids: Iterable[int | None]) -> dict[int, str]:
    """``{id: public_id}`` for these rows of ``model``; one query (none for no ids)."""
    wanted = {row_id for row_id in ids if row_id is not None}
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(model.id, model.public_id).where(model.id.in_(wanted)))
    return dict(rows.all())
