"""The members page: who belongs, searching them, changing roles in place, leaving,
exporting and handing over ownership, and who may do which of these."""

from __future__ import annotations

import csv
import io
from html import unescape

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.ids import new_public_id
from app.models import AuditEvent, Membership, Team, TeamMember, TenantRole, User, utcnow
from tests.markup import one, select

PAGE = "/t/acme/orgs/engineering/members"
HX = {"HX-Request": "true"}


# The shared world: Acme HQ (Hana owns it, Ines is a member) > Engineering (Erin owns it,
# Ada admin, Milo member, Vic viewer). HQ's people reach Engineering by inheritance.


@pytest.fixture
def backend_crew(app, tenant, world) -> Team:
    """A team of Engineering's with Milo in it."""
    with app.app_context():
        team = Team(tenant_id=tenant.id, org_id=world.engineering.id, name="Backend Crew")
        db.session.add(team)
        db.session.flush()
        db.session.add(TeamMember(team_id=team.id, user_id=world.member.id))
        db.session.commit()
    return team


def _row(html: str, user: User) -> str:
    """The markup of ``user``'s row in the member table."""
    return one(html, f"tr#member-{user.public_id}").html


def _emails(html: str) -> list[str]:
    """The email column of the member table, top to bottom."""
    return [row.select("td")[0].text for row in select(html, 'tr[id^="member-"]')]


def _role_of(app, org, user) -> str | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(Membership.role).where(
                Membership.org_id == org.id, Membership.user_id == user.id
            )
        )


def _state(app):
    """Every membership and the number of audit events: what a refusal must not touch."""
    with app.app_context():
        memberships = db.session.execute(
            sa.select(Membership.org_id, Membership.user_id, Membership.role).order_by(
                Membership.org_id, Membership.user_id
            )
        ).all()
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        return [tuple(m) for m in memberships], events


# --- the list ------------------------------------------------------------------------


def test_page_lists_direct_and_inherited_members_with_their_source(
    client, auth, world, backend_crew
):
    auth.login(world.admin)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert sorted(_emails(html)) == sorted(
        f"{name}@acme.example" for name in ("hana", "ines", "erin", "ada", "milo", "vic")
    )

    inherited = _row(html, world.hq_member)
    assert "Inherited from" in inherited
    assert '<a href="/t/acme/orgs/acme-hq/">Acme HQ</a>' in inherited
    assert "<select" not in inherited  # an inherited role is changed where it is held
    assert "Remove" not in inherited
    assert ">Member<" in inherited

    milo = _row(html, world.member)
    assert "Direct" in milo
    assert "<select" not in milo  # the choices come only when asked for (Change role)
    change = one(milo, 'a[href$="/role"]')
    assert change.text == "Change role"
    assert change["href"] == change["hx-get"] == f"{PAGE}/{world.member.public_id}/role"
    actions = one(milo, "td.row-actions-cell")  # its links answer with the row
    assert actions["hx-target"] == "closest tr"
    assert actions["hx-swap"] == "outerHTML"
    assert ">Member<" in milo
    assert "Backend Crew" in milo
    assert ">Remove</a>" in milo
    assert "csrf_token" not in milo  # htmx sends the token in a header
    erin = _row(html, world.owner)  # an admin may not manage an owner
    assert "Change role" not in erin
    assert "Remove" not in erin
    assert ">Owner<" in erin


def test_org_dashboard_links_to_the_members_page(client, auth, world):
    auth.login(world.admin)
    html = client.get("/t/acme/orgs/engineering/").get_data(as_text=True)
    assert f'href="{PAGE}"' in html


def test_a_member_sees_the_list_without_controls(client, auth, world):
    auth.login(world.member)
    html = client.get(PAGE).get_data(as_text=True)
    assert len(_emails(html)) == 6
    assert "Change role" not in html
    assert ">Remove</a>" not in html
    assert "Leave organization" in html
    assert "Transfer ownership" not in html


def test_search_by_name_or_email_as_an_htmx_fragment(client, auth, world):
    auth.login(world.admin)
    response = client.get(f"{PAGE}?q=MILO", headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert _emails(html) == ["milo@acme.example"]
    assert _emails(client.get(f"{PAGE}?q=erin@", headers=HX).get_data(as_text=True)) == [
        "erin@acme.example"
    ]
    assert "No member matches “nobody”" in client.get(f"{PAGE}?q=nobody", headers=HX).get_data(
        as_text=True
    )
    # the search box and role filter are wired for active search
    page = client.get(PAGE, headers={**HX, "HX-Boosted": "true"}).get_data(as_text=True)
    assert 'hx-trigger="input changed delay:250ms, search"' in page
    assert 'hx-include="closest form"' in page


def test_search_wildcards_match_literally(client, auth, world, tenant, create_user, add_member):
    odd = create_user(tenant, "odd_one@acme.example", name="100% Sure")
    add_member(world.engineering, odd, "member")
    auth.login(world.admin)
    assert _emails(client.get(f"{PAGE}?q=%25").get_data(as_text=True)) == [odd.email]
    assert _emails(client.get(f"{PAGE}?q=_").get_data(as_text=True)) == [odd.email]


def test_filter_by_role(client, auth, world):
    auth.login(world.admin)
    assert _emails(client.get(f"{PAGE}?role=admin").get_data(as_text=True)) == ["ada@acme.example"]
    owners = _emails(client.get(f"{PAGE}?role=owner").get_data(as_text=True))
    assert sorted(owners) == ["erin@acme.example", "hana@acme.example"]
    # an unknown role is ignored rather than an error
    assert len(_emails(client.get(f"{PAGE}?role=nonsense").get_data(as_text=True))) == 6
    html = client.get(f"{PAGE}?role=admin").get_data(as_text=True)
    assert '<option value="admin" selected>Admin</option>' in html


def test_sort_by_name_and_email_both_ways(client, auth, world):
    auth.login(world.admin)
    by_name = _emails(client.get(f"{PAGE}?sort=name").get_data(as_text=True))
    assert by_name == [f"{n}@acme.example" for n in ("ada", "erin", "hana", "ines", "milo", "vic")]
    by_name_desc = _emails(client.get(f"{PAGE}?sort=-name").get_data(as_text=True))
    assert by_name_desc == list(reversed(by_name))
    by_email_desc = _emails(client.get(f"{PAGE}?sort=-email").get_data(as_text=True))
    assert by_email_desc == sorted(by_name, reverse=True)
    html = client.get(f"{PAGE}?sort=email&q=a").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    assert 'href="/t/acme/orgs/engineering/members?sort=-email&amp;q=a"' in html


def test_pages_of_members(client, auth, world, tenant, create_user, add_member):
    for n in range(54):  # 60 in all
        add_member(world.engineering, create_user(tenant, name=f"Zed {n:02d}"), "member")
    auth.login(world.admin)
    first = client.get(PAGE).get_data(as_text=True)
    assert len(_emails(first)) == 50
    assert "60 members" in one(first, ".list-total").text
    following = one(first, 'a[rel="next"]')["href"]
    second = client.get(following).get_data(as_text=True)
    assert len(_emails(second)) == 10
    assert set(_emails(first)).isdisjoint(_emails(second))
    # an old ?page=N link, or nonsense, shows the first page
    assert _emails(client.get(f"{PAGE}?page=2").get_data(as_text=True)) == _emails(first)
    assert client.get(f"{PAGE}?page=-4").status_code == 200


# --- changing a role in place --------------------------------------------------------


def _role_url(user: User) -> str:
    return f"{PAGE}/{user.public_id}/role"


def _remove_url(user: User) -> str:
    return f"{PAGE}/{user.public_id}/remove"


def test_htmx_role_change_returns_the_updated_row(app, client, auth, world):
    auth.login(world.admin)
    response = client.post(_role_url(world.member), data={"role": "viewer"}, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="member-{world.member.public_id}"')
    assert "<html" not in html
    assert one(html, ".badge").text == "Viewer"
    assert "<select" not in html  # back to the row as it reads
    assert "Role changed to Viewer." in html
    assert _role_of(app, world.engineering, world.member) == "viewer"
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "member.role_changed")
        )
        assert (event.before, event.after) == ({"role": "member"}, {"role": "viewer"})


def test_demoting_yourself_shows_what_you_may_still_do(app, client, auth, world):
    auth.login(world.owner)  # Hana still owns HQ, so Erin may step down
    response = client.post(_role_url(world.owner), data={"role": "admin"}, headers=HX)
    assert response.status_code == 200
    assert one(response.get_data(as_text=True), ".badge").text == "Admin"
    again = client.get(_role_url(world.owner), headers=HX).get_data(as_text=True)
    assert one(again, "option[selected]")["value"] == "admin"
    assert '<option value="owner"' not in again  # an admin can't hand out ownership
    assert _role_of(app, world.engineering, world.owner) == "admin"


def test_role_change_without_htmx_redirects_with_a_message(app, client, auth, world):
    auth.login(world.admin)
    response = client.post(_role_url(world.member), data={"role": "viewer"})
    assert response.status_code == 303
    assert response.headers["Location"] == PAGE
    assert "Milo Member is now Viewer" in client.get(PAGE).get_data(as_text=True)
    assert _role_of(app, world.engineering, world.member) == "viewer"


def test_htmx_remove_says_so_in_the_row_and_removes_the_membership(
    app, client, auth, world, backend_crew
):
    auth.login(world.admin)
    response = client.post(_remove_url(world.member), headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="member-{world.member.public_id}"')
    assert "Milo Member was removed from Engineering." in html
    assert ">Undo</button>" in html
    assert _role_of(app, world.engineering, world.member) is None
    with app.app_context():  # and from the org's teams
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TeamMember)) == 0


def test_remove_without_htmx_redirects(app, client, auth, world):
    auth.login(world.admin)
    response = client.post(_remove_url(world.member))
    assert response.status_code == 303
    assert "Milo Member was removed from Engineering." in client.get(PAGE).get_data(as_text=True)
    assert _role_of(app, world.engineering, world.member) is None


# --- refusals: said inside the row, nothing changed ----------------------------------


@pytest.mark.parametrize(
    ("actor", "url", "data", "target", "status", "message"),
    [
        ("admin", _role_url, {"role": "member"}, "owner", 403, "Only an owner can change"),
        ("admin", _remove_url, None, "owner", 403, "Only an owner can remove an owner"),
        ("admin", _role_url, {"role": "owner"}, "member", 403, "You can't give the Owner role"),
        ("member", _role_url, {"role": "viewer"}, "admin", 403, "You don't have permission"),
        ("member", _remove_url, None, "admin", 403, "You don't have permission"),
        ("admin", _role_url, {"role": "no-such-role"}, "member", 422, "Unknown role"),
        ("admin", _role_url, {}, "member", 422, "Choose a role."),
    ],
    ids=[
        "admin-demotes-owner",
        "admin-removes-owner",
        "admin-grants-owner",
        "member-changes-role",
        "member-removes",
        "unknown-role",
        "no-role",
    ],
)
def test_refused_row_action_explains_itself_inside_the_row(
    app, client, auth, world, actor, url, data, target, status, message
):
    auth.login(getattr(world, actor))
    before = _state(app)
    person = getattr(world, target)
    response = client.post(url(person), data=dict(data or {}), headers=HX)
    assert response.status_code == status
    assert "HX-Retarget" not in response.headers  # stays in the row, not the flash region
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="member-{person.public_id}"')
    assert 'role="alert"' in html
    assert message in unescape(html)
    assert _state(app) == before


def test_removing_or_demoting_the_last_owner_is_refused(app, client, auth, world):
    """Hana is HQ's only owner; even a tenant owner can't leave HQ without one."""
    auth.login(world.tenant_owner)
    before = _state(app)
    hq_members = "/t/acme/orgs/acme-hq/members"
    for url, data in (
        (f"{hq_members}/{world.hq_owner.public_id}/remove", {}),
        (f"{hq_members}/{world.hq_owner.public_id}/role", {"role": "admin"}),
    ):
        response = client.post(url, data=data, headers=HX)
        assert response.status_code == 409
        html = response.get_data(as_text=True)
        assert f'<tr id="member-{world.hq_owner.public_id}"' in html
        assert "without an owner" in html
    assert _state(app) == before


def test_refusal_without_htmx_is_an_error_page(app, client, auth, world):
    auth.login(world.admin)
    before = _state(app)
    response = client.post(_role_url(world.owner), data={"role": "member"})
    assert response.status_code == 403
    assert "<html" in response.get_data(as_text=True)
    assert "Only an owner can change" in response.get_data(as_text=True)
    assert _state(app) == before


def test_row_actions_on_a_non_member_are_404(app, client, auth, world):
    stranger = world.outsider  # same tenant, not in this org
    auth.login(world.admin)
    before = _state(app)
    assert client.post(_role_url(stranger), data={"role": "viewer"}).status_code == 404
    assert client.post(_remove_url(stranger)).status_code == 404
    assert client.post(f"{PAGE}/usr_nope/remove").status_code == 404
    assert _state(app) == before


def test_inherited_member_is_changed_where_the_role_is_held(app, client, auth, world):
    auth.login(world.owner)
    before = _state(app)
    response = client.post(_role_url(world.hq_member), data={"role": "viewer"}, headers=HX)
    assert response.status_code == 409
    assert "inherited from a parent organization" in response.get_data(as_text=True)
    assert _state(app) == before


# --- leaving -------------------------------------------------------------------------


def test_a_member_can_leave(app, client, auth, world):
    auth.login(world.member)
    assert "Leave organization" in client.get(PAGE).get_data(as_text=True)
    response = client.post(f"{PAGE}/leave")
    assert response.status_code == 303
    assert response.headers["Location"] == "/t/acme/orgs/"
    assert "You left Engineering." in client.get("/t/acme/orgs/").get_data(as_text=True)
    assert _role_of(app, world.engineering, world.member) is None
    assert client.get(PAGE).status_code == 403


def test_leaving_with_htmx_redirects_the_browser(app, client, auth, world):
    auth.login(world.member)
    response = client.post(f"{PAGE}/leave", headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/t/acme/orgs/"
    assert _role_of(app, world.engineering, world.member) is None


@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_the_last_owner_cannot_leave(app, client, auth, world, as_htmx):
    auth.login(world.hq_owner)
    before = _state(app)
    headers = {"HX-Request": "true"} if as_htmx else {}
    response = client.post("/t/acme/orgs/acme-hq/members/leave", headers=headers)
    assert response.status_code == 409
    assert "That would leave Acme HQ without an owner" in response.get_data(as_text=True)
    if as_htmx:
        assert response.headers["HX-Retarget"] == "#flash-region"
    assert _state(app) == before


def test_an_inherited_member_has_nothing_to_leave_here(app, client, auth, world):
    auth.login(world.hq_member)
    assert "Leave organization" not in client.get(PAGE).get_data(as_text=True)
    before = _state(app)
    response = client.post(f"{PAGE}/leave")
    assert response.status_code == 409
    assert "leave that one instead" in response.get_data(as_text=True)
    assert _state(app) == before


# --- export --------------------------------------------------------------------------


def test_csv_export_streams_every_member_and_defuses_formulas(
    client, auth, world, backend_crew, tenant, create_user, add_member
):
    evil = create_user(tenant, "evil@acme.example", name='=HYPERLINK("http://x.example","hi")')
    add_member(world.engineering, evil, "member")
    auth.login(world.admin)
    html = client.get(PAGE).get_data(as_text=True)
    assert f'href="{PAGE}.csv"' in html

    response = client.get(f"{PAGE}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="engineering-members.csv"'
    )
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["name", "email", "role", "membership", "inherited_from", "teams", "joined"]
    by_email = {row[1]: row for row in rows[1:]}
    assert len(by_email) == 7
    assert by_email["evil@acme.example"][0] == '\'=HYPERLINK("http://x.example","hi")'
    assert by_email["ines@acme.example"][2:5] == ["member", "inherited", "Acme HQ"]
    assert by_email["milo@acme.example"][5] == "Backend Crew"


def test_csv_export_follows_the_search_and_role_filter(client, auth, world):
    auth.login(world.admin)
    html = client.get(f"{PAGE}?q=a&role=admin").get_data(as_text=True)
    assert f'href="{PAGE}.csv?q=a&amp;role=admin"' in html
    rows = list(csv.reader(io.StringIO(client.get(f"{PAGE}.csv?role=admin").get_data(True))))
    assert [row[1] for row in rows[1:]] == ["ada@acme.example"]
    rows = list(csv.reader(io.StringIO(client.get(f"{PAGE}.csv?q=ines").get_data(True))))
    assert [row[1] for row in rows[1:]] == ["ines@acme.example"]


# --- transferring ownership ----------------------------------------------------------


def test_owner_transfers_ownership_and_becomes_admin(app, client, auth, world):
    auth.login(world.owner)
    assert "Transfer ownership" in client.get(PAGE).get_data(as_text=True)
    page = client.get(f"{PAGE}/transfer").get_data(as_text=True)
    assert "I understand I will become an admin" in page
    assert f'value="{world.member.public_id}"' in page
    assert f'value="{world.owner.public_id}"' not in page  # not to yourself

    response = client.post(
        f"{PAGE}/transfer", data={"user": world.member.public_id, "confirm": "y"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == PAGE
    assert _role_of(app, world.engineering, world.member) == "owner"
    assert _role_of(app, world.engineering, world.owner) == "admin"
    assert "Milo Member is now an owner of Engineering" in client.get(PAGE).get_data(True)


def test_transfer_needs_the_explicit_confirmation(app, client, auth, world):
    auth.login(world.owner)
    before = _state(app)
    response = client.post(f"{PAGE}/transfer", data={"user": world.member.public_id})
    assert response.status_code == 422
    assert "Tick the box to confirm." in response.get_data(as_text=True)
    assert _state(app) == before


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("owner", "Choose someone other than yourself."),
        ("outsider", "Ownership can only go to a member of this organization."),
        ("usr_nope", "Choose a member of this organization."),
        ("", "Choose a member."),
    ],
)
def test_transfer_to_someone_unsuitable_is_a_field_error(app, client, auth, world, target, message):
    auth.login(world.owner)
    before = _state(app)
    person = getattr(world, target, None)
    user_id = person.public_id if person else target
    response = client.post(f"{PAGE}/transfer", data={"user": user_id, "confirm": "y"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _state(app) == before


def test_transfer_candidates_search_as_an_htmx_fragment(client, auth, world):
    auth.login(world.owner)
    response = client.get(f"{PAGE}/transfer?q=ines", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert f'value="{world.hq_member.public_id}"' in html
    assert f'value="{world.member.public_id}"' not in html


def test_an_inherited_owner_keeps_their_role_after_a_transfer(app, client, auth, world):
    auth.login(world.hq_owner)
    page = client.get(f"{PAGE}/transfer").get_data(as_text=True)
    assert "Your own role does not change." in page
    response = client.post(f"{PAGE}/transfer", data={"user": world.admin.public_id, "confirm": "y"})
    assert response.status_code == 303
    assert _role_of(app, world.engineering, world.admin) == "owner"
    assert _role_of(app, world.hq, world.hq_owner) == "owner"


# --- the org scope, reused -----------------------------------------------------------


def test_a_renamed_org_redirects_to_its_members_page(client, auth, world):
    auth.login(world.owner)
    renamed = client.post("/t/acme/orgs/engineering/settings", data={"name": "Eng", "slug": "eng"})
    assert renamed.status_code == 303
    response = client.get(f"{PAGE}?q=milo")
    assert response.status_code == 301
    assert response.headers["Location"] == "/t/acme/orgs/eng/members?q=milo"
    assert "Eng" in client.get("/t/acme/orgs/eng/members").get_data(as_text=True)


# --- query counts --------------------------------------------------------------------


def _add_bulk_members(app, tenant, org, count: int) -> None:
    """Thousands of users and their memberships in a few statements."""
    now = utcnow()
    batch = new_public_id("user")[-8:].lower()
    with app.app_context():
        db.session.execute(
            sa.insert(User),
            [
                {
                    "public_id": new_public_id("user"),
                    "tenant_id": tenant.id,
                    "email": f"bulk{n}-{batch}@acme.example",
                    "name": f"Bulk {n:05d}",
                    "tenant_role": TenantRole.MEMBER,
                    "session_version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )
        ids = db.session.scalars(
            sa.select(User.id).where(User.email.like(f"bulk%-{batch}@acme.example"))
        ).all()
        db.session.execute(
            sa.insert(Membership),
            [{"org_id": org.id, "user_id": i, "role": "member", "created_at": now} for i in ids],
        )
        db.session.commit()


@pytest.mark.parametrize("query", ["", "?q=bulk&sort=-email", "?role=member"])
def test_the_members_page_makes_the_same_queries_at_10_and_5000_members(
    app, client, auth, tenant, world, count_queries, query
):
    _add_bulk_members(app, tenant, world.engineering, 4)  # 10 members in all
    auth.login(world.admin)

    def queries() -> int:
        with count_queries() as counter:
            response = client.get(f"{PAGE}{query}")
        assert response.status_code == 200
        return counter.count

    queries()  # the first request of a process also fills the tenant's caches
    small = queries()
    _add_bulk_members(app, tenant, world.engineering, 4990)  # 5,000 in all
    large = queries()
    assert small == large
    # the visitor, tenant and org (2), then the page's own: the org's chain, its members
    # by id (or not), the page (with its count), their roles, their teams, the owners
    assert large <= 8


# --- who may do what -----------------------------------------------------------------

# (method, path, data); {target} is a direct member of Engineering.
ROUTES = {
    "page": ("GET", PAGE, None),
    "search": ("GET", f"{PAGE}?q=tara&role=member&sort=-name", None),
    "csv": ("GET", f"{PAGE}.csv", None),
    "transfer_page": ("GET", f"{PAGE}/transfer", None),
    "change_role": ("POST", f"{PAGE}/{{target}}/role", {"role": "viewer"}),
    "remove": ("POST", f"{PAGE}/{{target}}/remove", None),
    "transfer": ("POST", f"{PAGE}/transfer", {"user": "{target}", "confirm": "y"}),
    "leave": ("POST", f"{PAGE}/leave", None),
}
READ = {"page", "search", "csv"}
# Visitors hold their role directly in Engineering; HQ has another owner throughout.
ALLOWED = {
    "outsider": set(),
    "viewer": {"leave"},
    "member": READ | {"leave"},
    "admin": READ | {"change_role", "remove", "leave"},
    "owner": set(ROUTES),
    "tenant_admin": set(ROUTES) - {"leave"},
}
# A tenant admin manages every org without belonging to it: nothing to leave (409).
REFUSED_STATUS = {("tenant_admin", "leave"): 409}
# Refusals a viewer who may see the row gets inside the row rather than as an alert.
IN_ROW = {("member", "change_role"), ("member", "remove")}


@pytest.fixture
def target(world, create_user, add_member) -> User:
    target = create_user(world.tenant, "tara@acme.example", name="Tara Target")
    add_member(world.engineering, target, "member")
    return target


@pytest.fixture
def visitor(request, world, auth):
    """The world's person of that kind; the org roles are Engineering's own."""
    kind = request.param
    auth.login(getattr(world, kind))
    return kind


def _request(client, route: str, target: User, headers=None):
    method, path, data = ROUTES[route]
    url = path.format(target=target.public_id)
    if method == "GET":
        return client.get(url, headers=headers or {})
    form = {k: v.format(target=target.public_id) for k, v in (data or {}).items()}
    return client.post(url, data=form, headers=headers or {})


@pytest.mark.parametrize("visitor", list(ALLOWED), indirect=True)
@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_role_matrix(app, client, target, visitor, route, as_htmx):
    headers = {"HX-Request": "true"} if as_htmx else {}
    before = _state(app)
    response = _request(client, route, target, headers)
    if route in ALLOWED[visitor]:
        assert response.status_code < 400, (visitor, route, response.status_code)
        return
    assert response.status_code == REFUSED_STATUS.get((visitor, route), 403), (
        visitor,
        route,
        response.status_code,
    )
    assert _state(app) == before
    if as_htmx and (visitor, route) in IN_ROW:
        assert response.get_data(as_text=True).lstrip().startswith("<tr ")
    elif as_htmx:
        assert response.headers["HX-Retarget"] == "#flash-region"
    body = response.get_data(as_text=True)
    assert "tara@acme.example" not in body or (visitor, route) in IN_ROW


def test_another_tenants_user_gets_404_everywhere(
    app, client, auth, target, create_tenant, create_user
):
    globex = create_tenant("Globex", slug="globex")
    auth.login(create_user(globex, "boss@globex.example", tenant_role=TenantRole.OWNER))
    before = _state(app)
    for route in ROUTES:
        response = _request(client, route, target)
        assert response.status_code == 404, route
    assert _state(app) == before


def test_another_tenants_org_and_user_are_404(
    app, client, auth, world, create_tenant, create_org, create_user, add_member
):
    globex = create_tenant("Globex", slug="globex")
    secret = create_org(globex, "Secret Project")
    spy = create_user(globex, "spy@globex.example")
    add_member(secret, spy, "member")
    auth.login(world.tenant_owner)  # may manage every Acme org
    before = _state(app)
    assert client.get(f"/t/acme/orgs/{secret.slug}/members").status_code == 404
    assert client.get(f"/t/acme/orgs/{secret.slug}/members.csv").status_code == 404
    assert client.get(f"/t/globex/orgs/{secret.slug}/members").status_code == 404
    assert client.post(_role_url(spy), data={"role": "viewer"}).status_code == 404
    assert client.post(_remove_url(spy)).status_code == 404
    response = client.post(f"{PAGE}/transfer", data={"user": spy.public_id, "confirm": "y"})
    assert response.status_code == 422
    assert _state(app) == before
