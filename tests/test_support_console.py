"""The support console: global search, the user and tenant views with their actions,
staff roles and staff accounts, and viewing a tenant as one of its users (read-only).

Every staff action goes through the tenant pages' own services as ``Actor.for_staff``
and so writes exactly one audit event, marked as support, in the tenant's log.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.extensions import db
from app.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    OutboxEmail,
    OutboxStatus,
    StaffRole,
    StaffUser,
    Tenant,
    TenantRole,
    User,
    ViewAsSession,
    utcnow,
)
from app.services import invitations
from tests.conftest import PASSWORD, Auth
from tests.markup import select, table_rows

# --- the world ------------------------------------------------------------------------


@pytest.fixture
def ticket(app, world, create_tenant, create_user, create_org, add_member):
    """What support gets asked about, on top of the shared world: Ann, a member of Platform
    with a pending invitation to Engineering; Gus, deactivated; a failed email; a deleted
    org, Old Projects. And another Ann, in Globex."""
    tenant = world.tenant
    ann = create_user(tenant, "ann@acme.example", name="Ann Archer")
    add_member(world.platform, ann, "member")
    gone = create_user(tenant, "gone@acme.example", name="Gus Gone", is_active_account=False)
    old = create_org(tenant, "Old Projects")
    globex = create_tenant("Globex", slug="globex")
    other_ann = create_user(globex, "ann@globex.example", name="Ann Other")
    with app.test_request_context():
        [invited] = invitations.invite(
            Actor.system("test"),
            tenant,
            world.engineering,
            addresses=["ann@acme.example"],
            role="admin",
        )
        db.session.execute(
            sa.update(Organization)
            .where(Organization.id == old.id)
            .values(deleted_at=utcnow(), deleted_root_id=old.id)
        )
        failed = OutboxEmail(
            tenant_id=tenant.id,
            kind="invitation",
            to_address="bounce@acme.example",
            subject="You're invited",
            text_body="hi",
            html_body="<p>hi</p>",
            status=OutboxStatus.FAILED,
            attempts=8,
            last_error="SMTPServerDisconnected: boom",
        )
        db.session.add(failed)
        db.session.commit()
    return {
        "ann": ann,
        "gone": gone,
        "other_ann": other_ann,
        "globex": globex,
        "old": old,
        "invitation": invited.invitation,
        "failed": failed,
    }


@pytest.fixture
def support(auth, create_staff) -> StaffUser:
    staff = create_staff(role=StaffRole.SUPPORT, email="helper@platform.example")
    auth.login_staff(staff)
    return staff


def _last_event_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def _events_since(app, event_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.id > event_id).order_by(AuditEvent.id)
            )
        )


def _html(response) -> str:
    """The markup, whitespace collapsed."""
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _text(response) -> str:
    """What a person reads: tags dropped, entities decoded, whitespace collapsed."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", unescape(words)).strip()


# --- staff roles -----------------------------------------------------------------------

SUPERADMIN_ONLY = [
    ("GET", "/staff/tenants/new"),
    ("POST", "/staff/tenants/new"),
    ("POST", "/staff/tenants/{tenant}/suspend"),
    ("POST", "/staff/tenants/{tenant}/reactivate"),
    ("GET", "/staff/staff"),
    ("POST", "/staff/staff"),
    ("POST", "/staff/staff/{staff}/deactivate"),
    ("POST", "/staff/staff/{staff}/reactivate"),
]


@pytest.mark.parametrize(
    ("method", "path"), SUPERADMIN_ONLY, ids=[" ".join(p) for p in SUPERADMIN_ONLY]
)
def test_support_staff_cannot_create_tenants_suspend_or_manage_staff(
    app, client, world, ticket, support, create_staff, method, path
):
    other = create_staff(role=StaffRole.SUPPORT)
    url = path.format(tenant=world.tenant.public_id, staff=other.public_id)
    before = _last_event_id(app)
    response = client.get(url) if method == "GET" else client.post(url, data={"email": "x@y.z"})
    assert response.status_code == 403
    assert "Only a superadmin can" in _text(response)
    assert _events_since(app, before) == []


def test_support_sees_no_superadmin_controls(client, world, ticket, support):
    assert "Staff</a>" not in _text(client.get("/staff/"))
    tenant_page = _text(client.get(f"/staff/tenants/{world.tenant.public_id}"))
    assert "Suspend tenant" not in tenant_page


def test_superadmin_sees_and_may_use_them(client, auth, world, ticket, create_staff):
    auth.login_staff(create_staff(role=StaffRole.SUPERADMIN))
    assert client.get("/staff/staff").status_code == 200
    assert "Suspend tenant" in _text(client.get(f"/staff/tenants/{world.tenant.public_id}"))


# --- global search ---------------------------------------------------------------------


def test_search_finds_users_by_email_across_tenants(client, ticket, support):
    page = _html(client.get("/staff/search?q=ANN@"))
    assert "ann@acme.example" in page
    assert "ann@globex.example" in page
    # each user is shown with their tenant
    tenants = {row["Email"].text: row["Tenant"] for row in table_rows(page, column="Email")}
    assert tenants["ann@acme.example"].one("a").text == "Acme"
    assert tenants["ann@globex.example"].one("a").text == "Globex"
    assert "gone@acme.example" not in page


def test_search_finds_users_by_name_and_orgs_by_name(client, world, ticket, support):
    page = _text(client.get("/staff/search?q=ann arch"))
    assert "ann@acme.example" in page
    assert "ann@globex.example" not in page
    orgs = _text(client.get("/staff/search?q=plat"))
    assert "Engineering / Platform" in orgs
    assert world.platform.public_id in orgs


def test_search_wildcards_are_literal(client, tenant, create_user, support):
    create_user(tenant, "a_b@acme.example", name="Under Score")
    create_user(tenant, "axb@acme.example", name="Percent 100% Sure")
    underscore = _text(client.get("/staff/search?q=a_b"))
    assert "a_b@acme.example" in underscore
    assert "axb@acme.example" not in underscore
    percent = _text(client.get("/staff/search?q=%25"))
    assert "axb@acme.example" in percent  # "Percent 100% Sure" holds a literal %
    assert "a_b@acme.example" not in percent
    assert "Nothing matches" in _text(client.get("/staff/search?q=1%25%25"))
    name = _text(client.get("/staff/search?q=percent 100%25"))
    assert "axb@acme.example" in name


@pytest.mark.parametrize("kind", ["ann", "platform", "tenant", "invitation"])
def test_search_by_exact_public_id(client, world, ticket, support, kind):
    thing = {**ticket, "platform": world.platform, "tenant": world.tenant}[kind]
    page = _html(client.get(f"/staff/search?q={thing.public_id}"))
    lowercase = _html(client.get(f"/staff/search?q={thing.public_id.lower()}"))
    for html in (page, lowercase):
        assert thing.public_id in html or getattr(thing, "email", "") in html
    if kind == "ann":
        assert "ann@acme.example" in page
        assert "ann@globex.example" not in page
    if kind == "invitation":
        assert "Invitations" in page
        assert f"/staff/users/{ticket['ann'].public_id}" in page
    if kind == "tenant":
        assert "Acme" in page
        assert "Globex" not in page


def test_search_unknown_id_and_empty_query(client, ticket, support):
    assert "Nothing matches" in _text(client.get("/staff/search?q=usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    assert "Type to search" in _text(client.get("/staff/search"))
    assert client.get("/staff/search?q=%00%ff" + "x" * 500).status_code == 200


def test_search_is_active_search_returning_only_the_results(htmx_client, ticket, create_staff):
    staff = create_staff(role=StaffRole.SUPPORT)
    htmx_client.post("/staff/login", data={"email": staff.email, "password": PASSWORD})
    fragment = htmx_client.get("/staff/search?q=ann")
    body = fragment.get_data(as_text=True)
    assert "<html" not in body
    assert "ann@acme.example" in body
    assert "HX-Request" in fragment.headers["Vary"]
    boosted = htmx_client.get("/staff/search?q=ann", headers={"HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_search_results_are_limited(client, tenant, create_user, support):
    for n in range(25):
        create_user(tenant, f"many{n:02d}@acme.example")
    page = _html(client.get("/staff/search?q=many"))
    assert page.count("@acme.example</td>") == 20
    assert "More users →" in page


def _bulk(app, n: int, batch: int) -> None:
    with app.app_context():
        tenant = Tenant(name=f"Bulk {batch}", slug=f"bulk-{batch}")
        db.session.add(tenant)
        db.session.flush()
        db.session.add_all(
            User(tenant_id=tenant.id, email=f"bulk{i}@bulk{batch}.example", name=f"Bulk {i}")
            for i in range(n)
        )
        db.session.add_all(
            Organization(tenant_id=tenant.id, name=f"Bulk org {i}", slug=f"bulk-org-{i}")
            for i in range(n)
        )
        db.session.commit()


@pytest.mark.parametrize("query", ["bulk", "usr_", "tnt_"])
def test_search_makes_the_same_queries_at_any_size(app, client, support, count_queries, query):
    _bulk(app, 3, 1)
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.public_id).where(User.email.like("bulk%")))
        tenant_id = db.session.scalar(sa.select(Tenant.public_id).where(Tenant.slug == "bulk-1"))
    q = {"bulk": "bulk", "usr_": user_id, "tnt_": tenant_id}[query]
    with count_queries() as small:
        assert client.get(f"/staff/search?q={q}").status_code == 200
    _bulk(app, 60, 2)
    with count_queries() as large:
        assert client.get(f"/staff/search?q={q}").status_code == 200
    assert small.count == large.count <= 6


# --- the user view -------------------------------------------------------------------


def test_user_view_shows_tenant_orgs_invitations_and_activity(app, client, ticket, support):
    ann = ticket["ann"]
    client.post(f"/staff/users/{ann.public_id}/password-reset")
    response = client.get(f"/staff/users/{ann.public_id}")
    page = _text(response)
    assert "Ann Archer" in page
    assert "Tenant Acme" in page
    assert "Engineering / Platform" in page  # direct membership with its path
    assert 'value="member" selected' in _html(response)
    assert ticket["invitation"].public_id in page  # pending invitation to her address
    assert "user.password_reset_requested" in page  # recent activity about her
    assert "support" in page
    assert client.get("/staff/users/usr_nope").status_code == 404


def test_user_view_makes_the_same_queries_with_more_orgs(
    app, client, world, ticket, support, create_org, add_member, count_queries
):
    url = f"/staff/users/{ticket['ann'].public_id}"
    with count_queries() as small:
        assert client.get(url).status_code == 200
    for n in range(15):
        add_member(create_org(world.tenant, f"Extra {n}"), ticket["ann"], "viewer")
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert small.count == large.count


def _action_cases():
    """(id, url, form data, action, before, after) for each user-view action."""
    return [
        (
            "change role",
            "/staff/users/{ann}/orgs/{platform}/role",
            {"role": "admin"},
            "member.role_changed",
            {"role": "member"},
            {"role": "admin"},
        ),
        (
            "remove from org",
            "/staff/users/{ann}/orgs/{platform}/remove",
            {},
            "member.removed",
            {"role": "member"},
            None,
        ),
        (
            "resend invitation",
            "/staff/users/{ann}/invitations/{invitation}/resend",
            {},
            "invitation.resent",
            None,
            None,
        ),
        (
            "revoke invitation",
            "/staff/users/{ann}/invitations/{invitation}/revoke",
            {},
            "invitation.revoked",
            {"status": "pending"},
            {"status": "revoked"},
        ),
        (
            "password reset",
            "/staff/users/{ann}/password-reset",
            {},
            "user.password_reset_requested",
            None,
            None,
        ),
        (
            "deactivate",
            "/staff/users/{ann}/deactivate",
            {},
            "user.deactivated",
            {"is_active": True},
            {"is_active": False},
        ),
        (
            "reactivate",
            "/staff/users/{gone}/reactivate",
            {},
            "user.reactivated",
            {"is_active": False},
            {"is_active": True},
        ),
        (
            "view as",
            "/staff/users/{ann}/view-as",
            {"reason": "Ticket 42: can't see Platform"},
            "staff.view_as_started",
            None,
            {"reason": "Ticket 42: can't see Platform"},
        ),
        (
            "retry email",
            "/staff/tenants/{tenant}/outbox/{email}/retry",
            {},
            "email.retried",
            {"status": "failed", "attempts": 8},
            {"status": "pending", "attempts": 0},
        ),
        (
            "restore org",
            "/staff/tenants/{tenant}/deleted/{old}/restore",
            {},
            "org.restored",
            None,
            {"restored_orgs": 1},
        ),
    ]


@pytest.mark.parametrize(
    ("url", "data", "action", "before", "after"),
    [case[1:] for case in _action_cases()],
    ids=[case[0] for case in _action_cases()],
)
def test_each_action_writes_exactly_one_staff_audit_event(
    app, client, world, ticket, support, url, data, action, before, after
):
    url = url.format(
        ann=ticket["ann"].public_id,
        gone=ticket["gone"].public_id,
        platform=world.platform.public_id,
        invitation=ticket["invitation"].public_id,
        tenant=world.tenant.public_id,
        email=ticket["failed"].id,
        old=ticket["old"].public_id,
    )
    last = _last_event_id(app)
    response = client.post(url, data=dict(data))
    assert response.status_code == 303, _text(response)[:500]
    events = _events_since(app, last)
    assert [e.action for e in events] == [action]
    event = events[0]
    assert event.actor_type == "staff"
    assert event.actor_id == support.public_id
    assert event.actor_label == "helper@platform.example"
    assert event.tenant_id == world.tenant.id
    assert event.ip == "127.0.0.1"
    if before is not None:
        assert event.before == before
    if after is not None:
        assert {k: event.after[k] for k in after} == after
    # and it shows in the tenant's own audit log, credited to support by name
    log = client.get(f"/staff/tenants/{world.tenant.public_id}").get_data(as_text=True)
    sentences = [
        row.one(".audit-sentence").text for row in select(log, f'tr[data-action="{action}"]')
    ]
    assert sentences
    assert sentences[0].startswith("Support (helper@platform.example) ")


def test_changes_really_happen(app, client, world, ticket, support):
    ann, platform = ticket["ann"], world.platform
    client.post(
        f"/staff/users/{ann.public_id}/orgs/{platform.public_id}/role", data={"role": "admin"}
    )
    client.post(f"/staff/users/{ann.public_id}/invitations/{ticket['invitation'].public_id}/revoke")
    client.post(f"/staff/users/{ann.public_id}/password-reset")
    with app.app_context():
        membership = db.session.scalar(
            sa.select(Membership).where(
                Membership.user_id == ann.id, Membership.org_id == platform.id
            )
        )
        assert membership.role == "admin"
        invitation = db.session.get(Invitation, ticket["invitation"].id)
        assert invitation.status == InvitationStatus.REVOKED
        reset = db.session.scalar(
            sa.select(OutboxEmail).where(OutboxEmail.kind == "password_reset")
        )
        assert reset.to_address == "ann@acme.example"
    client.post(f"/staff/users/{ann.public_id}/orgs/{platform.public_id}/remove")
    with app.app_context():
        assert db.session.scalar(sa.select(Membership).where(Membership.user_id == ann.id)) is None


def test_refusals_change_nothing(app, client, world, ticket, support):
    hana, hq, engineering = world.hq_owner, world.hq, world.engineering
    last = _last_event_id(app)
    demote = client.post(
        f"/staff/users/{hana.public_id}/orgs/{hq.public_id}/role", data={"role": "member"}
    )
    assert demote.status_code == 409
    assert "without an owner" in _text(demote)
    last_owner = client.post(f"/staff/users/{world.tenant_owner.public_id}/deactivate")
    assert last_owner.status_code == 409
    assert "last active owner" in _text(last_owner)
    unknown_role = client.post(
        f"/staff/users/{ticket['ann'].public_id}/orgs/{world.platform.public_id}/role",
        data={"role": "wizard"},
    )
    assert unknown_role.status_code == 422
    reset_inactive = client.post(f"/staff/users/{ticket['gone'].public_id}/password-reset")
    assert reset_inactive.status_code == 409
    # ids of another tenant's things, or ones that don't belong to this user
    other = ticket["other_ann"].public_id
    assert (
        client.post(f"/staff/users/{other}/orgs/{engineering.public_id}/remove").status_code == 404
    )
    assert (
        client.post(
            f"/staff/users/{other}/invitations/{ticket['invitation'].public_id}/revoke"
        ).status_code
        == 404
    )
    assert _events_since(app, last) == []


def test_deactivating_a_user_ends_their_sessions(app, client, ticket, support):
    ann_client = app.test_client()
    Auth(app, ann_client).login(ticket["ann"])
    assert ann_client.get("/t/acme/orgs/").status_code == 200
    assert client.post(f"/staff/users/{ticket['ann'].public_id}/deactivate").status_code == 303
    kicked = ann_client.get("/t/acme/orgs/")
    assert kicked.status_code == 302
    assert kicked.headers["Location"].startswith("/t/acme/login")
    again = ann_client.post(
        "/t/acme/login", data={"email": "ann@acme.example", "password": PASSWORD}
    )
    assert again.status_code == 422
    assert client.post(f"/staff/users/{ticket['ann'].public_id}/reactivate").status_code == 303
    Auth(app, ann_client).login(ticket["ann"])


def test_a_second_owner_can_be_deactivated(app, client, world, ticket, support, create_user):
    create_user(world.tenant, "co@acme.example", tenant_role=TenantRole.OWNER)
    assert client.post(f"/staff/users/{world.tenant_owner.public_id}/deactivate").status_code == 303


# --- the tenant view -----------------------------------------------------------------


def test_tenant_view_shows_settings_counts_and_sections(client, world, ticket, support):
    page = _text(client.get(f"/staff/tenants/{world.tenant.public_id}"))
    assert "Self-service sign-up" in page
    assert "Invitations last 7 days" in page
    assert "Users 11 (1 deactivated)" in page  # the world's 9, Ann and Gus
    assert "Organizations 4 (and 1 deleted)" in page
    assert "Pending 1" in page
    assert "Failed 1" in page
    html = _html(client.get(f"/staff/tenants/{world.tenant.public_id}"))
    for section in ("orgs", "outbox", "deleted"):
        assert f'hx-get="/staff/tenants/{world.tenant.public_id}/{section}"' in html


def test_tenant_sections_load_as_fragments(htmx_client, world, ticket, create_staff):
    staff = create_staff(role=StaffRole.SUPPORT)
    htmx_client.post("/staff/login", data={"email": staff.email, "password": PASSWORD})
    base = f"/staff/tenants/{world.tenant.public_id}"
    for section, expected in (
        ("orgs", "Acme HQ"),
        ("outbox", "bounce@acme.example"),
        ("deleted", "Old Projects"),
    ):
        fragment = htmx_client.get(f"{base}/{section}")
        body = fragment.get_data(as_text=True)
        assert fragment.status_code == 200
        assert "<html" not in body
        assert "<h1" not in body
        assert expected in body
        assert "HX-Request" in fragment.headers["Vary"]


def test_tenant_org_tree_loads_a_level_at_a_time(client, world, ticket, support):
    base = f"/staff/tenants/{world.tenant.public_id}/orgs"
    top = _text(client.get(base))
    assert "Acme HQ" in top
    assert "Engineering" not in top
    assert "Old Projects" not in top  # deleted
    below = _text(client.get(f"{base}?parent={world.hq.public_id}"))
    assert "Engineering" in below
    assert client.get(f"{base}?parent={ticket['old'].public_id}").status_code == 404
    other_tenant_org = client.get(
        f"/staff/tenants/{ticket['globex'].public_id}/orgs?parent={world.engineering.public_id}"
    )
    assert other_tenant_org.status_code == 404


def test_outbox_lists_failed_emails_and_retry_queues_one_again(app, client, world, ticket, support):
    tenant_id = world.tenant.public_id
    outbox = _text(client.get(f"/staff/tenants/{tenant_id}/outbox"))
    assert "bounce@acme.example" in outbox
    assert "SMTPServerDisconnected: boom" in outbox
    url = f"/staff/tenants/{tenant_id}/outbox/{ticket['failed'].id}/retry"
    assert client.post(url).status_code == 303
    with app.app_context():
        email = db.session.get(OutboxEmail, ticket["failed"].id)
        assert email.status == OutboxStatus.PENDING
        assert email.attempts == 0
        assert abs((email.next_attempt_at - utcnow()).total_seconds()) < 60
    again = client.post(url)
    assert again.status_code == 409
    assert "Only a failed email" in _text(again)
    # another tenant's email, or no email at all
    globex = ticket["globex"].public_id
    assert (
        client.post(f"/staff/tenants/{globex}/outbox/{ticket['failed'].id}/retry").status_code
        == 404
    )
    assert client.post(f"/staff/tenants/{tenant_id}/outbox/nope/retry").status_code == 404


def test_restore_a_deleted_org(app, client, world, ticket, support):
    tenant_id = world.tenant.public_id
    assert "Old Projects" in _text(client.get(f"/staff/tenants/{tenant_id}/deleted"))
    url = f"/staff/tenants/{tenant_id}/deleted/{ticket['old'].public_id}/restore"
    assert client.post(url).status_code == 303
    with app.app_context():
        assert db.session.get(Organization, ticket["old"].id).deleted_at is None
    assert "Nothing is deleted" in _text(client.get(f"/staff/tenants/{tenant_id}/deleted"))
    assert client.post(url).status_code == 404  # not deleted any more


# --- staff accounts --------------------------------------------------------------------


def test_superadmin_creates_and_deactivates_staff(app, client, auth, create_staff):
    boss = create_staff(role=StaffRole.SUPERADMIN, email="boss@platform.example")
    auth.login_staff(boss)
    last = _last_event_id(app)
    created = client.post(
        "/staff/staff",
        data={
            "email": "New@Platform.example",
            "name": "Nia",
            "password": "long-password-1",
            "role": "support",
        },
    )
    assert created.status_code == 303
    [event] = _events_since(app, last)
    assert (event.action, event.actor_type, event.actor_id) == (
        "staff.created",
        "staff",
        boss.public_id,
    )
    duplicate = client.post(
        "/staff/staff",
        data={"email": "new@platform.example", "password": "long-password-1", "role": "support"},
    )
    assert duplicate.status_code == 422
    assert 'id="email-error"' in duplicate.get_data(as_text=True)

    with app.app_context():
        nia = db.session.scalar(
            sa.select(StaffUser).where(StaffUser.email == "new@platform.example")
        )
    nia_client = app.test_client()
    Auth(app, nia_client).login_staff(nia, "long-password-1")
    assert client.post(f"/staff/staff/{nia.public_id}/deactivate").status_code == 303
    assert nia_client.get("/staff/").status_code == 302  # her session is over
    refused = nia_client.post(
        "/staff/login", data={"email": nia.email, "password": "long-password-1"}
    )
    assert refused.status_code == 422
    assert client.post(f"/staff/staff/{boss.public_id}/deactivate").status_code == 409


# --- viewing as a user -----------------------------------------------------------------


def _start_view_as(client, user, reason="Ticket 42: can't see Platform"):
    return client.post(f"/staff/users/{user.public_id}/view-as", data={"reason": reason})


def test_view_as_needs_a_reason(app, client, ticket, support):
    last = _last_event_id(app)
    response = _start_view_as(client, ticket["ann"], reason="  ")
    assert response.status_code == 422
    assert 'id="reason-error"' in response.get_data(as_text=True)
    assert _events_since(app, last) == []
    assert client.get("/t/acme/orgs/").status_code == 302  # nothing started


def test_view_as_shows_the_users_pages_with_a_banner(app, client, ticket, support):
    response = _start_view_as(client, ticket["ann"])
    assert response.status_code == 303
    assert response.headers["Location"] == "/t/acme/"
    page = _text(client.get("/t/acme/orgs/", follow_redirects=True))
    assert "Viewing as ann@acme.example (read-only) — reason: Ticket 42: can't see Platform" in page
    assert re.search(r"ends at \d\d:\d\d UTC", page)
    assert "Acme HQ" in page  # what Ann sees
    assert "/t/acme/logout" not in _html(client.get("/t/acme/orgs/"))  # no tenant sign-out
    # still signed in as staff, not as Ann
    assert client.get("/staff/").status_code == 200
    with client.session_transaction() as session:
        assert session["_user_id"].startswith("staff:")


def test_view_as_is_read_only(app, client, world, ticket, support):
    _start_view_as(client, ticket["ann"])
    with app.app_context():
        before = {
            t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in db.metadata.sorted_tables
        }
    refused = client.post("/t/acme/orgs/new", data={"name": "Sneaky"})
    assert refused.status_code == 403
    assert "You are viewing as this user: read-only." in _text(refused)
    leave = client.post(f"/t/acme/orgs/{world.platform.slug}/members/leave")
    assert leave.status_code == 403
    logout = client.post("/t/acme/logout")
    assert logout.status_code == 403
    # as an htmx request: the error fragment, retargeted
    fragment = client.post(
        f"/t/acme/orgs/{world.platform.slug}/members/{ticket['ann'].public_id}/remove",
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 403
    assert "<html" not in fragment.get_data(as_text=True)
    assert fragment.headers["HX-Retarget"] == "#flash-region"
    with app.app_context():
        after = {
            t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in db.metadata.sorted_tables
        }
    assert after == before
    assert client.get("/staff/").status_code == 200  # the staff session survived


def test_view_as_expires_after_30_minutes(app, client, world, ticket, support):
    _start_view_as(client, ticket["ann"])
    with app.app_context():
        row = db.session.scalar(sa.select(ViewAsSession))
        assert timedelta(minutes=29) < row.expires_at - utcnow() <= timedelta(minutes=30)
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    last = _last_event_id(app)
    expired = client.get("/t/acme/orgs/")
    assert expired.status_code == 302
    assert expired.headers["Location"] == f"/staff/users/{ticket['ann'].public_id}"
    [event] = _events_since(app, last)
    assert event.action == "staff.view_as_ended"
    assert event.after == {"reason": "expired", "view_reason": "Ticket 42: can't see Platform"}
    assert event.tenant_id == world.tenant.id
    assert event.actor_type == "staff"
    with client.session_transaction() as session:
        assert "view_as" not in session
    assert client.get("/t/acme/orgs/").headers["Location"].startswith("/t/acme/login")


def test_ending_view_as_is_audited_and_returns_to_the_user(app, client, ticket, support):
    _start_view_as(client, ticket["ann"])
    last = _last_event_id(app)
    ended = client.post("/staff/view-as/end")
    assert ended.status_code == 303
    assert ended.headers["Location"] == f"/staff/users/{ticket['ann'].public_id}"
    [event] = _events_since(app, last)
    assert event.action == "staff.view_as_ended"
    assert event.after == {"reason": "ended", "view_reason": "Ticket 42: can't see Platform"}
    assert event.target_id == ticket["ann"].public_id
    assert client.get("/t/acme/orgs/").status_code == 302


def test_view_as_holds_only_in_the_users_tenant(client, ticket, support):
    _start_view_as(client, ticket["ann"])
    other = client.get("/t/globex/orgs/")
    assert other.status_code == 302
    assert other.headers["Location"].startswith("/t/globex/login")
    assert client.get("/t/acme/orgs/").status_code == 200  # untouched by the visit


def test_staff_session_never_signs_in_to_a_tenant(client, ticket, support):
    login = client.get("/t/acme/login")
    assert login.status_code == 200
    assert 'name="password"' in login.get_data(as_text=True)
    _start_view_as(client, ticket["ann"])
    assert 'name="password"' in client.get("/t/acme/login").get_data(as_text=True)


def test_a_tenant_session_never_grants_staff(client, auth, world, ticket):
    auth.login(world.tenant_owner)
    assert client.get("/staff/").headers["Location"].startswith("/staff/login")
    assert client.post(f"/staff/users/{ticket['ann'].public_id}/deactivate").status_code == 302
    page = client.get("/staff/login")
    assert page.status_code == 200
    assert "You are signed in to a tenant" in page.get_data(as_text=True)
