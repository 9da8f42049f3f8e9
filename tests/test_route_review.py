"""What the review of every route (issue 14) found, each fixed at its cause.

- A role with settings:update but not org:update got the settings page, private
  metadata included, as the error answer of the metadata form.
- A role with teams:manage but not members:read got a team's roster (names, emails) as
  the error answer of the rename and add forms, and could test addresses for membership.
- (API: private metadata for keys without org:update, keys outliving their maker: see
  tests/test_api_key_scopes.py; invitations carrying another org's team: below.)
"""

from __future__ import annotations

import sqlalchemy as sa

from app.actors import Actor
from app.extensions import db
from app.models import Organization, Team, TeamMember
from app.services import roles, teams


def _custom_role(app, tenant, key, permissions):
    with app.app_context():
        roles.create_role(
            Actor.system("test"), tenant, key=key, name=key.title(), description="",
            permissions=permissions,
        )  # fmt: skip
        db.session.commit()


def test_the_metadata_form_error_shows_no_private_metadata_without_org_update(
    app, client, auth, world
):
    with app.app_context():
        db.session.get(Organization, world.hq.id).private_metadata = {"bank": "DE89-SECRET"}
        db.session.commit()
    _custom_role(app, world.tenant, "data_editor", ["org:read", "settings:update"])
    from app.models import Membership

    with app.app_context():
        db.session.add(Membership(org_id=world.hq.id, user_id=world.viewer.id, role="data_editor"))
        db.session.commit()
    auth.login(world.viewer)
    assert client.get(f"/t/acme/orgs/{world.hq.slug}/settings").status_code == 403
    response = client.post(
        f"/t/acme/orgs/{world.hq.slug}/settings/data",
        data={"field_name": "public_metadata", "rows-0-key": "\x01", "rows-0-value": "x"},
    )
    assert response.status_code == 403
    assert "DE89-SECRET" not in response.get_data(as_text=True)


def test_team_forms_show_no_roster_without_members_read(app, client, auth, world):
    _custom_role(app, world.tenant, "team_keeper", ["org:read", "teams:manage"])
    from app.models import Membership

    with app.app_context():
        db.session.add(Membership(org_id=world.hq.id, user_id=world.viewer.id, role="team_keeper"))
        team = teams.create_team(Actor.system("test"), world.tenant, world.hq, name="Core")
        db.session.add(TeamMember(team_id=team.id, user_id=world.hq_member.id))
        db.session.commit()
        team_id = team.public_id
    auth.login(world.viewer)
    base = f"/t/acme/orgs/{world.hq.slug}/teams/{team_id}"
    assert client.get(base).status_code == 403
    for path, data in ((f"{base}/rename", {"name": ""}), (f"{base}/members", {"email": "x@y.z"})):
        response = client.post(path, data=data)
        assert response.status_code == 403, path
        assert world.hq_member.email not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(Team.name).where(Team.public_id == team_id)) == "Core"


def test_an_invitation_adds_only_its_own_orgs_teams(app, world):
    """An invitation names teams by id; a team deleted before acceptance may share its id
    with another org's team (SQLite reuses ids): accepting must not land there."""
    from app.models import Invitation, User
    from app.services import invitations

    actor = Actor.system("test")
    with app.app_context():
        tenant = db.session.get(type(world.tenant), world.tenant.id)
        hq = db.session.get(Organization, world.hq.id)
        sales = db.session.get(Organization, world.sales.id)
        own = teams.create_team(actor, tenant, hq, name="Core")
        foreign = teams.create_team(actor, tenant, sales, name="Deals")
        [made] = invitations.invite(
            actor, tenant, hq, addresses=["new.hire@acme.example"], role="member",
            team_ids=[own.public_id],
        )  # fmt: skip
        invitation = db.session.get(Invitation, made.invitation.id)
        invitation.team_ids = [own.id, foreign.id]  # as if "Deals" took a deleted team's id
        newcomer = User(
            tenant_id=tenant.id, email="new.hire@acme.example", name="New",
            email_verified_at=invitation.created_at,
        )  # fmt: skip
        db.session.add(newcomer)
        db.session.flush()
        invitations.accept(invitation, newcomer, through_link=True)
        db.session.commit()
        joined = set(
            db.session.scalars(
                sa.select(TeamMember.team_id).where(TeamMember.user_id == newcomer.id)
            )
        )
        assert joined == {own.id}


def test_only_someone_who_could_send_an_invitation_resends_or_revokes_it(app, client, auth, world):
    from app.models import Invitation, InvitationStatus
    from app.services import invitations

    with app.app_context():
        tenant = db.session.get(type(world.tenant), world.tenant.id)
        engineering = db.session.get(Organization, world.engineering.id)
        owner = db.session.get(type(world.owner), world.owner.id)
        [made] = invitations.invite(
            Actor.for_user(owner), tenant, engineering, addresses=["boss@acme.example"],
            role="owner",
        )  # fmt: skip
        db.session.commit()
        public_id = made.invitation.public_id
    auth.login(world.admin)
    base = f"/t/acme/orgs/{world.engineering.slug}/invitations/{public_id}"
    for action in ("resend", "revoke"):
        assert client.post(f"{base}/{action}").status_code == 403, action
    with app.app_context():
        invitation = db.session.scalar(
            sa.select(Invitation).where(Invitation.public_id == public_id)
        )
        assert invitation.status == InvitationStatus.PENDING
        assert invitation.sent_count == 1


def test_an_email_change_retires_password_links_sent_to_the_old_address(app, world):
    from app.models import PasswordResetToken
    from app.services import email_verification, passwords
    from tests.conftest import PASSWORD

    with app.app_context():
        tenant = db.session.get(type(world.tenant), world.tenant.id)
        member = db.session.get(type(world.member), world.member.id)
        passwords.request_reset(tenant, member.email)
        email_verification.request_change(
            tenant, member, new_email="milo.new@acme.example", password=PASSWORD
        )
        token = email_verification._issue(member, "milo.new@acme.example")
        db.session.commit()
        assert (
            email_verification.verify(tenant, token).outcome == email_verification.Outcome.CHANGED
        )
        db.session.commit()
        live = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(PasswordResetToken)
            .where(PasswordResetToken.user_id == member.id, PasswordResetToken.used_at.is_(None))
        )
        assert live == 0
