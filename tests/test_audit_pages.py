"""The audit log pages: an org's own trail and the whole tenant's, filtered, paged and
exported as CSV, with support staff's changes marked, and nobody else's tenant in sight."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import AuditEvent
from tests.markup import Element, one, select, table_rows

ORG_LOG = "/t/acme/orgs/engineering/audit"
TENANT_LOG = "/t/acme/audit"
HX = {"HX-Request": "true"}

# The shared world: Engineering (in Acme HQ, with Platform below it) has one person of each
# org role; Sales is elsewhere; Olive owns the tenant and Tess administers it.


def _events(app, tenant, org=None, n: int = 1, **fields) -> None:
    values = {
        "tenant_id": tenant.id,
        "org_id": org.id if org is not None else None,
        "actor_type": "user",
        "actor_label": "someone@acme.example",
        "action": "test.done",
        "target_type": "thing",
        "target_label": "Thing",
        **fields,
    }
    with app.app_context():
        db.session.add_all(AuditEvent(**values) for _ in range(n))
        db.session.commit()


def _table(html: str) -> list[dict[str, Element]]:
    """The rows of a log page's table, newest first, as {column heading: cell}."""
    if not select(html, "table"):  # no event matches
        return []
    return table_rows(html)


def _rows(html: str) -> list[str]:
    """The markup of the table rows of a log page, in order."""
    return [event["When"].parent.html for event in _table(html)]


def _actions(html: str) -> list[str]:
    """The action codes of a log page's entries, in order (each row carries its code)."""
    return [event["When"].parent["data-action"] for event in _table(html)]


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- who may read which log ----------------------------------------------------------


@pytest.mark.parametrize(
    ("visitor", "status"),
    [
        ("owner", 200),
        ("admin", 200),
        ("member", 403),
        ("viewer", 403),
        ("tenant_owner", 200),
        ("tenant_admin", 200),
    ],
)
def test_org_log_needs_audit_read(client, auth, world, visitor, status):
    auth.login(getattr(world, visitor))
    assert client.get(ORG_LOG).status_code == status
    assert client.get(f"{ORG_LOG}.csv").status_code == status
    assert client.get(ORG_LOG, headers=HX).status_code == status


@pytest.mark.parametrize(
    ("visitor", "status"),
    [
        ("tenant_owner", 200),
        ("tenant_admin", 200),
        ("owner", 403),  # owning an org is not running the tenant
        ("member", 403),
    ],
)
def test_tenant_log_is_for_tenant_owners_and_admins(client, auth, world, visitor, status):
    auth.login(getattr(world, visitor))
    assert client.get(TENANT_LOG).status_code == status
    assert client.get(f"{TENANT_LOG}.csv").status_code == status


def test_org_dashboard_links_to_its_log(client, auth, world):
    auth.login(world.admin)
    html = client.get("/t/acme/orgs/engineering/").get_data(as_text=True)
    assert f'href="{ORG_LOG}"' in html


def test_a_tenant_admin_finds_the_tenant_log_from_an_org_log(client, auth, world):
    auth.login(world.tenant_admin)
    assert f'href="{TENANT_LOG}"' in client.get(ORG_LOG).get_data(as_text=True)
    auth.logout("acme")
    auth.login(world.owner)
    assert f'href="{TENANT_LOG}"' not in client.get(ORG_LOG).get_data(as_text=True)


# --- what each log holds -------------------------------------------------------------


def test_org_log_holds_this_orgs_events_only_and_says_so(app, client, auth, tenant, world):
    _events(app, tenant, world.engineering, action="eng.thing")
    _events(app, tenant, world.platform, action="platform.thing")
    _events(app, tenant, world.sales, action="sales.thing")
    _events(app, tenant, None, action="tenant.thing")
    auth.login(world.admin)
    html = client.get(ORG_LOG).get_data(as_text=True)
    actions = _actions(html)
    assert "eng.thing" in actions
    assert not {"platform.thing", "sales.thing", "tenant.thing"} & set(actions)
    assert "each sub-organization keeps its own log" in html
    assert "Organization" not in _table(html)[0]


def test_tenant_log_holds_every_orgs_events_with_where_they_happened(
    app, client, auth, tenant, world
):
    _events(app, tenant, world.platform, action="platform.thing")
    _events(app, tenant, world.sales, action="sales.thing")
    _events(app, tenant, None, action="tenant.thing")
    auth.login(world.tenant_admin)
    html = client.get(TENANT_LOG).get_data(as_text=True)
    assert {"platform.thing", "sales.thing", "tenant.thing"} <= set(_actions(html))
    sales_row = next(row for row in _rows(html) if "sales.thing" in row)
    assert 'href="/t/acme/orgs/sales/"' in sales_row
    assert "Tenant settings" in html  # the breadcrumb back


def test_no_other_tenants_events_ever(app, client, auth, tenant, world, create_tenant, create_org):
    globex = create_tenant("Globex", slug="globex")
    secret = create_org(globex, "Secret Lab")
    _events(app, globex, secret, action="globex.secret", actor_label="spy@acme.example")
    _events(app, globex, None, action="globex.secret", actor_label="spy@acme.example")
    _events(app, tenant, world.engineering, action="acme.visible")
    auth.login(world.tenant_owner)
    for path in (TENANT_LOG, f"{TENANT_LOG}?actor=spy", ORG_LOG, f"{ORG_LOG}?action=globex"):
        assert "globex.secret" not in client.get(path).get_data(as_text=True), path
    for path in (f"{TENANT_LOG}.csv", f"{ORG_LOG}.csv?actor=spy"):
        assert "globex.secret" not in client.get(path).get_data(as_text=True), path
    assert "acme.visible" in client.get(f"{TENANT_LOG}.csv").get_data(as_text=True)
    # another tenant's org by its slug is no org of this tenant
    assert client.get(f"/t/acme/orgs/{secret.slug}/audit").status_code == 404
    assert client.get(f"/t/acme/orgs/{secret.slug}/audit.csv").status_code == 404


def test_support_staff_changes_are_marked(app, client, auth, tenant, world):
    _events(
        app,
        tenant,
        world.engineering,
        actor_type="staff",
        actor_label="helper@platform.example",
        action="member.role_changed",
    )
    _events(app, tenant, world.engineering, actor_label="ann@acme.example", action="x.y")
    auth.login(world.admin)
    rows = _rows(client.get(ORG_LOG).get_data(as_text=True))
    staff_row = next(row for row in rows if "helper@platform.example" in row)
    assert '<span class="badge">Support</span> (<strong>helper@platform.example</strong>)' in (
        staff_row
    )
    user_row = next(row for row in rows if "ann@acme.example" in row)
    assert "Support" not in user_row
    exported = _csv(client.get(f"{ORG_LOG}.csv?actor=helper"))
    assert exported[1][exported[0].index("support")] == "yes"
    assert exported[1][exported[0].index("actor_type")] == "staff"


def test_real_staff_actions_reach_the_tenant_log(app, client, auth, tenant, world, create_staff):
    auth.login_staff(create_staff())
    tenant_page = f"/staff/tenants/{tenant.public_id}"
    assert client.post(f"{tenant_page}/suspend").status_code in (302, 303)
    assert client.post(f"{tenant_page}/reactivate").status_code in (302, 303)
    auth.login(world.tenant_owner)
    rows = _rows(client.get(TENANT_LOG).get_data(as_text=True))
    support_rows = [row for row in rows if "Support</span>" in row]
    assert len(support_rows) >= 2


def test_labels_and_changes_render_escaped_on_one_line(app, client, auth, tenant, world):
    _events(
        app,
        tenant,
        world.engineering,
        actor_label="<script>alert(1)</script>\nforged row",
        target_label="<b>bold</b>\r\nname",
        before={"name": "Old <i>name</i>", "kept": 1, "gone": "x"},
        after={"name": "New\nname", "kept": 1, "settings": {"a": [1, 2]}},
    )
    auth.login(world.admin)
    html = client.get(ORG_LOG).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html
    row = next(row for row in _rows(html) if "forged row" in row)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; forged row" in row
    assert "&lt;b&gt;bold&lt;/b&gt; name" in row
    assert "<code>name</code>: Old &lt;i&gt;name&lt;/i&gt; → New name" in row
    assert "<code>gone</code>: x → <em>removed</em>" in row
    assert "<code>settings</code>: {&#34;a&#34;: [1, 2]}" in row
    assert "<code>kept</code>" not in row  # unchanged keys are left out


# --- filters -------------------------------------------------------------------------


def test_filter_by_actor_matches_wildcards_literally(app, client, auth, tenant, world):
    org = world.engineering
    _events(app, tenant, org, actor_label="100%_sure@acme.example", action="a.percent")
    _events(app, tenant, org, actor_label="100xxsure@acme.example", action="a.other")
    _events(app, tenant, org, actor_label="Bob@ACME.example", actor_id="user_bob", action="a.bob")
    auth.login(world.admin)
    assert _actions(client.get(f"{ORG_LOG}?actor=%25_").get_data(True)) == ["a.percent"]
    assert _actions(client.get(f"{ORG_LOG}?actor=bob@acme").get_data(True)) == ["a.bob"]
    assert _actions(client.get(f"{ORG_LOG}?actor=user_bob").get_data(True)) == ["a.bob"]
    assert "No event matches these filters" in client.get(f"{ORG_LOG}?actor=nobody").get_data(True)


def test_filter_by_action_prefix_and_target(app, client, auth, tenant, world):
    org = world.engineering
    _events(app, tenant, org, action="member.added", target_label="Ann", target_id="user_ann")
    _events(app, tenant, org, action="member.removed", target_label="Ben", target_id="user_ben")
    _events(app, tenant, org, action="members_x.odd", target_label="Ann Other")
    _events(app, tenant, org, action="team.created", target_label="Reviewers")
    auth.login(world.admin)
    by_action = _actions(client.get(f"{ORG_LOG}?action=member.").get_data(True))
    assert sorted(by_action) == ["member.added", "member.removed"]
    assert _actions(client.get(f"{ORG_LOG}?action=member_").get_data(True)) == []
    by_target = _actions(client.get(f"{ORG_LOG}?target=ann").get_data(True))
    assert sorted(by_target) == ["member.added", "members_x.odd"]
    assert _actions(client.get(f"{ORG_LOG}?target=user_ben").get_data(True)) == ["member.removed"]
    both = client.get(f"{ORG_LOG}?action=member&target=ann").get_data(True)
    assert sorted(_actions(both)) == ["member.added", "members_x.odd"]


def test_filter_by_date_range_includes_both_whole_days(app, client, auth, tenant, world):
    org = world.engineering
    for action, when in {
        "day.before": datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        "day.first": datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
        "day.last": datetime(2024, 3, 2, 23, 59, 59, 999999, tzinfo=UTC),
        "day.after": datetime(2024, 3, 3, 0, 0, tzinfo=UTC),
    }.items():
        _events(app, tenant, org, action=action, created_at=when)
    auth.login(world.admin)
    ranged = client.get(f"{ORG_LOG}?since=2024-03-01&until=2024-03-02").get_data(True)
    assert _actions(ranged) == ["day.last", "day.first"]
    assert _actions(client.get(f"{ORG_LOG}?until=2024-02-29&action=day").get_data(True)) == [
        "day.before"
    ]
    assert _actions(client.get(f"{ORG_LOG}?since=2024-03-03&action=day").get_data(True)) == [
        "day.after"
    ]
    one_day = client.get(f"{ORG_LOG}?since=2024-03-01&until=2024-03-01").get_data(True)
    assert _actions(one_day) == ["day.first"]


def test_filters_are_active_search_returning_only_the_table(app, client, auth, tenant, world):
    _events(app, tenant, world.engineering, action="member.added")
    auth.login(world.admin)
    response = client.get(f"{ORG_LOG}?action=member", headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="audit-filters"' not in html
    assert "<table" in html
    assert _actions(html) == ["member.added"]
    assert 'href="/t/acme/orgs/engineering/audit.csv?action=member"' in html
    # boosted navigation and the first load get the whole page, wired for active search
    page = client.get(ORG_LOG, headers={**HX, "HX-Boosted": "true"}).get_data(True)
    assert "<html" in page
    assert 'hx-trigger="input changed delay:300ms, submit"' in page
    assert 'hx-target="#audit-results"' in page


# --- pages ---------------------------------------------------------------------------


def test_pages_of_fifty_newest_first_keeping_the_filters(app, client, auth, tenant, world):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with app.app_context():
        db.session.add_all(
            AuditEvent(
                tenant_id=tenant.id,
                org_id=world.engineering.id,
                actor_type="user",
                actor_label="bulk@acme.example",
                action=f"bulk.n{i:03d}",
                created_at=start + timedelta(minutes=i),
            )
            for i in range(120)
        )
        db.session.commit()
    auth.login(world.admin)
    first = client.get(f"{ORG_LOG}?action=bulk").get_data(True)
    assert _actions(first) == [f"bulk.n{i:03d}" for i in range(119, 69, -1)]
    assert 'rel="prev"' not in first
    second_link = one(first, 'a[rel="next"]')["href"]
    assert second_link.startswith("/t/acme/orgs/engineering/audit?after=")
    assert second_link.endswith("&action=bulk")
    second = client.get(second_link).get_data(True)
    assert _actions(second) == [f"bulk.n{i:03d}" for i in range(69, 19, -1)]
    third = client.get(one(second, 'a[rel="next"]')["href"]).get_data(True)
    assert _actions(third) == [f"bulk.n{i:03d}" for i in range(19, -1, -1)]
    assert 'rel="next"' not in third
    back = client.get(one(third, 'a[rel="prev"]')["href"]).get_data(True)
    assert _actions(back) == _actions(second)
    # An old numbered link shows the first page.
    assert _actions(client.get(f"{ORG_LOG}?action=bulk&page=9").get_data(True)) == _actions(first)


@pytest.mark.parametrize("path", [ORG_LOG, f"{ORG_LOG}?actor=bulk&since=2000-01-01", TENANT_LOG])
def test_a_log_page_makes_the_same_queries_at_10_and_500_events(
    app, client, auth, tenant, world, count_queries, path
):
    orgs = [world.engineering, world.platform, world.sales]
    people = [world.owner, world.admin, world.member, world.viewer]

    def add(n: int) -> None:
        with app.app_context():
            db.session.add_all(
                AuditEvent(
                    tenant_id=tenant.id,
                    org_id=orgs[i % 3].id,
                    actor_type="staff" if i % 2 else "user",
                    actor_id=None if i % 2 else people[i % 4].public_id,
                    actor_label=f"bulk{i}@acme.example",
                    action="member.role_changed",
                    target_type="user",
                    target_id=people[(i + 1) % 4].public_id,
                    before={"role": "member"},
                    after={"role": "admin"},
                )
                for i in range(n)
            )
            db.session.commit()

    auth.login(world.tenant_owner)

    def queries() -> int:
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200
        return counter.count

    add(10)  # the page's names are looked up together: a few queries, however many rows
    queries()  # the first request fills the process's tenant cache; count warm ones
    small = queries()
    add(490)
    large = queries()
    assert small == large
    assert large <= 10


# --- CSV -----------------------------------------------------------------------------


def test_csv_export_streams_every_event_and_defuses_formulas(app, client, auth, tenant, world):
    org = world.engineering
    _events(
        app,
        tenant,
        org,
        actor_label='=HYPERLINK("http://evil.example")',
        action="member.added",
        target_type="user",
        target_id="user_x",
        target_label="+SUM(A1:A9)",
        before=None,
        after={"role": "@admin"},
        ip="203.0.113.9",
    )
    _events(app, tenant, org, n=600, action="bulk.made")  # more than one batch
    auth.login(world.admin)
    html = client.get(ORG_LOG).get_data(True)
    assert '<a href="/t/acme/orgs/engineering/audit.csv" hx-boost="false" download>' in html
    response = client.get(f"{ORG_LOG}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="acme-engineering-audit.csv"'
    )
    rows = _csv(response)
    assert rows[0] == [
        "time_utc",
        "organization",
        "actor",
        "actor_type",
        "support",
        "action",
        "target_type",
        "target_id",
        "target",
        "before",
        "after",
        "ip",
        "summary",
    ]
    assert sum(1 for row in rows if row[5] == "bulk.made") == 600
    added = next(row for row in rows if row[5] == "member.added")
    assert added[1] == "engineering"
    assert added[2] == '\'=HYPERLINK("http://evil.example")'
    assert added[8] == "'+SUM(A1:A9)"
    assert added[9] == ""
    assert added[10] == '{"role": "@admin"}'
    assert added[11] == "203.0.113.9"
    assert (
        added[12]
        == '\'=HYPERLINK("http://evil.example") added +SUM(A1:A9) to Engineering as @admin'
    )
    assert datetime.fromisoformat(added[0]).tzinfo is not None


def test_csv_export_follows_the_filters(app, client, auth, tenant, world):
    _events(app, tenant, world.engineering, action="member.added", target_label="Ann")
    _events(app, tenant, world.engineering, action="team.created", target_label="Ann Team")
    _events(app, tenant, world.sales, action="member.added", target_label="Ann Sales")
    auth.login(world.tenant_owner)
    html = client.get(f"{TENANT_LOG}?action=member&target=ann").get_data(True)
    assert 'href="/t/acme/audit.csv?action=member&amp;target=ann"' in html
    response = client.get(f"{TENANT_LOG}.csv?action=member&target=ann")
    assert response.headers["Content-Disposition"] == 'attachment; filename="acme-audit.csv"'
    rows = _csv(response)[1:]
    assert sorted((row[1], row[8]) for row in rows) == [
        ("engineering", "Ann"),
        ("sales", "Ann Sales"),
    ]
    org_rows = _csv(client.get(f"{ORG_LOG}.csv?target=ann"))[1:]
    assert sorted(row[5] for row in org_rows) == ["member.added", "team.created"]


# --- malformed filters ---------------------------------------------------------------

BAD = {
    "bad_date": {"since": "2024-13-45"},
    "words_for_a_date": {"until": "yesterday"},
    "nul_in_date": {"since": "2024-01-0\x001"},
    "huge_actor": {"actor": "x" * 100_000},
    "huge_target": {"target": "y" * 5000},
    "long_action": {"action": "a" * 65},
    "nul_in_actor": {"actor": "abc\x00def"},
    "control_in_target": {"target": "line\x1bbreak"},
    "reversed_range": {"since": "2024-03-02", "until": "2024-03-01"},
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("path", [ORG_LOG, TENANT_LOG])
def test_malformed_filters_are_field_errors_not_500(client, auth, world, path, args):
    auth.login(world.tenant_owner)
    page = client.get(path, query_string=args)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'class="field-error"' in html
    assert "Check the filters" in html
    assert "<table" not in html
    fragment = client.get(path, query_string=args, headers=HX)
    assert fragment.status_code == 422
    assert "Check the filters" in fragment.get_data(as_text=True)
    exported = client.get(f"{path}.csv", query_string=args)
    assert exported.status_code == 422
    assert exported.mimetype == "text/html"


def test_bad_dates_say_what_to_type_next_to_the_field(client, auth, world):
    auth.login(world.admin)
    html = client.get(ORG_LOG, query_string={"since": "31/12/2024"}).get_data(True)
    error = one(html, "#since-error")
    assert (error.tag, error.classes, error.text) == (
        "small",
        {"field-error"},
        "Enter a date as YYYY-MM-DD.",
    )
    reversed_range = client.get(
        ORG_LOG, query_string={"since": "2024-03-02", "until": "2024-03-01"}
    )
    assert 'id="until-error"' in reversed_range.get_data(True)


ODD_BUT_FINE = {
    "widest_range": {"since": "0001-01-01", "until": "9999-12-31"},
    "page_not_a_number": {"page": "abc"},
    "page_far_away": {"page": "99999999999"},
    "page_negative": {"page": "-3"},
    "sql": {"actor": "' OR 1=1 --", "target": "%", "action": "_"},
    "unicode": {"actor": "👩‍💻 RTL\u202etext"},
    "blank": {"actor": "  ", "since": "", "until": ""},
    "unknown_args": {"sort": "DROP", "org": "sales"},
}


@pytest.mark.parametrize("args", ODD_BUT_FINE.values(), ids=ODD_BUT_FINE.keys())
def test_odd_but_valid_filters_just_work(client, auth, world, args):
    auth.login(world.tenant_owner)
    assert client.get(ORG_LOG, query_string=args).status_code == 200
    assert client.get(TENANT_LOG, query_string=args).status_code == 200
    assert client.get(f"{TENANT_LOG}.csv", query_string=args).status_code == 200
