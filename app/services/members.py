"""Members of an org: who belongs (directly or from above), and changing that.

The rules live here: permissions, roles an actor may grant, seat limits, and the one
that keeps every org owned: the last owner can't leave, be removed or be demoted, even
when two owners try it at the same instant (the tree's root row is locked first).
"""

from __future__ import annotations

import csv
import io
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.actors import Actor
from app.database import one_of
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    OrgClosure,
    Team,
    TeamMember,
    Tenant,
    User,
    utcnow,
)
from app.policy import (
    OrgAccess,
    Perm,
    Role,
    RoleDef,
    access,
    actor_access,
    can_manage_member,
    can_transfer_ownership,
    grantable_roles,
    role_catalog,
    strongest,
)
from app.services import audit
from app.services.pagination import Cursor, KeysetPage, cursor_from, keyset_page
from app.services.validation import escape_like

# Up to this many memberships in an org's tree (or holders of the role filtered on),
# members are fetched by id rather than found by walking the tenant's users in page
# order (see members_query). A role filter's walk also probes each user's roles, so it
# pays to fetch by id up to a higher count.
FEW_MEMBERS = 1000
FEW_HOLDERS = 2000
# A removal can be undone for this long, by anyone who may still add members there.
UNDO_WINDOW = timedelta(minutes=10)
_UNDO_SALT = "tenantry.members.undo-removal"
# How long a dense tree's "about N members" is reused before it is counted again:
# counting 100,000 memberships costs more than the rest of the page.
ESTIMATE_TTL = timedelta(minutes=5)
_ESTIMATES_KEPT = 1000
_estimates: dict[tuple[int, ...], tuple[int, datetime]] = {}


@dataclass(frozen=True)
class Sort:
    """A list order: unique, non-NULL key columns (names are NOT NULL; emails unique in
    a tenant), read forwards or backwards."""

    key: tuple[sa.ColumnElement, ...]
    descending: bool = False

    def key_of(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, column.key) for column in self.key)

    def cursor(self, args: Mapping[str, str]) -> Cursor | None:
        """``?after=``/``?before=`` if it holds a key of this order (a name and an id, or
        an address): anything else, or a token of another sort, means the first page."""
        found = cursor_from(args, len(self.key))
        kinds = tuple(column.type.python_type for column in self.key)
        if found is None or tuple(type(part) for part in found.key) != kinds:
            return None
        return found


_BY_NAME = (User.name, User.id)
SORTS = {
    "name": Sort(_BY_NAME),
    "-name": Sort(_BY_NAME, descending=True),
    "email": Sort((User.email,)),
    "-email": Sort((User.email,), descending=True),
}
LETTERS = tuple(string.ascii_uppercase)


@dataclass(frozen=True)
class OrgRef:
    """What a member row shows of the org a role comes from (whole rows cost more here)."""

    id: int
    public_id: str
    name: str
    slug: str


@dataclass(frozen=True)
class Person:
    """What a member list shows of a user: four columns, not an ORM entity."""

    id: int
    public_id: str
    name: str
    email: str

    @property
    def display_name(self) -> str:
        return self.name or self.email


PERSON_COLUMNS = (User.id, User.public_id, User.name, User.email)


@dataclass(frozen=True)
class TeamRef:
    public_id: str
    name: str


@dataclass
class MemberRow:
    user: Person | User  # a Person for lists; the API passes the users it loaded
    role: str
    direct_role: str | None
    source: OrgRef | None  # the ancestor the effective role comes from, if inherited
    joined_at: datetime | None
    teams: list[TeamRef] = field(default_factory=list)

    @property
    def is_direct(self) -> bool:
        return self.source is None


def start_at(letter: str, sort: str = "name") -> Cursor | None:
    """A cursor that starts the name-sorted list at ``letter`` (A to Z), None otherwise."""
    letter = letter.upper()
    if sort != "name" or letter not in LETTERS:
        return None
    return Cursor("after", (letter, 0))  # every id is above 0: names from the letter on


def list_members(
    tenant: Tenant,
    org: Organization,
    *,
    query: str = "",
    role: str | None = None,
    sort: str = "name",
    cursor: Cursor | None = None,
    per_page: int = 50,
    chain: list[OrgRef] | None = None,
    count: bool = False,
) -> KeysetPage[MemberRow]:
    """Direct and inherited members, one page read by key (``cursor``, None for the first):
    the thousandth page costs what the first does, in a constant number of queries.

    With ``count``, the page also says how many: exactly when the tree has few members
    (or the role filter few holders), else, unfiltered, about how many memberships the
    tree holds (``about``); a search of a big tree is not counted. ``chain`` is
    ``chain_of(org)`` when the caller has it already (for breadcrumbs)."""
    chain = chain if chain is not None else chain_of(org)
    tree_ids = tuple(step.id for step in chain)
    catalog = role_catalog(tenant.id)
    filtered = role in catalog
    few = _few_members(list(tree_ids), role if filtered else None)
    stmt = _members_select(
        PERSON_COLUMNS, tenant, query=query, role=role, catalog=catalog, tree_ids=list(tree_ids),
        few=few,
    )  # fmt: skip
    total, about = None, False
    if count and few is not None:
        # At most FEW_MEMBERS (FEW_HOLDERS) ids to count, in the page's own query.
        total_column = sa.select(sa.func.count()).select_from(stmt.subquery()).scalar_subquery()
    elif count and not query and not filtered:
        total, about = _cached_estimate(tree_ids), True
        total_column = None if total is not None else _estimate_query(tree_ids)
    else:
        total_column = None
    if total_column is not None:
        stmt = stmt.add_columns(total_column.label("total"))
    order = SORTS.get(sort, SORTS["name"])
    page = keyset_page(
        stmt, order.key, cursor=cursor, per_page=per_page, key_of=order.key_of,
        descending=order.descending,
    )  # fmt: skip
    if total_column is not None and page.items:
        total = page.items[0].total
        if about:
            _estimates[tree_ids] = (total, utcnow() + ESTIMATE_TTL)
    people = [Person(row.id, row.public_id, row.name, row.email) for row in page.items]
    return replace(
        page,
        items=_rows(org, people, catalog, chain),
        total=total if page.items or cursor is None else None,
        about=about,
    )


def _estimate_query(tree_ids: tuple[int, ...]) -> sa.ScalarSelect[int]:
    """The tree's memberships: an upper bound of its members (one person can hold a role
    at two levels), read as a column of the page's own query."""
    return (
        sa.select(sa.func.count())
        .select_from(Membership)
        .where(one_of(Membership.org_id, list(tree_ids)))
        .scalar_subquery()
    )


def _cached_estimate(tree_ids: tuple[int, ...]) -> int | None:
    kept = _estimates.get(tree_ids)
    if kept is None or kept[1] <= utcnow():
        if len(_estimates) >= _ESTIMATES_KEPT:
            _estimates.clear()
        return None
    return kept[0]


def chain_of(org: Organization) -> list[OrgRef]:
    """The org and its ancestors, nearest first (the org itself, its parent, … the root):
    where a member's roles can come from. One query."""
    rows = db.session.execute(
        sa.select(Organization.id, Organization.public_id, Organization.name, Organization.slug)
        .join(OrgClosure, OrgClosure.ancestor_id == Organization.id)
        .where(OrgClosure.descendant_id == org.id)
        .order_by(OrgClosure.depth)
    )
    return [OrgRef(*row) for row in rows]


def members_query(
    tenant: Tenant,
    org: Organization,
    *,
    query: str = "",
    role: str | None = None,
    chain: list[OrgRef] | None = None,
) -> sa.Select[tuple[User]]:
    """The users who belong to ``org`` directly or from above, filtered, in no order yet."""
    catalog = role_catalog(tenant.id)
    # The org and its ancestors, as plain ids: planners misjudge the closure join here
    # (nearly every membership sits in a handful of ancestors) and pick slow plans.
    tree_ids = [step.id for step in (chain if chain is not None else chain_of(org))]
    few = _few_members(tree_ids, role if role in catalog else None)
    return _members_select(
        (User,), tenant, query=query, role=role, catalog=catalog, tree_ids=tree_ids, few=few
    )


def _members_select(
    columns: tuple[Any, ...],
    tenant: Tenant,
    *,
    query: str,
    role: str | None,
    catalog: dict[str, RoleDef],
    tree_ids: list[int],
    few: list[int] | None,
) -> sa.Select:
    """``columns`` of the members in the tree ``tree_ids``, filtered; ``few`` is what
    ``_few_members`` found."""

    def holding(*roles: str):
        stmt = sa.select(Membership.user_id).where(one_of(Membership.org_id, tree_ids))
        return stmt.where(Membership.role.in_(roles)) if roles else stmt

    filtered = role in catalog
    if few is not None:
        # A sparse tree (or a rare role): fetch those members by primary key and sort
        # just them. The ids come from this tenant's org tree, so no tenant_id term: with
        # one, a planner without statistics (SQLite's, before ANALYZE) walks the tenant's
        # users instead, and PostgreSQL's, guessing how rare a role is, does the same.
        stmt = sa.select(*columns).where(one_of(User.id, few))
    else:
        # A dense tree: walk the tenant's users in page order from the cursor's key
        # (ix_users_tenant_id_name_id_email, or the (tenant_id, email) key) and stop at a
        # page.
        stmt = sa.select(*columns).where(User.tenant_id == tenant.id)
    if query:
        pattern = f"%{escape_like(query.lower())}%"
        by_email = User.email.like(pattern, escape="\\")  # emails are stored lower-cased
        by_name = sa.func.lower(User.name).like(pattern, escape="\\")
        # Names hold no "@": such a search is about addresses only (half the work).
        stmt = stmt.where(by_email if "@" in query else sa.or_(by_name, by_email))
    if filtered:
        assert role is not None
        # Effective role = the strongest held: holds `role`, holds nothing stronger.
        stronger = [k for k, r in catalog.items() if r.strength > catalog[role].strength]
        if few is None:
            stmt = stmt.where(User.id.in_(holding(role)))
        if stronger:
            # NOT EXISTS, not NOT IN: PostgreSQL turns it into an anti-join.
            stmt = stmt.where(~holding(*stronger).where(Membership.user_id == User.id).exists())
    elif few is None:
        in_tree = (
            sa.select(Membership.id)
            .where(Membership.user_id == User.id, one_of(Membership.org_id, tree_ids))
            .exists()
        )
        stmt = stmt.where(in_tree)
    return stmt


def _few_members(tree_ids: list[int], role: str | None = None) -> list[int] | None:
    """The user ids holding a role in these orgs (``role``, if given), if there are at
    most FEW_MEMBERS (FEW_HOLDERS of ``role``)."""
    holders = sa.select(Membership.user_id).where(one_of(Membership.org_id, tree_ids))
    few = FEW_MEMBERS
    if role is not None:
        holders, few = holders.where(Membership.role == role), FEW_HOLDERS
    found = holders.limit(few + 1).subquery()
    # The ids as one value of one row: building a thousand result rows costs more than
    # the query itself.
    if db.engine.dialect.name == "postgresql":
        joined: sa.ColumnElement = sa.func.array_agg(found.c.user_id)
    else:
        joined = sa.func.group_concat(found.c.user_id)
    count, user_ids = db.session.execute(
        sa.select(sa.func.count(), joined).select_from(found)
    ).one()
    if count > few:
        return None
    if isinstance(user_ids, str):
        user_ids = [int(user_id) for user_id in user_ids.split(",")]
    return sorted(set(user_ids or ()))


def member_rows(
    tenant: Tenant,
    org: Organization,
    users: Sequence[Person | User],
    *,
    chain: list[OrgRef] | None = None,
) -> list[MemberRow]:
    """Each user's effective role here, where it comes from, and their teams; 2 queries
    (3 without ``chain``)."""
    if not users:
        return []
    chain = chain if chain is not None else chain_of(org)
    return _rows(org, users, role_catalog(tenant.id), chain)


def _rows(
    org: Organization,
    users: Sequence[Person | User],
    catalog: dict[str, RoleDef],
    chain: list[OrgRef],
) -> list[MemberRow]:
    if not users:
        return []
    ids = [user.id for user in users]
    by_id = {step.id: step for step in chain}
    nearness = {step.id: depth for depth, step in enumerate(chain)}
    held = sorted(
        db.session.execute(
            sa.select(
                Membership.user_id, Membership.role, Membership.created_at, Membership.org_id
            ).where(one_of(Membership.org_id, by_id), one_of(Membership.user_id, ids))
        ).all(),
        key=lambda row: nearness[row.org_id],
    )
    teams = db.session.execute(
        sa.select(TeamMember.user_id, Team.public_id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.org_id == org.id, one_of(TeamMember.user_id, ids))
        .order_by(Team.name)
    ).all()
    by_user: dict[int, list[tuple[str, datetime, OrgRef]]] = {}
    for user_id, role, created_at, org_id in held:
        by_user.setdefault(user_id, []).append((role, created_at, by_id[org_id]))
    teams_by_user: dict[int, list[TeamRef]] = {}
    for user_id, team_id, team_name in teams:
        teams_by_user.setdefault(user_id, []).append(TeamRef(team_id, team_name))

    rows = []
    for user in users:
        memberships = by_user.get(user.id, [])
        effective = strongest((r for r, _, _ in memberships), catalog) or Role.VIEWER
        direct = next((r for r, _, o in memberships if o.id == org.id), None)
        # Nearest org granting the effective role (memberships come nearest first).
        source = next((o for r, _, o in memberships if r == effective), None)
        rows.append(
            MemberRow(
                user=user,
                role=effective,
                direct_role=direct,
                source=None if source is None or source.id == org.id else source,
                joined_at=min((c for _, c, _ in memberships), default=None),
                teams=teams_by_user.get(user.id, []),
            )
        )
    return rows


def member_row(tenant: Tenant, org: Organization, user: User) -> MemberRow | None:
    rows = member_rows(tenant, org, [user])
    return rows[0] if rows and (rows[0].direct_role or rows[0].source) else None


def export_csv(
    tenant: Tenant, org: Organization, *, query: str = "", role: str | None = None
) -> Iterator[str]:
    """The member list as CSV lines, safe to open in a spreadsheet (no formulas)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "email", "role", "membership", "inherited_from", "teams", "joined"])
    yield _flush(buffer)
    cursor = None
    while True:
        batch = list_members(tenant, org, query=query, role=role, cursor=cursor, per_page=500)
        for row in batch.items:
            writer.writerow(
                [
                    safe_cell(row.user.name),
                    safe_cell(row.user.email),
                    row.role,
                    "direct" if row.is_direct else "inherited",
                    safe_cell(row.source.name) if row.source else "",
                    safe_cell("; ".join(team.name for team in row.teams)),
                    row.joined_at.isoformat() if row.joined_at else "",
                ]
            )
        yield _flush(buffer)
        if batch.next_key is None:
            return
        cursor = Cursor("after", SORTS["name"].key_of(batch.items[-1].user))


def _flush(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# A formula trigger at the start of the cell, or after anything a spreadsheet might split
# a cell on (a comma, semicolon, tab, line break or pipe, in some locale or other).
_FORMULA = re.compile(r"(^|[,;\t\r\n|]\s*)([=+\-@\t\r])")


def safe_cell(value: str) -> str:
    """Spreadsheets run what starts with = + - @ (or tab/CR) as a formula, and one that
    splits cells on ";" finds a cell inside "Ann;=cmd": quote every such start with '."""
    return _FORMULA.sub(r"\1'\2", value) if value else value


# --- changes -------------------------------------------------------------------------


def is_direct_member(org: Organization, user: User) -> bool:
    """Whether ``user`` holds a role in ``org`` itself (and so may leave it); one query."""
    return _direct_membership(org, user) is not None


def _direct_membership(org: Organization, user: User) -> Membership | None:
    return db.session.scalar(
        sa.select(Membership).where(Membership.org_id == org.id, Membership.user_id == user.id)
    )


def _require(granted: OrgAccess, permission: str) -> None:
    if not granted.can(permission):
        raise PermissionDenied("You don't have permission to do that in this organization.")


def _check_grantable(granted: OrgAccess, tenant: Tenant, role: str) -> None:
    catalog = role_catalog(tenant.id)
    if role not in catalog:
        raise ValidationFailed(f"Unknown role “{role}”.", field="role")
    if role not in {r.key for r in grantable_roles(granted, catalog)}:
        raise PermissionDenied(f"You can't give the {catalog[role].name} role.")


def seats_taken(org: Organization) -> int:
    """Members plus live pending invitations: someone invited already holds a seat, so
    nothing else can take it before they accept."""
    members = sa.select(sa.func.count()).select_from(Membership).where(Membership.org_id == org.id)
    pending = (
        sa.select(sa.func.count())
        .select_from(Invitation)
        .where(
            Invitation.org_id == org.id,
            Invitation.status == InvitationStatus.PENDING,
            Invitation.expires_at > utcnow(),
        )
    )
    return db.session.scalar(sa.select(members.scalar_subquery() + pending.scalar_subquery()))


def seats_left(tenant: Tenant, org: Organization) -> int | None:
    """Free seats in ``org`` under the tenant's limit (None: no limit). The org's row is
    locked first (PostgreSQL), so two additions at once are counted one after the other;
    SQLite's writers take turns anyway."""
    if tenant.seat_limit is None:
        return None
    db.session.execute(
        sa.select(Organization.id).where(Organization.id == org.id).with_for_update()
    )
    return max(0, tenant.seat_limit - seats_taken(org))


def seat_limit_reached(tenant: Tenant, org: Organization, adding: int = 1) -> bool:
    """Whether ``adding`` more people would pass the tenant's seat limit in ``org``."""
    left = seats_left(tenant, org)
    return left is not None and left < adding


def seat_limit_message(tenant: Tenant, org: Organization) -> str:
    return (
        f"{org.name} has reached this workspace's limit of {tenant.seat_limit} members: "
        "remove someone first, or ask the workspace owner to raise the limit."
    )


def _lock_tree(org: Organization) -> None:
    """Serialise owner changes within one tree: lock its root org's row (PostgreSQL)."""
    root_id = db.session.scalar(
        sa.select(OrgClosure.ancestor_id)
        .where(OrgClosure.descendant_id == org.id)
        .order_by(OrgClosure.depth.desc())
        .limit(1)
    )
    db.session.execute(
        sa.select(Organization.id).where(Organization.id == root_id).with_for_update()
    )


def _ensure_another_owner(org: Organization, leaving: Membership) -> None:
    _lock_tree(org)
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .join(OrgClosure, OrgClosure.ancestor_id == Membership.org_id)
        .where(
            OrgClosure.descendant_id == org.id,
            Membership.role == Role.OWNER,
            Membership.id != leaving.id,
        )
    )
    if not others:
        raise Conflict(
            f"That would leave {org.name} without an owner: make someone else an owner "
            "first (Transfer ownership)."
        )


def add_member(
    actor: Actor, tenant: Tenant, org: Organization, user: User, role: str
) -> Membership:
    granted = actor_access(actor, org)
    _require(granted, Perm.MEMBERS_INVITE)
    _check_grantable(granted, tenant, role)
    if user.tenant_id != tenant.id:
        raise NotFound("No such user.")
    if _direct_membership(org, user) is not None:
        raise Conflict(f"{user.display_name} is already a member of {org.name}.")
    if seat_limit_reached(tenant, org):
        raise Conflict(seat_limit_message(tenant, org))
    membership = Membership(
        org_id=org.id,
        user_id=user.id,
        role=role,
        created_by_id=actor.user.id if actor.user else None,
    )
    db.session.add(membership)
    db.session.flush()
    audit.record(actor, "member.added", tenant=tenant, org=org, target=user, after={"role": role})
    return membership


def _target_membership(org: Organization, user: User) -> Membership:
    membership = _direct_membership(org, user)
    if membership is not None:
        return membership
    inherited = db.session.scalar(
        sa.select(Membership.id)
        .join(OrgClosure, OrgClosure.ancestor_id == Membership.org_id)
        .where(OrgClosure.descendant_id == org.id, Membership.user_id == user.id)
        .limit(1)
    )
    if inherited is None:
        raise NotFound(f"{user.display_name} is not a member of {org.name}.")
    raise Conflict(
        f"{user.display_name}'s role here is inherited from a parent organization: change it there."
    )


def _out_of_reach(role: str, action: str) -> str:
    if role == Role.OWNER:
        return (
            f"Only an owner can {action} an owner."
            if action == "remove"
            else ("Only an owner can change an owner's role.")
        )
    return f"You can't {action} someone who can do more than you."


def change_role(
    actor: Actor, tenant: Tenant, org: Organization, user: User, new_role: str
) -> Membership:
    granted = actor_access(actor, org)
    _require(granted, Perm.MEMBERS_UPDATE_ROLE)
    membership = _target_membership(org, user)
    if not can_manage_member(granted, membership.role, role_catalog(tenant.id)):
        raise PermissionDenied(_out_of_reach(membership.role, "change the role of"))
    old_role = membership.role
    if old_role == new_role:
        return membership
    _check_grantable(granted, tenant, new_role)
    if old_role == Role.OWNER:
        _ensure_another_owner(org, membership)
    membership.role = new_role
    db.session.flush()
    audit.record(
        actor, "member.role_changed", tenant=tenant, org=org, target=user,
        before={"role": old_role}, after={"role": new_role},
    )  # fmt: skip
    return membership


@dataclass(frozen=True)
class Removal:
    """What removing a member took away: enough to put it back (``undo_token``)."""

    user: User
    role: str
    team_ids: list[str]  # public ids of the org's teams they were in
    joined_at: datetime
    event: AuditEvent


def remove_member(actor: Actor, tenant: Tenant, org: Organization, user: User) -> Removal:
    granted = actor_access(actor, org)
    _require(granted, Perm.MEMBERS_REMOVE)
    membership = _target_membership(org, user)
    if not can_manage_member(granted, membership.role, role_catalog(tenant.id)):
        raise PermissionDenied(_out_of_reach(membership.role, "remove"))
    team_ids = list(
        db.session.scalars(
            sa.select(Team.public_id)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(Team.org_id == org.id, TeamMember.user_id == user.id)
            .order_by(Team.name)
        )
    )
    _delete_membership(org, membership)
    event = audit.record(
        actor, "member.removed", tenant=tenant, org=org, target=user,
        before={"role": membership.role},
    )  # fmt: skip
    db.session.flush()  # the event's public id names the removal in its undo token
    return Removal(user, membership.role, team_ids, membership.created_at, event)


def only_owner(chain: list[OrgRef]) -> int | None:
    """The user id of the one owner membership in the org and its ancestors (``chain_of``),
    if there is exactly one: who may neither leave, be removed nor step down. One query."""
    owners = list(
        db.session.execute(
            sa.select(Membership.user_id)
            .where(one_of(Membership.org_id, [step.id for step in chain]))
            .where(Membership.role == Role.OWNER)
            .limit(2)
        ).scalars()
    )
    return owners[0] if len(owners) == 1 else None


def only_owner_and_direct(chain: list[OrgRef], user: User) -> tuple[int | None, bool]:
    """``only_owner(chain)``, and whether ``user`` is a direct member of ``chain[0]`` (the
    org), in one query: what the members page says about the viewer."""
    owners = (
        sa.select(Membership.user_id)
        .where(one_of(Membership.org_id, [step.id for step in chain]))
        .where(Membership.role == Role.OWNER)
        .limit(2)
        .subquery()
    )
    direct = (
        sa.select(Membership.id)
        .where(Membership.org_id == chain[0].id, Membership.user_id == user.id)
        .exists()
    )
    count, owner, is_direct = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(owners.c.user_id), direct).select_from(owners)
    ).one()
    return (owner if count == 1 else None), bool(is_direct)


def _undo_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_UNDO_SALT)


def undo_token(org: Organization, removal: Removal) -> str:
    """A signed, time-limited note of what a removal took away, for ``restore_member``."""
    return _undo_signer().dumps(
        {
            "org": org.public_id,
            "user": removal.user.public_id,
            "role": removal.role,
            "teams": removal.team_ids,
            "joined": removal.joined_at.isoformat(),
            "event": removal.event.public_id,
        }
    )


def restore_member(
    actor: Actor, tenant: Tenant, org: Organization, user: User, token: str
) -> Membership:
    """Undo a removal (see ``undo_token``): the same direct role, teams and joined date.

    Only within UNDO_WINDOW, once, by someone who may add members with that role here,
    and only while the person has not become a member again meanwhile."""
    try:
        removed = _undo_signer().loads(token, max_age=UNDO_WINDOW.total_seconds())
    except SignatureExpired:
        minutes = int(UNDO_WINDOW.total_seconds() // 60)
        raise Conflict(
            f"A removal can be undone for {minutes} minutes, and that time has passed: "
            f"invite {user.display_name} again instead."
        ) from None
    except BadSignature:
        raise ValidationFailed("This undo is not valid: reload the page.") from None
    if removed.get("org") != org.public_id or removed.get("user") != user.public_id:
        raise ValidationFailed("This undo is not valid: reload the page.")
    granted = actor_access(actor, org)
    _require(granted, Perm.MEMBERS_INVITE)
    role = removed["role"]
    _check_grantable(granted, tenant, role)
    db.session.execute(  # one undo at a time per org (PostgreSQL; SQLite's writers queue)
        sa.select(Organization.id).where(Organization.id == org.id).with_for_update()
    )
    if _direct_membership(org, user) is not None:
        raise Conflict(f"{user.display_name} is a member of {org.name} again: nothing to undo.")
    if _restored_since(tenant, org, user, removed["event"]):
        raise Conflict("That removal has already been undone.")
    if seat_limit_reached(tenant, org):
        raise Conflict(seat_limit_message(tenant, org))
    membership = Membership(
        org_id=org.id,
        user_id=user.id,
        role=role,
        created_at=datetime.fromisoformat(removed["joined"]),
        created_by_id=actor.user.id if actor.user else None,
    )
    db.session.add(membership)
    teams = list(
        db.session.scalars(
            sa.select(Team)
            .where(Team.org_id == org.id, one_of(Team.public_id, removed["teams"]))
            .order_by(Team.name)
        )
    )  # the teams still there: one deleted meanwhile stays deleted
    db.session.add_all(TeamMember(team_id=team.id, user_id=user.id) for team in teams)
    db.session.flush()
    audit.record(
        actor, "member.restored", tenant=tenant, org=org, target=user,
        after={"role": role, "teams": [team.name for team in teams]},
    )  # fmt: skip
    return membership


def _restored_since(tenant: Tenant, org: Organization, user: User, removal_id: str) -> bool:
    """Whether the removal (its event's public id) was undone already: a restore of the
    same person in the same org recorded after it."""
    removal = (
        sa.select(AuditEvent.id)
        .where(AuditEvent.tenant_id == tenant.id, AuditEvent.public_id == removal_id)
        .scalar_subquery()
    )
    return bool(
        db.session.scalar(
            sa.select(
                sa.select(AuditEvent.id)
                .where(
                    AuditEvent.org_id == org.id,
                    AuditEvent.action == "member.restored",
                    AuditEvent.target_id == user.public_id,
                    AuditEvent.id > removal,
                )
                .exists()
            )
        )
    )


def leave_org(actor: Actor, tenant: Tenant, org: Organization) -> None:
    user = actor.user
    assert user is not None
    membership = _direct_membership(org, user)
    if membership is None:
        raise Conflict(
            f"You are not a direct member of {org.name}: your access comes from a parent "
            "organization, so leave that one instead."
        )
    _delete_membership(org, membership)
    audit.record(
        actor, "member.left", tenant=tenant, org=org, target=user,
        before={"role": membership.role},
    )  # fmt: skip


def _delete_membership(org: Organization, membership: Membership) -> None:
    if membership.role == Role.OWNER:
        _ensure_another_owner(org, membership)
    db.session.execute(
        sa.delete(TeamMember).where(
            TeamMember.user_id == membership.user_id,
            TeamMember.team_id.in_(sa.select(Team.id).where(Team.org_id == org.id)),
        )
    )
    db.session.delete(membership)
    db.session.flush()


def transfer_ownership(actor: Actor, tenant: Tenant, org: Organization, new_owner: User) -> None:
    """Make ``new_owner`` an owner here; the acting owner steps down to admin."""
    user = actor.user
    assert user is not None
    if not can_transfer_ownership(access(user, org)):
        raise PermissionDenied("Only an owner can transfer ownership.")
    if new_owner.id == user.id:
        raise ValidationFailed("Choose someone other than yourself.", field="user")
    if new_owner.tenant_id != tenant.id or member_row(tenant, org, new_owner) is None:
        raise ValidationFailed(
            "Ownership can only go to a member of this organization.", field="user"
        )
    _lock_tree(org)
    target = _direct_membership(org, new_owner)
    before_role = target.role if target else None
    if before_role == Role.OWNER:
        raise ValidationFailed(f"{new_owner.display_name} is already an owner here.", field="user")
    if target is None and seat_limit_reached(tenant, org):
        raise Conflict(seat_limit_message(tenant, org))
    if target is None:
        target = Membership(
            org_id=org.id, user_id=new_owner.id, role=Role.OWNER, created_by_id=user.id
        )
        db.session.add(target)
    else:
        target.role = Role.OWNER
    mine = _direct_membership(org, user)
    if mine is not None and mine.role == Role.OWNER:
        mine.role = Role.ADMIN
    db.session.flush()
    audit.record(
        actor, "org.ownership_transferred", tenant=tenant, org=org, target=new_owner,
        before={"role": before_role, "previous_owner": user.email},
        after={"role": Role.OWNER},
    )  # fmt: skip


def find_tenant_user(tenant: Tenant, public_id: str) -> User:
    user = db.session.scalar(
        sa.select(User).where(User.tenant_id == tenant.id, User.public_id == public_id)
    )
    if user is None:
        raise NotFound("No such member.")
    return user


def direct_member_count(org: Organization) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Membership).where(Membership.org_id == org.id)
    )
