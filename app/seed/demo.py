"""Demo data for a newcomer's first look (``flask --app wsgi demo seed``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.actors import Actor
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.mail import cli_origin
from app.models import (
    ActorType,
    AuditEvent,
    Membership,
    Organization,
    StaffRole,
    StaffUser,
    Tenant,
    TenantRole,
    User,
)
from app.policy import Role
from app.seed import bulk
from app.services import accounts, audit, invitations, orgs, tenants

DEMO_TENANT_SLUG = "acme"
SEEDER = "demo seed"  # the actor label of everything it writes, and how it knows its own
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed for the demo on purpose
DEMO_OWNER = "owner@acme.example"
DEMO_ADMIN = "admin@acme.example"
DEMO_MEMBER = "member@acme.example"
DEMO_STAFF = "staff@tenantry.example"
# A generated tree is recorded by one audit event carrying its sizes: that is how a
# second ``demo seed --orgs N --members M`` knows it is there.
GENERATED = "demo.generated"
MEMBERSHIPS_PER_INVITATION = 10
EVENTS_PER_ORG = 4


@dataclass(frozen=True)
class Sizes:
    """How much ``demo seed --orgs N --members M`` generates."""

    orgs: int
    members: int
    invitations: int
    events: int

    @classmethod
    def given(cls, orgs: int, members: int, invitations: int | None, events: int | None) -> Sizes:
        """The sizes asked for, invitations and events derived unless given."""
        if not orgs:
            raise ValidationFailed(
                "Give --orgs too: generated members, invitations and events belong to "
                "generated organizations."
            )
        if invitations is None:
            invitations = members // MEMBERSHIPS_PER_INVITATION
        if events is None:
            events = orgs * EVENTS_PER_ORG
        return cls(orgs, members, invitations, events)

    def __str__(self) -> str:
        return (
            f"--orgs {self.orgs} --members {self.members} "
            f"--invitations {self.invitations} --events {self.events}"
        )


# A believable company: departments, their teams, sales regions and countries.
DEMO_TREE: dict[str, dict] = {
    "Acme Corporation": {
        "Engineering": {
            "Platform": {"Databases": {}, "Infrastructure": {}},
            "Product Engineering": {"Web": {}, "Mobile": {}},
            "Security": {},
        },
        "Sales": {
            "EMEA": {"Germany": {}, "France": {}, "United Kingdom": {}},
            "Americas": {"United States": {}, "Brazil": {}},
            "APAC": {"Japan": {}, "Australia": {}},
        },
        "Operations": {"Finance": {}, "People": {}, "Legal": {}},
        "Customer Success": {},
    }
}


DEMO_INVITATIONS = {
    "Engineering": ["new.hire@example.com", "contractor@example.com"],
    "Sales": ["account.manager@example.com"],
}


def seed(
    *,
    orgs_count: int = 0,
    members_count: int = 0,
    invitations_count: int | None = None,
    events_count: int | None = None,
    progress: bulk.Progress = bulk.QUIET,
    tenant_slug: str = DEMO_TENANT_SLUG,
    with_staff: bool = True,
) -> list[str]:
    """Idempotent: running it again keeps what exists and prints the same logins.

    ``with_staff``: also a demo superadmin with the published demo password. The command
    line asks for it only in debug mode (``make run``), never on a server's database.

    With ``orgs_count``/``members_count`` it also grows a large generated tree beside the
    demo company (for trying the app, or the benchmark, at scale), with invitations
    (default: one per 10 memberships) and audit events (default: 4 per org). Only once:
    asked again for the same sizes it changes nothing; for other sizes it refuses.
    """
    actor = Actor.system(SEEDER)
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        tenant = _seed_company(actor, tenant_slug)
    elif not _made_by_demo_seed(tenant):
        raise Conflict(
            f"A tenant “{tenant_slug}” already exists and demo seed did not make it, so it "
            "leaves it alone: choose another slug with --tenant."
        )
    staff_exists = (
        db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == DEMO_STAFF)) is not None
    )
    if with_staff and not staff_exists:
        accounts.create_staff(
            actor,
            email=DEMO_STAFF,
            password=DEMO_PASSWORD,
            name="Sam Support",
            role=StaffRole.SUPERADMIN,
        )
    extra: list[str] = []
    if orgs_count or members_count or invitations_count or events_count:
        sizes = Sizes.given(orgs_count, members_count, invitations_count, events_count)
        extra.append(_generate(actor, tenant, sizes, progress))
    origin = cli_origin()
    return [
        f"tenant owner  {DEMO_OWNER} / {DEMO_PASSWORD}  at {origin}/t/{tenant_slug}/login",
        f"tenant admin  {DEMO_ADMIN} / {DEMO_PASSWORD}",
        f"tenant member {DEMO_MEMBER} / {DEMO_PASSWORD}",
        f"staff         {DEMO_STAFF} / {DEMO_PASSWORD}  at {origin}/staff/login"
        if with_staff or staff_exists
        else "staff         none made outside debug mode: `flask staff create` makes one",
        f"development mailbox (every email the app sends)  {origin}/dev/mail",
        *extra,
    ]


def _generate(actor: Actor, tenant: Tenant, sizes: Sizes, progress: bulk.Progress) -> str:
    """Grow the generated tree once, and say what it holds."""
    earlier = db.session.scalar(
        sa.select(AuditEvent.after)
        .where(AuditEvent.tenant_id == tenant.id, AuditEvent.action == GENERATED)
        .order_by(AuditEvent.id)
        .limit(1)
    )
    if earlier is not None:
        if earlier.get("sizes") == str(sizes):
            return f"generated     {_describe(earlier)} (already there: nothing changed)"
        raise Conflict(
            f"The demo tenant already has a generated tree ({earlier.get('sizes')}), and "
            "it is never grown twice: use those sizes, or an empty database for others."
        )
    grown = bulk.grow_tenant(
        tenant,
        orgs=sizes.orgs,
        members=sizes.members,
        invitations=sizes.invitations,
        events=sizes.events,
        progress=progress,
    )
    bulk.analyze(progress)
    made = {
        "sizes": str(sizes),
        "organizations": grown.orgs,
        "users": grown.users,
        "memberships": grown.members,
        "invitations": grown.invitations,
        "pending_invitations": grown.pending,
        "events": grown.events,
    }
    audit.record(actor, GENERATED, tenant=tenant, target=tenant, after=made)
    return f"generated     {_describe(made)}"


def _describe(made: dict[str, Any]) -> str:
    return (
        f"{made.get('organizations')} organizations and {made.get('memberships')} memberships "
        f"({made.get('users')} users), {made.get('invitations')} invitations "
        f"({made.get('pending_invitations')} pending), {made.get('events')} audit events"
    )


def _made_by_demo_seed(tenant: Tenant) -> bool:
    """Whether demo seed created this tenant (its creation event names the seeder)."""
    return (
        db.session.scalar(
            sa.select(AuditEvent.id).where(
                AuditEvent.tenant_id == tenant.id,
                AuditEvent.action == "tenant.created",
                AuditEvent.actor_type == ActorType.SYSTEM,
                AuditEvent.actor_label == SEEDER,
            )
        )
        is not None
    )


def _seed_company(actor: Actor, slug: str) -> Tenant:
    tenant, owner = tenants.create_tenant(
        actor,
        name="Acme Corporation",
        slug=slug,
        owner_email=DEMO_OWNER,
        owner_name="Olivia Owner",
        owner_password=DEMO_PASSWORD,
        allow_signup=True,
    )
    admin = accounts.create_user(
        tenant,
        email=DEMO_ADMIN,
        name="Adam Admin",
        password=DEMO_PASSWORD,
        tenant_role=TenantRole.ADMIN,
        email_verified=True,
    )
    member = accounts.create_user(
        tenant, email=DEMO_MEMBER, name="Mia Member", password=DEMO_PASSWORD, email_verified=True
    )
    by_name: dict[str, Organization] = {}

    def build(children: dict[str, dict], parent: Organization | None) -> None:
        for name, grandchildren in children.items():
            org = orgs.create_org(actor, tenant, name=name, parent=parent)
            by_name[name] = org
            build(grandchildren, org)

    build(DEMO_TREE, None)
    _join(owner, by_name["Acme Corporation"], Role.OWNER)
    _join(admin, by_name["Engineering"], Role.ADMIN)
    _join(member, by_name["Platform"], Role.MEMBER)
    _join(member, by_name["Customer Success"], Role.VIEWER)
    owner.last_org_id = by_name["Acme Corporation"].id
    member.last_org_id = by_name["Platform"].id
    # Pending invitations, so the invitations pages (and /dev/mail) have something to show.
    for org_name, addresses in DEMO_INVITATIONS.items():
        invitations.invite(
            Actor.for_user(owner), tenant, by_name[org_name], addresses=addresses, role=Role.MEMBER
        )
    return tenant


def _join(user: User, org: Organization, role: str) -> None:
    db.session.add(Membership(org_id=org.id, user_id=user.id, role=role))
