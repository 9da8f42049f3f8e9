"""Deliberate, recoverable member actions (issue 15: problems 1, 7, 10, 15 and the copy).

A role changes only with the row's Save, and Owner is asked for again; a refused change
shows the role the person really has, and why; Remove, Leave and Delete team ask first
(on a page of their own without JavaScript); a removal can be undone for a while; the
only owner is offered neither Leave nor Remove.
"""

from __future__ import annotations

import time
from html import unescape

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Membership, Team, TeamMember, User
from app.services import members
from tests.markup import one, select

PAGE = "/t/acme/orgs/engineering/members"
HQ_PAGE = "/t/acme/orgs/acme-hq/members"
HX = {"HX-Request": "true"}

# The shared world: Acme HQ (Hana its only owner, Ines a member) > Engineering (Erin owns
# it, Ada admin, Milo member, Vic viewer).


def _role_url(user: User, page: str = PAGE) -> str:
    return f"{page}/{user.public_id}/role"


def _remove_url(user: User, page: str = PAGE) -> str:
    return f"{page}/{user.public_id}/remove"


def _restore_url(user: User, page: str = PAGE) -> str:
    return f"{page}/{user.public_id}/restore"


def _role_of(app, org, user) -> str | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(Membership.role).where(
                Membership.org_id == org.id, Membership.user_id == user.id
            )
        )


def _state(app):
    """Every membership, team membership and the number of audit events."""
    with app.app_context():
        memberships = db.session.execute(
            sa.select(Membership.org_id, Membership.user_id, Membership.role).order_by(
                Membership.org_id, Membership.user_id
            )
        ).all()
        teams = db.session.execute(
            sa.select(TeamMember.team_id, TeamMember.user_id).order_by(TeamMember.team_id)
        ).all()
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        return [tuple(m) for m in memberships], [tuple(t) for t in teams], events


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def _row(html: str, user: User) -> str:
    return one(html, f"tr#member-{user.public_id}").html


@pytest.fixture
def crews(app, tenant, world) -> list[Team]:
    """Two of Engineering's teams, Milo in both."""
    with app.app_context():
        made = [
            Team(tenant_id=tenant.id, org_id=world.engineering.id, name=name)
            for name in ("Backend Crew", "On-call")
        ]
        db.session.add_all(made)
        db.session.flush()
        db.session.add_all(TeamMember(team_id=team.id, user_id=world.member.id) for team in made)
        db.session.commit()
    return made


# --- 1. a role changes only on purpose -----------------------------------------------


def test_the_role_select_saves_nothing_by_itself(client, auth, world):
    """Change role swaps the row for its form; the select has no htmx trigger of its
    own: the form's Save button sends it."""
    auth.login(world.admin)
    row = one(client.get(PAGE).get_data(as_text=True), f"tr#member-{world.member.public_id}")
    assert row.select("select") == []
    assert row.one('a[href$="/role"]')["hx-get"] == _role_url(world.member)
    editing = client.get(_role_url(world.member), headers=HX)
    assert editing.status_code == 200
    html = editing.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="member-{world.member.public_id}"')
    form = one(html, "form.role-form")
    role = form.one("select[name=role]")
    assert role.get("aria-label") == "Role"
    assert not any(name.startswith("hx-") for name in role.attrs)
    assert form.one("option[selected]")["value"] == "member"
    assert form.get("hx-post") == _role_url(world.member)  # htmx sends the form on submit
    assert form.get("method") == "post"
    save = form.one("button[type=submit]")
    assert save.text == "Save role"  # "Save", and " role" for screen readers
    assert "hidden" not in save.attrs  # there with and without JavaScript
    cancel = next(a for a in form.select("a") if a.text == "Cancel")
    assert cancel["href"] == PAGE
    assert cancel["hx-get"] == f"{PAGE}/{world.member.public_id}"
    back = client.get(cancel["hx-get"], headers=HX).get_data(as_text=True)
    assert one(back, f"tr#member-{world.member.public_id}").select("select") == []


def test_change_role_without_javascript_is_a_page_with_the_form(app, client, auth, world):
    auth.login(world.admin)
    before = _state(app)
    page = client.get(_role_url(world.member))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html
    form = one(html, "form.role-form")
    assert form["action"] == _role_url(world.member)
    assert "hx-post" not in form.attrs
    assert form.one("option[selected]")["value"] == "member"
    assert form.one("input[name=csrf_token]")["value"]
    assert one(html, f"label[for=role-{world.member.public_id}]").text == "Role"
    assert _state(app) == before
    saved = client.post(_role_url(world.member), data={"role": "viewer"})
    assert saved.status_code == 303
    assert _role_of(app, world.engineering, world.member) == "viewer"
    [event] = _events(app, "member.role_changed")
    assert (event.before, event.after) == ({"role": "member"}, {"role": "viewer"})


def test_no_role_form_for_who_may_not_change_it(app, client, auth, world):
    """A member sees no Change role control; the form's URL and a forged POST are refused."""
    auth.login(world.member)
    assert "Change role" not in client.get(PAGE).get_data(as_text=True)
    before = _state(app)
    assert client.get(_role_url(world.viewer)).status_code == 403
    assert client.get(_role_url(world.viewer), headers=HX).status_code == 403
    assert client.post(_role_url(world.viewer), data={"role": "admin"}).status_code == 403
    assert _state(app) == before
    auth.logout("acme")
    auth.login(world.admin)  # may change roles, but not an owner's
    assert client.get(_role_url(world.owner)).status_code == 403
    row = client.get(_role_url(world.owner), headers=HX).get_data(as_text=True)
    assert one(row, f"tr#member-{world.owner.public_id}").select("select") == []


@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_granting_owner_without_confirmation_asks_and_changes_nothing(
    app, client, auth, world, as_htmx
):
    auth.login(world.owner)
    before = _state(app)
    response = client.post(
        _role_url(world.member), data={"role": "owner"}, headers=HX if as_htmx else {}
    )
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert "Make Milo Member an owner of Engineering?" in html
    assert "Owners can do everything in Engineering" in html
    if as_htmx:  # the question takes the row's place, its answer resends with the consent
        assert html.lstrip().startswith(f'<tr id="member-{world.member.public_id}"')
        question = one(html, "form.owner-question")
    else:  # a page of its own, whose form resends with the consent
        assert "<html" in html
        forms = select(html, "form[method=post]")
        [question] = [form for form in forms if form.select("[name=confirm_owner]")]
        assert question.get("action") == _role_url(world.member)
    fields = {field["name"]: field.get("value") for field in question.select("input")}
    assert fields["role"] == "owner"
    assert fields["confirm_owner"] == "yes"
    assert fields["csrf_token"]
    assert _state(app) == before


@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_granting_owner_with_the_confirmation_changes_the_role(app, client, auth, world, as_htmx):
    auth.login(world.owner)
    response = client.post(
        _role_url(world.member),
        data={"role": "owner", "confirm_owner": "yes"},
        headers=HX if as_htmx else {},
    )
    assert response.status_code == (200 if as_htmx else 303)
    assert _role_of(app, world.engineering, world.member) == "owner"
    [event] = _events(app, "member.role_changed")
    assert (event.before, event.after) == ({"role": "member"}, {"role": "owner"})


def test_the_ownership_question_can_be_cancelled(app, client, auth, world):
    """Cancel fetches the row as it is (a GET, changing nothing); without htmx that URL
    is the members list."""
    auth.login(world.owner)
    before = _state(app)
    asked = client.post(_role_url(world.member), data={"role": "owner"}, headers=HX)
    [cancel] = [a for a in select(asked.get_data(as_text=True), "a") if a.text == "Cancel"]
    row_url = f"{PAGE}/{world.member.public_id}"
    assert cancel.get("hx-get") == row_url
    assert cancel["href"] == PAGE
    row = client.get(row_url, headers=HX)
    assert row.status_code == 200
    assert one(row.get_data(as_text=True), ".badge").text == "Member"
    page = client.get(row_url)
    assert page.status_code == 303
    assert page.headers["Location"] == PAGE
    assert _state(app) == before


def test_ownership_the_viewer_cannot_give_is_refused_not_asked(app, client, auth, world):
    """An admin can't make owners: the service's refusal comes at once, no question."""
    auth.login(world.admin)
    before = _state(app)
    response = client.post(
        _role_url(world.member), data={"role": "owner", "confirm_owner": "yes"}, headers=HX
    )
    assert response.status_code == 403
    assert "You can't give the Owner role." in unescape(response.get_data(as_text=True))
    response = client.post(_role_url(world.member), data={"role": "owner"}, headers=HX)
    assert response.status_code == 403
    assert "Make Milo" not in response.get_data(as_text=True)
    assert _state(app) == before


# --- 7. a refused change shows the real role, and why --------------------------------


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"role": "no-such-role"}, 422, "Unknown role"),
        ({"role": ""}, 422, "Choose a role."),
    ],
)
def test_a_refused_change_shows_the_role_really_held_and_why(
    app, client, auth, world, data, status, message
):
    auth.login(world.admin)
    before = _state(app)
    response = client.post(_role_url(world.member), data=data, headers=HX)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    row = one(html, f"tr#member-{world.member.public_id}")
    assert row.one("option[selected]")["value"] == "member"
    assert message in row.one("[role=alert]").text
    assert _state(app) == before


def test_a_change_refused_because_the_page_was_stale_shows_the_new_truth(app, client, auth, world):
    """Milo became an owner after Ada loaded the page; her change to Viewer is refused,
    and the row now shows Owner (which she may not change) with the reason."""
    auth.login(world.admin)
    with app.app_context():
        db.session.execute(
            sa.update(Membership)
            .where(Membership.user_id == world.member.id, Membership.org_id == world.engineering.id)
            .values(role="owner")
        )
        db.session.commit()
    response = client.post(_role_url(world.member), data={"role": "viewer"}, headers=HX)
    assert response.status_code == 403
    row = one(response.get_data(as_text=True), f"tr#member-{world.member.public_id}")
    assert row.select("select") == []
    assert row.one(".badge").text == "Owner"
    assert "Only an owner can change" in row.one("[role=alert]").text
    assert _role_of(app, world.engineering, world.member) == "owner"


# --- 10. remove asks first, and can be undone ----------------------------------------


def test_remove_without_javascript_asks_on_a_page_that_changes_nothing(app, client, auth, world):
    auth.login(world.admin)
    row = one(client.get(PAGE).get_data(as_text=True), f"tr#member-{world.member.public_id}")
    [link] = [a for a in row.select("a") if a.text == "Remove"]
    assert link["href"] == _remove_url(world.member)  # the no-JS way: a GET page
    assert link["hx-post"] == _remove_url(world.member)
    assert link["hx-confirm"] == "Remove Milo Member from Engineering?"
    before = _state(app)
    page = client.get(_remove_url(world.member))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Remove Milo Member from Engineering?" in html
    form = one(html, ".confirm-page form")
    assert form["action"] == _remove_url(world.member)
    assert _state(app) == before
    # the page's POST needs its CSRF token like any other
    refused = client.post(_remove_url(world.member), csrf=False)
    assert refused.status_code == 400
    assert _state(app) == before


@pytest.mark.parametrize(
    "path",
    [
        lambda w: f"{PAGE}/{w.member.public_id}/remove",
        lambda w: f"{PAGE}/leave",
        lambda w: f"{PAGE}/{w.member.public_id}/restore",
    ],
    ids=["remove", "leave", "restore"],
)
def test_each_confirmed_post_needs_csrf(app, client, auth, world, path):
    auth.login(world.member if "leave" in path(world) else world.admin)
    before = _state(app)
    assert client.post(path(world), data={"token": "x"}, csrf=False).status_code == 400
    assert _state(app) == before


def test_the_confirmation_page_is_refused_to_who_may_not_remove(app, client, auth, world):
    auth.login(world.member)
    assert client.get(_remove_url(world.viewer)).status_code == 403
    auth.logout("acme")
    auth.login(world.admin)
    assert client.get(f"{PAGE}/usr_nope/remove").status_code == 404


def _undo_form(html: str):
    form = one(html, "form.removed-notice")
    return form["action"], form.one("input[name=token]")["value"]


def test_remove_then_undo_with_htmx_restores_role_and_teams(app, client, auth, world, crews):
    auth.login(world.owner)
    removed = client.post(_remove_url(world.member), headers=HX)
    assert removed.status_code == 200
    html = removed.get_data(as_text=True)
    assert one(html, "[role=status]").text == "Milo Member was removed from Engineering."
    action, token = _undo_form(html)
    assert action == _restore_url(world.member)
    assert _role_of(app, world.engineering, world.member) is None

    restored = client.post(action, data={"token": token}, headers=HX)
    assert restored.status_code == 200
    row = _row(restored.get_data(as_text=True), world.member)
    assert "Removal undone." in row
    assert "Backend Crew, On-call" in row
    assert _role_of(app, world.engineering, world.member) == "member"
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(TeamMember)
                .where(TeamMember.user_id == world.member.id)
            )
            == 2
        )
    [event] = _events(app, "member.restored")
    assert event.target_id == world.member.public_id
    assert event.after == {"role": "member", "teams": ["Backend Crew", "On-call"]}


def test_undo_restores_the_joined_date(app, client, auth, world):
    auth.login(world.owner)

    def joined():
        with app.app_context():
            return db.session.scalar(
                sa.select(Membership.created_at).where(
                    Membership.user_id == world.admin.id, Membership.org_id == world.engineering.id
                )
            )

    before = joined()
    action, token = _undo_form(client.post(_remove_url(world.admin), headers=HX).get_data(True))
    assert client.post(action, data={"token": token}, headers=HX).status_code == 200
    assert _role_of(app, world.engineering, world.admin) == "admin"
    assert joined() == before


def test_remove_and_undo_without_javascript(app, client, auth, world, crews):
    """A 303 to the list, which says what happened once, with an Undo button."""
    auth.login(world.admin)
    response = client.post(_remove_url(world.member))
    assert response.status_code == 303
    assert response.headers["Location"] == PAGE
    page = client.get(PAGE).get_data(as_text=True)
    assert one(page, ".removed-alert [role=status]").text == (
        "Milo Member was removed from Engineering."
    )
    action, token = _undo_form(page)
    assert "removed-alert" not in client.get(PAGE).get_data(as_text=True)  # said once

    undone = client.post(action, data={"token": token})
    assert undone.status_code == 303
    assert undone.headers["Location"] == PAGE
    assert "Milo Member is back in Engineering" in client.get(PAGE).get_data(as_text=True)
    assert _role_of(app, world.engineering, world.member) == "member"
    assert len(_events(app, "member.restored")) == 1


def _removed_with_token(client, world) -> tuple[str, str]:
    return _undo_form(client.post(_remove_url(world.member), headers=HX).get_data(True))


@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_undo_twice_is_refused_clearly(app, client, auth, world, as_htmx):
    auth.login(world.admin)
    action, token = _removed_with_token(client, world)
    assert client.post(action, data={"token": token}, headers=HX).status_code == 200
    before = _state(app)
    again = client.post(action, data={"token": token}, headers=HX if as_htmx else {})
    if as_htmx:
        assert again.status_code == 409
        assert "is a member of Engineering again" in again.get_data(as_text=True)
    else:
        assert again.status_code == 303
        assert "is a member of Engineering again" in client.get(PAGE).get_data(as_text=True)
    assert _state(app) == before


def test_an_old_undo_does_not_undo_a_later_removal(app, client, auth, world):
    auth.login(world.admin)
    action, first = _removed_with_token(client, world)
    assert client.post(action, data={"token": first}, headers=HX).status_code == 200
    client.post(_remove_url(world.member), headers=HX)  # removed again: a new undo
    before = _state(app)
    response = client.post(action, data={"token": first}, headers=HX)
    assert response.status_code == 409
    assert "That removal has already been undone." in response.get_data(as_text=True)
    assert _state(app) == before


def test_undo_after_the_time_limit_is_refused(app, client, auth, world, monkeypatch):
    auth.login(world.admin)
    action, token = _removed_with_token(client, world)
    later = time.time() + members.UNDO_WINDOW.total_seconds() + 5
    monkeypatch.setattr(time, "time", lambda: later)
    before = _state(app)
    response = client.post(action, data={"token": token}, headers=HX)
    assert response.status_code == 409
    message = unescape(response.get_data(as_text=True))
    assert "can be undone for 10 minutes, and that time has passed" in message
    assert _state(app) == before
    page = client.post(action, data={"token": token})  # without htmx: back to the list
    assert page.status_code == 303
    assert _state(app) == before


def test_undo_by_someone_who_may_not_add_members_is_refused(app, client, auth, world):
    auth.login(world.admin)
    action, token = _removed_with_token(client, world)
    auth.logout("acme")
    auth.login(world.viewer)  # may not even read the members
    before = _state(app)
    assert client.post(action, data={"token": token}, headers=HX).status_code == 403
    auth.logout("acme")
    auth.login(world.hq_member)  # reads Engineering's members, may not add any
    response = client.post(action, data={"token": token}, headers=HX)
    assert response.status_code == 403
    assert "You don't have permission" in unescape(response.get_data(as_text=True))
    assert _state(app)[:2] == before[:2]  # (signing in is audited; nothing else)
    assert _events(app, "member.restored") == []


def test_an_undo_for_someone_else_or_forged_is_refused(app, client, auth, world):
    auth.login(world.admin)
    _, token = _removed_with_token(client, world)
    before = _state(app)
    other = client.post(_restore_url(world.viewer), data={"token": token}, headers=HX)
    assert other.status_code == 422
    forged = client.post(_restore_url(world.member), data={"token": token[:-3] + "abc"})
    assert forged.status_code == 303
    assert "This undo is not valid" in client.get(PAGE).get_data(as_text=True)
    elsewhere = client.post(
        f"/t/acme/orgs/platform/members/{world.member.public_id}/restore",
        data={"token": token},
        headers=HX,
    )
    assert elsewhere.status_code == 422
    assert _state(app) == before


# --- 15. the only owner is offered neither Leave nor Remove --------------------------


def test_the_only_owner_is_not_offered_leave_or_remove(client, auth, world):
    auth.login(world.hq_owner)  # Hana is Acme HQ's only owner
    html = client.get(HQ_PAGE).get_data(as_text=True)
    assert "Leave organization" not in html
    assert "You are the only owner of Acme HQ: " in html
    assert one(html, ".only-owner-note a")["href"] == f"{HQ_PAGE}/transfer"
    hana = one(html, f"tr#member-{world.hq_owner.public_id}")
    assert hana.select("select") == []
    assert hana.select("a[hx-post]") == []
    assert "Only owner" in hana.text
    ines = one(html, f"tr#member-{world.hq_member.public_id}")
    assert ines.one("a[hx-post]").text == "Remove"


def test_an_owner_with_another_owner_may_leave(client, auth, world):
    auth.login(world.owner)  # Erin owns Engineering, and Hana owns HQ above it
    html = client.get(PAGE).get_data(as_text=True)
    leave = one(html, f'a[href="{PAGE}/leave"]')
    assert leave.text == "Leave organization"
    assert leave["hx-confirm"].startswith("Leave Engineering?")
    assert "only owner" not in html


def test_leave_without_javascript_asks_on_a_page_first(app, client, auth, world):
    auth.login(world.member)
    before = _state(app)
    page = client.get(f"{PAGE}/leave")
    assert page.status_code == 200
    assert "Leave Engineering?" in page.get_data(as_text=True)
    assert _state(app) == before
    assert client.post(f"{PAGE}/leave").status_code == 303
    assert _role_of(app, world.engineering, world.member) is None


# --- teams: delete asks first; breadcrumbs; copy -------------------------------------


def test_delete_team_without_javascript_asks_on_a_page_first(app, client, auth, world, crews):
    auth.login(world.owner)
    url = f"/t/acme/orgs/engineering/teams/{crews[0].public_id}"
    team_page = client.get(url).get_data(as_text=True)
    link = one(team_page, f'a[href="{url}/delete"]')
    assert link.text == "Delete team"
    assert link["hx-confirm"].startswith("Delete the team Backend Crew?")
    before = _state(app)
    page = client.get(f"{url}/delete")
    assert page.status_code == 200
    assert "Delete the team Backend Crew?" in page.get_data(as_text=True)
    assert _state(app) == before
    assert client.post(f"{url}/delete", csrf=False).status_code == 400
    assert _state(app) == before
    assert client.post(f"{url}/delete").status_code == 303
    assert "Team Backend Crew deleted." in client.get("/t/acme/orgs/engineering/teams/").get_data(
        as_text=True
    )


def test_team_pages_show_the_whole_trail(client, auth, world, crews):
    auth.login(world.owner)
    for url in (
        "/t/acme/orgs/engineering/teams/",
        f"/t/acme/orgs/engineering/teams/{crews[0].public_id}",
    ):
        html = client.get(url).get_data(as_text=True)
        trail = [a.text for a in select(html, "nav[aria-label=breadcrumb] a")]
        assert trail[:3] == ["Organizations", "Acme HQ", "Engineering"], url


def test_team_messages_read_as_done(app, client, auth, world):
    auth.login(world.owner)
    client.post("/t/acme/orgs/engineering/teams/", data={"name": "Reviewers"})
    with app.app_context():
        team = db.session.scalar(sa.select(Team).where(Team.name == "Reviewers"))
    url = f"/t/acme/orgs/engineering/teams/{team.public_id}"
    assert "Team Reviewers created." in client.get(url).get_data(as_text=True)
    client.post(f"{url}/members", data={"email": "milo@acme.example"})
    page = client.get(url).get_data(as_text=True)
    assert "Milo Member added to Reviewers." in page
    listing = client.get("/t/acme/orgs/engineering/teams/").get_data(as_text=True)
    assert "1 member<" in listing


# --- the page's cost does not grow with rows ------------------------------------------


def test_the_members_page_queries_do_not_grow_with_rows(
    client, auth, world, tenant, create_user, add_member, count_queries
):
    auth.login(world.owner)

    def queries() -> int:
        with count_queries() as counter:
            assert client.get(PAGE).status_code == 200
        return counter.count

    queries()  # the first request of a process also fills the tenant's caches
    few = queries()
    for n in range(20):
        add_member(world.engineering, create_user(tenant, name=f"Extra {n:02d}"), "member")
    assert queries() == few
