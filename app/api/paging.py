"""Cursor pagination: ``?limit=&cursor=`` in, ``{"data", "next_cursor"}`` out.

A cursor is opaque to clients: the last key of a page, base64url-encoded. Pages are read
by key (no OFFSET), so walking a 100,000-row list costs the same per page throughout.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from app.api.core import BadRequest
from app.api.schemas import PageQuery
from app.services.pagination import keyset

MAX_KEY = 2**63 - 1  # the largest id a BIGINT holds; a larger cursor is not one we made


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": value}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise BadRequest("This cursor is not valid: pass a next_cursor the API gave you.") from None
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_KEY:
        raise BadRequest("This cursor is not valid: pass a next_cursor the API gave you.")
    return after


def page_of(
    stmt: sa.Select,
    key: sa.ColumnElement[int],
    query: PageQuery,
    present: Callable[[list[Any]], list[Any]],
    model: type,
):
    """Read one page of ``stmt`` in ``key`` order and wrap it in the ``model`` page."""
    rows, last = keyset(stmt, key, after=decode_cursor(query.cursor), limit=query.limit)
    return model(data=present(rows), next_cursor=encode_cursor(last) if last is not None else None)
