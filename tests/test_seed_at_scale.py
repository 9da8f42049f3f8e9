"""``demo seed --orgs N --members M``: a generated tree that keeps every invariant, once.

The same command makes 10,000 orgs and 100,000 members in well under a minute; here it
runs small so the checks can look at every row.
"""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.cli import PhaseProgress
from app.extensions import db
from app.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    OrgClosure,
    Tenant,
    User,
    utcnow,
)
from app.seed import bulk, demo
from app.services import accounts, orgs

SIZES = ("--orgs", "200", "--members", "800")
# The demo company's own pending invitations, made before anything is generated.
DEMO_INVITES = sum(len(addresses) for addresses in demo.DEMO_INVITATIONS.values())
GENERATED_ACTIONS = {
    "org.created",
    "member.added",
    "member.role_changed",
    "invitation.created",
    "invitation.accepted",
    "invitation.revoked",
    "invitation.declined",
}


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["demo", "seed", *args])

    return invoke


def _tenant() -> Tenant:
    return db.session.scalar(sa.select(Tenant).where(Tenant.slug == demo.DEMO_TENANT_SLUG))


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Tenant, Organization, OrgClosure, User, Membership, Invitation)
        } | {"AuditEvent": db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))}


def test_the_generated_tree_keeps_every_invariant(app, cli):
    result = cli(*SIZES)
    assert result.exit_code == 0, result.output
    assert "generated     200 organizations and 800 memberships (200 users)" in result.stdout
    assert "80 invitations" in result.stdout
    assert "800 audit events" in result.stdout
    assert "owner@acme.example" in result.stdout
    for phase in ("orgs", "closure", "users", "memberships", "invitations", "events"):
        assert re.search(rf"^  {phase} +[\d,]+ rows in +[\d.]+ s$", result.stderr, re.M), phase
    assert "\r" not in result.stderr  # no redrawing when stderr is not a terminal

    with app.app_context():
        tenant = _tenant()
        org_rows = db.session.execute(
            sa.select(Organization.id, Organization.parent_id, Organization.slug).where(
                Organization.tenant_id == tenant.id
            )
        ).all()
        generated = {row.id for row in org_rows if row.slug.startswith("gen")}
        assert len(generated) == 200
        assert len({row.slug for row in org_rows}) == len(org_rows)

        parent_of = {row.id: row.parent_id for row in org_rows}

        def chain(org_id: int) -> list[int]:
            above = []
            while parent_of[org_id] is not None:
                org_id = parent_of[org_id]
                above.append(org_id)
            return above

        closure = db.session.execute(
            sa.select(OrgClosure.ancestor_id, OrgClosure.descendant_id, OrgClosure.depth).where(
                OrgClosure.descendant_id.in_(parent_of)
            )
        ).all()
        rows_of = Counter(row.descendant_id for row in closure)
        for org_id in parent_of:
            ancestors = chain(org_id)
            assert rows_of[org_id] == len(ancestors) + 1
            if org_id in generated:
                assert len(ancestors) + 1 <= bulk.MAX_DEPTH
        assert max(len(chain(org_id)) for org_id in generated) + 1 == bulk.MAX_DEPTH
        for row in closure:
            expected = [row.descendant_id, *chain(row.descendant_id)].index(row.ancestor_id)
            assert row.depth == expected

        memberships = db.session.execute(
            sa.select(Membership.org_id, Membership.user_id, Membership.role, User.tenant_id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.org_id.in_(generated))
        ).all()
        assert len(memberships) == 800
        assert len({(m.org_id, m.user_id) for m in memberships}) == 800
        assert {m.tenant_id for m in memberships} == {tenant.id}
        role_of = {(m.org_id, m.user_id): m.role for m in memberships}

        invitations = db.session.scalars(
            sa.select(Invitation).where(Invitation.org_id.in_(generated))
        ).all()
        assert len(invitations) == 80
        now = utcnow()
        states = Counter(invitation.effective_status(now) for invitation in invitations)
        assert states[InvitationStatus.PENDING] >= 40
        for state in ("accepted", "expired", "revoked", "declined"):
            assert states[state] > 0, state
        assert len({i.token_hash for i in invitations}) == 80
        users_by_email = {
            user.email: user
            for user in db.session.scalars(sa.select(User).where(User.tenant_id == tenant.id))
        }
        for invitation in invitations:
            assert invitation.tenant_id == tenant.id
            assert invitation.org_id in generated
            assert re.fullmatch(r"[0-9a-f]{64}", invitation.token_hash)
            assert invitation.public_id.startswith("inv_")
            assert invitation.created_at <= now
            user = users_by_email.get(invitation.email)
            if invitation.status == InvitationStatus.ACCEPTED:
                assert user is not None
                assert invitation.accepted_user_id == user.id
                assert role_of[(invitation.org_id, user.id)] == invitation.role
            elif invitation.effective_status(now) == InvitationStatus.PENDING:
                # Nobody is invited to an org they are already in.
                assert user is None or (invitation.org_id, user.id) not in role_of

        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.in_(GENERATED_ACTIONS))
        ).all()
        generated_events = [e for e in events if e.org_id in generated]
        assert len(generated_events) == 800
        user_ids = {user.public_id for user in users_by_email.values()}
        assert Counter(e.action for e in generated_events)["org.created"] == 200
        for event in generated_events:
            assert event.tenant_id == tenant.id
            assert event.actor_type in ("system", "user")
            assert event.public_id.startswith("evt_")
            assert event.created_at <= now
            if event.actor_type == "user":
                assert event.actor_id in user_ids
        assert {e.actor_type for e in generated_events} == {"system", "user"}


def test_a_second_run_with_the_same_sizes_changes_nothing(app, cli):
    assert cli(*SIZES).exit_code == 0
    before = _counts(app)
    again = cli(*SIZES)
    assert again.exit_code == 0, again.output
    assert "already there: nothing changed" in again.stdout
    assert "200 organizations and 800 memberships" in again.stdout
    assert "rows in" not in again.stderr  # nothing was generated
    assert _counts(app) == before
    plain = cli()  # and the plain seed still keeps what exists
    assert plain.exit_code == 0
    assert _counts(app) == before


@pytest.mark.parametrize(
    "other",
    [
        ("--orgs", "300", "--members", "800"),
        ("--orgs", "200", "--members", "800", "--events", "5"),
    ],
)
def test_a_second_run_with_other_sizes_refuses_in_one_line(app, cli, other):
    assert cli(*SIZES).exit_code == 0
    before = _counts(app)
    refused = cli(*other)
    assert refused.exit_code == 1
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    reason = refused.stderr.strip().splitlines()
    assert reason == [
        "Error: The demo tenant already has a generated tree (--orgs 200 --members 800 "
        "--invitations 80 --events 800), and it is never grown twice: use those sizes, "
        "or an empty database for others."
    ]
    assert _counts(app) == before


def test_members_without_orgs_are_refused(app, cli):
    before = _counts(app)
    refused = cli("--members", "100")
    assert refused.exit_code == 1
    assert "Give --orgs too" in refused.output
    assert _counts(app) == before


def test_invitations_and_events_can_be_sized(app, cli):
    result = cli("--orgs", "50", "--members", "120", "--invitations", "7", "--events", "30")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 7 + DEMO_INVITES
        actions = Counter(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.action.in_(GENERATED_ACTIONS))
            )
        )
    # Fewer events than orgs: a sample of the orgs' creations, nothing else.
    # and the demo company's own 25 orgs and its invitations
    assert actions == {"org.created": 30 + 25, "invitation.created": DEMO_INVITES}


def test_the_app_keeps_adding_after_a_seed(app, cli):
    """Generated rows carry explicit ids; the next org and user the app makes must not
    collide with them (PostgreSQL's sequences are moved past them)."""
    assert cli("--orgs", "30", "--members", "40").exit_code == 0
    with app.app_context():
        tenant = _tenant()
        org = orgs.create_org(Actor.system("test"), tenant, name="After the seed")
        user = accounts.create_user(tenant, email="after@acme.example", name="After", password=None)
        db.session.flush()
        assert org.id > db.session.scalar(
            sa.select(sa.func.max(Organization.id)).where(Organization.id != org.id)
        )
        assert user.id > db.session.scalar(
            sa.select(sa.func.max(User.id)).where(User.id != user.id)
        )
        db.session.rollback()


def test_grow_tenant_alone_adds_no_invitations_or_events(app_ctx):
    """What the benchmarks call: orgs and members only, as before."""
    demo.seed()
    events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    grown = bulk.grow_tenant(_tenant(), orgs=40, members=80)
    assert (grown.orgs, grown.members, grown.invitations, grown.events) == (40, 80, 0, 0)
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == DEMO_INVITES
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events
    db.session.rollback()


def test_progress_redraws_one_line_per_phase_on_a_terminal(monkeypatch):
    terminal = io.StringIO()
    terminal.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stderr", terminal)
    progress = PhaseProgress()
    with progress.phase("memberships", 4000) as advance:
        advance(2000)
        advance(2000)
    lines = terminal.getvalue().split("\n")
    assert lines[-1] == ""
    redraws = lines[0].split("\r")
    assert "2,000 of 4,000 (50%)" in redraws[1]
    assert re.fullmatch(r"  memberships +4,000 rows in +[\d.]+ s +", redraws[-1])


def test_grown_below_an_org_the_events_name_it_as_the_parent(app_ctx):
    demo.seed()
    tenant = _tenant()
    under = db.session.scalar(sa.select(Organization).where(Organization.slug == "security"))
    grown = bulk.grow_tenant(tenant, orgs=20, members=40, under=under, invitations=4, events=80)
    assert grown.orgs == 20
    assert grown.invitations == 4
    children = set(
        db.session.scalars(
            sa.select(Organization.public_id).where(Organization.parent_id == under.id)
        )
    )
    created = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "org.created", AuditEvent.target_id.in_(children)
        )
    ).all()
    assert len(created) == len(children) > 0
    assert {event.after["parent"] for event in created} == {under.public_id}
    db.session.rollback()
