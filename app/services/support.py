"""The support console's search across tenants (users, orgs, tenants and invitations by
name, address or public id) and its platform-wide audit log with filters.

Staff belong to no tenant, so this search crosses tenants on purpose. Everything else
the console does goes through the services the tenant pages use (accounts, orgs,
members, invitations, passwords, tenants, outbox, view_as) with ``Actor.for_staff``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa

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
from app.services.pagination import Cursor, KeysetPage, keyset_page
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


# A page's edge row in a search: (email, id) for users, (lower-cased name, id) for orgs
# and tenants.
SEARCH_CURSOR = (str, int)


@dataclass
class OrgHit:
    """An org found (a plain row: id, public_id, name, deleted_at, tenant_public_id,
    tenant_name), with the path down to it."""

    org: sa.Row
    path: list[PathStep] = field(default_factory=list)


@dataclass
class InvitationHit:
    invitation: Invitation
    org: Organization
    tenant: Tenant
    invitee: User | None  # the account with the invited address, if there is one


def _no_page() -> KeysetPage:
    return KeysetPage(items=[], per_page=SEARCH_PAGE)


@dataclass
class SearchResults:
    """Users are plain rows (id, public_id, name, email, tenant_role, is_active_account,
    tenant_public_id, tenant_name), tenants too (id, public_id, name, slug, status)."""

    query: str
    kind: SearchKind | None = None  # one kind paged through, or the first page of each
    paged: bool = False  # a page after (or before) some result, not the first
    users: KeysetPage = field(default_factory=_no_page)
    orgs: KeysetPage[OrgHit] = field(default_factory=_no_page)
    tenants: KeysetPage = field(default_factory=_no_page)
    invitations: list[InvitationHit] = field(default_factory=list)
    by_id: bool = False

    @property
    def empty(self) -> bool:
        return not (self.users.items or self.orgs.items or self.tenants.items or self.invitations)


def search(
    query: str,
    *,
    kind: SearchKind | None = None,
    cursor: Cursor | None = None,
    per_page: int = SEARCH_PAGE,
) -> SearchResults:
    """Users whose email or name contains ``query``, orgs and tenants whose name (or slug)
    does, case-insensitively, across tenants; or one thing by its exact public id. ``%``
    and ``_`` match literally. The first page of each kind, or with ``kind`` a page of
    that kind alone, by key from ``cursor``; a constant number of queries (at most four;
    one to three for an id)."""
    query = " ".join(query.split())
    if not query:
        return SearchResults(query)
    exact = PUBLIC_ID.match(query)
    if exact:
        # Prefixes are lowercase and ULIDs uppercase: accept either spelling.
        return _by_public_id(f"{exact.group(1).lower()}_{exact.group(2).upper()}")
    cursor = cursor if kind else None  # without a kind: the first page of each
    results = SearchResults(query, kind=kind, paged=cursor is not None)
    pattern = contains_pattern(query)
    if kind in (None, SearchKind.USERS):
        results.users = keyset_page(
            users_containing(pattern),
            [User.email, User.id],
            cursor=cursor,
            per_page=per_page,
            key_of=lambda row: (row.email, row.id),
        )
    if kind in (None, SearchKind.ORGS):
        found = keyset_page(
            orgs_containing(pattern),
            [_ORG_SORT_NAME, Organization.id],
            cursor=cursor,
            per_page=per_page,
            key_of=lambda row: (row.sort_name, row.id),
        )
        paths = orgs.ancestors_of_many(row.id for row in found.items)
        hits = [OrgHit(row, paths.get(row.id, [])) for row in found.items]
        results.orgs = replace(found, items=hits)
    if kind in (None, SearchKind.TENANTS):
        sort_name = sa.func.lower(Tenant.name)
        results.tenants = keyset_page(
            tenants.tenants_matching(query).with_only_columns(
                *_TENANT_COLUMNS, sort_name.label("sort_name")
            ),
            [sort_name, Tenant.id],
            cursor=cursor,
            per_page=per_page,
            key_of=lambda row: (row.sort_name, row.id),
        )
    return results


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains ``text``" in lower case, ``%`` and ``_`` literal."""
    return f"%{escape_like(text.lower())}%"


# Each condition is on an expression a trigram index covers on PostgreSQL (users' email
# and lower(name), organizations' lower(name)): addresses are kept in lower case, names
# are compared in it.


_USER_COLUMNS = (
    User.id,
    User.public_id,
    User.name,
    User.email,
    User.tenant_role,
    User.is_active_account,
    Tenant.public_id.label("tenant_public_id"),
    Tenant.name.label("tenant_name"),
)
_ORG_SORT_NAME = sa.func.lower(Organization.name)
_ORG_COLUMNS = (
    Organization.id,
    Organization.public_id,
    Organization.name,
    Organization.deleted_at,
    Tenant.public_id.label("tenant_public_id"),
    Tenant.name.label("tenant_name"),
)
_TENANT_COLUMNS = (Tenant.id, Tenant.public_id, Tenant.name, Tenant.slug, Tenant.status)


def users_containing(pattern: str) -> sa.Select:
    """Users (with their tenant's id and name) whose address or name contains the
    pattern, as plain rows; unordered."""
    return (
        sa.select(*_USER_COLUMNS)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(
            sa.or_(
                User.email.like(pattern, escape="\\"),
                sa.func.lower(User.name).like(pattern, escape="\\"),
            ),
            Tenant.deleted_at.is_(None),
        )
    )


def orgs_containing(pattern: str) -> sa.Select:
    """Orgs (with their tenant's id and name, and their lower-cased name to sort by) whose
    name contains the pattern, as plain rows; unordered."""
    return (
        sa.select(*_ORG_COLUMNS, _ORG_SORT_NAME.label("sort_name"))
        .join(Tenant, Tenant.id == Organization.tenant_id)
        .where(_ORG_SORT_NAME.like(pattern, escape="\\"), Tenant.deleted_at.is_(None))
    )


def _by_public_id(public_id: str) -> SearchResults:
    results = SearchResults(public_id, by_id=True)
    kind = public_id.split("_", 1)[0]
    live_tenant = Tenant.deleted_at.is_(None)
    if kind == "usr":
        row = db.session.execute(
            sa.select(*_USER_COLUMNS)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.public_id == public_id, live_tenant)
        ).first()
        if row:
            results.users = _one(row)
    elif kind == "org":
        row = db.session.execute(
            sa.select(*_ORG_COLUMNS)
            .join(Tenant, Tenant.id == Organization.tenant_id)
            .where(Organization.public_id == public_id, live_tenant)
        ).first()
        if row:
            path = orgs.ancestors_of_many([row.id]).get(row.id, [])
            results.orgs = _one(OrgHit(row, path))
    elif kind == "tnt":
        row = db.session.execute(
            sa.select(*_TENANT_COLUMNS).where(Tenant.public_id == public_id, live_tenant)
        ).first()
        if row:
            results.tenants = _one(row)
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


def _one(hit) -> KeysetPage:
    return KeysetPage(items=[hit], per_page=SEARCH_PAGE)


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


# A page's edge row in the platform's log: (created_at, id).
AUDIT_CURSOR = (datetime, int)


def platform_events(
    filters: PlatformEventFilters | None = None,
    *,
    cursor: Cursor | None = None,
    per_page: int = AUDIT_PAGE,
) -> KeysetPage:
    """One page of every tenant's events (and the platform's own), newest first, by key:
    plain rows with every column of an event and its tenant's ``tenant_public_id`` and
    ``tenant_name`` (None for the platform's own)."""
    filters = filters or PlatformEventFilters()
    stmt = sa.select(
        *AuditEvent.__table__.c,
        Tenant.public_id.label("tenant_public_id"),
        Tenant.name.label("tenant_name"),
    ).outerjoin(Tenant, Tenant.id == AuditEvent.tenant_id)
    if filters.actor:
        stmt = stmt.where(audit_log.by_actor(filters.actor))
    if filters.action:
        stmt = stmt.where(audit_log.by_action_prefix(filters.action))
    if filters.tenant:
        by_id = sa.select(Tenant.id).where(Tenant.public_id == filters.tenant)
        matching = tenants.tenants_matching(filters.tenant).with_only_columns(Tenant.id)
        stmt = stmt.where(AuditEvent.tenant_id.in_(sa.union(by_id, matching)))
    stmt = stmt.where(*audit_log.within_days(filters.since, filters.until))
    return keyset_page(
        stmt,
        [AuditEvent.created_at, AuditEvent.id],
        cursor=cursor,
        per_page=per_page,
        key_of=lambda row: (row.created_at, row.id),
        descending=True,
    )
