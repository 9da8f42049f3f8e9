"""An organization's members: direct and inherited, and changing who belongs."""

from __future__ import annotations

from app.api import present
from app.api.core import caller, operation
from app.api.paging import page_of
from app.api.schemas import AddMember, ChangeRole, ListMembersQuery, Member, Page
from app.errors import NotFound
from app.models import User
from app.policy import Perm
from app.services import members

TAG = "Members"


@operation("GET", "/orgs/<org_id>/members", summary="List members", tag=TAG,
           query=ListMembersQuery, response=Page[Member], errors=(400, 404),
           permission=Perm.MEMBERS_READ)  # fmt: skip
def list_members(org_id: str, query: ListMembersQuery) -> Page[Member]:
    """Direct and inherited members, each with their effective role and where it comes
    from; search by name or email, or filter by effective role."""
    org = caller.org(org_id)
    chain = members.chain_of(org)
    stmt = members.members_query(
        caller.tenant, org, query=query.q or "", role=query.role, chain=chain
    )
    return page_of(
        stmt,
        User.id,
        query,
        lambda users: present.members_list(caller.tenant, org, users, chain),
        Page[Member],
    )


@operation("POST", "/orgs/<org_id>/members", summary="Add a member", tag=TAG, body=AddMember,
           response=Member, status=201, errors=(403, 404, 409, 422),
           permission=Perm.MEMBERS_INVITE)  # fmt: skip
def add_member(org_id: str, body: AddMember) -> Member:
    """Give an existing user of the tenant a role here (invite people without an account)."""
    org = caller.org(org_id)
    user = members.find_tenant_user(caller.tenant, body.user_id)
    members.add_member(caller.actor, caller.tenant, org, user, body.role)
    return present.member(caller.tenant, org, user)


@operation("GET", "/orgs/<org_id>/members/<user_id>", summary="Get a member", tag=TAG,
           response=Member, errors=(404,), permission=Perm.MEMBERS_READ)  # fmt: skip
def get_member(org_id: str, user_id: str) -> Member:
    org = caller.org(org_id)
    user = members.find_tenant_user(caller.tenant, user_id)
    if members.member_row(caller.tenant, org, user) is None:
        raise NotFound("That user is not a member of this organization.")
    return present.member(caller.tenant, org, user)


@operation("PATCH", "/orgs/<org_id>/members/<user_id>", summary="Change a member's role",
           tag=TAG, body=ChangeRole, response=Member, errors=(403, 404, 409, 422),
           permission=Perm.MEMBERS_UPDATE_ROLE)  # fmt: skip
def change_role(org_id: str, user_id: str, body: ChangeRole) -> Member:
    """Changes the direct role; an org never loses its last owner."""
    org = caller.org(org_id)
    user = members.find_tenant_user(caller.tenant, user_id)
    members.change_role(caller.actor, caller.tenant, org, user, body.role)
    return present.member(caller.tenant, org, user)


@operation("DELETE", "/orgs/<org_id>/members/<user_id>", summary="Remove a member", tag=TAG,
           status=204, errors=(403, 404, 409), permission=Perm.MEMBERS_REMOVE)  # fmt: skip
def remove_member(org_id: str, user_id: str) -> None:
    """Removes the direct membership (and the user's teams here); not the last owner."""
    org = caller.org(org_id)
    user = members.find_tenant_user(caller.tenant, user_id)
    members.remove_member(caller.actor, caller.tenant, org, user)
