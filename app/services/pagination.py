"""Offset pagination for server-rendered lists (the API uses cursors instead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from app.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def paginate(stmt: sa.Select, page: int, per_page: int) -> Page:
    """One query: fetch one row more than the page to know whether another page exists."""
    page = max(1, min(page, 100_000))
    rows = list(db.session.scalars(stmt.limit(per_page + 1).offset((page - 1) * per_page)))
    return Page(items=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page)


def keyset(
    stmt: sa.Select, key: sa.ColumnElement, *, after: Any | None, limit: int
) -> tuple[list[Any], Any | None]:
    """One page in ``key`` order after ``after`` (the API's cursors): no OFFSET, so the
    thousandth page costs what the first does. Returns the rows and the last key, if more.

    ``key`` must be unique and selected by ``stmt`` (rows are entities or tuples).
    """
    if after is not None:
        stmt = stmt.where(key > after)
    result = db.session.execute(stmt.order_by(key).limit(limit + 1))
    rows = list(result.scalars() if len(stmt.column_descriptions) == 1 else result.all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    entity = last if len(stmt.column_descriptions) == 1 else last[0]
    return rows, getattr(entity, key.key)
