"""The seat limit counts members and pending invitations on every path that adds someone
(the trust issue's item 6): limit 3, one member and two pending invitations leave no seat
for an API add or a join link, and both invitees still get theirs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.errors import Conflict
from app.extensions import db
from app.models import Invitation, Membership, Organization, Tenant, User
from app.services import invitations, join_links, members
from tests.conftest import ApiClient


@pytest.fixture
def full(app, tenant, create_org, create_user, add_member):
    """Sales: limit 3, one owner, two pending invitations (so no free seat)."""
    with app.app_context():
        db.session.get(Tenant, tenant.id).seat_limit = 3
        db.session.commit()
    sales = create_org(tenant, "Sales")
    boss = create_user(tenant, "boss@acme.example")
    add_member(sales, boss, "owner")
    with app.app_context():
        org = db.session.get(Organization, sales.id)
        results = invitations.invite(
            Actor.for_user(db.session.get(User, boss.id)),
            db.session.get(Tenant, tenant.id),
            org,
            addresses=["ann@acme.example", "bob@acme.example"],
            role="member",
        )
        assert [r.outcome for r in results] == ["invited", "invited"]
        db.session.commit()
    return {"org": sales, "boss": boss}


def _members(app, org) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Membership).where(Membership.org_id == org.id)
        )


def test_an_api_add_finds_no_seat(api: ApiClient, full, tenant, create_user):
    carl = create_user(tenant, "carl@acme.example")
    response = api.post(
        f"/orgs/{full['org'].public_id}/members", json={"user_id": carl.public_id, "role": "member"}
    )
    assert response.status_code == 409, response.json
    assert "limit of 3" in response.json["error"]["message"]


def test_a_join_link_finds_no_seat(app, full, tenant, create_user):
    dana = create_user(tenant, "dana@acme.example")
    with app.app_context():
        org = db.session.get(Organization, full["org"].id)
        made = join_links.create(
            Actor.system("test"), db.session.get(Tenant, tenant.id), org, role="member"
        )
        with pytest.raises(Conflict, match="limit of 3"):
            join_links.join(made.link, db.session.get(User, dana.id))


def test_both_invitees_still_get_their_seats(app, full, tenant, create_user):
    for email in ("ann@acme.example", "bob@acme.example"):
        person = create_user(tenant, email)
        with app.app_context():
            invitation = db.session.scalar(sa.select(Invitation).where(Invitation.email == email))
            invitations.accept(invitation, db.session.get(User, person.id))
            db.session.commit()
    assert _members(app, full["org"]) == 3


def test_a_limit_lowered_after_inviting_stops_the_acceptance(app, full, tenant, create_user):
    with app.app_context():
        db.session.get(Tenant, tenant.id).seat_limit = 1
        db.session.commit()
    ann = create_user(tenant, "ann@acme.example")
    with app.app_context():
        invitation = db.session.scalar(
            sa.select(Invitation).where(Invitation.email == "ann@acme.example")
        )
        with pytest.raises(Conflict, match="limit of 1"):
            invitations.accept(invitation, db.session.get(User, ann.id))
        db.session.rollback()
    assert _members(app, full["org"]) == 1


def test_the_seats_left_for_new_invitations_count_the_pending_ones(app, full, tenant):
    with app.app_context():
        assert members.seats_taken(db.session.get(Organization, full["org"].id)) == 3
