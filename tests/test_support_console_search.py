"""The support console finds things and shows them whole (issue 15, problems 8 and 10).

Search matches any part of a name, an address, an org's or a tenant's name, and pages
through each kind by key; a tenant's page lists its users, fifty at a time; the platform's audit
log filters by who, what, which tenant and when; a second tenant with a taken name needs
a confirmation; every destructive staff action has a confirmation page that changes
nothing until its form is posted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.extensions import db
from app.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    Membership,
    StaffRole,
    StaffUser,
    Tenant,
    TenantStatus,
    User,
)
from app.services import invitations
from tests.conftest import ON_POSTGRES
from tests.markup import find_form, parse, table_rows


def _text(response) -> str:
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", unescape(words)).strip()


def _table(response, heading: str) -> list[dict]:
    """The rows of the results section headed ``heading`` (Users, Organizations, …)."""
    page = parse(response.get_data(as_text=True))
    [section] = [
        s for s in page.select("section") if s.select("h2") and s.select("h2")[0].text == heading
    ]
    return table_rows(section.select("table")[0])


@pytest.fixture
def support(auth, create_staff) -> StaffUser:
    staff = create_staff(role=StaffRole.SUPPORT, email="helper@platform.example")
    auth.login_staff(staff)
    return staff


@pytest.fixture
def superadmin(auth, create_staff) -> StaffUser:
    staff = create_staff(role=StaffRole.SUPERADMIN, email="boss@platform.example")
    auth.login_staff(staff)
    return staff


@pytest.fixture
def people(create_tenant, create_user, create_org):
    """Ada Lovelace in Analytical Engines, Grace in Compilers Inc; orgs in both."""
    engines = create_tenant("Analytical Engines", slug="engines")
    compilers = create_tenant("Compilers Inc", slug="compilers")
    ada = create_user(engines, "ada@example.com", name="Ada Lovelace")
    grace = create_user(compilers, "grace@navy.example.com", name="Grace Hopper")
    other = create_user(compilers, "someone@elsewhere.test", name="Some One")
    difference = create_org(engines, "Difference Engine Works")
    cobol = create_org(compilers, "COBOL Committee")
    return {
        "engines": engines,
        "compilers": compilers,
        "ada": ada,
        "grace": grace,
        "other": other,
        "difference": difference,
        "cobol": cobol,
    }


# --- contains-search ---------------------------------------------------------------------


def test_a_name_fragment_finds_the_user_with_their_tenant(client, people, support):
    response = client.get("/staff/search?q=lovelace")
    [row] = _table(response, "Users")
    assert row["Email"].text == "ada@example.com"
    assert row["Tenant"].text == "Analytical Engines"
    assert row["User"].one("a").get("href") == f"/staff/users/{people['ada'].public_id}"


def test_an_email_domain_finds_every_user_at_it(client, people, support):
    rows = _table(client.get("/staff/search?q=EXAMPLE.com"), "Users")
    found = {row["Email"].text: row["Tenant"].text for row in rows}
    assert found == {
        "ada@example.com": "Analytical Engines",
        "grace@navy.example.com": "Compilers Inc",
    }


def test_an_org_name_fragment_finds_the_org_with_its_tenant(client, people, support):
    response = client.get("/staff/search?q=ence eng")
    [row] = _table(response, "Organizations")
    assert row["Organization"].text == "Difference Engine Works"
    assert row["Tenant"].text == "Analytical Engines"


def test_a_tenant_name_fragment_finds_the_tenant(client, people, support):
    response = client.get("/staff/search?q=lytical")
    [row] = _table(response, "Tenants")
    assert row["Name"].text == "Analytical Engines"
    assert [r["Name"].text for r in _table(client.get("/staff/search?q=ilers"), "Tenants")] == [
        "Compilers Inc"
    ]


def test_each_kind_is_labelled(client, people, support, create_user):
    create_user(people["engines"], "engine.fan@example.org", name="Engine Fan")
    page = _text(client.get("/staff/search?q=engine"))
    assert "Users" in page
    assert "Organizations" in page
    assert "Tenants" in page


@pytest.mark.parametrize("wildcard", ["%", "_"])
def test_like_wildcards_match_only_themselves(client, create_tenant, create_org, support, wildcard):
    tenant = create_tenant(f"Wild{wildcard}card", slug="wild")
    create_tenant("Wildxcard", slug="tame")
    create_org(tenant, f"Team{wildcard}One")
    create_org(tenant, "TeamXOne")
    response = client.get("/staff/search", query_string={"q": f"d{wildcard}c"})
    assert [r["Name"].text for r in _table(response, "Tenants")] == [f"Wild{wildcard}card"]
    response = client.get("/staff/search", query_string={"q": f"m{wildcard}o"})
    assert [r["Organization"].text for r in _table(response, "Organizations")] == [
        f"Team{wildcard}One"
    ]


def test_results_are_paged_kind_by_kind(client, create_tenant, create_user, support):
    tenant = create_tenant("Paging Co", slug="paging")
    for n in range(25):
        create_user(tenant, f"pager{n:02d}@paging.example", name=f"Pager {n:02d}")
    first = client.get("/staff/search?q=pager")
    assert len(_table(first, "Users")) == 20
    more = urlsplit(parse(first.get_data(as_text=True)).one('a[href*="kind=users"]').get("href"))
    assert set(parse_qs(more.query)) == {"q", "kind", "after"}
    second = client.get(f"{more.path}?{more.query}")
    emails = [row["Email"].text for row in _table(second, "Users")]
    assert emails == [f"pager{n:02d}@paging.example" for n in range(20, 25)]
    assert "Tenants" not in _text(second).split("All results")[-1]  # one kind only
    assert 'rel="prev"' in second.get_data(as_text=True)
    old_link = client.get("/staff/search?q=pager&kind=users&page=9")  # before keys: page 1
    assert old_link.status_code == 200
    assert len(_table(old_link, "Users")) == 20
    nonsense = client.get("/staff/search?q=pager&kind=nope&page=x&after=%%%")
    assert nonsense.status_code == 200
    assert len(_table(nonsense, "Users")) == 20


@pytest.mark.skipif(not ON_POSTGRES, reason="trigram indexes exist on PostgreSQL only")
@pytest.mark.parametrize("kind", ["users", "orgs", "tenants"])
def test_contains_search_reads_a_trigram_index(app, people, kind):
    from app.services import support, tenants

    statement = {
        "users": lambda: support.users_containing(support.contains_pattern("lovelace")),
        "orgs": lambda: support.orgs_containing(support.contains_pattern("engine")),
        "tenants": lambda: tenants.tenants_matching("lytical"),
    }[kind]
    with app.test_request_context():
        connection = db.session.connection()
        # A handful of rows: make the planner show what it would do with many, where
        # the search conditions, not a walk of the tenants, narrow the users down.
        for setting in ("enable_seqscan", "enable_indexscan", "enable_nestloop"):
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        compiled = statement().compile(dialect=connection.dialect)
        plan = " ".join(
            str(row)
            for row in connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
        )
        db.session.rollback()
    assert "_trigram" in plan, plan


# --- a tenant's users ----------------------------------------------------------------------


def test_a_tenant_lists_its_users_fifty_at_a_time(client, create_tenant, create_user, support):
    tenant = create_tenant("Crowd", slug="crowd")
    other = create_tenant("Elsewhere", slug="elsewhere")
    create_user(other, "stranger@elsewhere.example", name="Aaron Stranger")
    for n in range(55):
        create_user(tenant, f"member{n:02d}@crowd.example", name=f"Member {n:02d}")
    base = f"/staff/tenants/{tenant.public_id}/users"
    first = client.get(base)
    rows = table_rows(first.get_data(as_text=True))
    assert [r["Email"].text for r in rows] == [f"member{n:02d}@crowd.example" for n in range(50)]
    assert rows[0]["Tenant role"].text == "Member"
    assert rows[0]["Email verified"].text == "Yes"
    assert rows[0]["Status"].text == "Active"
    assert rows[0]["Name"].one("a").get("href").startswith("/staff/users/usr_")

    next_link = parse(first.get_data(as_text=True)).one('a[rel="next"]').get("href")
    second = client.get(next_link)
    emails = [r["Email"].text for r in table_rows(second.get_data(as_text=True))]
    assert emails == [f"member{n:02d}@crowd.example" for n in range(50, 55)]
    assert 'rel="next"' not in second.get_data(as_text=True)
    assert "stranger@elsewhere.example" not in second.get_data(as_text=True)

    mangled = client.get(f"{base}?after=usr_nope")  # not a key we made: the first page
    assert mangled.status_code == 200
    assert len(table_rows(mangled.get_data(as_text=True))) == 50


def test_the_tenant_page_loads_its_users(client, htmx_client, people, support):
    page = client.get(f"/staff/tenants/{people['compilers'].public_id}").get_data(as_text=True)
    assert f'hx-get="/staff/tenants/{people["compilers"].public_id}/users"' in page
    assert "List the 2 users" in page


def test_a_page_of_users_takes_the_same_queries_however_far_in(
    app, client, create_tenant, create_user, support, count_queries
):
    tenant = create_tenant("Deep", slug="deep")
    for n in range(120):
        create_user(tenant, f"deep{n:03d}@deep.example", name=f"Deep {n:03d}")
    base = f"/staff/tenants/{tenant.public_id}/users"
    with count_queries() as first:
        response = client.get(base)
    second = parse(response.get_data(as_text=True)).one('a[rel="next"]').get("href")
    response = client.get(second)
    third = parse(response.get_data(as_text=True)).one('a[rel="next"]').get("href")
    with count_queries() as later:
        response = client.get(third)
    assert "deep100@deep.example" in response.get_data(as_text=True)
    assert later.count == first.count  # one seek, wherever it starts


# --- the platform's audit log ---------------------------------------------------------------


@pytest.fixture
def logged(app, people):
    """Four events in two tenants, by two actors, on three days."""
    engines, compilers = people["engines"], people["compilers"]
    rows = [
        ("2026-03-01T09:00:00", engines, "ada@example.com", "member.added", "Alpha"),
        ("2026-03-02T23:59:00", engines, "helper@platform.example", "tenant.suspended", "Bravo"),
        ("2026-03-03T00:00:00", compilers, "grace@navy.example.com", "member.removed", "Charlie"),
        ("2026-03-03T12:00:00", None, "boss@platform.example", "staff.created", "Delta"),
    ]
    with app.app_context():
        for when, tenant, actor, action, target in rows:
            db.session.add(
                AuditEvent(
                    created_at=datetime.fromisoformat(when).replace(tzinfo=UTC),
                    tenant_id=tenant.id if tenant else None,
                    actor_type="user",
                    actor_label=actor,
                    action=action,
                    target_label=f"Target {target}",
                )
            )
        db.session.commit()


def _shown(response) -> set[str]:
    text = _text(response)
    return {name for name in ("Alpha", "Bravo", "Charlie", "Delta") if f"Target {name}" in text}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"Alpha", "Bravo", "Charlie", "Delta"}),
        ({"actor": "NAVY"}, {"Charlie"}),
        ({"action": "member."}, {"Alpha", "Charlie"}),
        ({"action": "member.removed"}, {"Charlie"}),
        ({"tenant": "analytical"}, {"Alpha", "Bravo"}),
        ({"tenant": "compilers"}, {"Charlie"}),
        ({"since": "2026-03-02"}, {"Bravo", "Charlie", "Delta"}),
        ({"until": "2026-03-02"}, {"Alpha", "Bravo"}),
        ({"since": "2026-03-02", "until": "2026-03-02"}, {"Bravo"}),
        ({"actor": "platform", "since": "2026-03-03"}, {"Delta"}),
    ],
    ids=lambda value: (
        "-".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else ""
    ),
)
def test_the_audit_log_filters(client, logged, support, query, expected):
    response = client.get("/staff/audit", query_string=query)
    assert response.status_code == 200
    assert _shown(response) == expected


def test_the_audit_log_filters_by_tenant_id(client, logged, people, support):
    response = client.get("/staff/audit", query_string={"tenant": people["compilers"].public_id})
    assert _shown(response) == {"Charlie"}


def test_the_audit_log_pager_keeps_the_filters(app, client, people, support):
    with app.app_context():
        db.session.add_all(
            AuditEvent(tenant_id=people["engines"].id, actor_type="system", action="org.created")
            for _ in range(55)
        )
        db.session.commit()
    first = client.get("/staff/audit?action=org.&tenant=engines").get_data(as_text=True)
    next_page = urlsplit(parse(first).one('a[rel="next"]').get("href"))
    query = parse_qs(next_page.query)
    assert set(query) == {"after", "action", "tenant"}
    assert query["action"] == ["org."]
    assert query["tenant"] == ["engines"]
    second = client.get(f"{next_page.path}?{next_page.query}")
    assert "org.created" in second.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"since": "2026-03-03", "until": "2026-03-01"}, "until"),
        ({"actor": "x" * 300}, "actor"),
    ],
)
def test_a_bad_filter_is_a_field_error(client, logged, support, query, field):
    response = client.get("/staff/audit", query_string=query)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert "data-error-summary" in html
    assert _shown(response) == set()


# --- a second tenant with a taken name -----------------------------------------------------

NEW_TENANT = {
    "name": "  analytical   ENGINES ",
    "owner_email": "owner@second.example",
    "owner_password": "long-password-1",
}


def _tenant_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Tenant))


def test_a_taken_tenant_name_asks_before_creating(app, client, people, superadmin):
    before = _tenant_count(app)
    response = client.post("/staff/tenants/new", data=dict(NEW_TENANT))
    assert response.status_code == 422
    page = _text(response)
    assert "A tenant named “Analytical Engines” already exists" in page
    html = response.get_data(as_text=True)
    assert f'href="/staff/tenants/{people["engines"].public_id}"' in html
    form = find_form(html, action="/staff/tenants/new#new-tenant")
    assert form.select('input[name="create_anyway"][value="Create anyway"]')
    # what was typed stays typed, the password too: confirming must not lose it
    assert form.one('input[name="owner_password"]').get("value") == "long-password-1"
    assert _tenant_count(app) == before


def test_create_anyway_creates_the_second_tenant(app, client, people, superadmin):
    before = _tenant_count(app)
    response = client.post(
        "/staff/tenants/new", data={**NEW_TENANT, "create_anyway": "Create anyway"}
    )
    assert response.status_code == 303
    assert _tenant_count(app) == before + 1
    with app.app_context():
        slugs = set(
            db.session.scalars(sa.select(Tenant.slug).where(Tenant.name == "analytical ENGINES"))
        )
    assert slugs == {"analytical-engines"}  # its own slug; "engines" stays the first's


def test_a_new_name_creates_at_once(app, client, people, superadmin):
    response = client.post("/staff/tenants/new", data={**NEW_TENANT, "name": "Brand New"})
    assert response.status_code == 303


# --- confirmation pages -------------------------------------------------------------------


@pytest.fixture
def targets(app, people, create_staff, add_member):
    membership = add_member(people["difference"], people["ada"], "member")
    colleague = create_staff(role=StaffRole.SUPPORT, email="colleague@platform.example")
    with app.test_request_context():
        [invited] = invitations.invite(
            Actor.system("test"),
            people["compilers"],
            people["cobol"],
            addresses=["grace@navy.example.com"],
            role="member",
        )
        db.session.commit()
        invitation_id = invited.invitation.public_id
    return {
        "membership": membership,
        "colleague": colleague,
        "invitation": invitation_id,
    }


def _destructive(people, targets) -> dict[str, tuple[str, str]]:
    """Each destructive staff action: its URL and its confirmation button."""
    ada, grace = people["ada"].public_id, people["grace"].public_id
    return {
        "suspend tenant": (
            f"/staff/tenants/{people['engines'].public_id}/suspend",
            "Suspend tenant",
        ),
        "deactivate user": (f"/staff/users/{ada}/deactivate", "Deactivate user"),
        "remove member": (
            f"/staff/users/{ada}/orgs/{people['difference'].public_id}/remove",
            "Remove member",
        ),
        "revoke invitation": (
            f"/staff/users/{grace}/invitations/{targets['invitation']}/revoke",
            "Revoke invitation",
        ),
        "deactivate staff": (
            f"/staff/staff/{targets['colleague'].public_id}/deactivate",
            "Deactivate staff account",
        ),
    }


def _state(app) -> dict:
    with app.app_context():
        return {
            "events": db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
            "suspended": db.session.scalar(
                sa.select(sa.func.count()).where(Tenant.status == TenantStatus.SUSPENDED)
            ),
            "inactive users": db.session.scalar(
                sa.select(sa.func.count()).where(User.is_active_account.is_(False))
            ),
            "inactive staff": db.session.scalar(
                sa.select(sa.func.count()).where(StaffUser.is_active_account.is_(False))
            ),
            "memberships": db.session.scalar(sa.select(sa.func.count()).select_from(Membership)),
            "revoked": db.session.scalar(
                sa.select(sa.func.count()).where(Invitation.status == InvitationStatus.REVOKED)
            ),
        }


ACTIONS = [
    "suspend tenant",
    "deactivate user",
    "remove member",
    "revoke invitation",
    "deactivate staff",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_a_destructive_action_asks_on_a_page_that_changes_nothing(
    app, client, people, targets, superadmin, action
):
    url, button = _destructive(people, targets)[action]
    before = _state(app)
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    form = find_form(html, action=url)
    assert form.get("method") == "post"
    assert form.one('button[type="submit"]').text == button
    assert form.select('input[name="csrf_token"]')
    assert "Cancel" in _text(page)
    assert "Tenantry support" in _text(page)  # inside the console's layout
    assert _state(app) == before
    # and its link on the page it comes from goes there (the no-JavaScript way)
    assert f'href="{url}"' in _source_page(client, people, targets, action)
    done = client.post(url)
    assert done.status_code == 303
    assert _state(app) != before


def _source_page(client, people, targets, action) -> str:
    source = {
        "suspend tenant": f"/staff/tenants/{people['engines'].public_id}",
        "deactivate user": f"/staff/users/{people['ada'].public_id}",
        "remove member": f"/staff/users/{people['ada'].public_id}",
        "revoke invitation": f"/staff/users/{people['grace'].public_id}",
        "deactivate staff": "/staff/staff",
    }[action]
    return client.get(source).get_data(as_text=True)


def test_support_staff_get_no_confirmation_page_for_what_they_may_not_do(
    client, people, targets, support
):
    for action in ("suspend tenant", "deactivate staff"):
        url, _button = _destructive(people, targets)[action]
        assert client.get(url).status_code == 403
