"""Permissions, not role names: "may this actor do P in this org?" is answered only here.

Roles are permission sets. A role held in an org holds in all its descendants; the
effective role is the strongest of the direct and inherited ones. Tenant owners and
admins may manage every org of their tenant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Membership, Organization, OrgClosure, TenantRole, User


class Perm:
    ORG_READ = "org:read"
    ORG_UPDATE = "org:update"
    ORG_DELETE = "org:delete"
    ORG_CREATE_CHILD = "org:create_child"
    MEMBERS_READ = "members:read"
    MEMBERS_INVITE = "members:invite"
    MEMBERS_UPDATE_ROLE = "members:update_role"
    MEMBERS_REMOVE = "members:remove"
    TEAMS_MANAGE = "teams:manage"
    SETTINGS_UPDATE = "settings:update"
    AUDIT_READ = "audit:read"
    API_KEYS_MANAGE = "api_keys:manage"


ALL_PERMISSIONS = frozenset(v for k, v in vars(Perm).items() if not k.startswith("_"))


class Role:
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"
    BUILT_IN = (OWNER, ADMIN, MEMBER, VIEWER)


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: ALL_PERMISSIONS,
    Role.ADMIN: ALL_PERMISSIONS - {Perm.ORG_DELETE},
    Role.MEMBER: frozenset({Perm.ORG_READ, Perm.MEMBERS_READ}),
    Role.VIEWER: frozenset({Perm.ORG_READ}),
}
# Strength decides which of several held roles is the effective one.
ROLE_RANK = {Role.VIEWER: 1, Role.MEMBER: 2, Role.ADMIN: 3, Role.OWNER: 4}


@dataclass(frozen=True)
class OrgAccess:
    """What one user may do in one org, and why."""

    role: str | None
    via_tenant_role: bool = False

    @property
    def permissions(self) -> frozenset[str]:
        return ROLE_PERMISSIONS.get(self.role or "", frozenset())

    def can(self, permission: str) -> bool:
        return permission in self.permissions


def strongest(roles: Iterable[str]) -> str | None:
    return max(roles, key=lambda role: ROLE_RANK.get(role, 0), default=None)


def tenant_wide_role(user: User) -> str | None:
    """Tenant owners and admins manage every org as its owner would."""
    return Role.OWNER if user.tenant_role in (TenantRole.OWNER, TenantRole.ADMIN) else None


def roles_in_orgs(user: User, org_ids: Iterable[int]) -> dict[int, str]:
    """The effective role of ``user`` in each org (direct or inherited), in one query."""
    org_ids = list(org_ids)
    if not org_ids:
        return {}
    rows = db.session.execute(
        sa.select(OrgClosure.descendant_id, Membership.role)
        .join(Membership, Membership.org_id == OrgClosure.ancestor_id)
        .where(Membership.user_id == user.id, OrgClosure.descendant_id.in_(org_ids))
    )
    held: dict[int, list[str]] = {}
    for org_id, role in rows:
        held.setdefault(org_id, []).append(role)
    return {org_id: strongest(roles) for org_id, roles in held.items() if roles}  # type: ignore[misc]


def access(user: User, org: Organization) -> OrgAccess:
    membership_role = roles_in_orgs(user, [org.id]).get(org.id)
    tenant_role = tenant_wide_role(user)
    role = strongest(r for r in (membership_role, tenant_role) if r)
    via_tenant = role is not None and membership_role != role
    return OrgAccess(role=role, via_tenant_role=via_tenant)


def can_create_top_level_org(user: User) -> bool:
    return user.is_tenant_admin or user.tenant.members_can_create_orgs
