"""Paging through lists.

Server-rendered lists page by key (``keyset_page``: ``?after=`` / ``?before=`` tokens
holding the sort key of a page's edge row), so the thousandth page costs what the first
does; the API pages by id (``keyset``, with its own cursors in app/api/paging.py).
Nothing pages by OFFSET.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

import sqlalchemy as sa

from app.extensions import db

T = TypeVar("T")


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


# --- pages by key, for the lists people page through ------------------------------------

Direction = Literal["after", "before"]


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: strictly after (or before) one row's sort key."""

    direction: Direction
    key: tuple[Any, ...]

    def token(self) -> str:
        return encode_key(self.key)


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page of a list read by key: the thousandth page costs what the first does.

    ``next_key``/``prev_key`` are the tokens for ``?after=``/``?before=``, None at an end;
    ``total`` is how many rows the list has, when the caller counted them (``about`` says
    whether that count is an estimate)."""

    items: list[T]
    per_page: int
    next_key: str | None = None
    prev_key: str | None = None
    total: int | None = None
    about: bool = False

    @property
    def has_next(self) -> bool:
        return self.next_key is not None

    @property
    def has_prev(self) -> bool:
        return self.prev_key is not None

    @property
    def is_first(self) -> bool:
        return self.prev_key is None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _typed(value: Any) -> Any:
    """A token's part as it was before ``_plain``; ValueError for a value no column
    could hold (a number past 64 bits, text with a NUL), which a database would refuse."""
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ValueError("out of range")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL in text")
    return value


def encode_key(key: tuple[Any, ...]) -> str:
    """A row's sort key as a short URL-safe token (opaque to people, not secret)."""
    raw = json.dumps([_plain(part) for part in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_key(token: str, parts: int) -> tuple[Any, ...] | None:
    """The key a token holds, or None for anything we did not make (a mangled link then
    shows the list's first page rather than an error)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        key = tuple(_typed(part) for part in raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, RecursionError):
        return None
    if len(key) != parts or not all(
        part is None or isinstance(part, str | int | float | datetime) for part in key
    ):
        return None
    return key


def cursor_from(
    args: Mapping[str, str], parts: int, *, types: Sequence[type] | None = None
) -> Cursor | None:
    """``?after=`` or ``?before=`` from a query string; None means the first page.

    With ``types`` (one per part), a key whose parts are not of those types is refused
    too, so a hand-made token can't reach the database with a value its column can't
    take (text for a number, a datetime without a time zone)."""
    for direction in ("after", "before"):
        token = args.get(direction)
        if token:
            key = decode_key(token, parts)
            if key is None or (types is not None and not _of_types(key, types)):
                return None
            return Cursor(direction, key)
    return None


def _of_types(key: tuple[Any, ...], types: Sequence[type]) -> bool:
    for part, kind in zip(key, types, strict=True):
        if not isinstance(part, kind) or (isinstance(part, bool) and kind is not bool):
            return False
        if isinstance(part, datetime) and part.tzinfo is None:
            return False
    return True


def keyset_page(
    stmt: sa.Select,
    order: Sequence[sa.ColumnElement],
    *,
    cursor: Cursor | None,
    per_page: int,
    key_of: Callable[[Any], tuple[Any, ...]],
    descending: bool = False,
    rows: Callable[[sa.Select], list[Any]] | None = None,
) -> KeysetPage:
    """One page of ``stmt`` in ``order`` (unique, all ascending or, with ``descending``, all
    descending), starting after or before ``cursor``: one query, no OFFSET.

    ``key_of(row)`` gives a row's values of ``order``; ``rows`` runs the statement (plain
    ``execute().all()`` by default, so lists that only display get column rows, not
    entities). The order's columns must not be NULL (coalesce them in ``order``)."""
    run = rows or (lambda s: list(db.session.execute(s).all()))
    key = sa.tuple_(*order) if len(order) > 1 else order[0]
    backwards = cursor is not None and cursor.direction == "before"
    if cursor is not None:
        # Bound with each column's own type, so keys convert as stored (dates above all).
        values = [
            sa.bindparam(None, v, type_=c.type) for c, v in zip(order, cursor.key, strict=True)
        ]
        bound = sa.tuple_(*values) if len(order) > 1 else values[0]
        later = key < bound if descending else key > bound
        earlier = key > bound if descending else key < bound
        stmt = stmt.where(earlier if backwards else later)
    ascending = descending == backwards  # walking backwards reverses the order
    found = run(
        stmt.order_by(*(c.asc() if ascending else c.desc() for c in order)).limit(per_page + 1)
    )
    more = len(found) > per_page
    found = found[:per_page]
    if backwards:
        found.reverse()
    if not found:
        return KeysetPage(items=[], per_page=per_page)
    first, last = encode_key(key_of(found[0])), encode_key(key_of(found[-1]))
    if backwards:
        return KeysetPage(
            items=found, per_page=per_page, prev_key=first if more else None, next_key=last
        )
    return KeysetPage(
        items=found,
        per_page=per_page,
        prev_key=first if cursor is not None else None,
        next_key=last if more else None,
    )
