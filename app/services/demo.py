"""Demo data for a newcomer's first look (``flask --app wsgi demo seed``)."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import StaffRole, StaffUser, Tenant, TenantRole
from app.services import accounts, tenants
from app.services.actors import Actor

DEMO_TENANT_SLUG = "acme"
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed for the demo on purpose
DEMO_OWNER = "owner@acme.example"
DEMO_ADMIN = "admin@acme.example"
DEMO_MEMBER = "member@acme.example"
DEMO_STAFF = "staff@tenantry.example"


def seed() -> list[str]:
    """Idempotent: running it again keeps what exists and prints the same logins."""
    actor = Actor.system("demo seed")
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == DEMO_TENANT_SLUG))
    if tenant is None:
        tenant, _owner = tenants.create_tenant(
            actor,
            name="Acme Corporation",
            slug=DEMO_TENANT_SLUG,
            owner_email=DEMO_OWNER,
            owner_name="Olivia Owner",
            owner_password=DEMO_PASSWORD,
            allow_signup=True,
        )
        accounts.create_user(
            tenant,
            email=DEMO_ADMIN,
            name="Adam Admin",
            password=DEMO_PASSWORD,
            tenant_role=TenantRole.ADMIN,
        )
        accounts.create_user(tenant, email=DEMO_MEMBER, name="Mia Member", password=DEMO_PASSWORD)
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == DEMO_STAFF)) is None:
        accounts.create_staff(
            actor,
            email=DEMO_STAFF,
            password=DEMO_PASSWORD,
            name="Sam Support",
            role=StaffRole.SUPERADMIN,
        )
    return [
        f"tenant owner  {DEMO_OWNER} / {DEMO_PASSWORD}  at /t/{DEMO_TENANT_SLUG}/login",
        f"tenant admin  {DEMO_ADMIN} / {DEMO_PASSWORD}",
        f"tenant member {DEMO_MEMBER} / {DEMO_PASSWORD}",
        f"staff         {DEMO_STAFF} / {DEMO_PASSWORD}  at /staff/login",
    ]
