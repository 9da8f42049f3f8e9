"""The members list pages by key: Next and Previous walk every member once in each order,
whether the tree is small (members fetched by id) or big (users walked in page order);
the filters travel in the links; a cursor we did not make, or an old ?page=N, shows the
first page; a letter starts the list there; the count is exact when cheap, "About" when
estimated."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.ids import new_public_id
from app.models import Membership, TenantRole, User, utcnow
from app.services import members
from app.services.pagination import encode_key
from tests.markup import one, select

PAGE = "/t/acme/orgs/engineering/members"
HX = {"HX-Request": "true"}
# Bulk members of Engineering: 120 names over a few letters, each name used by two people
# (the id breaks the tie), every third one an admin.
SURNAMES = ("Abbott", "Baker", "Mills", "Moore", "Nash", "Young")
BULK = 120


@pytest.fixture(autouse=True)
def _no_remembered_estimate():
    """Each test's database reuses org ids: an estimate kept by an earlier test must not
    answer for this one."""
    members._estimates.clear()
    yield
    members._estimates.clear()


@pytest.fixture
def crowd(app, tenant, world) -> list[str]:
    """Engineering with BULK more direct members; every member's email, as the page has."""
    now = utcnow()
    with app.app_context():
        db.session.execute(
            sa.insert(User),
            [
                {
                    "public_id": new_public_id("user"),
                    "tenant_id": tenant.id,
                    "email": f"p{n:03d}@crowd.example",
                    "name": f"{SURNAMES[n % len(SURNAMES)]} {n // 2 % 10}",
                    "tenant_role": TenantRole.MEMBER,
                    "session_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(BULK)
            ],
        )
        ids = db.session.scalars(sa.select(User.id).where(User.email.like("%@crowd.example")))
        db.session.execute(
            sa.insert(Membership),
            [
                {
                    "org_id": world.engineering.id,
                    "user_id": user_id,
                    "role": "admin" if user_id % 3 == 0 else "member",
                    "created_at": now,
                }
                for user_id in ids
            ],
        )
        db.session.commit()
        return sorted(db.session.scalars(_in_engineering(world, User.email)))


def _in_engineering(world, *columns):
    tree = [world.hq.id, world.engineering.id]
    return sa.select(*columns).where(
        User.id.in_(sa.select(Membership.user_id).where(Membership.org_id.in_(tree)))
    )


@pytest.fixture(params=["by_id", "walked"])
def strategy(request, monkeypatch) -> str:
    """Both ways members_query finds a page: the rows must not depend on it."""
    if request.param == "walked":
        monkeypatch.setattr(members, "FEW_MEMBERS", 0)
        monkeypatch.setattr(members, "FEW_HOLDERS", 0)
    return request.param


def _emails(html: str) -> list[str]:
    return [row.select("td")[0].text for row in select(html, 'tr[id^="member-"]')]


def _names(html: str) -> list[str]:
    return [row.one("th").text for row in select(html, 'tr[id^="member-"]')]


def _link(html: str, rel: str) -> str | None:
    found = select(html, f'nav.pager a[rel="{rel}"]')
    return found[0]["href"] if found else None


def _walk(client, start: str, rel: str) -> list[list[str]]:
    """Pages of emails from ``start``, following ``rel`` links to the end."""
    pages, url = [], start
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(_emails(html))
        url = _link(html, rel)
        assert len(pages) < 20, "the links go round in circles"
    return pages


@pytest.mark.parametrize("sort", ["name", "-name", "email", "-email"])
def test_next_and_previous_walk_every_member_once(client, auth, world, crowd, strategy, sort):
    auth.login(world.admin)
    forward = _walk(client, f"{PAGE}?sort={sort}", "next")
    assert [len(page) for page in forward] == [50, 50, len(crowd) - 100]
    seen = [email for page in forward for email in page]
    assert sorted(seen) == crowd  # each member once: none missing, none twice
    if "email" in sort:
        assert seen == sorted(crowd, reverse=sort.startswith("-"))
    # back from the last page, following Previous, the same pages in reverse
    html = client.get(f"{PAGE}?sort={sort}").get_data(as_text=True)
    last = _link(client.get(_link(html, "next")).get_data(as_text=True), "next")
    assert _walk(client, last, "prev") == forward[::-1]


def test_names_in_order_with_ties_broken_by_id(client, auth, world, crowd, strategy):
    """Two people share each crowd name: a page edge between them loses neither."""
    auth.login(world.admin)
    names, url = [], PAGE
    while url:
        html = client.get(url).get_data(as_text=True)
        names += _names(html)
        url = _link(html, "next")
    assert len(names) == len(crowd)
    assert names == sorted(names)


def test_the_links_keep_the_search_role_and_sort(client, auth, world, crowd):
    auth.login(world.admin)
    html = client.get(f"{PAGE}?q=crowd&role=member&sort=-email").get_data(as_text=True)
    following = _link(html, "next")
    assert following is not None
    wanted = {"q": ["crowd"], "role": ["member"], "sort": ["-email"]}
    assert {k: v for k, v in parse_qs(urlsplit(following).query).items() if k != "after"} == wanted
    second = client.get(following).get_data(as_text=True)
    assert set(_emails(second)).isdisjoint(_emails(html))
    first = next(a for a in select(second, "nav.pager a") if a.text == "« First")["href"]
    assert parse_qs(urlsplit(first).query) == wanted
    assert _emails(client.get(first).get_data(as_text=True)) == _emails(html)
    # the htmx fragment (a search as you type) carries them too
    fragment = client.get(f"{PAGE}?q=crowd&role=member&sort=-email", headers=HX)
    assert _link(fragment.get_data(as_text=True), "next") == following


@pytest.mark.parametrize(
    "query",
    [
        "after=not-a-token",
        "before=%25%25%25",
        "after=" + encode_key(("Baker 1", "not an id")),  # a name and text, not a number
        "after=" + encode_key(("Baker 1",)),  # the email order's shape, in the name order
        "after=" + encode_key(("Baker 1", 3, "extra")),
        "after=" + encode_key((None, 3)),
        "after=" + encode_key(("Baker 1", True)),
        "sort=email&after=" + encode_key((12,)),
        "after=" + encode_key(("zzzzzz", 10**9)),  # past the end
        "page=7",  # an old link
        "page=-4",
        "from=",
        "from=%C3%A9",
    ],
)
def test_a_cursor_we_did_not_make_shows_the_first_page(client, auth, world, crowd, strategy, query):
    auth.login(world.admin)
    sort = "email" if query.startswith("sort=email") else "name"
    first = _emails(client.get(f"{PAGE}?sort={sort}").get_data(as_text=True))
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 200
    assert _emails(response.get_data(as_text=True)) == first


def test_a_letter_starts_the_list_there(client, auth, world, crowd, strategy):
    auth.login(world.admin)
    html = client.get(f"{PAGE}?q=crowd").get_data(as_text=True)
    jump = one(html, "nav.letter-jump")
    letters = [a.text for a in jump.select("a")]
    assert letters == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    m = next(a for a in jump.select("a") if a.text == "M")["href"]
    assert parse_qs(urlsplit(m).query) == {"from": ["M"], "q": ["crowd"]}
    at_m = client.get(m).get_data(as_text=True)
    names = _names(at_m)
    assert names[0].startswith("Mills")
    assert names == sorted(names)
    assert one(at_m, 'nav.letter-jump a[aria-current="true"]').text == "M"
    # Previous from there leads to the names before M
    before = client.get(_link(at_m, "prev")).get_data(as_text=True)
    assert all(name < "M" for name in _names(before))
    assert _names(before)[-1].startswith("Baker")
    # lower case works too; a letter with nobody from it on shows the last names
    assert _names(client.get(f"{PAGE}?q=crowd&from=m").get_data(as_text=True)) == names
    at_z = _names(client.get(f"{PAGE}?q=crowd&from=Z").get_data(as_text=True))
    assert at_z
    assert at_z[-1].startswith("Young")


def test_a_letter_in_another_sort_is_ignored(client, auth, world, crowd):
    auth.login(world.admin)
    html = client.get(f"{PAGE}?sort=email&from=M").get_data(as_text=True)
    assert _emails(html) == crowd[:50]
    # the letters start the name order, whatever the sort on screen
    jump = select(html, "nav.letter-jump a")[0]
    assert "sort" not in parse_qs(urlsplit(jump["href"]).query)


def _total(html: str) -> str:
    return one(html, ".list-total").text


def test_the_count_is_exact_for_a_small_tree(client, auth, world, crowd):
    auth.login(world.admin)
    assert _total(client.get(PAGE).get_data(as_text=True)) == f"{len(crowd)} members"
    admins = client.get(f"{PAGE}?q=crowd&role=admin").get_data(as_text=True)
    assert _total(admins) == f"{BULK // 3} matching members"
    one_match = client.get(f"{PAGE}?q=p007@").get_data(as_text=True)
    assert _total(one_match) == "1 matching member"
    # the count stays on the following pages
    html = client.get(_link(client.get(PAGE).get_data(as_text=True), "next"))
    assert _total(html.get_data(as_text=True)) == f"{len(crowd)} members"


def test_the_count_of_a_big_tree_is_an_estimate(app, client, auth, world, crowd, monkeypatch):
    """Counting every member of a big tree costs more than the page: the tree's
    memberships are shown instead, as "About", and a search of it is not counted."""
    monkeypatch.setattr(members, "FEW_MEMBERS", 0)
    monkeypatch.setattr(members, "FEW_HOLDERS", 0)
    with app.app_context():
        memberships = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Membership)
            .where(Membership.org_id.in_([world.hq.id, world.engineering.id]))
        )
    auth.login(world.admin)
    html = client.get(PAGE).get_data(as_text=True)
    assert _total(html) == f"About {memberships} members"
    assert select(client.get(f"{PAGE}?q=crowd").get_data(as_text=True), ".list-total") == []
    # the estimate is kept a while: the next page reads it without counting again
    assert _total(client.get(_link(html, "next")).get_data(as_text=True)) == (
        f"About {memberships} members"
    )


def test_a_deep_page_makes_the_queries_of_the_first(
    client, auth, world, crowd, strategy, count_queries
):
    auth.login(world.admin)
    html = client.get(PAGE).get_data(as_text=True)
    last = _link(client.get(_link(html, "next")).get_data(as_text=True), "next")

    def queries(url: str) -> int:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    assert queries(last) == queries(PAGE) == queries(f"{PAGE}?from=M")
