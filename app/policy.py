"""Permissions, not role names: "may this actor do P in this org?" is answered only here.

Roles are permission sets: the built-in owner, admin, member and viewer, plus each
tenant's custom roles. A role held in an org holds in all its descendants; what a user
may do in an org is everything any of their roles there (direct or inherited) allows,
and their *effective* role is the strongest of those. Tenant owners and admins may
manage every org of their tenant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa

from app.errors import PermissionDenied
from app.extensions import db
from app.models import (
    ActorType,
    CustomRole,
    Membership,
    Organization,
    OrgClosure,
    StaffRole,
    StaffUser,
    TenantRole,
    User,
)

if TYPE_CHECKING:
    from app.actors import Actor


class Perm(StrEnum):
    """What someone may do in an org (and, by inheritance, in everything below it)."""

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


# In the order the role editor lists them, with what each lets a person do.
PERMISSION_LABELS: dict[str, str] = {
    Perm.ORG_READ: "See the organization",
    Perm.ORG_UPDATE: "Rename, move and edit the organization",
    Perm.ORG_DELETE: "Delete the organization",
    Perm.ORG_CREATE_CHILD: "Create sub-organizations",
    Perm.MEMBERS_READ: "See the members",
    Perm.MEMBERS_INVITE: "Invite members",
    Perm.MEMBERS_UPDATE_ROLE: "Change members' roles",
    Perm.MEMBERS_REMOVE: "Remove members",
    Perm.TEAMS_MANAGE: "Manage teams",
    Perm.SETTINGS_UPDATE: "Edit settings and metadata",
    Perm.AUDIT_READ: "Read the audit log",
    Perm.API_KEYS_MANAGE: "Manage API keys",
}
ALL_PERMISSIONS = frozenset(PERMISSION_LABELS)


class UnknownPermission(LookupError):
    """A permission name that is not one of ``Perm``: a typo in code or a template."""


class TenantPerm(StrEnum):
    """What someone may do to the tenant as a whole; held by tenant role, not org role."""

    SETTINGS_UPDATE = "tenant:settings"  # sign-up rules, personal orgs, seats
    ROLES_MANAGE = "tenant:roles"  # custom roles
    API_KEYS_MANAGE = "tenant:api_keys"
    SIGNING_KEYS_MANAGE = "tenant:signing_keys"  # rotate keys, token settings
    AUDIT_READ = "tenant:audit"  # the whole tenant's audit log
    USERS_MANAGE = "tenant:users"  # deactivate and reactivate accounts
    ORGS_RESTORE = "tenant:restore"  # see and restore deleted organizations
    ORGS_CREATE_TOP_LEVEL = "tenant:create_top_level_org"


ALL_TENANT_PERMISSIONS = frozenset(TenantPerm)


_TENANT_ADMIN = frozenset(
    {
        TenantPerm.SETTINGS_UPDATE,
        TenantPerm.ROLES_MANAGE,
        TenantPerm.API_KEYS_MANAGE,
        TenantPerm.SIGNING_KEYS_MANAGE,
        TenantPerm.AUDIT_READ,
        TenantPerm.USERS_MANAGE,
        TenantPerm.ORGS_CREATE_TOP_LEVEL,
    }
)
TENANT_ROLE_PERMISSIONS: dict[str, frozenset[TenantPerm]] = {
    TenantRole.OWNER: _TENANT_ADMIN | {TenantPerm.ORGS_RESTORE},
    TenantRole.ADMIN: _TENANT_ADMIN,
    TenantRole.MEMBER: frozenset(),
}
# What each tenant-level gate says when it refuses.
TENANT_REFUSALS: dict[TenantPerm, str] = {
    TenantPerm.SETTINGS_UPDATE: "Only tenant owners and admins can change tenant settings.",
    TenantPerm.ROLES_MANAGE: "Only tenant owners and admins manage roles.",
    TenantPerm.API_KEYS_MANAGE: "Only tenant owners and admins manage API keys.",
    TenantPerm.SIGNING_KEYS_MANAGE: "Only tenant owners and admins manage signing keys and tokens.",
    TenantPerm.AUDIT_READ: "Only tenant owners and admins can read the whole tenant's audit log.",
    TenantPerm.USERS_MANAGE: "Only tenant owners and admins can manage users.",
    TenantPerm.ORGS_RESTORE: "Only a tenant owner can see and restore deleted organizations.",
    TenantPerm.ORGS_CREATE_TOP_LEVEL: "You can't create top-level organizations in this tenant.",
}


class Role:
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"
    BUILT_IN = (OWNER, ADMIN, MEMBER, VIEWER)


@dataclass(frozen=True)
class RoleDef:
    key: str
    name: str
    permissions: frozenset[str]
    built_in: bool = False
    description: str = ""

    @property
    def strength(self) -> tuple[int, int]:
        # More permissions is stronger; among equals a built-in wins (owner above all).
        return (len(self.permissions), BUILT_IN_ORDER.get(self.key, 0))


BUILT_IN_ROLES: dict[str, RoleDef] = {
    Role.OWNER: RoleDef(
        Role.OWNER, "Owner", frozenset(Perm), True,
        "Everything, including deleting the organization and transferring ownership.",
    ),
    Role.ADMIN: RoleDef(
        Role.ADMIN, "Admin", frozenset({
            Perm.ORG_READ, Perm.ORG_UPDATE, Perm.ORG_CREATE_CHILD,
            Perm.MEMBERS_READ, Perm.MEMBERS_INVITE, Perm.MEMBERS_UPDATE_ROLE,
            Perm.MEMBERS_REMOVE, Perm.TEAMS_MANAGE, Perm.SETTINGS_UPDATE,
            Perm.AUDIT_READ, Perm.API_KEYS_MANAGE,
        }), True,
        "Manages members, invitations, teams, settings and sub-organizations.",
    ),
    Role.MEMBER: RoleDef(
        Role.MEMBER, "Member", frozenset({Perm.ORG_READ, Perm.MEMBERS_READ}), True,
        "Sees the organization and its members.",
    ),
    Role.VIEWER: RoleDef(
        Role.VIEWER, "Viewer", frozenset({Perm.ORG_READ}), True, "Sees the organization.",
    ),
}  # fmt: skip
BUILT_IN_ORDER = {Role.VIEWER: 1, Role.MEMBER: 2, Role.ADMIN: 3, Role.OWNER: 4}
ROLE_PERMISSIONS = {key: role.permissions for key, role in BUILT_IN_ROLES.items()}


def role_catalog(tenant_id: int) -> dict[str, RoleDef]:
    """Built-in and custom roles of a tenant, by key: kept with the tenant in process
    (app/tenant_cache.py) when this request has checked its stamp, else one query; cached
    per request either way."""
    from flask import g, has_app_context

    from app import tenant_cache

    cache_key = f"_roles_{tenant_id}"
    if has_app_context() and cache_key in g:
        return g.get(cache_key)
    catalog = tenant_cache.cached(tenant_id, "role_catalog")
    if catalog is None:
        catalog = dict(BUILT_IN_ROLES)
        for role in db.session.scalars(
            sa.select(CustomRole).where(CustomRole.tenant_id == tenant_id).order_by(CustomRole.name)
        ):
            catalog[role.key] = RoleDef(
                role.key,
                role.name,
                frozenset(role.permissions) & ALL_PERMISSIONS,
                description=role.description,
            )
        tenant_cache.keep(tenant_id, "role_catalog", catalog)
    if has_app_context():
        setattr(g, cache_key, catalog)
    return catalog


def forget_role_catalog(tenant_id: int) -> None:
    """After changing a tenant's roles: this request and this process read them afresh
    (other processes learn it from the tenant's new cache stamp)."""
    from flask import g, has_app_context

    from app import tenant_cache

    if has_app_context():
        g.pop(f"_roles_{tenant_id}", None)
    tenant_cache.forget({tenant_id})


@dataclass(frozen=True)
class OrgAccess:
    """What one user may do in one org, and why."""

    role: str | None
    permissions: frozenset[str] = frozenset()
    via_tenant_role: bool = False

    def can(self, permission: str) -> bool:
        if permission not in ALL_PERMISSIONS:
            raise UnknownPermission(f"No such permission: {permission!r}")
        return permission in self.permissions


NO_ACCESS = OrgAccess(role=None)

# What a read-only visitor (support staff viewing as a user) keeps of someone's access.
READ_PERMISSIONS = frozenset({Perm.ORG_READ, Perm.MEMBERS_READ, Perm.AUDIT_READ})
READ_TENANT_PERMISSIONS = frozenset({TenantPerm.AUDIT_READ})


def read_only(granted: OrgAccess) -> OrgAccess:
    """``granted`` without anything that changes something: pages and templates then
    neither offer nor allow what a read-only visitor would be refused."""
    return OrgAccess(granted.role, granted.permissions & READ_PERMISSIONS, granted.via_tenant_role)


def strongest(keys: Iterable[str], catalog: dict[str, RoleDef]) -> str | None:
    known = [key for key in keys if key in catalog]
    return max(known, key=lambda key: catalog[key].strength, default=None)


def access_from_roles(user: User, keys: Iterable[str], catalog: dict[str, RoleDef]) -> OrgAccess:
    keys = list(keys)
    permissions = frozenset().union(*(catalog[k].permissions for k in keys if k in catalog))
    role = strongest(keys, catalog)
    # Tenant owners and admins manage every org as an owner would.
    if user.is_tenant_admin and (
        role is None or catalog[role].strength < BUILT_IN_ROLES[Role.OWNER].strength
    ):
        return OrgAccess(Role.OWNER, ALL_PERMISSIONS, via_tenant_role=True)
    return OrgAccess(role, permissions) if role else NO_ACCESS


def roles_held(user: User, org_ids: Iterable[int]) -> dict[int, list[str]]:
    """Every role key ``user`` holds in each org, directly or from above; one query."""
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
    return held


def roles_in_orgs(user: User, org_ids: Iterable[int]) -> dict[int, str]:
    """The effective role of ``user`` in each org (strongest of direct and inherited)."""
    catalog = role_catalog(user.tenant_id)
    held = roles_held(user, org_ids)
    result = {org_id: strongest(keys, catalog) for org_id, keys in held.items()}
    return {org_id: role for org_id, role in result.items() if role}


def access(user: User, org: Organization) -> OrgAccess:
    catalog = role_catalog(user.tenant_id)
    return access_from_roles(user, roles_held(user, [org.id]).get(org.id, []), catalog)


# What acting for the tenant as a whole gives: the CLI and support staff (whose own
# limits are checked with require_staff_permission). An API key gets its KeyScope's.
TENANT_WIDE_ACCESS = OrgAccess(Role.OWNER, ALL_PERMISSIONS)


def actor_access(actor: Actor, org: Organization) -> OrgAccess:
    """What this actor may do in ``org``: a user's roles there, an API key's permission
    set (inside its subtree), or tenant-wide access."""
    if actor.user is not None:
        return access(actor.user, org)
    if actor.key_scope is not None:
        return actor.key_scope.access_in(org)
    return TENANT_WIDE_ACCESS


# --- API keys ------------------------------------------------------------------------

# What a key may be given: every org permission (one with no API operation of its own,
# like audit:read, still counts when the key grants a role that holds it), and the
# tenant permissions some API operation needs.
KEY_ORG_PERMISSIONS: tuple[Perm, ...] = tuple(Perm)
KEY_TENANT_PERMISSIONS: tuple[TenantPerm, ...] = (
    TenantPerm.ORGS_CREATE_TOP_LEVEL,
    TenantPerm.ORGS_RESTORE,
    TenantPerm.ROLES_MANAGE,
    TenantPerm.USERS_MANAGE,
)
KEY_PERMISSION_LABELS: dict[str, str] = {
    **{perm: PERMISSION_LABELS[perm] for perm in KEY_ORG_PERMISSIONS},
    TenantPerm.ORGS_CREATE_TOP_LEVEL: "Create top-level organizations",
    TenantPerm.ORGS_RESTORE: "Restore deleted organizations",
    TenantPerm.ROLES_MANAGE: "Create, change and delete custom roles",
    TenantPerm.USERS_MANAGE: "Deactivate and reactivate users",
}
KEY_PERMISSIONS = frozenset(KEY_PERMISSION_LABELS)


class InsufficientScope(PermissionDenied):
    """An API key asked for something its permission set or subtree does not cover."""

    code = "insufficient_scope"

    def __init__(self, permission: str, message: str | None = None) -> None:
        super().__init__(message or f"This API key lacks the permission “{permission}”.")
        self.permission = permission


@dataclass(frozen=True)
class KeyScope:
    """What an API key may do: its permissions, over the tenant or one org's subtree.

    A key made before permission sets existed ("full access") holds every permission
    tenant-wide, as it always did."""

    permissions: frozenset[str]
    org_id: int | None = None  # the subtree's root; None: the whole tenant
    org_name: str | None = None
    # Orgs already asked about, by id: a key lives for one request, and its door and the
    # services it calls ask about the same org (one closure query, not one per check).
    _reached: dict[int, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def full_access(cls) -> KeyScope:
        return cls(ALL_PERMISSIONS | ALL_TENANT_PERMISSIONS)

    @property
    def tenant_wide(self) -> bool:
        return self.org_id is None

    def limited_to(self, permissions: frozenset[str]) -> KeyScope:
        return KeyScope(self.permissions & permissions, self.org_id, self.org_name)

    def holds(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Refuse (403 insufficient_scope) a permission the key does not hold; tenant
        permissions also need a key that is not limited to a subtree."""
        if not self.holds(permission):
            raise InsufficientScope(permission)
        if permission in ALL_TENANT_PERMISSIONS and not self.tenant_wide:
            raise InsufficientScope(
                permission,
                f"This API key is limited to {self.org_name}: “{permission}” needs a "
                "tenant-wide key.",
            )

    def reaches(self, org: Organization) -> bool:
        """Is ``org`` inside the key's subtree (always, for a tenant-wide key)?"""
        if self.org_id is None or org.id == self.org_id:
            return True
        if org.id not in self._reached:
            depth = db.session.scalar(
                sa.select(OrgClosure.depth).where(
                    OrgClosure.ancestor_id == self.org_id, OrgClosure.descendant_id == org.id
                )
            )
            self._reached[org.id] = depth is not None
        return self._reached[org.id]

    def access_in(self, org: Organization) -> OrgAccess:
        if not self.reaches(org):
            return NO_ACCESS
        held = self.permissions & ALL_PERMISSIONS
        fitting = [role for role in BUILT_IN_ROLES.values() if role.permissions <= held]
        role = max(fitting, key=lambda role: role.strength).key if fitting else None
        return OrgAccess(role, held)


def key_scope_of(permissions: Iterable[str] | None, org: Organization | None) -> KeyScope:
    if permissions is None:
        return KeyScope.full_access()
    return KeyScope(
        frozenset(permissions),
        org.id if org is not None else None,
        org.name if org is not None else None,
    )


def key_permissions_grantable(user: User, org: Organization | None) -> frozenset[str]:
    """What ``user`` may put in a key: never a permission they do not hold themselves,
    over orgs they manage; tenant permissions only from a tenant owner, tenant-wide."""
    if org is None:
        held: frozenset[str] = tenant_permissions(user)
        if user.tenant_role == TenantRole.OWNER:
            held |= ALL_TENANT_PERMISSIONS
    else:
        granted = access(user, org)
        held = granted.permissions if granted.can(Perm.API_KEYS_MANAGE) else frozenset()
    return held & KEY_PERMISSIONS


def may_create_top_level_org(actor: Actor) -> bool:
    if actor.user is not None:
        return can_create_top_level_org(actor.user)
    if actor.key_scope is not None:
        actor.key_scope.require(TenantPerm.ORGS_CREATE_TOP_LEVEL)
    return True


def grantable_roles(access: OrgAccess, catalog: dict[str, RoleDef]) -> list[RoleDef]:
    """Roles this actor may hand out here: none stronger than what they hold themselves,
    and ownership only by an owner."""
    if not access.can(Perm.MEMBERS_UPDATE_ROLE) and not access.can(Perm.MEMBERS_INVITE):
        return []
    allowed = [
        role
        for role in catalog.values()
        if role.permissions <= access.permissions
        and (role.key != Role.OWNER or access.role == Role.OWNER)
    ]
    return sorted(allowed, key=lambda role: role.strength, reverse=True)


def can_manage_member(
    access: OrgAccess, target_role: str | None, catalog: dict[str, RoleDef] | None = None
) -> bool:
    """Only owners manage owners; nobody manages someone whose role can do more than
    they can (a custom role with org:delete is as out of an admin's reach as owner)."""
    if target_role == Role.OWNER:
        return access.role == Role.OWNER
    if catalog is not None and target_role in catalog:
        return catalog[target_role].permissions <= access.permissions
    return True


def tenant_can(user: User, permission: TenantPerm) -> bool:
    """May ``user`` do ``permission`` to their tenant as a whole?"""
    if permission == TenantPerm.ORGS_CREATE_TOP_LEVEL and user.tenant.members_can_create_orgs:
        return True
    return permission in TENANT_ROLE_PERMISSIONS.get(user.tenant_role, frozenset())


def require_tenant(actor: Actor, permission: TenantPerm) -> None:
    """Services call this for tenant-level changes. A user needs ``permission`` by their
    tenant role; the tenant's own code (an API key) and the command line act for the
    tenant as a whole within its permission set; staff have their own gates
    (``require_staff_permission``)."""
    if actor.user is not None and not tenant_can(actor.user, permission):
        raise PermissionDenied(TENANT_REFUSALS[permission])
    if actor.key_scope is not None:
        actor.key_scope.require(permission)


def hidden_in_audit(access: OrgAccess) -> frozenset[str]:
    """What an audit reader may not see the values of: private metadata is for those who
    may edit the org (as on its dashboard and settings), in the log as anywhere else."""
    return frozenset() if access.can(Perm.ORG_UPDATE) else frozenset({"private_metadata"})


def can_transfer_ownership(access: OrgAccess) -> bool:
    """Only an owner hands ownership on (a tenant admin manages as an owner would)."""
    return access.role == Role.OWNER


def can_create_top_level_org(user: User) -> bool:
    return tenant_can(user, TenantPerm.ORGS_CREATE_TOP_LEVEL)


def tenant_permissions(user: User) -> frozenset[str]:
    """What a user holds in every org by their tenant role: a tenant owner everything, a
    tenant admin what an org admin holds, anyone else nothing beyond their orgs."""
    if user.tenant_role == TenantRole.OWNER:
        return ALL_PERMISSIONS
    if user.tenant_role == TenantRole.ADMIN:
        return role_catalog(user.tenant_id)[Role.ADMIN].permissions
    return frozenset()


# --- platform staff ------------------------------------------------------------------


class StaffAction:
    """What a staff role may do in the support console (and through the services)."""

    SEARCH = "console:search"  # find tenants, users, orgs; read their details and audit
    MEMBERS_MANAGE = "members:manage"  # change a role in an org, remove from an org
    INVITATIONS_MANAGE = "invitations:manage"  # resend or revoke an invitation
    USERS_MANAGE = "users:manage"  # send a password reset, deactivate, reactivate
    ORGS_RESTORE = "orgs:restore"
    OUTBOX_RETRY = "outbox:retry"
    VIEW_AS = "users:view_as"  # read-only, time-limited, with a reason
    TENANTS_CREATE = "tenants:create"
    TENANTS_SUSPEND = "tenants:suspend"  # and reactivate
    STAFF_MANAGE = "staff:manage"  # list, create, deactivate staff accounts


_SUPPORT = frozenset(
    {
        StaffAction.SEARCH,
        StaffAction.MEMBERS_MANAGE,
        StaffAction.INVITATIONS_MANAGE,
        StaffAction.USERS_MANAGE,
        StaffAction.ORGS_RESTORE,
        StaffAction.OUTBOX_RETRY,
        StaffAction.VIEW_AS,
    }
)
STAFF_PERMISSIONS: dict[str, frozenset[str]] = {
    StaffRole.SUPPORT: _SUPPORT,
    StaffRole.SUPERADMIN: _SUPPORT
    | {StaffAction.TENANTS_CREATE, StaffAction.TENANTS_SUSPEND, StaffAction.STAFF_MANAGE},
}


def staff_can(staff: StaffUser | None, action: str) -> bool:
    """May this (active) staff account do ``action``?"""
    if staff is None or not staff.is_active_account:
        return False
    return action in STAFF_PERMISSIONS.get(staff.role, frozenset())


def staff_refusal(action: str, what: str) -> str:
    """ "Only a superadmin can suspend tenants.": names the roles that may."""
    roles = [role for role, allowed in STAFF_PERMISSIONS.items() if action in allowed]
    return f"Only {' or '.join(f'a {role}' for role in roles) or 'nobody'} can {what}."


def require_staff_permission(actor: Actor, action: str, what: str) -> None:
    """Services call this: a staff actor needs the permission; tenant users and the
    system (the CLI) are not staff, and their own rules apply instead."""
    if actor.type == ActorType.STAFF and not staff_can(actor.staff, action):
        raise PermissionDenied(staff_refusal(action, what))
