"""Teams: named groups of an organization's members."""

from __future__ import annotations

from app.api import present
from app.api.core import caller, operation
from app.api.paging import page_of
from app.api.schemas import AddTeamMember, Page, PageQuery, Team, TeamInput, UserRef
from app.models import Organization
from app.models import Team as TeamRow
from app.models import User as UserRow
from app.policy import Perm
from app.services import members, teams

TAG = "Teams"


def _team(org_id: str, team_id: str) -> tuple[Organization, TeamRow]:
    org = caller.org(org_id)
    return org, teams.get_team(org, team_id)


@operation("GET", "/orgs/<org_id>/teams", summary="List teams", tag=TAG, query=PageQuery,
           response=Page[Team], errors=(400, 404), permission=Perm.MEMBERS_READ)  # fmt: skip
def list_teams(org_id: str, query: PageQuery) -> Page[Team]:
    org = caller.org(org_id)
    return page_of(
        teams.teams_query(org),
        TeamRow.id,
        query,
        lambda rows: [present.team(org, team, count) for team, count in rows],
        Page[Team],
    )


@operation("POST", "/orgs/<org_id>/teams", summary="Create a team", tag=TAG, body=TeamInput,
           response=Team, status=201, errors=(404, 422), permission=Perm.TEAMS_MANAGE)  # fmt: skip
def create_team(org_id: str, body: TeamInput) -> Team:
    org = caller.org(org_id)
    return present.team(org, teams.create_team(caller.actor, caller.tenant, org, name=body.name), 0)


@operation("GET", "/orgs/<org_id>/teams/<team_id>", summary="Get a team", tag=TAG,
           response=Team, errors=(404,), permission=Perm.MEMBERS_READ)  # fmt: skip
def get_team(org_id: str, team_id: str) -> Team:
    org, team = _team(org_id, team_id)
    return present.team(org, team, teams.member_count(team))


@operation("PATCH", "/orgs/<org_id>/teams/<team_id>", summary="Rename a team", tag=TAG,
           body=TeamInput, response=Team, errors=(404, 422),
           permission=Perm.TEAMS_MANAGE)  # fmt: skip
def rename_team(org_id: str, team_id: str, body: TeamInput) -> Team:
    org, team = _team(org_id, team_id)
    teams.rename_team(caller.actor, caller.tenant, org, team, name=body.name)
    return present.team(org, team, teams.member_count(team))


@operation("DELETE", "/orgs/<org_id>/teams/<team_id>", summary="Delete a team", tag=TAG,
           status=204, errors=(404,), permission=Perm.TEAMS_MANAGE)  # fmt: skip
def delete_team(org_id: str, team_id: str) -> None:
    """The team goes; its people stay members of the organization."""
    org, team = _team(org_id, team_id)
    teams.delete_team(caller.actor, caller.tenant, org, team)


@operation("GET", "/orgs/<org_id>/teams/<team_id>/members", summary="List a team's members",
           tag=TAG, query=PageQuery, response=Page[UserRef], errors=(400, 404),
           permission=Perm.MEMBERS_READ)  # fmt: skip
def list_team_members(org_id: str, team_id: str, query: PageQuery) -> Page[UserRef]:
    _org, team = _team(org_id, team_id)
    return page_of(
        teams.team_members_query(team),
        UserRow.id,
        query,
        lambda users: [present.user_ref(user) for user in users],
        Page[UserRef],
    )


@operation("POST", "/orgs/<org_id>/teams/<team_id>/members", summary="Add someone to a team",
           tag=TAG, body=AddTeamMember, response=Team, status=201,
           errors=(404, 409, 422), permission=Perm.TEAMS_MANAGE)  # fmt: skip
def add_team_member(org_id: str, team_id: str, body: AddTeamMember) -> Team:
    """They must belong to the organization (directly or from above)."""
    org, team = _team(org_id, team_id)
    user = members.find_tenant_user(caller.tenant, body.user_id)
    teams.add_to_team(caller.actor, caller.tenant, org, team, user)
    return present.team(org, team, teams.member_count(team))


@operation("DELETE", "/orgs/<org_id>/teams/<team_id>/members/<user_id>",
           summary="Take someone off a team", tag=TAG, status=204, errors=(404,),
           permission=Perm.TEAMS_MANAGE)  # fmt: skip
def remove_team_member(org_id: str, team_id: str, user_id: str) -> None:
    org, team = _team(org_id, team_id)
    user = members.find_tenant_user(caller.tenant, user_id)
    teams.remove_from_team(caller.actor, caller.tenant, org, team, user)
