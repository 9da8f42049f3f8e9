"""The org switcher: it lists my orgs, remembers my choice, and never goes stale."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Membership, Organization


@pytest.fixture
def member_of_two(world, create_user, create_org, add_member, auth):
    """Max, signed in: a member of the world's Platform and a viewer of Helpdesk."""
    other = create_org(world.tenant, "Helpdesk")
    user = create_user(world.tenant, name="Max Member")
    add_member(world.platform, user, "member")
    add_member(other, user, "viewer")
    auth.login(user)
    return {"user": user, "platform": world.platform, "other": other}


def test_switcher_lists_my_orgs_with_role_and_path(client, member_of_two):
    html = client.get("/t/acme/orgs/switch").get_data(as_text=True)
    assert "Platform" in html
    assert "Acme HQ › Engineering" in html
    assert "Helpdesk" in html
    assert "Viewer" in html  # the role's name
    filtered = client.get("/t/acme/orgs/switch?q=helpd", headers={"HX-Request": "true"})
    body = filtered.get_data(as_text=True)
    assert "Helpdesk" in body
    assert "Platform" not in body
    assert "<html" not in body


def test_switching_sets_the_current_org_and_survives_sign_out(client, auth, member_of_two):
    platform = member_of_two["platform"]
    response = client.post("/t/acme/orgs/switch", data={"org": platform.public_id})
    assert response.headers["Location"] == "/t/acme/orgs/platform/"
    assert client.get("/t/acme/").headers["Location"] == "/t/acme/orgs/platform/"
    header = client.get("/t/acme/orgs/").get_data(as_text=True)
    assert 'Organization: </span><span class="switcher-current">Platform</span>' in header

    auth.logout("acme")
    auth.login(member_of_two["user"])
    assert client.get("/t/acme/").headers["Location"] == "/t/acme/orgs/platform/"


def test_switching_to_an_inherited_org_is_allowed(client, tenant, create_org, member_of_two):
    below = create_org(tenant, "Germany", parent=member_of_two["platform"])
    response = client.post("/t/acme/orgs/switch", data={"org": below.public_id})
    assert response.status_code == 303


def test_foreign_or_deleted_org_is_refused_and_session_unchanged(
    app, client, tenant, create_org, member_of_two
):
    client.post("/t/acme/orgs/switch", data={"org": member_of_two["other"].public_id})
    not_mine = create_org(tenant, "Board")
    gone = create_org(tenant, "Gone")
    with app.app_context():
        db.session.get(Organization, gone.id).deleted_at = db.func.now()
        db.session.commit()
    for org_id in (not_mine.public_id, gone.public_id, "org_nope", ""):
        response = client.post("/t/acme/orgs/switch", data={"org": org_id})
        assert response.status_code in (400, 404)
    assert client.get("/t/acme/").headers["Location"] == "/t/acme/orgs/helpdesk/"


def test_removed_membership_clears_the_current_org(app, client, member_of_two):
    other = member_of_two["other"]
    client.post("/t/acme/orgs/switch", data={"org": other.public_id})
    with app.app_context():
        db.session.execute(sa.delete(Membership).where(Membership.org_id == other.id))
        db.session.commit()
    assert client.get("/t/acme/").headers["Location"] == "/t/acme/orgs/"
    assert client.get("/t/acme/orgs/helpdesk/").status_code == 403
    with client.session_transaction() as session:
        assert "current_org" not in session


def test_deleted_current_org_is_cleared(app, client, member_of_two):
    client.post("/t/acme/orgs/switch", data={"org": member_of_two["platform"].public_id})
    with app.app_context():
        db.session.get(Organization, member_of_two["platform"].id).deleted_at = db.func.now()
        db.session.commit()
    assert client.get("/t/acme/").headers["Location"] == "/t/acme/orgs/"


def test_my_organizations_page_offers_leave_but_the_dropdown_does_not(app, client, member_of_two):
    page = client.get("/t/acme/orgs/switch").get_data(as_text=True)
    assert "My organizations" in page
    assert "Leave Helpdesk" in page
    dropdown = client.get("/t/acme/orgs/switch", headers={"HX-Request": "true"})
    assert "Leave Helpdesk" not in dropdown.get_data(as_text=True)
    filtered = client.get("/t/acme/orgs/switch?q=help&manage=1", headers={"HX-Request": "true"})
    assert "Leave Helpdesk" in filtered.get_data(as_text=True)

    left = client.post("/t/acme/orgs/helpdesk/members/leave")
    assert left.status_code == 303
    assert "Leave Helpdesk" not in client.get("/t/acme/orgs/switch").get_data(as_text=True)
    assert client.get("/t/acme/orgs/helpdesk/").status_code == 403
