"""The support console's search across tenants: users, orgs and invitations by name,
address or public id.

Staff belong to no tenant, so this search crosses tenants on purpose. Everything else
the console does goes through the services the tenant pages use (accounts, orgs,
members, invitations, passwords, tenants, outbox, view_as) with ``Actor.for_staff``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from app.errors import NotFound
from app.extensions import db
from app.models import (
    Invitation,
    Organization,
    Tenant,
    User,
)
from app.services import orgs, tenants
from app.services.orgs import PathStep
from app.services.validation import escape_like

SEARCH_LIMIT = 20
# An exact public id: its prefix and a ULID (26 Crockford base-32 characters).
PUBLIC_ID = re.compile(r"^(usr|org|tnt|inv)_([0-9a-z]{26})$", re.IGNORECASE)


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


@dataclass
class SearchResults:
    query: str
    users: list[UserHit] = field(default_factory=list)
    orgs: list[OrgHit] = field(default_factory=list)
    tenants: list[Tenant] = field(default_factory=list)
    invitations: list[InvitationHit] = field(default_factory=list)
    by_id: bool = False
    more_users: bool = False
    more_orgs: bool = False
    more_tenants: bool = False

    @property
    def empty(self) -> bool:
        return not (self.users or self.orgs or self.tenants or self.invitations)


def search(query: str, *, limit: int = SEARCH_LIMIT) -> SearchResults:
    """Users by the start of their email or name, orgs by the start of their name,
    tenants by a fragment of name or slug, all across tenants; or one thing by its exact
    public id. ``%`` and ``_`` match literally. At most ``limit`` of each kind, in a
    constant number of queries (at most five; one to three for an id)."""
    query = " ".join(query.split())
    if not query:
        return SearchResults(query)
    exact = PUBLIC_ID.match(query)
    if exact:
        # Prefixes are lowercase and ULIDs uppercase: accept either spelling.
        return _by_public_id(f"{exact.group(1).lower()}_{exact.group(2).upper()}")
    results = SearchResults(query)
    text = query.lower()
    by_email = db.session.execute(users_by_email(text, limit + 1)).all()
    by_name = db.session.execute(users_by_name(text, limit + 1)).all()
    seen: set[int] = set()
    for user, tenant in [*by_email, *by_name]:
        if user.id not in seen:
            seen.add(user.id)
            results.users.append(UserHit(user, tenant))
    results.more_users = len(by_email) > limit or len(by_name) > limit or len(seen) > limit
    results.users = results.users[:limit]

    org_rows = db.session.execute(orgs_by_name(text, limit + 1)).all()
    results.more_orgs = len(org_rows) > limit
    paths = orgs.ancestors_of_many(org.id for org, _tenant in org_rows[:limit])
    results.orgs = [OrgHit(org, tenant, paths.get(org.id, [])) for org, tenant in org_rows[:limit]]

    found = tenants.search_tenants(query, per_page=limit)
    results.tenants, results.more_tenants = found.items, found.has_next
    return results


# Each reads one index in its order and stops at ``limit`` rows; the indexes are
# users (email), users (lower(name)) and organizations (lower(name)), each with
# text_pattern_ops on PostgreSQL.


def users_by_email(prefix: str, limit: int) -> sa.Select[tuple[User, Tenant]]:
    return _users_where(User.email, prefix, limit)


def users_by_name(prefix: str, limit: int) -> sa.Select[tuple[User, Tenant]]:
    return _users_where(sa.func.lower(User.name), prefix, limit)


def _users_where(expr: sa.ColumnElement[str], prefix: str, limit: int) -> sa.Select:
    return (
        sa.select(User, Tenant)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(starts_with(expr, prefix), Tenant.deleted_at.is_(None))
        .order_by(CodePointOrder(expr), User.id)
        .limit(limit)
    )


def orgs_by_name(prefix: str, limit: int) -> sa.Select[tuple[Organization, Tenant]]:
    name = sa.func.lower(Organization.name)
    return (
        sa.select(Organization, Tenant)
        .join(Tenant, Tenant.id == Organization.tenant_id)
        .where(starts_with(name, prefix), Tenant.deleted_at.is_(None))
        .order_by(CodePointOrder(name), Organization.id)
        .limit(limit)
    )


class CodePointOrder(sa.sql.expression.ColumnElement[str]):
    """``ORDER BY expr`` in code point order, the order of the search indexes:
    ``USING ~<~`` on PostgreSQL (a ``text_pattern_ops`` index is kept in it), and SQLite's
    default (binary) order. Read in index order, a search stops after the rows it shows."""

    _traverse_internals = [("expr", InternalTraversal.dp_clauseelement)]
    inherit_cache = True

    def __init__(self, expr: sa.ColumnElement[str]) -> None:
        self.expr = expr
        self.type = expr.type


@compiles(CodePointOrder)
def _code_point_order(element: CodePointOrder, compiler, **kw) -> str:
    return compiler.process(element.expr, **kw)


@compiles(CodePointOrder, "postgresql")
def _code_point_order_postgresql(element: CodePointOrder, compiler, **kw) -> str:
    return f"{compiler.process(element.expr, **kw)} USING ~<~"


def starts_with(expr: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    """``expr`` begins with ``prefix``, literally (``%`` and ``_`` are just characters),
    written so that an index answers it.

    PostgreSQL turns ``LIKE 'abc%'`` into an index range itself (given a
    ``text_pattern_ops`` index). SQLite does that only for a NOCASE index, so there the
    condition is also spelled as the range it is: in code point order the strings that
    start with ``abc`` are those from ``abc`` up to, not including, ``abd``.
    """
    condition = expr.like(f"{escape_like(prefix)}%", escape="\\")
    if db.session.get_bind().dialect.name != "sqlite":
        return condition
    after = ord(prefix[-1]) + 1
    if 0xD800 <= after <= 0xDFFF:  # surrogates are not characters: skip to the next one
        after = 0xE000
    if after > 0x10FFFF:
        return condition
    return sa.and_(expr >= prefix, expr < prefix[:-1] + chr(after), condition)


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
            results.users.append(UserHit(user, tenant))
    elif kind == "org":
        row = db.session.execute(
            sa.select(Organization, Tenant)
            .join(Tenant, Tenant.id == Organization.tenant_id)
            .where(Organization.public_id == public_id, live_tenant)
        ).first()
        if row:
            org, tenant = row
            path = orgs.ancestors_of_many([org.id]).get(org.id, [])
            results.orgs.append(OrgHit(org, tenant, path))
    elif kind == "tnt":
        with contextlib.suppress(NotFound):
            results.tenants.append(tenants.get_tenant_by_public_id(public_id))
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
