"""The request's scope: the tenant in the URL, who is visiting it, and the org on screen.

The tenant blueprint (``app.web.tenant``) and the org blueprint (``app.web.org``) load
it once per request, before any view runs; views and templates read it through
``here`` (``here.tenant``, ``here.user``, ``here.org``, ``here.access``). The current
organization (the switcher's choice) lives in the session, and ``current_org`` is the
one place that reads or writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g, session
from werkzeug.local import LocalProxy

from app import tenant_cache
from app.actors import Actor
from app.extensions import db
from app.models import Membership, Organization, OrgClosure, Tenant, TenantRole, User
from app.policy import (
    NO_ACCESS,
    READ_TENANT_PERMISSIONS,
    OrgAccess,
    Perm,
    TenantPerm,
    tenant_can,
)
from app.services import orgs

if TYPE_CHECKING:
    from app.web.view_as import Viewing


@dataclass
class Scope:
    tenant: Tenant
    user: User | None = None  # the signed-in user, or the one support staff view as
    viewing: Viewing | None = None  # set while support staff view as ``user`` (read-only)
    org: Organization | None = None  # the org named in the URL
    access: OrgAccess = NO_ACCESS  # what ``user`` may do in ``org``

    def tenant_can(self, permission: TenantPerm) -> bool:
        """May the visitor do ``permission`` to the tenant? While support views as the
        user, only what reads."""
        if self.user is None:
            return False
        if self.viewing is not None and permission not in READ_TENANT_PERMISSIONS:
            return False
        return tenant_can(self.user, permission)

    @property
    def actor(self) -> Actor:
        assert self.user is not None, "only signed-in views act"
        return Actor.for_user(self.user)


# --- the request's first query -------------------------------------------------------

_REMEMBERED = so.aliased(Organization, name="remembered")
# Built once (every tenant page runs one): building a statement costs more than its SQL.
_TENANT = sa.select(Tenant.id, Tenant.cache_stamp).where(
    Tenant.slug == sa.bindparam("slug"), Tenant.deleted_at.is_(None)
)
_WITH_USER = _TENANT.add_columns(User).outerjoin(
    User, sa.and_(User.tenant_id == Tenant.id, User.public_id == sa.bindparam("user"))
)
# The switcher's remembered org, if it is live in this tenant and the user may still open
# it (as orgs.accessible_org says: a tenant owner or admin, or a membership at or above).
_WITH_REMEMBERED = _WITH_USER.add_columns(
    _REMEMBERED,
    sa.or_(
        User.tenant_role.in_([TenantRole.OWNER, TenantRole.ADMIN]),
        sa.select(OrgClosure.ancestor_id)
        .join(Membership, Membership.org_id == OrgClosure.ancestor_id)
        .where(OrgClosure.descendant_id == _REMEMBERED.id, Membership.user_id == User.id)
        .exists(),
    ).label("remembered_openable"),
).outerjoin(
    _REMEMBERED,
    sa.and_(
        _REMEMBERED.tenant_id == Tenant.id,
        _REMEMBERED.public_id == sa.bindparam("org"),
        _REMEMBERED.deleted_at.is_(None),
    ),
)


@dataclass(frozen=True)
class FirstRead:
    tenant: Tenant
    user: User | None  # the user the session names, if that is one of this tenant's


def first_read(slug: str, user_id: str | None, org_id: str | None) -> FirstRead | None:
    """The live tenant at ``slug`` (from this process's cache under its current stamp),
    the user with public id ``user_id`` and the remembered org ``org_id``: one query when
    the tenant is cached, two when it is not. None when there is no such tenant. Nothing
    here is trusted yet: Flask-Login checks the user, ``CurrentOrg`` the org's user."""
    if user_id is None:
        row = db.session.execute(_TENANT, {"slug": slug}).first()
    elif org_id is None:
        row = db.session.execute(_WITH_USER, {"slug": slug, "user": user_id}).first()
    else:
        params = {"slug": slug, "user": user_id, "org": org_id}
        row = db.session.execute(_WITH_REMEMBERED, params).first()
    if row is None:
        return None
    tenant = tenant_cache.attached_tenant(row.id, row.cache_stamp)
    user = row[2] if user_id is not None else None
    if org_id is not None and user is not None:
        # For CurrentOrg: this user's remembered org, None if they may not open it.
        g.remembered_org_checked = (user.id, org_id, row[3] if row[4] else None)
    return FirstRead(tenant, user)


def current_scope() -> Scope | None:
    return g.get("scope")


here = cast(Scope, LocalProxy(lambda: g.scope))


class CurrentOrg:
    """The switcher's choice, kept in the session and re-checked on each request at its
    first use: a membership removed or an org deleted meanwhile forgets it instead of
    leaving a stale one."""

    _KEY = "current_org"

    def get(self) -> Organization | None:
        if "current_org" not in g:
            scope = current_scope()
            g.current_org = self._load(scope) if scope and scope.user else None
        return g.current_org

    def remembered_id(self) -> str | None:
        """The org the session remembers, unchecked."""
        public_id = session.get(self._KEY)
        return public_id if isinstance(public_id, str) and public_id else None

    def remember(self, org: Organization) -> None:
        session[self._KEY] = org.public_id
        g.current_org = org

    def forget(self) -> None:
        session.pop(self._KEY, None)
        g.current_org = None

    def _load(self, scope: Scope) -> Organization | None:
        assert scope.user is not None
        if scope.viewing is not None:
            return orgs.remembered_org(scope.user)  # staff never touch the user's session
        public_id = session.get(self._KEY)
        if not public_id:
            return None
        if (
            scope.org is not None
            and scope.org.public_id == public_id
            and scope.access.can(Perm.ORG_READ)
        ):
            return scope.org  # the page's own org, already loaded and checked
        checked = g.get("remembered_org_checked")
        if checked is not None and checked[:2] == (scope.user.id, public_id):
            org = checked[2]  # read with the tenant, this request
        else:
            org = orgs.accessible_org(scope.user, public_id)
        if org is None:
            self.forget()
        return org


current_org = CurrentOrg()
