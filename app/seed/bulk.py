"""Growing a tenant fast: thousands of orgs, members, invitations and audit events.

Used by ``demo seed --orgs N --members M`` and the benchmarks. It bypasses the per-row
services on purpose (their checks, queries and events one at a time would take an hour
at this size), but keeps every invariant they keep: closure rows, unique slugs, one
membership per (org, user), invitations that store only their token's hash, and audit
events shaped like the services' own (same actions, targets, before/after), in the
tenant and its orgs. Rows go in by executemany, or by COPY on PostgreSQL (several times
faster there); explicit ids move PostgreSQL's sequences on, so the app can keep adding.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from psycopg import sql

from app.credentials import hash_password, hash_token, new_token
from app.extensions import db
from app.ids import PREFIXES, new_public_id
from app.models import (
    ActorType,
    AuditEvent,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    OrgClosure,
    Tenant,
    User,
    utcnow,
)
from app.policy import Role

MAX_DEPTH = 8
BATCH = 2000
HISTORY = timedelta(days=365)  # generated orgs and people appear over the past year
HOUR = timedelta(hours=1)
SYSTEM_LABEL = "demo seed"
WORDS = ("North", "South", "East", "West", "Central", "Alpha", "Beta", "Gamma", "Delta",
         "Apex", "Nova", "Summit", "Harbor", "River", "Forest", "Valley",
         "Coastal", "Metro")  # fmt: skip
KINDS = ("Division", "Department", "Team", "Squad", "Region", "Office", "Unit", "Group",
         "Lab", "Studio", "Chapter")  # fmt: skip
MEMBER_ROLES = [Role.MEMBER] * 6 + [Role.VIEWER] * 2 + [Role.ADMIN, Role.OWNER]
INVITED_ROLES = [Role.MEMBER] * 6 + [Role.VIEWER] * 2 + [Role.ADMIN]
# Shares of the invitations that have an outcome; the rest are pending. "Expired" ones
# are pending past their expiry, as the app leaves them (they read as expired).
OUTCOMES = (
    (InvitationStatus.ACCEPTED, 0.15),
    (InvitationStatus.EXPIRED, 0.07),
    (InvitationStatus.REVOKED, 0.07),
    (InvitationStatus.DECLINED, 0.03),
)
ROLE_CHANGES = 5  # of the events left after orgs and invitations: 1 in 5 a role change
EXISTING_USER_INVITES = 0.3  # of pending invitations, to people already in the tenant
MESSAGES = ("", "", "", "Welcome aboard!", "Join us here for the quarterly planning.")
BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
)

Advance = Callable[[int], None]
Row = dict[str, Any]


class Progress(Protocol):
    """Told when each phase (orgs, closure, users, …) starts, and as its rows go in."""

    def phase(self, name: str, total: int) -> AbstractContextManager[Advance]: ...


class Quiet:
    """No progress reporting (the benchmarks, the tests)."""

    @contextmanager
    def phase(self, name: str, total: int) -> Iterator[Advance]:
        yield lambda rows: None


QUIET = Quiet()


@dataclass
class Grown:
    orgs: int
    members: int
    users: int = 0
    closure: int = 0
    invitations: int = 0
    pending: int = 0  # invitations still open (not answered, not expired)
    events: int = 0


@dataclass
class _Growth:
    """What is being generated, kept in memory so later phases can refer to it."""

    tenant: Tenant
    rng: random.Random
    now: datetime
    prefix: str
    orgs: list[Row] = field(default_factory=list)
    users: dict[int, Row] = field(default_factory=dict)
    memberships: list[Row] = field(default_factory=list)
    invitations: list[Row] = field(default_factory=list)
    parent_of: dict[int, int | None] = field(default_factory=dict)
    org_by_id: dict[int, Row] = field(default_factory=dict)
    members_of: set[tuple[int, int]] = field(default_factory=set)
    admins_of: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    invited_memberships: set[int] = field(default_factory=set)  # indexes into memberships

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random() if end > start else start

    def admin_of(self, org_id: int, besides: int | None = None) -> int | None:
        """A direct owner or admin of the org (not ``besides``), if it has one."""
        admins = [a for a in self.admins_of.get(org_id, ()) if a != besides]
        return self.rng.choice(admins) if admins else None

    def event(
        self, at: datetime, org_id: int, action: str, actor: int | None, **values: Any
    ) -> Row:
        """An audit event as ``audit.record`` writes it; by a user, or the system."""
        user = self.users.get(actor) if actor is not None else None
        return {
            "created_at": at,
            "tenant_id": self.tenant.id,
            "org_id": org_id,
            "actor_type": ActorType.USER if user else ActorType.SYSTEM,
            "actor_id": user["public_id"] if user else None,
            "actor_label": user["email"] if user else SYSTEM_LABEL,
            "action": action,
            "target_type": values.get("target_type"),
            "target_id": values.get("target_id"),
            "target_label": values.get("target_label", ""),
            "before": values.get("before"),
            "after": values.get("after"),
            "ip": f"203.0.113.{self.rng.randrange(1, 255)}" if user else None,
            "user_agent": self.rng.choice(BROWSERS) if user else None,
        }

    def member_event(
        self, membership: Row, action: str, *, at: datetime | None = None, **values: Any
    ) -> Row:
        """An event about a member, by another admin of the org (or the system)."""
        user = self.users[membership["user_id"]]
        org_id = membership["org_id"]
        return self.event(
            at or membership["created_at"], org_id, action,
            self.admin_of(org_id, besides=user["id"]), target_type="user",
            target_id=user["public_id"], target_label=user["email"], **values,
        )  # fmt: skip


def _growth_ratio(total: int) -> float:
    """r such that r + r**2 + ... + r**8 is about ``total``."""
    low, high = 1.0, max(2.0, float(total))
    for _ in range(60):
        mid = (low + high) / 2
        if sum(mid**d for d in range(1, MAX_DEPTH + 1)) < total:
            low = mid
        else:
            high = mid
    return low


def grow_tenant(
    tenant: Tenant,
    *,
    orgs: int,
    members: int,
    under: Organization | None = None,
    seed: int = 7,
    invitations: int = 0,
    events: int = 0,
    progress: Progress = QUIET,
) -> Grown:
    """Add ``orgs`` generated orgs (top level, or below ``under``) and ``members``
    memberships of ``members // 4`` new users; then ``invitations`` invitations to those
    orgs and up to ``events`` audit events telling how it all came about."""
    if orgs <= 0:
        return Grown(orgs=0, members=0)
    db.session.flush()  # what the session holds goes first: the rows below refer to it
    next_id = (db.session.scalar(sa.select(sa.func.max(Organization.id))) or 0) + 1
    growth = _Growth(
        tenant=tenant,
        rng=random.Random(seed),  # noqa: S311 - demo data, not secrets
        now=utcnow(),
        prefix=f"gen{next_id}",
    )
    grown = Grown(orgs=0, members=0)
    with progress.phase("orgs", orgs) as advance:
        ancestors_of = _plan_orgs(growth, orgs, next_id, under)
        _insert(Organization.__table__, growth.orgs, advance)
        _move_sequence_on(Organization.__table__)
    grown.orgs = len(growth.orgs)
    closure = _closure_rows(ancestors_of, under)
    with progress.phase("closure", len(closure)) as advance:
        _insert(OrgClosure.__table__, closure, advance)
    grown.closure = len(closure)
    if members and growth.orgs:
        user_count = max(1, members // 4)
        with progress.phase("users", user_count) as advance:
            _plan_users(growth, user_count)
            _insert(User.__table__, list(growth.users.values()), advance)
            _move_sequence_on(User.__table__)
        members = min(members, len(growth.orgs) * user_count)
        with progress.phase("memberships", members) as advance:
            _plan_memberships(growth, members)
            _insert(Membership.__table__, growth.memberships, advance)
        grown.users, grown.members = len(growth.users), len(growth.memberships)
    if invitations and growth.orgs:
        with progress.phase("invitations", invitations) as advance:
            grown.pending = _plan_invitations(growth, invitations)
            _insert(Invitation.__table__, growth.invitations, advance)
        grown.invitations = len(growth.invitations)
    if events and growth.orgs:
        with progress.phase("events", events) as advance:
            rows = _plan_events(growth, events)
            _insert(AuditEvent.__table__, rows, advance)
        grown.events = len(rows)
    return grown


def analyze(progress: Progress = QUIET) -> None:
    """Do on PostgreSQL, after a bulk load, what autovacuum would a minute later: refresh
    the planner's statistics (until then it plans for the empty tables it saw) and merge
    the GIN indexes' pending lists (until then every trigram search reads them whole).
    SQLite: nothing."""
    if db.session.connection().dialect.name != "postgresql":
        return
    tables = (Organization, OrgClosure, User, Membership, Invitation, AuditEvent)
    with progress.phase("analyze", len(tables) + 1) as advance:
        for model in tables:
            db.session.execute(sa.text(f"ANALYZE {model.__tablename__}"))
            advance(1)
        db.session.execute(
            sa.text(
                "SELECT gin_clean_pending_list(c.oid) FROM pg_class c"
                " JOIN pg_am a ON a.oid = c.relam"
                " WHERE a.amname = 'gin' AND c.relnamespace = current_schema()::regnamespace"
            )
        )
        advance(1)


# --- planning the rows -----------------------------------------------------------------


def _plan_orgs(
    growth: _Growth, total: int, next_id: int, under: Organization | None
) -> dict[int, list[int]]:
    """Breadth-first, level d holding about r**d orgs, r chosen so 8 levels hold ``total``;
    parents come before their children, in ids and in creation times."""
    rng, now = growth.rng, growth.now
    start = now - HISTORY
    if under is not None:
        start = max(start, under.created_at)
    ratio = _growth_ratio(total)
    ancestors_of: dict[int, list[int]] = {}
    frontier: list[int | None] = [None]
    if under is not None:
        frontier = [under.id]
        growth.org_by_id[under.id] = {"id": under.id, "public_id": under.public_id}
        ancestors_of[under.id] = list(
            db.session.scalars(
                sa.select(OrgClosure.ancestor_id)
                .where(OrgClosure.descendant_id == under.id, OrgClosure.depth > 0)
                .order_by(OrgClosure.depth.desc())
            )
        )
    rows = growth.orgs
    for depth in range(1, MAX_DEPTH + 1):
        if len(rows) >= total or not frontier:
            break
        wanted = total - len(rows) if depth == MAX_DEPTH else max(1, round(ratio**depth))
        wanted = min(wanted, total - len(rows))
        next_frontier: list[int | None] = []
        for n in range(wanted):
            parent = frontier[n % len(frontier)]
            org_id = next_id + len(rows)
            # The tree grew over the first 80% of the year; people joined it since.
            created = start + (now - start) * (0.8 * len(rows) / total)
            row = {
                "id": org_id,
                "public_id": new_public_id(PREFIXES["org"]),
                "tenant_id": growth.tenant.id,
                "parent_id": parent,
                "name": f"{rng.choice(WORDS)} {rng.choice(KINDS)} {org_id}",
                "slug": f"{growth.prefix}-{org_id}",
                "public_metadata": {},
                "private_metadata": {},
                "settings": {},
                "is_personal": False,
                "created_at": created,
                "updated_at": created,
            }
            rows.append(row)
            growth.org_by_id[org_id] = row
            growth.parent_of[org_id] = parent
            ancestors_of[org_id] = [*ancestors_of[parent], parent] if parent else []
            next_frontier.append(org_id)
        frontier = next_frontier
    return ancestors_of


def _closure_rows(ancestors_of: dict[int, list[int]], under: Organization | None) -> list[Row]:
    rows = []
    for org_id, chain in ancestors_of.items():
        if under is not None and org_id == under.id:
            continue  # already in the tree
        rows.append({"ancestor_id": org_id, "descendant_id": org_id, "depth": 0})
        for distance, ancestor in enumerate(reversed(chain), start=1):
            rows.append({"ancestor_id": ancestor, "descendant_id": org_id, "depth": distance})
    return rows


def _plan_users(growth: _Growth, count: int) -> None:
    password_hash = hash_password("demo-password-1")
    first = (db.session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
    start = growth.now - HISTORY
    for user_id in range(first, first + count):
        created = start + HISTORY * (0.9 * growth.rng.random())
        growth.users[user_id] = {
            "id": user_id,
            "public_id": new_public_id(PREFIXES["user"]),
            "tenant_id": growth.tenant.id,
            "email": f"person{user_id}@{growth.prefix}.example",
            "name": f"Person {user_id}",
            "password_hash": password_hash,
            "tenant_role": "member",
            "is_active": True,
            "session_version": 1,
            "email_verified_at": created,
            "created_at": created,
            "updated_at": created,
        }


def _plan_memberships(growth: _Growth, count: int) -> None:
    rng = growth.rng
    org_ids = [row["id"] for row in growth.orgs]
    user_ids = list(growth.users)
    while len(growth.memberships) < count:
        org_id, user_id = rng.choice(org_ids), rng.choice(user_ids)
        if (org_id, user_id) in growth.members_of:
            continue
        growth.members_of.add((org_id, user_id))
        role = rng.choice(MEMBER_ROLES)
        joined = max(growth.org_by_id[org_id]["created_at"], growth.users[user_id]["created_at"])
        growth.memberships.append(
            {
                "org_id": org_id,
                "user_id": user_id,
                "role": role,
                "created_at": growth.between(joined, growth.now),
                "created_by_id": None,
            }
        )
        if role in (Role.OWNER, Role.ADMIN):
            growth.admins_of[org_id].append(user_id)


def _plan_invitations(growth: _Growth, count: int) -> int:
    """Invitations with a realistic mix of outcomes; returns how many are still pending.

    An accepted one is how an existing membership came about (same org, address, role);
    pending ones go to new addresses, or to people of the tenant not yet in that org.
    """
    rng, now = growth.rng, growth.now
    lifetime = timedelta(days=growth.tenant.invitation_days)
    outcomes = [status for status, share in OUTCOMES for _ in range(int(count * share))]
    kinds = outcomes + [InvitationStatus.PENDING] * (count - len(outcomes))
    rng.shuffle(kinds)
    accepted_count = kinds.count(InvitationStatus.ACCEPTED)
    spare = rng.sample(range(len(growth.memberships)), min(accepted_count, len(growth.memberships)))
    org_ids = [row["id"] for row in growth.orgs]
    user_ids = list(growth.users)
    invited: set[tuple[int, int]] = set()  # (org, user) with an open invitation
    pending = 0
    for n, kind in enumerate(kinds):
        accepted: Row | None = None
        if kind == InvitationStatus.ACCEPTED and spare:
            index = spare.pop()
            growth.invited_memberships.add(index)
            accepted = growth.memberships[index]
            org_id = accepted["org_id"]
        else:
            org_id = rng.choice(org_ids)
        org_created = growth.org_by_id[org_id]["created_at"]
        if kind == InvitationStatus.EXPIRED and now - lifetime - HOUR <= org_created:
            kind = InvitationStatus.PENDING  # the org is too new for one to have expired
        status, email, role = kind, "", rng.choice(INVITED_ROLES)
        responded: datetime | None = None
        accepted_user: int | None = None
        if accepted is not None:
            user = growth.users[accepted["user_id"]]
            email, role, accepted_user = user["email"], accepted["role"], user["id"]
            responded = accepted["created_at"]
            created = max(org_created, responded - lifetime * rng.random())
        elif kind in (InvitationStatus.PENDING, InvitationStatus.ACCEPTED):
            status = InvitationStatus.PENDING
            created = max(org_created, now - (lifetime - HOUR) * rng.random())
            pending += 1
            if user_ids and rng.random() < EXISTING_USER_INVITES:
                user_id = rng.choice(user_ids)
                pair = (org_id, user_id)
                if pair not in growth.members_of and pair not in invited:
                    invited.add(pair)
                    email = growth.users[user_id]["email"]
        elif kind == InvitationStatus.EXPIRED:
            status = InvitationStatus.PENDING
            created = growth.between(org_created, now - lifetime - HOUR)
        else:  # revoked or declined, within its lifetime
            created = growth.between(org_created, now - HOUR)
            responded = created + min(lifetime, now - created) * rng.random()
        admins = growth.admins_of.get(org_id)
        growth.invitations.append(
            {
                "public_id": new_public_id(PREFIXES["invitation"]),
                "tenant_id": growth.tenant.id,
                "org_id": org_id,
                "email": email or f"invitee{n + 1}@{growth.prefix}.example",
                "role": role,
                "team_ids": [],
                "message": rng.choice(MESSAGES),
                "inviter_id": rng.choice(admins) if admins else None,
                "status": status,
                "token_hash": hash_token(new_token()),
                "expires_at": created + lifetime,
                "sent_count": 1,
                "last_sent_at": created,
                "responded_at": responded,
                "accepted_user_id": accepted_user,
                "created_at": created,
                "updated_at": responded or created,
            }
        )
    return pending


def _plan_events(growth: _Growth, budget: int) -> list[Row]:
    """Up to ``budget`` events, oldest first: every org's creation, then each invitation
    and its answer, then members added and roles changed (a sample, if that is all)."""
    rng = growth.rng
    events: list[Row] = []
    for org in rng.sample(growth.orgs, min(budget, len(growth.orgs))):
        parent_id = growth.parent_of[org["id"]]
        parent = growth.org_by_id[parent_id] if parent_id else None
        after = {"name": org["name"], "slug": org["slug"], "logo_url": None}
        after["parent"] = parent["public_id"] if parent else None
        events.append(
            growth.event(org["created_at"], org["id"], "org.created",
                         growth.admin_of(parent["id"]) if parent else None,
                         target_type="org", target_id=org["public_id"],
                         target_label=org["name"], after=after)
        )  # fmt: skip
    for invitation in growth.invitations:
        if len(events) >= budget:
            break
        events.extend(_invitation_events(growth, invitation)[: budget - len(events)])

    # Members not accepted from an invitation were added by an admin (or the system);
    # some of them had their role changed later on.
    added = [i for i in range(len(growth.memberships)) if i not in growth.invited_memberships]
    room = max(0, budget - len(events))
    added_sample = rng.sample(added, min(room - room // ROLE_CHANGES, len(added)))
    changed = set(rng.sample(added, min(room - len(added_sample), len(added))))
    for index in added_sample:
        membership = growth.memberships[index]
        role = membership["role"]
        if index in changed:
            role = rng.choice([r for r in MEMBER_ROLES if r != membership["role"]])
        events.append(growth.member_event(membership, "member.added", after={"role": role}))
        if index in changed:
            changed.discard(index)
            events.append(_role_change(growth, membership, before=role))
    for index in changed:
        membership = growth.memberships[index]
        before = rng.choice([r for r in MEMBER_ROLES if r != membership["role"]])
        events.append(_role_change(growth, membership, before=before))

    events.sort(key=lambda row: row["created_at"])
    for row in events:
        row["public_id"] = new_public_id(PREFIXES["event"])
    return events


def _invitation_events(growth: _Growth, invitation: Row) -> list[Row]:
    """Its creation, and its answer if it has one."""
    org_id, email, status = invitation["org_id"], invitation["email"], invitation["status"]
    target = {"target_type": "invitation", "target_id": invitation["public_id"]}
    target["target_label"] = email
    made = [
        growth.event(invitation["created_at"], org_id, "invitation.created",
                     invitation["inviter_id"], **target,
                     after={"email": email, "role": invitation["role"]})
    ]  # fmt: skip
    responded = invitation["responded_at"]
    if status == InvitationStatus.ACCEPTED:
        made.append(
            growth.event(responded, org_id, "invitation.accepted",
                         invitation["accepted_user_id"], **target,
                         after={"role": invitation["role"]})
        )  # fmt: skip
    elif status == InvitationStatus.REVOKED:
        made.append(
            growth.event(responded, org_id, "invitation.revoked", invitation["inviter_id"],
                         **target, before={"status": "pending"}, after={"status": "revoked"})
        )  # fmt: skip
    elif status == InvitationStatus.DECLINED:
        made.append(growth.event(responded, org_id, "invitation.declined", None, **target))
    return made


def _role_change(growth: _Growth, membership: Row, *, before: str) -> Row:
    return growth.member_event(
        membership,
        "member.role_changed",
        at=growth.between(membership["created_at"], growth.now),
        before={"role": before},
        after={"role": membership["role"]},
    )


# --- writing them ----------------------------------------------------------------------


def _insert(table: sa.Table, rows: list[Row], advance: Advance) -> None:
    """Insert ``rows`` (dicts with the same keys) in batches, telling ``advance``."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, table, rows, advance)
        return
    statement = sa.insert(table)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        connection.execute(statement, batch)
        advance(len(batch))


def _copy(connection: sa.Connection, table: sa.Table, rows: list[Row], advance: Advance) -> None:
    """PostgreSQL's COPY, each value through its column type as an INSERT would send it."""
    names = list(rows[0])
    processors = [
        table.c[name].type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
        for name in names
    ]
    pairs = list(zip(names, processors, strict=True))
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            for row in batch:
                copy.write_row(
                    [process(row[name]) if process else row[name] for name, process in pairs]
                )
            advance(len(batch))


def _move_sequence_on(table: sa.Table) -> None:
    """Rows inserted with explicit ids leave PostgreSQL's id sequence behind: move it past
    them, or the next org or user the app creates would collide with a generated one."""
    if db.session.connection().dialect.name != "postgresql":
        return
    sequence = sa.func.pg_get_serial_sequence(table.name, "id")
    db.session.execute(
        sa.select(sa.func.setval(sequence, sa.select(sa.func.max(table.c.id)).scalar_subquery()))
    )
