"""Roles: the built-in permission sets and the tenant's custom ones."""

from __future__ import annotations

from app.api import present
from app.api.core import caller, operation
from app.api.schemas import CreateRole, DeleteRoleQuery, Page, Role, UpdateRole
from app.policy import BUILT_IN_ROLES, Perm, TenantPerm, role_catalog
from app.services import roles

TAG = "Roles"


def _present(custom) -> Role:
    return present.role(role_catalog(caller.tenant.id)[custom.key], custom)


@operation(
    "GET", "/roles", summary="List roles", tag=TAG, response=Page[Role], permission=Perm.ORG_READ
)
def list_roles() -> Page[Role]:
    """The built-in roles first (strongest first), then the custom ones by name; never
    more than one page."""
    built_in = sorted(BUILT_IN_ROLES.values(), key=lambda r: r.strength, reverse=True)
    data = [present.role(definition) for definition in built_in]
    data += [_present(custom) for custom, _uses in roles.list_custom_roles(caller.tenant)]
    return Page[Role](data=data, next_cursor=None)


@operation("POST", "/roles", summary="Create a custom role", tag=TAG, body=CreateRole,
           response=Role, status=201, errors=(422,),
           permission=TenantPerm.ROLES_MANAGE)  # fmt: skip
def create_role(body: CreateRole) -> Role:
    custom = roles.create_role(
        caller.actor, caller.tenant, key=body.key, name=body.name, description=body.description,
        permissions=list(body.permissions),
    )  # fmt: skip
    return _present(custom)


@operation("GET", "/roles/<role_id>", summary="Get a custom role", tag=TAG, response=Role,
           errors=(404,), permission=Perm.ORG_READ)  # fmt: skip
def get_role(role_id: str) -> Role:
    return _present(roles.get_role(caller.tenant, role_id))


@operation("PATCH", "/roles/<role_id>", summary="Update a custom role", tag=TAG,
           body=UpdateRole, response=Role, errors=(404, 422),
           permission=TenantPerm.ROLES_MANAGE)  # fmt: skip
def update_role(role_id: str, body: UpdateRole) -> Role:
    """Only the fields sent change; members holding it get the new permissions at once."""
    custom = roles.get_role(caller.tenant, role_id)
    roles.update_role(
        caller.actor,
        caller.tenant,
        custom,
        name=body.name if body.name is not None else custom.name,
        description=body.description if body.description is not None else custom.description,
        permissions=list(body.permissions) if body.permissions is not None else custom.permissions,
    )
    return _present(custom)


@operation("DELETE", "/roles/<role_id>", summary="Delete a custom role", tag=TAG,
           query=DeleteRoleQuery, status=204, errors=(403, 404, 409, 422),
           permission=TenantPerm.ROLES_MANAGE)  # fmt: skip
def delete_role(role_id: str, query: DeleteRoleQuery) -> None:
    """A role still held by members needs `reassign_to`: the role they get instead."""
    roles.delete_role(
        caller.actor,
        caller.tenant,
        roles.get_role(caller.tenant, role_id),
        reassign_to=query.reassign_to,
    )
