"""Pages by key (app/services/pagination.py): forwards, backwards, ends, bad tokens."""

from __future__ import annotations

import sqlalchemy as sa

from app.models import Tenant
from app.services.pagination import Cursor, cursor_from, decode_key, encode_key, keyset_page


def _slugs(page) -> list[str]:
    return [row.slug for row in page.items]


def _page(cursor=None, *, descending=False, per_page=3):
    stmt = sa.select(Tenant.id, Tenant.slug).where(Tenant.slug.like("ks-%"))
    return keyset_page(
        stmt,
        [Tenant.slug, Tenant.id],
        cursor=cursor,
        per_page=per_page,
        key_of=lambda row: (row.slug, row.id),
        descending=descending,
    )


def _walk(create_tenant, descending=False):
    for n in range(8):
        create_tenant(f"KS {n}", slug=f"ks-{n}")
    first = _page(descending=descending)
    assert first.is_first
    assert first.has_next
    second = _page(Cursor("after", decode_key(first.next_key, 2)), descending=descending)
    third = _page(Cursor("after", decode_key(second.next_key, 2)), descending=descending)
    return first, second, third


def test_forwards_then_backwards_gives_the_same_pages(create_tenant, app_ctx):
    first, second, third = _walk(create_tenant)
    assert _slugs(first) == ["ks-0", "ks-1", "ks-2"]
    assert _slugs(second) == ["ks-3", "ks-4", "ks-5"]
    assert _slugs(third) == ["ks-6", "ks-7"]
    assert not third.has_next
    assert third.has_prev
    back = _page(Cursor("before", decode_key(third.prev_key, 2)))
    assert _slugs(back) == _slugs(second)
    assert back.has_prev
    assert back.has_next
    start = _page(Cursor("before", decode_key(back.prev_key, 2)))
    assert _slugs(start) == _slugs(first)
    assert start.is_first
    assert start.has_next


def test_descending_order(create_tenant, app_ctx):
    first, second, third = _walk(create_tenant, descending=True)
    assert _slugs(first) == ["ks-7", "ks-6", "ks-5"]
    assert _slugs(third) == ["ks-1", "ks-0"]
    back = _page(Cursor("before", decode_key(third.prev_key, 2)), descending=True)
    assert _slugs(back) == _slugs(second)


def test_tokens_we_did_not_make_mean_the_first_page():
    assert cursor_from({"after": "not base64!"}, 2) is None
    assert cursor_from({"after": encode_key((1,))}, 2) is None  # wrong shape
    assert cursor_from({"before": encode_key(({"x": 1}, 2))}, 2) is None
    assert cursor_from({}, 2) is None
    assert cursor_from({"before": encode_key(("a", 2))}, 2) == Cursor("before", ("a", 2))


def test_tokens_holding_what_no_column_can_take_mean_the_first_page():
    # SQLite refuses integers past 64 bits and PostgreSQL text with a NUL: no 500 for them.
    assert cursor_from({"after": encode_key(("a", 2**63))}, 2) is None
    assert cursor_from({"after": encode_key(("a", -(2**63) - 1))}, 2) is None
    assert cursor_from({"after": encode_key(("a\x00b", 2))}, 2) is None
    assert cursor_from({"after": encode_key(("a", 2**63 - 1))}, 2) == Cursor(
        "after", ("a", 2**63 - 1)
    )
