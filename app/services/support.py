"""What the support console needs beyond the tenant-facing services.

Staff belong to no tenant, so the reads here cross tenants on purpose: finding a user,
an org or anything by its public id, a tenant's state at a glance, one level of its org
tree. Changes a tenant page can also make go through that page's service (members,
invitations, orgs, passwords, accounts) with ``Actor.for_staff``; what only staff do
(retrying a failed email, viewing as a user) is here, audited in the tenant's log.
Nothing here commits.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from app.actors import Actor
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    OutboxEmail,
    OutboxStatus,
    StaffUser,
    Tenant,
    User,
    utcnow,
)
from app.policy import StaffAction, require_staff_permission
from app.services import audit, orgs, passwords, tenants
from app.services.orgs import PathStep
from app.services.pagination import Page, paginate
from app.services.validation import escape_like

SEARCH_LIMIT = 20
ORG_LEVEL_LIMIT = 100
FAILED_EMAILS_LIMIT = 50
VIEW_AS_MINUTES = 30
MAX_REASON = 300
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


# --- a tenant at a glance ------------------------------------------------------------


@dataclass
class TenantStats:
    users: int = 0
    deactivated_users: int = 0
    memberships: int = 0
    orgs: int = 0
    deleted_orgs: int = 0
    invitations: dict[str, int] = field(default_factory=dict)  # by effective status
    outbox: dict[str, int] = field(default_factory=dict)  # by status


def tenant_stats(tenant: Tenant) -> TenantStats:
    """Every count the tenant page shows, in one query (a UNION ALL of small counts)."""
    now = utcnow()

    def part(kind: str, key: sa.ColumnElement, model: type) -> sa.Select:
        return sa.select(
            sa.literal(kind, sa.String).label("kind"),
            sa.cast(key, sa.String).label("key"),
            sa.func.count().label("n"),
        ).select_from(model)

    user_state = sa.case((User.is_active_account.is_(True), "active"), else_="deactivated")
    org_state = sa.case((Organization.deleted_at.is_(None), "live"), else_="deleted")
    invitation_state = sa.case(
        (
            sa.and_(Invitation.status == InvitationStatus.PENDING, Invitation.expires_at <= now),
            InvitationStatus.EXPIRED,
        ),
        else_=Invitation.status,
    )
    parts = [
        part("users", user_state, User).where(User.tenant_id == tenant.id).group_by(user_state),
        part("orgs", org_state, Organization)
        .where(Organization.tenant_id == tenant.id)
        .group_by(org_state),
        part("memberships", sa.literal("all", sa.String), Membership)
        .join(Organization, Organization.id == Membership.org_id)
        .where(Organization.tenant_id == tenant.id, Organization.deleted_at.is_(None)),
        part("invitations", invitation_state, Invitation)
        .where(Invitation.tenant_id == tenant.id)
        .group_by(invitation_state),
        part("outbox", OutboxEmail.status, OutboxEmail)
        .where(OutboxEmail.tenant_id == tenant.id)
        .group_by(OutboxEmail.status),
    ]
    stats = TenantStats()
    for kind, key, count in db.session.execute(sa.union_all(*parts)):
        if kind == "users":
            stats.users += count
            if key == "deactivated":
                stats.deactivated_users = count
        elif kind == "orgs":
            if key == "live":
                stats.orgs = count
            else:
                stats.deleted_orgs = count
        elif kind == "memberships":
            stats.memberships = count
        elif kind == "invitations":
            stats.invitations[key] = count
        elif kind == "outbox":
            stats.outbox[key] = count
    return stats


@dataclass
class OrgNode:
    org: Organization
    child_count: int = 0
    member_count: int = 0


def get_live_org(tenant: Tenant, public_id: str) -> Organization:
    return orgs.get_org_by_public_id(tenant, public_id)


def org_level(
    tenant: Tenant, parent: Organization | None, *, offset: int = 0
) -> tuple[list[OrgNode], bool]:
    """One level of a tenant's live org tree, by name, with child and member counts; three
    queries at any size (orgs.children needs a viewing user, staff are none)."""
    level = Organization.parent_id == parent.id if parent else Organization.parent_id.is_(None)
    rows = list(
        db.session.scalars(
            sa.select(Organization)
            .where(Organization.tenant_id == tenant.id, Organization.deleted_at.is_(None), level)
            .order_by(Organization.name, Organization.id)
            .offset(max(0, offset))
            .limit(ORG_LEVEL_LIMIT + 1)
        )
    )
    more = len(rows) > ORG_LEVEL_LIMIT
    rows = rows[:ORG_LEVEL_LIMIT]
    ids = [org.id for org in rows]
    child_counts: dict[int, int] = {}
    if ids:
        child_counts = dict(
            db.session.execute(
                sa.select(Organization.parent_id, sa.func.count())
                .where(Organization.parent_id.in_(ids), Organization.deleted_at.is_(None))
                .group_by(Organization.parent_id)
            ).all()
        )
    member_counts = orgs.member_counts_for(ids)
    nodes = [
        OrgNode(org, child_counts.get(org.id, 0), member_counts.get(org.id, 0)) for org in rows
    ]
    return nodes, more


# --- the outbox ----------------------------------------------------------------------


def failed_emails(tenant: Tenant, *, limit: int = FAILED_EMAILS_LIMIT) -> list[OutboxEmail]:
    return list(
        db.session.scalars(
            sa.select(OutboxEmail)
            .where(OutboxEmail.tenant_id == tenant.id, OutboxEmail.status == OutboxStatus.FAILED)
            .order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
            .limit(limit)
        )
    )


def get_email(tenant: Tenant, email_id: str) -> OutboxEmail:
    """One of this tenant's outbox emails (emails have no public id: the row id, checked
    against the tenant, so another tenant's number is simply not found)."""
    if not email_id.isdigit() or len(email_id) > 18:
        raise NotFound("No such email.")
    email = db.session.scalar(
        sa.select(OutboxEmail).where(
            OutboxEmail.id == int(email_id), OutboxEmail.tenant_id == tenant.id
        )
    )
    if email is None:
        raise NotFound("No such email.")
    return email


def retry_email(actor: Actor, tenant: Tenant, email: OutboxEmail) -> OutboxEmail:
    """Put a failed email back in the queue, due now, with a fresh set of attempts."""
    require_staff_permission(actor, StaffAction.OUTBOX_RETRY, "retry emails")
    if email.tenant_id != tenant.id:
        raise NotFound("No such email.")
    before = {"status": email.status, "attempts": email.attempts}
    # Conditional: a second click (or a second person) can't queue it twice.
    changed = db.session.execute(
        sa.update(OutboxEmail)
        .where(OutboxEmail.id == email.id, OutboxEmail.status == OutboxStatus.FAILED)
        .values(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(), locked_until=None
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(f"Only a failed email can be retried; this one is {email.status}.")
    db.session.refresh(email)
    audit.record(
        actor,
        "email.retried",
        tenant=tenant,
        target=email,
        before=before,
        after={"status": email.status, "attempts": email.attempts},
    )
    return email


# --- users ---------------------------------------------------------------------------


def get_user(public_id: str) -> User:
    """A user of any (not deleted) tenant, with the tenant loaded."""
    user = db.session.scalar(
        sa.select(User)
        .join(Tenant, Tenant.id == User.tenant_id)
        .options(so.contains_eager(User.tenant))
        .where(User.public_id == public_id, Tenant.deleted_at.is_(None))
    )
    if user is None:
        raise NotFound("No such user.")
    return user


def send_password_reset(actor: Actor, user: User) -> None:
    """Email the user a reset link now (the same email and audit as "Forgot password")."""
    require_staff_permission(actor, StaffAction.USERS_MANAGE, "send password resets")
    if not user.is_active_account:
        raise Conflict(f"{user.email} is deactivated: reactivate the account first.")
    tenant = db.session.get(Tenant, user.tenant_id)
    assert tenant is not None
    passwords.request_reset(tenant, user.email, actor=actor)


def events_about(user: User, *, limit: int = 20) -> list[AuditEvent]:
    """The newest audit events whose target is this user, in their tenant."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.tenant_id == user.tenant_id, AuditEvent.target_id == user.public_id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def invitation_for(user: User, public_id: str) -> tuple[Invitation, Organization]:
    """One of the invitations to this user's address in their tenant, with its org."""
    row = db.session.execute(
        sa.select(Invitation, Organization)
        .join(Organization, Organization.id == Invitation.org_id)
        .where(
            Invitation.public_id == public_id,
            Invitation.tenant_id == user.tenant_id,
            Invitation.email == user.email,
        )
    ).first()
    if row is None:
        raise NotFound("No such invitation.")
    invitation, org = row
    return invitation, org


# --- viewing as a user ---------------------------------------------------------------


def clean_reason(raw: str | None) -> str:
    reason = " ".join((raw or "").split())
    if not reason:
        raise ValidationFailed("Say why you need to see what this user sees.", field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"Keep it under {MAX_REASON} characters.", field="reason")
    return reason


def start_view_as(actor: Actor, user: User, reason: str) -> datetime:
    """Audit the start of a read-only look at the tenant as ``user``; returns its end."""
    require_staff_permission(actor, StaffAction.VIEW_AS, "view as a user")
    reason = clean_reason(reason)
    until = utcnow() + timedelta(minutes=VIEW_AS_MINUTES)
    _record_view_as(
        actor, "staff.view_as_started", user, {"reason": reason, "until": until.isoformat()}
    )
    return until


def end_view_as(actor: Actor, user: User, *, why: str, reason: str) -> None:
    """``why``: "expired", "ended", "replaced", "signed out"; ``reason``: the one given
    at the start."""
    _record_view_as(actor, "staff.view_as_ended", user, {"reason": why, "view_reason": reason})


def _record_view_as(actor: Actor, action: str, user: User, after: dict[str, str]) -> None:
    tenant = db.session.get(Tenant, user.tenant_id)
    audit.record(actor, action, tenant=tenant, target=user, after=after)


def find_user(public_id: str | None) -> User | None:
    if not public_id:
        return None
    return db.session.scalar(sa.select(User).where(User.public_id == public_id))


# --- staff accounts ------------------------------------------------------------------


def list_staff(*, page: int = 1, per_page: int = 50) -> Page[StaffUser]:
    return paginate(sa.select(StaffUser).order_by(StaffUser.email), page, per_page)


def get_staff(public_id: str) -> StaffUser:
    staff = db.session.scalar(sa.select(StaffUser).where(StaffUser.public_id == public_id))
    if staff is None:
        raise NotFound("No such staff account.")
    return staff
