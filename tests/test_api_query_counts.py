"""The API's lists make the same number of SQL queries for a page of 3 rows as of 40."""

from __future__ import annotations

import pytest

from app.actors import Actor
from app.extensions import db
from app.models import TeamMember
from app.services import invitations, teams
from tests.conftest import ApiClient


@pytest.fixture
def grow(app, tenant, create_org, create_user, add_member):
    """Adds ``n`` of everything below one parent org: children, members, invitations."""
    parent = create_org(tenant, "Parent")
    made = {"count": 0}

    def more(n: int) -> str:
        with app.app_context():
            team = teams.create_team(
                Actor.system("test"), tenant, parent, name=f"Team {made['count']}"
            )
            db.session.commit()
        for _ in range(n):
            i = made["count"] = made["count"] + 1
            child = create_org(tenant, f"Child {i}", parent=parent)
            create_org(tenant, f"Grandchild {i}", parent=child)
            user = create_user(tenant, f"person{i}@acme.example")
            add_member(parent, user, "member" if i % 2 else "admin")
            with app.app_context():
                db.session.add(TeamMember(team_id=team.id, user_id=user.id))
                invitations.invite(
                    Actor.system("test"),
                    tenant,
                    parent,
                    addresses=[f"guest{i}@example.com"],
                    role="member",
                )
                db.session.commit()
        return parent.public_id

    return more


LISTS = [
    "/orgs",
    "/orgs/{parent}/children",
    "/orgs/{parent}/subtree",
    "/orgs/{parent}/members",
    "/orgs/{parent}/members?q=person",
    "/orgs/{parent}/members?role=admin",
    "/orgs/{parent}/invitations",
    "/orgs/{parent}/teams",
    "/users",
    "/roles",
]


@pytest.mark.parametrize("path", LISTS)
def test_api_lists_make_constant_queries(api: ApiClient, grow, count_queries, path):
    def queries() -> int:
        with count_queries() as counter:
            response = api.get(
                path.format(parent=parent) + ("&" if "?" in path else "?") + "limit=100"
            )
        assert response.status_code == 200, response.json
        return counter.count

    parent = grow(3)
    queries()  # the key's first use of the minute also stamps its last_used_at
    small = queries()
    grow(37)
    large = queries()
    assert small == large
    assert large <= 8, "key, then at most a handful of batch lookups"
