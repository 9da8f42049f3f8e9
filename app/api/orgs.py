"""Organizations: the tree, read and changed through the same services as the pages."""

from __future__ import annotations

from app.api import present
from app.api.core import caller, operation
from app.api.paging import page_of
from app.api.schemas import (
    CreateOrg,
    ListOrgsQuery,
    MoveOrg,
    Org,
    Page,
    PageQuery,
    SubtreeOrg,
    UpdateOrg,
)
from app.models import Organization
from app.policy import Perm, Role, TenantPerm
from app.services import members, org_data, orgs

TAG = "Organizations"
UPDATE_ORG_PROFILE_FIELDS = tuple(f for f in UpdateOrg.model_fields if f not in org_data.FIELDS)


def _org(org_id: str) -> Organization:
    return caller.org(org_id)


@operation("GET", "/orgs", summary="List organizations", tag=TAG, query=ListOrgsQuery,
           response=Page[Org], errors=(400, 404), permission=Perm.ORG_READ)  # fmt: skip
def list_orgs(query: ListOrgsQuery) -> Page[Org]:
    """Live organizations in creation order; filter by parent, top level or name. A key
    limited to a subtree lists only that subtree, and its root is its top level."""
    parent = _org(query.parent_id) if query.parent_id else None
    root = caller.scope.org_id
    stmt = orgs.orgs_query(
        caller.tenant,
        parent=parent,
        top_level=query.top_level and root is None,
        query=query.q or "",
        within=root,
    )
    if query.top_level and root is not None and parent is None:
        stmt = stmt.where(Organization.id == root)
    return page_of(stmt, Organization.id, query, present.orgs_list, Page[Org])


@operation("POST", "/orgs", summary="Create an organization", tag=TAG, body=CreateOrg,
           response=Org, status=201, errors=(404, 409, 422),
           permission=Perm.ORG_CREATE_CHILD)  # fmt: skip
def create_org(body: CreateOrg) -> Org:
    """Top level, or below `parent_id`; `owner_id` makes that user its first owner."""
    parent = _org(body.parent_id) if body.parent_id else None
    owner = members.find_tenant_user(caller.tenant, body.owner_id) if body.owner_id else None
    org = orgs.create_org(
        caller.actor, caller.tenant, name=body.name, parent=parent, slug=body.slug
    )
    if owner is not None:
        members.add_member(caller.actor, caller.tenant, org, owner, Role.OWNER)
    return present.org(org)


@operation("GET", "/orgs/<org_id>", summary="Get an organization", tag=TAG, response=Org,
           errors=(404,), permission=Perm.ORG_READ)  # fmt: skip
def get_org(org_id: str) -> Org:
    return present.org(_org(org_id))


@operation("PATCH", "/orgs/<org_id>", summary="Update an organization", tag=TAG,
           body=UpdateOrg, response=Org, errors=(404, 409, 422),
           permission=Perm.ORG_UPDATE)  # fmt: skip
def update_org(org_id: str, body: UpdateOrg) -> Org:
    """Only the fields sent change. `null` clears a field that may be empty (`logo_url`)
    and leaves one that may not (`name`, `slug`, metadata) as it is."""
    org = _org(org_id)
    sent = {
        field: value
        for field, value in body.model_dump(exclude_unset=True).items()
        if value is not None or Organization.__table__.c[field].nullable
    }
    data = {field: sent.pop(field) for field in org_data.FIELDS if field in sent}
    if sent:
        # Every other field of UpdateOrg is the org's own; one the service doesn't take
        # fails loudly here instead of being accepted and dropped.
        current = {field: getattr(org, field) for field in UPDATE_ORG_PROFILE_FIELDS}
        orgs.update_org(caller.actor, caller.tenant, org, **{**current, **sent})
    for field, value in data.items():
        org_data.update(caller.actor, caller.tenant, org, field, value)
    return present.org(org)


@operation("POST", "/orgs/<org_id>/move", summary="Move an organization", tag=TAG,
           body=MoveOrg, response=Org, errors=(404, 409, 422),
           permission=Perm.ORG_UPDATE)  # fmt: skip
def move_org(org_id: str, body: MoveOrg) -> Org:
    """Put it, with everything below it, under another organization or at the top level.
    409 when it would leave an owned organization with no owner in its tree."""
    org = _org(org_id)
    new_parent = _org(body.parent_id) if body.parent_id else None
    return present.org(orgs.move_org(caller.actor, caller.tenant, org, new_parent))


@operation("DELETE", "/orgs/<org_id>", summary="Delete an organization", tag=TAG, status=204,
           errors=(404, 409), permission=Perm.ORG_DELETE)  # fmt: skip
def delete_org(org_id: str) -> None:
    """Hides it and everything below it; `restore` brings them back."""
    orgs.delete_org(caller.actor, caller.tenant, _org(org_id))


@operation("POST", "/orgs/<org_id>/restore", summary="Restore a deleted organization", tag=TAG,
           response=Org, errors=(404, 409), permission=TenantPerm.ORGS_RESTORE)  # fmt: skip
def restore_org(org_id: str) -> Org:
    """Brings back the organization and everything its deletion hid."""
    org = caller.org(org_id, deleted=True)
    orgs.restore_org(caller.actor, caller.tenant, org)
    return present.org(org)


@operation("GET", "/orgs/<org_id>/children", summary="List an organization's children",
           tag=TAG, query=PageQuery, response=Page[Org], errors=(400, 404),
           permission=Perm.ORG_READ)  # fmt: skip
def list_children(org_id: str, query: PageQuery) -> Page[Org]:
    stmt = orgs.orgs_query(caller.tenant, parent=_org(org_id))
    return page_of(stmt, Organization.id, query, present.orgs_list, Page[Org])


@operation("GET", "/orgs/<org_id>/subtree", summary="List everything below an organization",
           tag=TAG, query=PageQuery, response=Page[SubtreeOrg], errors=(400, 404),
           permission=Perm.ORG_READ)  # fmt: skip
def list_subtree(org_id: str, query: PageQuery) -> Page[SubtreeOrg]:
    """Every live organization below it, at any depth, each with its distance."""
    stmt = orgs.subtree_query(caller.tenant, _org(org_id))
    return page_of(stmt, Organization.id, query, present.subtree, Page[SubtreeOrg])
