"""Moving an org takes rights where it leaves as well as where it lands, and never leaves
an owned org without an owner (the trust issue's item 5)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.errors import Conflict, PermissionDenied
from app.extensions import db
from app.models import AuditEvent, Organization
from app.services import orgs


@pytest.fixture
def dept(app, tenant, create_org, create_user, add_member):
    """Dept (owned by Dora) > Deptsub (administered by Sam alone); members may create
    top-level orgs in this tenant."""
    with app.app_context():
        db.session.get(type(tenant), tenant.id).members_can_create_orgs = True
        db.session.commit()
    dept = create_org(tenant, "Dept")
    sub = create_org(tenant, "Deptsub", parent=dept)
    dora = create_user(tenant, "dora@acme.example", name="Dora")
    sam = create_user(tenant, "sam@acme.example", name="Sam")
    add_member(dept, dora, "owner")
    add_member(sub, sam, "admin")
    return {"dept": dept, "sub": sub, "dora": dora, "sam": sam}


def _parent_of(app, org) -> int | None:
    with app.app_context():
        return db.session.scalar(sa.select(Organization.parent_id).where(Organization.id == org.id))


def test_a_sub_org_admin_cannot_cut_it_loose_from_its_parent(app, client, auth, dept):
    auth.login(dept["sam"])
    response = client.post("/t/acme/orgs/deptsub/move", data={"parent": ""})
    assert response.status_code == 403
    assert _parent_of(app, dept["sub"]) == dept["dept"].id
    with app.app_context():
        moved = sa.select(AuditEvent).where(AuditEvent.action == "org.moved")
        assert db.session.scalars(moved).first() is None


def test_the_service_refuses_it_through_every_door(app, tenant, dept):
    with app.app_context(), pytest.raises(PermissionDenied):
        orgs.move_org(Actor.for_user(dept["sam"]), tenant, dept["sub"], None)


def test_the_parents_owner_may_not_leave_the_sub_org_without_an_owner(app, tenant, dept):
    """Deptsub's only owner is Dora, through Dept: at the top level it would have none."""
    with app.app_context():
        sub = db.session.get(Organization, dept["sub"].id)
        with pytest.raises(Conflict, match="no owner"):
            orgs.move_org(Actor.for_user(dept["dora"]), tenant, sub, None)
        db.session.rollback()
    assert _parent_of(app, dept["sub"]) == dept["dept"].id


def test_an_org_with_its_own_owner_moves(app, tenant, dept, create_user, add_member):
    add_member(dept["sub"], create_user(tenant, "olga@acme.example"), "owner")
    with app.app_context():
        sub = db.session.get(Organization, dept["sub"].id)
        orgs.move_org(Actor.for_user(dept["dora"]), tenant, sub, None)
        db.session.commit()
    assert _parent_of(app, dept["sub"]) is None
