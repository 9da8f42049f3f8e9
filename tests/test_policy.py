"""The permission sets themselves: pinned, so a new permission is granted on purpose."""

from __future__ import annotations

import pytest
from flask import render_template_string

from app.actors import Actor
from app.errors import PermissionDenied
from app.models import TenantRole
from app.policy import (
    ALL_PERMISSIONS,
    BUILT_IN_ROLES,
    TENANT_ROLE_PERMISSIONS,
    OrgAccess,
    Perm,
    Role,
    TenantPerm,
    UnknownPermission,
    require_tenant,
    tenant_can,
)


def test_each_built_in_role_holds_exactly_its_listed_permissions():
    assert BUILT_IN_ROLES[Role.OWNER].permissions == {
        "org:read",
        "org:update",
        "org:delete",
        "org:create_child",
        "members:read",
        "members:invite",
        "members:update_role",
        "members:remove",
        "teams:manage",
        "settings:update",
        "audit:read",
        "api_keys:manage",
    }
    assert BUILT_IN_ROLES[Role.ADMIN].permissions == {
        "org:read",
        "org:update",
        "org:create_child",
        "members:read",
        "members:invite",
        "members:update_role",
        "members:remove",
        "teams:manage",
        "settings:update",
        "audit:read",
        "api_keys:manage",
    }
    assert BUILT_IN_ROLES[Role.MEMBER].permissions == {"org:read", "members:read"}
    assert BUILT_IN_ROLES[Role.VIEWER].permissions == {"org:read"}


def test_the_owner_holds_every_permission_there_is():
    assert BUILT_IN_ROLES[Role.OWNER].permissions == ALL_PERMISSIONS == set(Perm)


def test_tenant_roles_hold_exactly_their_listed_tenant_permissions():
    admin = {
        "tenant:settings",
        "tenant:roles",
        "tenant:api_keys",
        "tenant:signing_keys",
        "tenant:audit",
        "tenant:users",
        "tenant:create_top_level_org",
    }
    assert TENANT_ROLE_PERMISSIONS[TenantRole.OWNER] == admin | {"tenant:restore"}
    assert TENANT_ROLE_PERMISSIONS[TenantRole.ADMIN] == admin
    assert TENANT_ROLE_PERMISSIONS[TenantRole.MEMBER] == set()


@pytest.mark.parametrize(
    ("tenant_role", "allowed"),
    [(TenantRole.OWNER, True), (TenantRole.ADMIN, False), (TenantRole.MEMBER, False)],
)
def test_only_a_tenant_owner_restores(app_ctx, tenant, create_user, tenant_role, allowed):
    user = create_user(tenant, tenant_role=tenant_role)
    assert tenant_can(user, TenantPerm.ORGS_RESTORE) is allowed
    if allowed:
        require_tenant(Actor.for_user(user), TenantPerm.ORGS_RESTORE)
    else:
        with pytest.raises(PermissionDenied, match="tenant owner"):
            require_tenant(Actor.for_user(user), TenantPerm.ORGS_RESTORE)


def test_the_tenants_own_code_and_the_command_line_act_for_the_whole_tenant(app_ctx):
    for permission in TenantPerm:
        require_tenant(Actor.system("cli"), permission)


def test_members_create_top_level_orgs_only_where_the_tenant_lets_them(
    app_ctx, tenant, create_user
):
    member = create_user(tenant)
    member.tenant = tenant
    assert not tenant_can(member, TenantPerm.ORGS_CREATE_TOP_LEVEL)
    tenant.members_can_create_orgs = True
    assert tenant_can(member, TenantPerm.ORGS_CREATE_TOP_LEVEL)
    assert not tenant_can(member, TenantPerm.SETTINGS_UPDATE)


def test_asking_for_a_permission_that_does_not_exist_is_an_error():
    access = OrgAccess("owner", ALL_PERMISSIONS)
    assert access.can(Perm.ORG_READ)
    assert access.can("org:read")  # the same permission, spelled as stored
    with pytest.raises(UnknownPermission):
        access.can("org:raed")


def test_a_misspelt_permission_in_a_template_fails_at_render(app):
    access = OrgAccess("owner", ALL_PERMISSIONS)
    with app.test_request_context():
        assert render_template_string("{{ access.can(Perm.ORG_READ) }}", access=access) == "True"
        with pytest.raises(UnknownPermission):
            render_template_string("{{ access.can(Perm.ORG_RAED) }}", access=access)
        with pytest.raises(UnknownPermission):
            render_template_string('{{ access.can("org:raed") }}', access=access)
