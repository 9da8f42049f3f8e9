"""The support console's growing lists page by key (issue 16): walking forward and back
shows every row once, a search or filter stays with the pages, links work without
JavaScript, and an old ``?page=`` link or a token we did not make shows the first page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from app.extensions import db
from app.models import AuditEvent, Organization, OutboxEmail, StaffRole, StaffUser
from app.services.pagination import Cursor, cursor_from, encode_key
from tests.markup import parse, table_rows

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def support(auth, create_staff) -> StaffUser:
    staff = create_staff(role=StaffRole.SUPERADMIN, email="aaa-helper@platform.example")
    auth.login_staff(staff)
    return staff


def _link(response, rel: str) -> str | None:
    found = parse(response.get_data(as_text=True)).select(f'a[rel="{rel}"]')
    return found[0].get("href") if found else None


def _column(response, column: str, table: str | None = None) -> list[str]:
    return [row[column].text for row in table_rows(response.get_data(as_text=True), table)]


def _walk(client, path: str, column: str, table: str | None = None) -> list[list[str]]:
    """Every page from ``path`` following Next, then back from the last following
    Previous: the pages both ways must be the same."""
    forward, url = [], path
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        forward.append(_column(response, column, table))
        url = _link(response, "next")
    backward = [forward[-1]]
    url = _link(response, "prev")
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        backward.append(_column(response, column, table))
        url = _link(response, "prev")
    assert list(reversed(backward)) == forward
    return forward


def _flat(pages: list[list[str]]) -> list[str]:
    return [row for page in pages for row in page]


# --- the tenants list --------------------------------------------------------------------


def test_the_tenants_list_walks_newest_first_and_keeps_the_search(client, create_tenant, support):
    for n in range(60):
        create_tenant(f"{'Walker' if n % 2 else 'Other'} {n:02d}", slug=f"t-{n:02d}")
    pages = _walk(client, "/staff/", "Slug")
    assert [len(page) for page in pages] == [25, 25, 10]
    assert _flat(pages) == [f"t-{n:02d}" for n in range(59, -1, -1)]

    pages = _walk(client, "/staff/?q=walker", "Name")
    assert _flat(pages) == [f"Walker {n:02d}" for n in range(59, 0, -2)]
    second = client.get(_link(client.get("/staff/?q=walker"), "next"))
    assert parse_qs(urlsplit(_link(second, "prev")).query)["q"] == ["walker"]


# --- a tenant's users -------------------------------------------------------------------


def test_a_tenants_users_walk_by_name_with_ties(client, create_tenant, create_user, support):
    tenant = create_tenant("Crowd", slug="crowd")
    other = create_tenant("Elsewhere", slug="elsewhere")
    create_user(other, "stranger@elsewhere.example", name="Same Name")
    for n in range(120):  # runs of equal names: the id breaks the tie
        create_user(tenant, f"p{n:03d}@crowd.example", name=f"Same Name {n // 7:02d}")
    pages = _walk(client, f"/staff/tenants/{tenant.public_id}/users", "Email")
    assert [len(page) for page in pages] == [50, 50, 20]
    emails = _flat(pages)
    assert sorted(emails) == [f"p{n:03d}@crowd.example" for n in range(120)]
    assert len(set(emails)) == 120


# --- a tenant's org levels ------------------------------------------------------------------


def test_an_org_level_walks_by_name(app, client, create_tenant, support):
    tenant = create_tenant("Branches", slug="branches")
    with app.app_context():
        db.session.add_all(
            Organization(tenant_id=tenant.id, name=f"Branch {n % 50:02d}", slug=f"b-{n:03d}")
            for n in range(130)
        )
        db.session.commit()
    pages = _walk(client, f"/staff/tenants/{tenant.public_id}/orgs", "Slug")
    assert [len(page) for page in pages] == [100, 30]
    assert sorted(_flat(pages)) == [f"b-{n:03d}" for n in range(130)]


# --- staff accounts ------------------------------------------------------------------------


def test_staff_accounts_walk_by_email(client, create_staff, support):
    for n in range(70):
        create_staff(role=StaffRole.SUPPORT, email=f"s{n:02d}@platform.example")
    pages = _walk(client, "/staff/staff", "Email")
    assert [len(page) for page in pages] == [50, 21]
    assert _flat(pages) == [
        "aaa-helper@platform.example",
        *(f"s{n:02d}@platform.example" for n in range(70)),
    ]


# --- search results ------------------------------------------------------------------------


@pytest.fixture
def many(app, create_tenant, create_user):
    """45 users, 45 orgs and 45 tenants whose names hold "needle" (and some that don't)."""
    home = create_tenant("Needle Home", slug="needle-home")
    for n in range(44):
        create_tenant(f"Needle {n % 9}", slug=f"needle-{n:02d}")
        create_tenant(f"Haystack {n}", slug=f"hay-{n:02d}")
    for n in range(45):
        create_user(home, f"needle{n:02d}@home.example", name=f"Needle {n % 4}")
        create_user(home, f"hay{n:02d}@home.example", name="Hay")
    with app.app_context():
        db.session.add_all(
            Organization(tenant_id=home.id, name=f"NEEDLE {n % 6}", slug=f"o-{n:02d}")
            for n in range(45)
        )
        db.session.commit()


@pytest.mark.parametrize(
    ("kind", "table", "column", "expected"),
    [
        ("users", "Email", "Email", [f"needle{n:02d}@home.example" for n in range(45)]),
        ("orgs", "Path", "Id", None),
        ("tenants", "Slug", "Slug", None),
    ],
)
def test_search_results_walk_kind_by_kind(client, many, support, kind, table, column, expected):
    first = client.get("/staff/search?q=needle")
    more = parse(first.get_data(as_text=True)).one(f'a[href*="kind={kind}"]').get("href")
    query = parse_qs(urlsplit(more).query)
    assert query["q"] == ["needle"]
    assert "after" in query
    pages = _walk(client, f"/staff/search?q=needle&kind={kind}", column, table)
    assert [len(page) for page in pages] == [20, 20, 5]
    rows = _flat(pages)
    assert len(set(rows)) == 45
    if expected is not None:
        assert rows == expected
    # the More link leads to the second page
    assert _column(client.get(more), column, table) == pages[1]


# --- the platform's audit log --------------------------------------------------------------


def test_the_platform_log_walks_newest_first_with_its_filters(app, client, create_tenant, support):
    tenant = create_tenant("Logged", slug="logged")
    with app.app_context():
        db.session.add_all(
            AuditEvent(
                created_at=NOON + timedelta(minutes=n // 10),  # ties: the id breaks them
                tenant_id=tenant.id if n % 3 else None,
                actor_type="system",
                action="org.created" if n % 2 else "member.added",
                target_label=f"Target {n:03d}",
            )
            for n in range(250)
        )
        db.session.commit()
    path = "/staff/audit?action=org.&since=2026-03-01"
    pages = _walk(client, path, "What happened")
    assert [len(page) for page in pages] == [50, 50, 25]
    sentences = _flat(pages)
    assert len(set(sentences)) == 125
    assert "Target 249" in sentences[0]
    assert "Target 001" in sentences[-1]
    second = client.get(_link(client.get(path), "next"))
    for rel in ("prev", "next"):
        query = parse_qs(urlsplit(_link(second, rel)).query)
        assert query["action"] == ["org."]
        assert query["since"] == ["2026-03-01"]
    tenants = {row["Tenant"].text for row in table_rows(second.get_data(as_text=True))}
    assert tenants == {"Logged", "platform"}


# --- no JavaScript, old links, tokens we did not make ---------------------------------------


def test_pages_are_plain_links_with_a_way_back_to_the_first(client, create_tenant, support):
    for n in range(30):
        create_tenant(f"Plain {n:02d}", slug=f"plain-{n:02d}")
    second = client.get(_link(client.get("/staff/"), "next"))
    pager = parse(second.get_data(as_text=True)).one('nav[aria-label="Pages"]')
    links = {a.text.strip(): a.get("href") for a in pager.select("a")}
    assert links["« First"] == "/staff/"
    assert "before=" in links["← Previous"]
    assert not any(a.get("hx-get") for a in pager.select("a"))


def _bad_tokens() -> list[str]:
    return [
        "page=3",  # the pages by number of before
        "after=not-a-token!",
        "before=%FF%FE",
        "after=" + encode_key(("text", "not an id")),
        "after=" + encode_key((NOON.replace(tzinfo=None), 5)),  # no time zone
        "before=" + encode_key((1, 2, 3)),
        "after=" + encode_key((True,)),
        "after=" + encode_key((2**70, 1)),
    ]


@pytest.mark.parametrize("token", _bad_tokens())
def test_a_token_we_did_not_make_shows_the_first_page(client, create_tenant, support, token):
    tenant = create_tenant("Plain", slug="plain")
    for path in (
        "/staff/",
        "/staff/?q=plain",
        f"/staff/tenants/{tenant.public_id}/users",
        f"/staff/tenants/{tenant.public_id}/orgs",
        "/staff/staff",
        "/staff/search?q=plain&kind=tenants",
        "/staff/search?q=plain&kind=users",
        "/staff/audit",
    ):
        joiner = "&" if "?" in path else "?"
        response = client.get(f"{path}{joiner}{token}")
        assert response.status_code == 200, (path, token)
        assert 'rel="prev"' not in response.get_data(as_text=True), (path, token)


def test_cursor_from_refuses_parts_of_the_wrong_type():
    aware = datetime(2026, 3, 1, tzinfo=UTC)
    types = (datetime, int)
    assert cursor_from({"after": encode_key((aware, 3))}, 2, types=types) == Cursor(
        "after", (aware, 3)
    )
    assert (
        cursor_from({"after": encode_key((aware.replace(tzinfo=None), 3))}, 2, types=types) is None
    )
    assert cursor_from({"after": encode_key(("x", 3))}, 2, types=types) is None
    assert cursor_from({"after": encode_key((aware, True))}, 2, types=types) is None
    assert cursor_from({"before": encode_key(("x",))}, 1, types=(str,)) == Cursor("before", ("x",))


# --- the development mailbox --------------------------------------------------------------


def test_the_development_mailbox_walks_newest_first(tmp_path):
    app = create_app(
        {
            "DEBUG": True,
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'mailbox.db'}",
        }
    )
    with app.app_context():
        db.create_all()
        db.session.add_all(
            OutboxEmail(
                kind="test",
                to_address=f"m{n:02d}@example.com",
                subject=f"Mail {n:02d}",
                text_body="hello",
                html_body="<p>hello</p>",
            )
            for n in range(60)
        )
        db.session.commit()
    client = app.test_client()
    pages = _walk(client, "/dev/mail", "To")
    assert [len(page) for page in pages] == [25, 25, 10]
    assert _flat(pages) == [f"m{n:02d}@example.com" for n in range(59, -1, -1)]
    assert client.get("/dev/mail?page=2&after=zzz").status_code == 200


def test_deep_pages_take_the_same_queries_as_the_first(
    client, create_tenant, create_user, support, count_queries
):
    tenant = create_tenant("Deep", slug="deep")
    for n in range(160):
        create_user(tenant, f"deep{n:03d}@deep.example", name=f"Deep {n:03d}")
    base = f"/staff/tenants/{tenant.public_id}/users"
    with count_queries() as first:
        response = client.get(base)
    for _ in range(2):
        response = client.get(_link(response, "next"))
    with count_queries() as deep:
        client.get(_link(response, "next"))
    assert deep.count == first.count
