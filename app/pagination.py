"""Offset pagination for server-rendered lists (the API uses cursors instead)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

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
