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
