"""Custom roles: a tenant's own permission sets."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.actors import Actor
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import CustomRole, Membership, Organization, Tenant
from app.policy import (
    ALL_PERMISSIONS,
    Role,
    TenantPerm,
    forget_role_catalog,
    require_tenant,
    role_catalog,
    tenant_permissions,
)
from app.services import audit
from app.services.validation import check_text, clean_name

MAX_NAME_LENGTH = 80
MAX_KEY_LENGTH = 40
MAX_DESCRIPTION_LENGTH = 300
KEY_PATTERN = re.compile(rf"^[a-z][a-z0-9_]{{1,{MAX_KEY_LENGTH - 1}}}$")


def _actor_permissions(actor: Actor) -> frozenset[str]:
    """What the actor holds tenant-wide: nobody grants what they don't hold themselves
    (an API key no more than its own permission set)."""
    if actor.user is not None:
        return tenant_permissions(actor.user)
    if actor.key_scope is not None:
        return actor.key_scope.permissions & ALL_PERMISSIONS
    return ALL_PERMISSIONS


def _clean(actor: Actor, *, name: str, description: str, permissions: list[str]):
    name = clean_name(name, limit=MAX_NAME_LENGTH)
    description = check_text(description, field="description")
    description = " ".join(description.split())[:MAX_DESCRIPTION_LENGTH]
    unknown = set(permissions) - ALL_PERMISSIONS
    if unknown:
        raise ValidationFailed(
            f"Unknown permission: {', '.join(sorted(unknown))}.", field="permissions"
        )
    if not permissions:
        raise ValidationFailed("Choose at least one permission.", field="permissions")
    beyond = set(permissions) - _actor_permissions(actor)
    if beyond:
        raise PermissionDenied(
            f"You can't create a role with permissions you don't hold: {', '.join(sorted(beyond))}."
        )
    return name, description, sorted(set(permissions))


def get_role(tenant: Tenant, public_id: str) -> CustomRole:
    role = db.session.scalar(
        sa.select(CustomRole).where(
            CustomRole.tenant_id == tenant.id, CustomRole.public_id == public_id
        )
    )
    if role is None:
        raise NotFound("No such role.")
    return role


def list_custom_roles(tenant: Tenant) -> list[tuple[CustomRole, int]]:
    """Custom roles with how many memberships use each; one query."""
    usage = (
        sa.select(Membership.role, sa.func.count().label("uses"))
        .join(Organization, Organization.id == Membership.org_id)
        .where(Organization.tenant_id == tenant.id)
        .group_by(Membership.role)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(CustomRole, sa.func.coalesce(usage.c.uses, 0))
        .outerjoin(usage, usage.c.role == CustomRole.key)
        .where(CustomRole.tenant_id == tenant.id)
        .order_by(CustomRole.name)
    )
    return [(role, uses) for role, uses in rows]


def create_role(
    actor: Actor, tenant: Tenant, *, key: str, name: str, description: str, permissions: list[str]
) -> CustomRole:
    require_tenant(actor, TenantPerm.ROLES_MANAGE)
    key = (key or "").strip().lower()
    if not KEY_PATTERN.match(key):
        raise ValidationFailed(
            "Use 2–40 lowercase letters, digits or underscores, starting with a letter.",
            field="key",
        )
    if key in Role.BUILT_IN or key in role_catalog(tenant.id):
        raise ValidationFailed(f"The key “{key}” is already used.", field="key")
    name, description, permissions = _clean(
        actor, name=name, description=description, permissions=permissions
    )
    role = CustomRole(
        tenant_id=tenant.id, key=key, name=name, description=description, permissions=permissions
    )
    db.session.add(role)
    db.session.flush()
    forget_role_catalog(tenant.id)
    audit.record(
        actor, "role.created", tenant=tenant, target=role,
        after={"key": key, "permissions": permissions},
    )  # fmt: skip
    return role


def update_role(
    actor: Actor,
    tenant: Tenant,
    role: CustomRole,
    *,
    name: str,
    description: str,
    permissions: list[str],
) -> CustomRole:
    require_tenant(actor, TenantPerm.ROLES_MANAGE)
    name, description, permissions = _clean(
        actor, name=name, description=description, permissions=permissions
    )
    before = {"name": role.name, "description": role.description, "permissions": role.permissions}
    role.name, role.description, role.permissions = name, description, permissions
    after = {"name": name, "description": description, "permissions": permissions}
    if after != before:
        db.session.flush()
        forget_role_catalog(tenant.id)
        audit.record(
            actor, "role.updated", tenant=tenant, target=role,
            changes=audit.before_after(before, after),
        )  # fmt: skip
    return role


def delete_role(
    actor: Actor, tenant: Tenant, role: CustomRole, *, reassign_to: str | None = None
) -> int:
    """Delete a role; memberships still using it must be moved to ``reassign_to``."""
    require_tenant(actor, TenantPerm.ROLES_MANAGE)
    in_use = (
        sa.select(Membership.id)
        .join(Organization, Organization.id == Membership.org_id)
        .where(Organization.tenant_id == tenant.id, Membership.role == role.key)
    )
    uses = db.session.scalar(sa.select(sa.func.count()).select_from(in_use.subquery()))
    moved = 0
    if uses:
        catalog = role_catalog(tenant.id)
        if not reassign_to:
            people = "1 member" if uses == 1 else f"{uses} members"
            raise Conflict(
                f"{role.name} is still given to {people}: choose a role to give them instead."
            )
        if reassign_to not in catalog or reassign_to == role.key:
            raise ValidationFailed("Choose another existing role.", field="reassign_to")
        if reassign_to == Role.OWNER or not (
            catalog[reassign_to].permissions <= _actor_permissions(actor)
        ):
            raise PermissionDenied("You can't give that role.")
        moved = db.session.execute(
            sa.update(Membership)
            .where(Membership.id.in_(in_use))
            .values(role=reassign_to)
            .execution_options(synchronize_session=False)
        ).rowcount
    audit.record(
        actor, "role.deleted", tenant=tenant, target=role,
        before={"key": role.key, "permissions": role.permissions},
        after={"reassigned_to": reassign_to, "memberships_moved": moved} if uses else None,
    )  # fmt: skip
    db.session.delete(role)
    db.session.flush()
    forget_role_catalog(tenant.id)
    return moved
