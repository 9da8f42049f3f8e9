"""The number of SQL queries a page makes does not grow with the data (no N+1)."""

from __future__ import annotations

import itertools

import pytest

from app.extensions import db
from app.models import AuditEvent, Tenant, User

_batch = itertools.count()


def _grow(app, tenants: int, users_per_tenant: int, events: int) -> None:
    with app.app_context():
        for _ in range(tenants):
            n = next(_batch)
            tenant = Tenant(name=f"Bulk {n}", slug=f"bulk-{n}")
            db.session.add(tenant)
            db.session.flush()
            db.session.add_all(
                User(tenant_id=tenant.id, email=f"u{i}@bulk{n}.example", name=f"U {i}")
                for i in range(users_per_tenant)
            )
            db.session.add_all(
                AuditEvent(tenant_id=tenant.id, actor_type="system", action="bulk.made")
                for _ in range(events)
            )
        db.session.commit()


def _queries(client, count_queries, path: str) -> int:
    """Queries of a warm request (the first one after a change may fill this process's
    tenant cache: app/tenant_cache.py)."""
    client.get(path)
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.count


STAFF_PAGES = ["/staff/", "/staff/audit", "/staff/?q=bulk"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_make_constant_queries(app, client, auth, create_staff, count_queries, path):
    auth.login_staff(create_staff())
    _grow(app, tenants=2, users_per_tenant=2, events=2)
    small = _queries(client, count_queries, path)
    _grow(app, tenants=40, users_per_tenant=5, events=3)
    large = _queries(client, count_queries, path)
    assert small == large
    # the session's staff account, then the page's own queries
    assert large <= 3


def test_staff_tenant_page_makes_constant_queries(
    app, client, auth, create_staff, count_queries, tenant, create_user
):
    auth.login_staff(create_staff())
    path = f"/staff/tenants/{tenant.public_id}"
    small = _queries(client, count_queries, path)
    for _ in range(30):
        create_user(tenant)
    large = _queries(client, count_queries, path)
    assert small == large <= 4


def test_tenant_home_makes_constant_queries(app, client, auth, owner, create_user, count_queries):
    auth.login(owner)
    small = _queries(client, count_queries, "/t/acme/orgs/")
    _grow(app, tenants=5, users_per_tenant=10, events=5)
    large = _queries(client, count_queries, "/t/acme/orgs/")
    assert small == large
    assert large <= 6


# --- organizations: the same number of queries at 10 and at 2,000 orgs ---------------

ORG_PAGES = [
    "/t/acme/orgs/",
    "/t/acme/orgs/gen-root/children",
    "/t/acme/orgs/?q=unit",
    "/t/acme/orgs/gen-root/",
    "/t/acme/orgs/switch",
    "/t/acme/orgs/gen-root/settings",
]


def _grow_orgs(app, tenant, owner, total: int) -> None:
    from app.actors import Actor
    from app.models import Membership, Organization
    from app.seed import bulk
    from app.services import orgs

    with app.app_context():
        root = db.session.scalar(db.select(Organization).where(Organization.slug == "gen-root"))
        if root is None:
            root = orgs.create_org(Actor.system("test"), tenant, name="Gen Root")
            db.session.add(Membership(org_id=root.id, user_id=owner.id, role="owner"))
        grown = bulk.grow_tenant(tenant, orgs=total, members=total * 2, under=root)
        assert grown.orgs == total
        db.session.commit()


@pytest.mark.parametrize("path", ORG_PAGES)
def test_org_pages_make_constant_queries(app, client, auth, tenant, owner, count_queries, path):
    _grow_orgs(app, tenant, owner, 10)
    auth.login(owner)
    client.post("/t/acme/orgs/switch", data={"org": _public_id(app, "gen-root")})
    small = _queries(client, count_queries, path)
    _grow_orgs(app, tenant, owner, 2000)
    large = _queries(client, count_queries, path)
    assert small == large, path
    assert large <= 14, path


def _public_id(app, slug: str) -> str:
    from app.models import Organization

    with app.app_context():
        return db.session.scalar(db.select(Organization.public_id).where(Organization.slug == slug))
