"""Teams: create, rename, delete; add and remove org members."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Team, TeamMember


@pytest.fixture
def as_owner(auth, world):
    """Erin, Engineering's owner, signed in."""
    auth.login(world.owner)


def _team(app):
    with app.app_context():
        return db.session.scalar(sa.select(Team))


def test_create_fill_rename_and_delete_a_team(app, client, world, as_owner):
    created = client.post("/t/acme/orgs/engineering/teams/", data={"name": "Reviewers"})
    assert created.status_code == 303
    team = _team(app)
    url = f"/t/acme/orgs/engineering/teams/{team.public_id}"
    assert created.headers["Location"] == url

    added = client.post(f"{url}/members", data={"email": "MILO@acme.example"})
    assert added.status_code == 303
    assert "Milo Member" in client.get(url).get_data(as_text=True)
    listing = client.get("/t/acme/orgs/engineering/teams/").get_data(as_text=True)
    assert "Reviewers" in listing

    assert client.post(f"{url}/rename", data={"name": "Critics"}).status_code == 303
    removed = client.post(f"{url}/members/{world.member.public_id}/remove")
    assert removed.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TeamMember)) == 0
    assert client.post(f"{url}/delete").status_code == 303
    assert _team(app) is None
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {
        "team.created",
        "team.member_added",
        "team.renamed",
        "team.member_removed",
        "team.deleted",
    } <= actions


def test_only_org_members_join_teams_and_names_are_unique(app, client, as_owner):
    client.post("/t/acme/orgs/engineering/teams/", data={"name": "Reviewers"})
    team = _team(app)
    url = f"/t/acme/orgs/engineering/teams/{team.public_id}"
    stranger = client.post(f"{url}/members", data={"email": "oscar@acme.example"})
    assert stranger.status_code == 422
    assert "No member of Engineering has that email address." in stranger.get_data(as_text=True)
    nobody = client.post(f"{url}/members", data={"email": "ghost@example.com"})
    assert nobody.status_code == 422
    # The same words for an address nobody has: no account is revealed.
    assert "No member of Engineering has that email address." in nobody.get_data(as_text=True)
    duplicate = client.post("/t/acme/orgs/engineering/teams/", data={"name": "Reviewers"})
    assert duplicate.status_code == 422
    assert "already a team" in duplicate.get_data(as_text=True)


def test_members_cannot_manage_teams(app, client, auth, world, as_owner):
    client.post("/t/acme/orgs/engineering/teams/", data={"name": "Reviewers"})
    team = _team(app)
    auth.logout("acme")
    auth.login(world.member)
    assert client.get("/t/acme/orgs/engineering/teams/").status_code == 200
    assert client.post("/t/acme/orgs/engineering/teams/", data={"name": "Mine"}).status_code == 403
    assert client.post(f"/t/acme/orgs/engineering/teams/{team.public_id}/delete").status_code == 403
    assert _team(app) is not None


def test_unknown_team_is_404(client, as_owner):
    assert client.get("/t/acme/orgs/engineering/teams/team_nope").status_code == 404


def test_adding_someone_twice_is_a_field_error(app, client, as_owner):
    client.post("/t/acme/orgs/engineering/teams/", data={"name": "Reviewers"})
    url = f"/t/acme/orgs/engineering/teams/{_team(app).public_id}"
    assert client.post(f"{url}/members", data={"email": "milo@acme.example"}).status_code == 303
    again = client.post(f"{url}/members", data={"email": "milo@acme.example"})
    assert again.status_code == 422
    assert "already in Reviewers" in again.get_data(as_text=True)
