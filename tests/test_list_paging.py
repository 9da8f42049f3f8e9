"""The growing lists inside a tenant page by key (``?after=`` / ``?before=``): the
invitations, the org's and the tenant's audit logs, the tree's levels and a team's people.

Each is walked forwards and back with nothing repeated or missed, keeps its filters from
page to page, shows its first page for an old ``?page=`` link or a token it did not make,
shows nothing of another tenant's list for that list's token, and pages by plain links
(the pager, the tree's "Show more") without JavaScript.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import AuditEvent, Invitation, TeamMember, User
from app.services.pagination import encode_key
from tests.markup import one, select

BASE = "/t/acme/orgs/engineering"
HX = {"HX-Request": "true"}
START = datetime(2025, 3, 1, tzinfo=UTC)


def _next(html: str) -> str | None:
    found = select(html, 'nav.pager a[rel="next"]')
    return found[0]["href"] if found else None


def _prev(html: str) -> str | None:
    found = select(html, 'nav.pager a[rel="prev"]')
    return found[0]["href"] if found else None


def _walk(client, first_url: str, read) -> tuple[list[list[str]], list[str]]:
    """Every page from ``first_url`` by Next, then back from the last by Previous: the
    pages' items going forwards, and the pages' URLs."""
    pages, urls, url = [], [], first_url
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        pages.append(read(html))
        urls.append(url)
        url = _next(html)
    backwards, html = [], client.get(urls[-1]).get_data(as_text=True)
    while (url := _prev(html)) is not None:
        html = client.get(url).get_data(as_text=True)
        backwards.append(read(html))
    assert backwards == pages[-2::-1], "Previous gives back the pages Next gave"
    return pages, urls


def _flat(pages: list[list[str]]) -> list[str]:
    return [item for page in pages for item in page]


# --- invitations ---------------------------------------------------------------------


def _invitations(app, tenant, org, count: int, *, prefix: str = "p", revoked_every: int = 0):
    """``count`` invitations, several sharing each second (the id breaks the ties)."""
    with app.app_context():
        db.session.add_all(
            Invitation(
                tenant_id=tenant.id,
                org_id=org.id,
                email=f"{prefix}{i:03}@example.com",
                role="member",
                token_hash=f"{prefix}-{i:03}".ljust(64, "x"),
                expires_at=START + timedelta(days=30),
                created_at=START + timedelta(seconds=i // 3),
                status="revoked" if revoked_every and i % revoked_every == 0 else "pending",
            )
            for i in range(count)
        )
        db.session.commit()


def _emails(html: str) -> list[str]:
    return [cell.text for cell in select(html, 'th[scope="row"][id^="invitation-"]')]


@pytest.fixture
def as_admin(auth, world):
    auth.login(world.admin)
    return world


def test_invitations_walk_forwards_and_back(app, client, tenant, as_admin):
    _invitations(app, tenant, as_admin.engineering, 60)
    pages, urls = _walk(client, f"{BASE}/invitations", _emails)
    assert [len(page) for page in pages] == [25, 25, 10]
    everyone = [f"p{i:03}@example.com" for i in range(60)]
    assert sorted(_flat(pages)) == everyone  # none twice, none missed
    # Newest first; within one second the later id first.
    assert _flat(pages) == sorted(everyone, key=lambda e: (int(e[1:4]) // 3, int(e[1:4])))[::-1]
    first = client.get(urls[0]).get_data(as_text=True)
    assert "60 invitations" in first
    assert 'rel="prev"' not in first


def test_invitations_keep_the_status_filter_across_pages(app, client, tenant, as_admin):
    _invitations(app, tenant, as_admin.engineering, 90, revoked_every=3)
    pages, urls = _walk(client, f"{BASE}/invitations?status=revoked", _emails)
    assert all("status=revoked" in url for url in urls[1:])
    assert sorted(_flat(pages)) == [f"p{i:03}@example.com" for i in range(0, 90, 3)]
    assert "30 invitations" in client.get(urls[0]).get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "page=3",  # an old numbered link
        "after=garbage",
        "before=" + encode_key(("2025-03-01", 5)),  # text where a time goes
        "after=" + encode_key((START.replace(tzinfo=None), 5)),  # a time without its zone
        "after=" + encode_key((START, "five")),
        "after=" + encode_key((START, 10**30)),
    ],
)
def test_invitations_show_the_first_page_for_a_token_they_did_not_make(
    app, client, tenant, as_admin, query
):
    _invitations(app, tenant, as_admin.engineering, 30)
    first = client.get(f"{BASE}/invitations").get_data(as_text=True)
    response = client.get(f"{BASE}/invitations?{query}")
    assert response.status_code == 200
    assert _emails(response.get_data(as_text=True)) == _emails(first)


def test_an_invitations_token_from_another_tenant_shows_nothing_of_it(
    app, client, tenant, as_admin, create_tenant, create_org
):
    other = create_tenant("Globex", slug="globex")
    elsewhere = create_org(other, "Globex HQ")
    _invitations(app, other, elsewhere, 10, prefix="g")
    _invitations(app, tenant, as_admin.engineering, 10)
    with app.app_context():
        theirs = db.session.scalars(
            db.select(Invitation).where(Invitation.org_id == elsewhere.id)
        ).all()
        newest_of_theirs = max(theirs, key=lambda i: (i.created_at, i.id))
        token = encode_key((newest_of_theirs.created_at, newest_of_theirs.id + 1))
    for direction in ("after", "before"):
        html = client.get(f"{BASE}/invitations?{direction}={token}").get_data(as_text=True)
        assert not any(email.startswith("g") for email in _emails(html))
        assert "Globex" not in html


def test_past_the_last_invitation_says_so_and_leads_back(app, client, tenant, as_admin):
    _invitations(app, tenant, as_admin.engineering, 3)
    token = encode_key((START - timedelta(days=1), 1))
    html = client.get(f"{BASE}/invitations?after={token}").get_data(as_text=True)
    assert _emails(html) == []
    assert "No more invitations here." in html
    assert one(html, "p.empty a")["href"] == "/t/acme/orgs/engineering/invitations"


def test_invitation_pages_are_plain_links_and_htmx_fragments(app, client, tenant, as_admin):
    _invitations(app, tenant, as_admin.engineering, 30)
    first = client.get(f"{BASE}/invitations").get_data(as_text=True)
    link = one(first, 'nav.pager a[rel="next"]')
    assert link.get("hx-get") is None  # a plain link: the page itself without JavaScript
    whole = client.get(link["href"])
    assert "<html" in whole.get_data(as_text=True)
    fragment = client.get(link["href"], headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    assert _emails(fragment) == _emails(whole.get_data(as_text=True))


# --- the audit logs ------------------------------------------------------------------


def _events(app, tenant, org, count: int, *, action: str = "bulk.made", label: str = "Ann"):
    with app.app_context():
        db.session.add_all(
            AuditEvent(
                tenant_id=tenant.id,
                org_id=org.id if org is not None else None,
                actor_type="user",
                actor_label=label,
                action=f"{action}{i:03}" if action.endswith(".") else action,
                target_label=f"t{i:03}",
                # Some share a second (the id breaks the tie); a day apart every 40.
                created_at=START + timedelta(days=i // 40, seconds=i // 2),
            )
            for i in range(count)
        )
        db.session.commit()


def _targets(html: str) -> list[str]:
    return [
        row.get("data-action", "") + ":" + select(row.html, "dd code")[-1].text
        for row in select(html, "table.audit-table tbody tr")
    ]


def test_the_org_log_walks_forwards_and_back_with_its_filters(app, client, tenant, as_admin):
    _events(app, tenant, as_admin.engineering, 130, action="member.")
    _events(app, tenant, as_admin.engineering, 30, action="team.created", label="Bob")
    query = "actor=ann&action=member.&since=2025-03-01&until=2025-03-03"
    pages, urls = _walk(client, f"{BASE}/audit?{query}", _targets)
    assert [len(page) for page in pages] == [50, 50, 20]  # days 1-3: events 0-119
    assert all(
        all(part in url for part in ("actor=ann", "action=member.", "since=", "until="))
        for url in urls[1:]
    )
    actions = [item.split(":")[0] for item in _flat(pages)]
    assert sorted(actions) == [f"member.{i:03}" for i in range(120)]
    assert actions == sorted(actions, reverse=True)  # newest first


def test_the_tenant_log_walks_every_org_and_the_tenant_itself(app, client, auth, tenant, world):
    _events(app, tenant, world.hq, 60, action="hq.")
    _events(app, tenant, None, 60, action="tenant.")
    auth.login(world.tenant_owner)
    pages, _urls = _walk(client, "/t/acme/audit?action=hq.", _targets)
    assert len(_flat(pages)) == len(set(_flat(pages))) == 60
    pages, _urls = _walk(client, "/t/acme/audit", _targets)
    seen = [item.split(":")[0] for item in _flat(pages)]
    assert len(seen) == len(set(_flat(pages)))
    assert {f"hq.{i:03}" for i in range(60)} | {f"tenant.{i:03}" for i in range(60)} <= set(seen)


@pytest.mark.parametrize("query", ["page=2", "after=%%%", "before=" + encode_key((1, 2))])
def test_the_log_shows_its_first_page_for_a_token_it_did_not_make(
    app, client, tenant, as_admin, query
):
    _events(app, tenant, as_admin.engineering, 70, action="member.")
    first = _targets(client.get(f"{BASE}/audit").get_data(as_text=True))
    response = client.get(f"{BASE}/audit?{query}")
    assert response.status_code == 200
    assert _targets(response.get_data(as_text=True)) == first


def test_a_log_token_from_another_tenant_shows_nothing_of_it(
    app, client, tenant, as_admin, create_tenant, create_org
):
    other = create_tenant("Globex", slug="globex")
    _events(app, other, create_org(other, "Globex HQ"), 20, action="globex.")
    _events(app, tenant, as_admin.engineering, 20, action="member.")
    with app.app_context():
        newest = db.session.scalars(
            db.select(AuditEvent)
            .where(AuditEvent.tenant_id == other.id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        ).first()
        token = encode_key((newest.created_at, newest.id + 1))
    for direction in ("after", "before"):
        html = client.get(f"{BASE}/audit?{direction}={token}").get_data(as_text=True)
        assert "globex." not in html


# --- the tree ------------------------------------------------------------------------


def _names_in(html: str) -> list[str]:
    return [a.text for a in select(html, 'li[role="treeitem"] .tree-row > a')]


def _more(html: str) -> dict[str, str] | None:
    found = select(html, "li.tree-more a")
    return {"href": found[0]["href"], "hx-get": found[0]["hx-get"]} if found else None


def test_a_level_of_the_tree_shows_more_by_key(app, client, auth, tenant, world, create_org):
    for i in range(105):
        create_org(tenant, f"Unit {i:03}", parent=world.platform)
    auth.login(world.tenant_owner)
    url = f"/t/acme/orgs/{world.platform.slug}/children?level=4"
    html = client.get(url, headers=HX).get_data(as_text=True)
    shown = _names_in(html)
    assert shown == [f"Unit {i:03}" for i in range(100)]
    more = _more(html)
    assert more is not None
    # With htmx, the next items replace "Show more" in place.
    rest = client.get(more["hx-get"], headers=HX).get_data(as_text=True)
    assert _names_in(rest) == [f"Unit {i:03}" for i in range(100, 105)]
    assert _more(rest) is None
    assert 'aria-level="4"' in rest
    # Without JavaScript, the link opens the parent's page at that point of the level.
    assert more["href"].startswith(f"/t/acme/orgs/{world.platform.slug}/?after=")
    page = client.get(more["href"]).get_data(as_text=True)
    listed = [a.text for a in select(page, "ul.child-list li > a")]
    assert listed == [f"Unit {i:03}" for i in range(100, 105)]
    assert "105" in one(page, ".stats").text
    back = client.get(_prev(page)).get_data(as_text=True)
    assert [a.text for a in select(back, "ul.child-list li > a")] == shown


def test_the_top_level_shows_more_by_key(app, client, auth, tenant, world, create_org):
    for i in range(100):
        create_org(tenant, f"Zone {i:03}")
    auth.login(world.tenant_owner)
    html = client.get("/t/acme/orgs/").get_data(as_text=True)
    first = _names_in(html)
    assert len(first) == 100
    more = _more(html)
    assert more["href"] == more["hx-get"]
    assert more["href"].startswith("/t/acme/orgs/?after=")
    fragment = client.get(more["hx-get"], headers=HX).get_data(as_text=True)
    assert "<ul" not in fragment.split("<li", 1)[0]  # the items alone, for the tree's list
    whole = client.get(more["href"]).get_data(as_text=True)
    assert "<html" in whole
    assert _names_in(fragment) == _names_in(whole)
    everything = first + _names_in(whole)
    assert sorted(everything) == sorted(["Acme HQ", "Sales", *(f"Zone {i:03}" for i in range(100))])
    assert len(set(everything)) == 102


@pytest.mark.parametrize("query", ["offset=100", "after=xyz", "after=" + encode_key((1, "a"))])
def test_the_tree_shows_its_first_page_for_a_token_it_did_not_make(client, auth, world, query):
    auth.login(world.tenant_owner)
    html = client.get(f"/t/acme/orgs/{world.hq.slug}/children?{query}").get_data(as_text=True)
    assert _names_in(html) == ["Engineering"]
    assert _names_in(client.get(f"/t/acme/orgs/?{query}").get_data(as_text=True)) == [
        "Acme HQ",
        "Sales",
    ]


def test_a_tree_token_from_another_tenant_shows_nothing_of_it(
    client, auth, world, create_tenant, create_org
):
    other = create_tenant("Globex", slug="globex")
    create_org(other, "Aardvark Globex")
    auth.login(world.tenant_owner)
    html = client.get("/t/acme/orgs/?after=" + encode_key(("A", 0))).get_data(as_text=True)
    assert "Globex" not in html
    assert _names_in(html) == ["Acme HQ", "Sales"]


# --- a team's people -----------------------------------------------------------------


def test_a_team_pages_its_people_by_name(app, client, auth, tenant, world, create_user):
    from app.actors import Actor
    from app.services import teams

    with app.app_context():
        team = teams.create_team(Actor.system("test"), tenant, world.engineering, name="Big")
        db.session.commit()
        public_id = team.public_id
        team_id = team.id
    people = [
        create_user(tenant, f"t{i:03}@acme.example", name=f"Tea {i % 60:02}") for i in range(70)
    ]
    with app.app_context():
        db.session.add_all(TeamMember(team_id=team_id, user_id=p.id) for p in people)
        db.session.add(TeamMember(team_id=team_id, user_id=world.member.id))
        db.session.commit()
    auth.login(world.admin)

    def names(html: str) -> list[str]:
        return [cell.text for cell in select(html, "table.team-table tbody th")]

    url = f"{BASE}/teams/{public_id}"
    pages, _urls = _walk(client, url, names)
    assert [len(page) for page in pages] == [50, 21]
    everyone = _flat(pages)
    assert everyone == sorted(everyone)
    assert len(everyone) == 71
    with app.app_context():
        emails = set(
            db.session.scalars(
                db.select(User.email).join(TeamMember).where(TeamMember.team_id == team_id)
            )
        )
    shown = [
        cell.text
        for page_url in _urls
        for cell in select(client.get(page_url).get_data(as_text=True), "td.member-email")
    ]
    assert sorted(shown) == sorted(emails)
    assert "71 people" in client.get(url).get_data(as_text=True)
    assert names(client.get(f"{url}?after=nonsense").get_data(as_text=True)) == pages[0]


# --- the same queries on every page --------------------------------------------------


def _count(client, count_queries, url: str) -> int:
    client.get(url)  # warm: the first request fills the process's tenant cache
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_a_deep_page_makes_the_queries_the_first_does(
    app, client, auth, tenant, world, create_org, count_queries
):
    _invitations(app, tenant, world.engineering, 80)
    _events(app, tenant, world.engineering, 130, action="member.")
    for i in range(105):
        create_org(tenant, f"Unit {i:03}", parent=world.platform)
    auth.login(world.tenant_owner)
    platform = f"/t/acme/orgs/{world.platform.slug}"
    lists = {
        "invitations": f"{BASE}/invitations",
        "expired invitations": f"{BASE}/invitations?status=expired",
        "org log": f"{BASE}/audit",
        "filtered org log": f"{BASE}/audit?action=member.&since=2025-03-01",
        "tenant log": "/t/acme/audit",
        "sub-organizations": f"{platform}/",
        "tree level": f"{platform}/children?level=4",
    }
    counts = {}
    for name, url in lists.items():
        first_html = client.get(url).get_data(as_text=True)
        deep = _next(first_html) or _more(first_html)["hx-get"]
        counts[name] = (_count(client, count_queries, url), _count(client, count_queries, deep))
    # No more on a deep page (fewer where its rows name nothing to look up: the tenant
    # log's seeded events here, unlike the orgs' creations on its first page).
    assert all(deep <= first for first, deep in counts.values()), str(counts)
    same = [name for name, (first, deep) in counts.items() if first == deep]
    assert set(counts) - set(same) <= {"tenant log"}, str(counts)
