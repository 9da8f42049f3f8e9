"""Demo data for a newcomer's first look (``flask --app wsgi demo seed``)."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Membership, Organization, StaffRole, StaffUser, Tenant, TenantRole, User
from app.policy import Role
from app.services import accounts, bulk, orgs, tenants
from app.services.actors import Actor

DEMO_TENANT_SLUG = "acme"
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed for the demo on purpose
DEMO_OWNER = "owner@acme.example"
DEMO_ADMIN = "admin@acme.example"
DEMO_MEMBER = "member@acme.example"
DEMO_STAFF = "staff@tenantry.example"

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


def seed(*, orgs_count: int = 0, members_count: int = 0) -> list[str]:
    """Idempotent: running it again keeps what exists and prints the same logins.

    With ``orgs_count``/``members_count`` it also grows a large generated tree beside the
    demo company (for trying the app, or the benchmark, at scale).
    """
    actor = Actor.system("demo seed")
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == DEMO_TENANT_SLUG))
    if tenant is None:
        tenant = _seed_company(actor)
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == DEMO_STAFF)) is None:
        accounts.create_staff(
            actor,
            email=DEMO_STAFF,
            password=DEMO_PASSWORD,
            name="Sam Support",
            role=StaffRole.SUPERADMIN,
        )
    extra: list[str] = []
    if orgs_count or members_count:
        made = bulk.grow_tenant(tenant, orgs=orgs_count, members=members_count)
        extra.append(f"generated     {made.orgs} organizations and {made.members} memberships")
    return [
        f"tenant owner  {DEMO_OWNER} / {DEMO_PASSWORD}  at /t/{DEMO_TENANT_SLUG}/login",
        f"tenant admin  {DEMO_ADMIN} / {DEMO_PASSWORD}",
        f"tenant member {DEMO_MEMBER} / {DEMO_PASSWORD}",
        f"staff         {DEMO_STAFF} / {DEMO_PASSWORD}  at /staff/login",
        *extra,
    ]


def _seed_company(actor: Actor) -> Tenant:
    tenant, owner = tenants.create_tenant(
        actor,
        name="Acme Corporation",
        slug=DEMO_TENANT_SLUG,
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
    )
    member = accounts.create_user(
        tenant, email=DEMO_MEMBER, name="Mia Member", password=DEMO_PASSWORD
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
    return tenant


def _join(user: User, org: Organization, role: str) -> None:
    db.session.add(Membership(org_id=org.id, user_id=user.id, role=role))
