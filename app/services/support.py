"""The support console's search across tenants (users, orgs, tenants and invitations by
name, address or public id) and its platform-wide audit log with filters.

Staff belong to no tenant, so this search crosses tenants on purpose. Everything else
the console does goes through the services the tenant pages use (accounts, orgs,
members, invitations, passwords, tenants, outbox, view_as) with ``Actor.for_staff``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.errors import NotFound
from app.extensions import db
from app.models import (
    AuditEvent,
    Invitation,
    Organization,
    Tenant,
    User,
)
from app.services import orgs, tenants
from app.services.audit import log as audit_log
from app.services.orgs import PathStep
from app.services.pagination import Page, paginate
from app.services.validation import escape_like

SEARCH_PAGE = 20
# An exact public id: its prefix and a ULID (26 Crockford base-32 characters).
PUBLIC_ID = re.compile(r"^(usr|org|tnt|inv)_([0-9a-z]{26})$", re.IGNORECASE)


class SearchKind(StrEnum):
    """What a search can be narrowed to, to page through one kind of result."""

    USERS = "users"
    ORGS = "orgs"
    TENANTS = "tenants"

    @classmethod
    def named(cls, text: str) -> SearchKind | None:
        """The kind a query string names, or ``None`` (every kind) for anything else."""
        return next((kind for kind in cls if kind.value == text), None)


# --- global search -------------------------------------------------------------------


@dataclass
class UserHit:
    user: User
    tenant: Tenant


@dataclass
class OrgHit:
    org: Organization
    tenant: Tenant
    path: list[PathStep] = field(default_factory=list)


@dataclass
class InvitationHit:
    invitation: Invitation
    org: Organization
    tenant: Tenant
    invitee: User | None  # the account with the invited address, if there is one


def _no_page() -> Page:
    return Page(items=[], page=1, per_page=SEARCH_PAGE, has_next=False)


@dataclass
class SearchResults:
    query: str
    kind: SearchKind | None = None  # one kind paged through, or the first page of each
    page: int = 1
    users: Page[UserHit] = field(default_factory=_no_page)
    orgs: Page[OrgHit] = field(default_factory=_no_page)
    tenants: Page[Tenant] = field(default_factory=_no_page)
    invitations: list[InvitationHit] = field(default_factory=list)
    by_id: bool = False

    @property
    def empty(self) -> bool:
        return not (self.users.items or self.orgs.items or self.tenants.items or self.invitations)


def search(
    query: str,
    *,
    kind: SearchKind | None = None,
    page: int = 1,
    per_page: int = SEARCH_PAGE,
) -> SearchResults:
    """Users whose email or name contains ``query``, orgs and tenants whose name (or slug)
    does, case-insensitively, across tenants; or one thing by its exact public id. ``%``
    and ``_`` match literally. A page of each kind, or with ``kind`` a given page of that
    kind alone; a constant number of queries (at most five; one to three for an id)."""
    query = " ".join(query.split())
    if not query:
        return SearchResults(query)
    exact = PUBLIC_ID.match(query)
    if exact:
        # Prefixes are lowercase and ULIDs uppercase: accept either spelling.
        return _by_public_id(f"{exact.group(1).lower()}_{exact.group(2).upper()}")
    page = page if kind else 1  # without a kind: the first page of each
    results = SearchResults(query, kind=kind, page=page)
    pattern = contains_pattern(query)
    if kind in (None, SearchKind.USERS):
        users = paginate(users_containing(pattern), page, per_page)
        results.users = _hits(users, [UserHit(user, user.tenant) for user in users.items])
    if kind in (None, SearchKind.ORGS):
        found = paginate(orgs_containing(pattern), page, per_page)
        paths = orgs.ancestors_of_many(org.id for org in found.items)
        owners = _tenants_by_id({org.tenant_id for org in found.items})
        hits = [OrgHit(org, owners[org.tenant_id], paths.get(org.id, [])) for org in found.items]
        results.orgs = _hits(found, hits)
    if kind in (None, SearchKind.TENANTS):
        matching = tenants.tenants_matching(query)
        results.tenants = paginate(
            matching.order_by(sa.func.lower(Tenant.name), Tenant.id), page, per_page
        )
    return results


def _hits(found: Page, hits: list) -> Page:
    return Page(items=hits, page=found.page, per_page=found.per_page, has_next=found.has_next)


def _tenants_by_id(ids: set[int]) -> dict[int, Tenant]:
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(sa.select(Tenant).where(Tenant.id.in_(ids)))}


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains ``text``" in lower case, ``%`` and ``_`` literal."""
    return f"%{escape_like(text.lower())}%"


# Each condition is on an expression a trigram index covers on PostgreSQL (users' email
# and lower(name), organizations' lower(name)): addresses are kept in lower case, names
# are compared in it.


def users_containing(pattern: str) -> sa.Select[tuple[User]]:
    """Users (their tenant loaded with them) whose address or name contains the pattern."""
    return (
        sa.select(User)
        .join(Tenant, Tenant.id == User.tenant_id)
        .options(so.contains_eager(User.tenant))
        .where(
            sa.or_(
                User.email.like(pattern, escape="\\"),
                sa.func.lower(User.name).like(pattern, escape="\\"),
            ),
            Tenant.deleted_at.is_(None),
        )
        .order_by(User.email, User.id)
    )


def orgs_containing(pattern: str) -> sa.Select[tuple[Organization]]:
    name = sa.func.lower(Organization.name)
    return (
        sa.select(Organization)
        .join(Tenant, Tenant.id == Organization.tenant_id)
        .where(name.like(pattern, escape="\\"), Tenant.deleted_at.is_(None))
        .order_by(name, Organization.id)
    )


def _by_public_id(public_id: str) -> SearchResults:
    results = SearchResults(public_id, by_id=True)
    kind = public_id.split("_", 1)[0]
    live_tenant = Tenant.deleted_at.is_(None)
    if kind == "usr":
        row = db.session.execute(
            sa.select(User, Tenant)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.public_id == public_id, live_tenant)
        ).first()
        if row:
            user, tenant = row
            results.users = _one(UserHit(user, tenant))
    elif kind == "org":
        row = db.session.execute(
            sa.select(Organization, Tenant)
            .join(Tenant, Tenant.id == Organization.tenant_id)
            .where(Organization.public_id == public_id, live_tenant)
        ).first()
        if row:
            org, tenant = row
            path = orgs.ancestors_of_many([org.id]).get(org.id, [])
            results.orgs = _one(OrgHit(org, tenant, path))
    elif kind == "tnt":
        with contextlib.suppress(NotFound):
            results.tenants = _one(tenants.get_tenant_by_public_id(public_id))
    elif kind == "inv":
        row = db.session.execute(
            sa.select(Invitation, Organization, Tenant)
            .join(Organization, Organization.id == Invitation.org_id)
            .join(Tenant, Tenant.id == Invitation.tenant_id)
            .where(Invitation.public_id == public_id, live_tenant)
        ).first()
        if row:
            invitation, org, tenant = row
            invitee = db.session.scalar(
                sa.select(User).where(User.tenant_id == tenant.id, User.email == invitation.email)
            )
            results.invitations.append(InvitationHit(invitation, org, tenant, invitee))
    return results


def _one(hit) -> Page:
    return Page(items=[hit], page=1, per_page=SEARCH_PAGE, has_next=False)


# --- the platform's audit log --------------------------------------------------------

AUDIT_PAGE = 50


@dataclass(frozen=True)
class PlatformEventFilters:
    """What to narrow the platform's log to; empty strings and ``None`` mean "any".

    ``actor`` matches a fragment of the actor's label or their exact public id, ``action``
    is a prefix (``tenant.`` finds every tenant action), ``tenant`` a fragment of the
    tenant's name or slug or its exact public id, and the dates are whole UTC days, both
    ends included.
    """

    actor: str = ""
    action: str = ""
    tenant: str = ""
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return any((self.actor, self.action, self.tenant, self.since, self.until))


def platform_events(
    filters: PlatformEventFilters | None = None, *, page: int = 1, per_page: int = AUDIT_PAGE
) -> Page[AuditEvent]:
    """One page of every tenant's events (and the platform's own), newest first."""
    filters = filters or PlatformEventFilters()
    stmt = sa.select(AuditEvent).options(so.joinedload(AuditEvent.tenant))
    if filters.actor:
        stmt = stmt.where(audit_log.by_actor(filters.actor))
    if filters.action:
        stmt = stmt.where(audit_log.by_action_prefix(filters.action))
    if filters.tenant:
        by_id = sa.select(Tenant.id).where(Tenant.public_id == filters.tenant)
        matching = tenants.tenants_matching(filters.tenant).with_only_columns(Tenant.id)
        stmt = stmt.where(AuditEvent.tenant_id.in_(sa.union(by_id, matching)))
    stmt = stmt.where(*audit_log.within_days(filters.since, filters.until))
    order = (AuditEvent.created_at.desc(), AuditEvent.id.desc())
    return paginate(stmt.order_by(*order), page, per_page)
