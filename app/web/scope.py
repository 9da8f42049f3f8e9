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

from flask import g, session
from werkzeug.local import LocalProxy

from app.actors import Actor
from app.models import Organization, Tenant, User
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
        org = orgs.accessible_org(scope.user, public_id)
        if org is None:
            self.forget()
        return org


current_org = CurrentOrg()
