"""Growing a tenant fast: thousands of orgs and memberships with bulk inserts.

Used by ``demo seed --orgs N --members M`` and the benchmark; bypasses the per-org
services (and their audit events) on purpose, but keeps every invariant they keep:
closure rows, unique slugs, one membership per (org, user).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.ids import PREFIXES, new_public_id
from app.models import Membership, Organization, OrgClosure, Tenant, User, utcnow
from app.policy import Role
from app.security import hash_password

MAX_DEPTH = 8
BATCH = 2000
WORDS = ("North", "South", "East", "West", "Central", "Alpha", "Beta", "Gamma", "Delta",
         "Apex", "Nova", "Summit", "Harbor", "River", "Forest", "Valley",
         "Coastal", "Metro")  # fmt: skip
KINDS = ("Division", "Department", "Team", "Squad", "Region", "Office", "Unit", "Group",
         "Lab", "Studio", "Chapter")  # fmt: skip


@dataclass
class Grown:
    orgs: int
    members: int


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
) -> Grown:
    """Add ``orgs`` generated orgs (top level, or below ``under``) and ``members``."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = utcnow()
    next_id = (db.session.scalar(sa.select(sa.func.max(Organization.id))) or 0) + 1
    prefix = f"gen{next_id}"

    # Breadth-first, level d holding about r**d orgs, r chosen so 8 levels hold `orgs`.
    ratio = _growth_ratio(orgs)
    org_rows: list[dict] = []
    ancestors_of: dict[int, list[int]] = {}
    frontier: list[int | None] = [None]
    if under is not None:
        frontier = [under.id]
        ancestors_of[under.id] = list(
            db.session.scalars(
                sa.select(OrgClosure.ancestor_id)
                .where(OrgClosure.descendant_id == under.id, OrgClosure.depth > 0)
                .order_by(OrgClosure.depth.desc())
            )
        )
    for depth in range(1, MAX_DEPTH + 1):
        if len(org_rows) >= orgs or not frontier:
            break
        wanted = orgs - len(org_rows) if depth == MAX_DEPTH else max(1, round(ratio**depth))
        wanted = min(wanted, orgs - len(org_rows))
        next_frontier: list[int | None] = []
        for n in range(wanted):
            parent = frontier[n % len(frontier)]
            org_id = next_id + len(org_rows)
            org_rows.append(
                {
                    "id": org_id,
                    "public_id": new_public_id(PREFIXES["org"]),
                    "tenant_id": tenant.id,
                    "parent_id": parent,
                    "name": f"{rng.choice(WORDS)} {rng.choice(KINDS)} {org_id}",
                    "slug": f"{prefix}-{org_id}",
                    "public_metadata": {},
                    "private_metadata": {},
                    "settings": {},
                    "is_personal": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            ancestors_of[org_id] = [*ancestors_of[parent], parent] if parent else []
            next_frontier.append(org_id)
        frontier = next_frontier

    for start in range(0, len(org_rows), BATCH):
        db.session.execute(sa.insert(Organization), org_rows[start : start + BATCH])
    closure_rows = []
    for org_id, chain in ancestors_of.items():
        if under is not None and org_id == under.id:
            continue  # already in the tree
        closure_rows.append({"ancestor_id": org_id, "descendant_id": org_id, "depth": 0})
        for distance, ancestor in enumerate(reversed(chain), start=1):
            closure_rows.append(
                {"ancestor_id": ancestor, "descendant_id": org_id, "depth": distance}
            )
    for start in range(0, len(closure_rows), BATCH * 5):
        db.session.execute(sa.insert(OrgClosure), closure_rows[start : start + BATCH * 5])

    made_members = 0
    if members and org_rows:
        password_hash = hash_password("demo-password-1")
        user_count = max(1, members // 4)
        first_user = (db.session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
        user_rows = [
            {
                "id": first_user + n,
                "public_id": new_public_id(PREFIXES["user"]),
                "tenant_id": tenant.id,
                "email": f"person{first_user + n}@{prefix}.example",
                "name": f"Person {first_user + n}",
                "password_hash": password_hash,
                "tenant_role": "member",
                "is_active": True,
                "session_version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(user_count)
        ]
        for start in range(0, len(user_rows), BATCH):
            db.session.execute(sa.insert(User), user_rows[start : start + BATCH])
        roles = [Role.MEMBER] * 6 + [Role.VIEWER] * 2 + [Role.ADMIN, Role.OWNER]
        seen: set[tuple[int, int]] = set()
        membership_rows = []
        org_ids = [row["id"] for row in org_rows]
        while len(membership_rows) < members:
            pair = (rng.choice(org_ids), first_user + rng.randrange(user_count))
            if pair in seen:
                continue
            seen.add(pair)
            membership_rows.append(
                {
                    "org_id": pair[0],
                    "user_id": pair[1],
                    "role": rng.choice(roles),
                    "created_at": now,
                }
            )
        for start in range(0, len(membership_rows), BATCH * 5):
            db.session.execute(sa.insert(Membership), membership_rows[start : start + BATCH * 5])
        made_members = len(membership_rows)
    return Grown(orgs=len(org_rows), members=made_members)
