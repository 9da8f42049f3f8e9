"""Races that only a real database with real concurrent transactions can show.

These run on PostgreSQL (CI runs the suite there too); SQLite serialises writers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.errors import ValidationFailed
from app.extensions import db
from app.models import Organization, Tenant, TenantRole
from app.services import accounts, orgs
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def real_sessions(app) -> Iterator[None]:
    """Sessions that really commit, one per thread's app context; cleaned up afterwards."""
    rolled_back = db.session
    db.session = db._make_scoped_session({})
    try:
        yield
    finally:
        db.session = rolled_back
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(sa.delete(Tenant).where(Tenant.slug.like("race-%")))


def _in_threads(app, count: int, work) -> list:
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            with app.app_context():
                results[index] = work(index)
                db.session.commit()
        except BaseException as exc:  # the test reports it
            errors.append(exc)
        finally:
            with app.app_context():
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def test_two_people_creating_acme_at_once_both_succeed(app, real_sessions, monkeypatch):
    with app.app_context():
        tenant = Tenant(name="Race", slug="race-orgs")
        db.session.add(tenant)
        db.session.commit()
        tenant_id = tenant.id

    # Both look for a free slug, see "acme" free, and only then insert: a real clash.
    barrier = threading.Barrier(2, timeout=10)
    first_look = threading.local()
    original = orgs._slug_taken

    def slow_taken(tenant):
        check = original(tenant)

        def taken(slug: str) -> bool:
            result = check(slug)
            if not getattr(first_look, "done", False):
                first_look.done = True
                barrier.wait()
            return result

        return taken

    monkeypatch.setattr(orgs, "_slug_taken", slow_taken)

    def create(_index: int) -> str:
        tenant = db.session.get(Tenant, tenant_id)
        return orgs.create_org(Actor.system("race"), tenant, name="Acme").slug

    slugs = _in_threads(app, 2, create)
    assert sorted(slugs) == ["acme", "acme-2"]
    with app.app_context():
        stored = db.session.scalars(
            sa.select(Organization.slug).where(Organization.tenant_id == tenant_id)
        ).all()
        assert sorted(stored) == ["acme", "acme-2"]


def test_two_sign_ups_with_one_address_give_one_account_and_one_form_error(app, real_sessions):
    with app.app_context():
        tenant = Tenant(name="Race", slug="race-signup", allow_signup=True)
        db.session.add(tenant)
        db.session.commit()
        tenant_id = tenant.id
    barrier = threading.Barrier(2, timeout=10)

    def sign_up(index: int) -> str:
        tenant = db.session.get(Tenant, tenant_id)
        barrier.wait()
        try:
            accounts.create_user(
                tenant,
                email="same@example.com",
                name=f"Twin {index}",
                password="long-password-1",
                tenant_role=TenantRole.MEMBER,
            )
        except ValidationFailed as error:
            return error.message
        return "created"

    outcomes = _in_threads(app, 2, sign_up)
    assert sorted(outcomes) == ["An account with this email already exists here.", "created"]


def test_two_owners_demoting_each_other_at_once_leave_one_owner(app, real_sessions):
    from app.errors import Conflict
    from app.models import Membership, User
    from app.services import members

    with app.app_context():
        tenant = Tenant(name="Race", slug="race-owners")
        db.session.add(tenant)
        db.session.flush()
        org = orgs.create_org(Actor.system("race"), tenant, name="Root")
        child = orgs.create_org(Actor.system("race"), tenant, name="Child", parent=org)
        owners = [
            accounts.create_user(tenant, email=f"o{i}@example.com", name=f"O{i}", password=None)
            for i in range(2)
        ]
        for owner in owners:
            db.session.add(Membership(org_id=org.id, user_id=owner.id, role="owner"))
        db.session.commit()
        ids = (tenant.id, org.id, child.id, [o.id for o in owners])
    barrier = threading.Barrier(2, timeout=10)

    def demote_the_other(index: int) -> str:
        tenant_id, org_id, _child_id, owner_ids = ids
        tenant = db.session.get(Tenant, tenant_id)
        org = db.session.get(Organization, org_id)
        me = db.session.get(User, owner_ids[index])
        other = db.session.get(User, owner_ids[1 - index])
        barrier.wait()
        try:
            members.change_role(Actor.for_user(me), tenant, org, other, "admin")
        except Conflict:
            return "refused"
        return "demoted"

    outcomes = _in_threads(app, 2, demote_the_other)
    assert sorted(outcomes) == ["demoted", "refused"]
    with app.app_context():
        roles = db.session.scalars(
            sa.select(Membership.role).where(Membership.org_id == ids[1])
        ).all()
        assert sorted(roles) == ["admin", "owner"]


def test_two_mail_workers_never_send_one_email_twice(app, real_sessions):
    from app import mail
    from app.models import OutboxEmail

    with app.app_context():
        tenant = Tenant(name="Race", slug="race-mail")
        db.session.add(tenant)
        db.session.flush()
        db.session.add_all(
            OutboxEmail(
                tenant_id=tenant.id,
                kind="test",
                to_address=f"r{i}@example.com",
                subject="Hi",
                text_body="x",
                html_body="<p>x</p>",
            )
            for i in range(60)
        )
        db.session.commit()
        tenant_id = tenant.id
    sent: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=10)

    def record(email):
        with lock:
            sent.append(email.id)

    def work(_index: int) -> int:
        barrier.wait()
        total = 0
        while True:
            report = mail.deliver_pending(limit=5, send=record)
            db.session.remove()
            if not report.handled:
                return total
            total += report.sent

    counts = _in_threads(app, 2, work)
    assert len(sent) == 60
    assert len(set(sent)) == 60
    assert sum(counts) == 60
    with app.app_context():
        statuses = db.session.scalars(
            sa.select(OutboxEmail.status).where(OutboxEmail.tenant_id == tenant_id)
        ).all()
        assert set(statuses) == {"sent"}


def test_twenty_parallel_accepts_of_one_invitation_make_one_membership(app, real_sessions):
    from app.errors import Conflict
    from app.models import Invitation, Membership, User
    from app.services import invitations

    with app.app_context():
        tenant = Tenant(name="Race", slug="race-invite")
        db.session.add(tenant)
        db.session.flush()
        org = orgs.create_org(Actor.system("race"), tenant, name="Lab")
        invitee = accounts.create_user(
            tenant, email="inv@example.com", name="Inv", password=None, email_verified=True
        )
        with app.test_request_context():
            invitations.invite(
                Actor.system("race"), tenant, org, addresses=["inv@example.com"], role="member"
            )
        db.session.commit()
        invitation_id = db.session.scalar(
            sa.select(Invitation.id).where(Invitation.tenant_id == tenant.id)
        )
        ids = (invitation_id, invitee.id, org.id)
    # Released together before touching the database: the pool holds 15 connections, so
    # threads that each held one while waiting would starve the last five.
    barrier = threading.Barrier(20, timeout=10)

    def accept(_index: int) -> str:
        barrier.wait()
        invitation = db.session.get(Invitation, ids[0])
        user = db.session.get(User, ids[1])
        try:
            invitations.accept(invitation, user)
        except Conflict:
            return "refused"
        return "accepted"

    outcomes = _in_threads(app, 20, accept)
    assert sorted(outcomes) == ["accepted"] + ["refused"] * 19
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.status).where(Invitation.id == ids[0])) == (
            "accepted"
        )
        memberships = db.session.scalars(
            sa.select(Membership).where(Membership.org_id == ids[2], Membership.user_id == ids[1])
        ).all()
        assert len(memberships) == 1


def test_two_additions_racing_for_the_last_seat_give_it_to_one(app, real_sessions):
    """One seat left (limit 2, one member): an API-style add and a join-link join at the
    same moment; the org's row lock makes the second count the first."""
    from app.errors import Conflict
    from app.models import Membership, User
    from app.services import join_links, members

    with app.app_context():
        tenant = Tenant(name="Race", slug="race-seats", seat_limit=2)
        db.session.add(tenant)
        db.session.flush()
        org = orgs.create_org(Actor.system("race"), tenant, name="Seats")
        people = [
            accounts.create_user(
                tenant, email=f"s{i}@example.com", name=f"S{i}", password=None, email_verified=True
            )
            for i in range(3)
        ]
        db.session.add(Membership(org_id=org.id, user_id=people[0].id, role="owner"))
        link = join_links.create(Actor.system("race"), tenant, org, role="member").link
        db.session.commit()
        ids = (tenant.id, org.id, link.id, [p.id for p in people])
    barrier = threading.Barrier(2, timeout=10)

    def take_the_seat(index: int) -> str:
        from app.models import JoinLink

        tenant_id, org_id, link_id, people_ids = ids
        tenant = db.session.get(Tenant, tenant_id)
        org = db.session.get(Organization, org_id)
        person = db.session.get(User, people_ids[1 + index])
        barrier.wait()
        try:
            if index == 0:
                members.add_member(Actor.system("race"), tenant, org, person, "member")
            else:
                join_links.join(db.session.get(JoinLink, link_id), person)
        except Conflict:
            db.session.rollback()
            return "refused"
        return "joined"

    outcomes = _in_threads(app, 2, take_the_seat)
    assert sorted(outcomes) == ["joined", "refused"]
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(Membership).where(Membership.org_id == ids[1])
        )
        assert count == 2
