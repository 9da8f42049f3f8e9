"""The per-tenant cache (app/tenant_cache.py) never serves a stale permission or setting.

Each change below is made once the pages have been served (so both "instances" hold the
tenant in their caches), then the very next request must see it: on the instance whose
process made the change, and on another instance (a second app object: its own cache,
the same database), which learns it from the tenant's new cache stamp.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.actors import Actor
from app.extensions import db
from app.models import CustomRole, Tenant, TenantStatus, utcnow
from app.policy import Perm
from app.services import members, roles, tenants
from tests.conftest import PASSWORD, CSRFClient

AUDIT = "/t/acme/orgs/engineering/audit"


@pytest.fixture
def other_instance(app: Flask) -> Flask:
    """Another process serving the same database: a second app, with a cache of its own."""
    return create_app(dict(app.config))


@pytest.fixture
def signed_in(app: Flask, other_instance: Flask) -> Callable[..., tuple[CSRFClient, CSRFClient]]:
    """A client of each instance, both signed in as ``user``."""

    def sign_in(user) -> tuple[CSRFClient, CSRFClient]:
        clients = []
        for instance in (app, other_instance):
            instance.test_client_class = CSRFClient
            client = instance.test_client()
            response = client.post(
                "/t/acme/login", data={"email": user.email, "password": PASSWORD}
            )
            assert response.status_code == 303
            clients.append(client)
        return clients[0], clients[1]

    return sign_in


def _change(app: Flask, change: Callable[[], object]) -> None:
    """A change made (and committed) by the first instance's code."""
    with app.app_context():
        change()
        db.session.commit()


def _tenant() -> Tenant:
    return db.session.scalar(sa.select(Tenant).where(Tenant.slug == "acme"))


def _statuses(clients, path: str) -> list[int]:
    return [client.get(path).status_code for client in clients]


def test_a_role_change_is_seen_by_the_next_request_everywhere(app, world, signed_in):
    clients = signed_in(world.admin)
    assert _statuses(clients, AUDIT) == [200, 200]

    def demote():
        user = db.session.merge(world.admin)
        members.change_role(
            Actor.system("test"), _tenant(), db.session.merge(world.engineering), user, "viewer"
        )

    _change(app, demote)
    assert _statuses(clients, AUDIT) == [403, 403]


def test_a_custom_roles_permissions_are_seen_by_the_next_request_everywhere(
    app, world, signed_in, add_member
):
    def create():
        return roles.create_role(
            Actor.system("test"), _tenant(), key="auditor", name="Auditor", description="",
            permissions=[Perm.ORG_READ, Perm.AUDIT_READ],
        )  # fmt: skip

    _change(app, create)
    add_member(world.sales, world.outsider, "auditor")
    path = "/t/acme/orgs/sales/audit"
    clients = signed_in(world.outsider)
    assert _statuses(clients, path) == [200, 200]

    def take_audit_away():
        role = db.session.scalar(sa.select(CustomRole).where(CustomRole.key == "auditor"))
        roles.update_role(
            Actor.system("test"), _tenant(), role, name="Auditor", description="",
            permissions=[Perm.ORG_READ],
        )  # fmt: skip

    _change(app, take_audit_away)
    assert _statuses(clients, path) == [403, 403]
    _change(
        app,
        lambda: roles.update_role(
            Actor.system("test"), _tenant(),
            db.session.scalar(sa.select(CustomRole).where(CustomRole.key == "auditor")),
            name="Auditor", description="", permissions=[Perm.ORG_READ, Perm.AUDIT_READ],
        ),
    )  # fmt: skip
    assert _statuses(clients, path) == [200, 200]


def test_a_tenant_setting_is_seen_by_the_next_request_everywhere(app, world, signed_in):
    clients = signed_in(world.member)
    assert _statuses(clients, "/t/acme/orgs/new") == [403, 403]

    def let_members_create_orgs():
        tenant = _tenant()
        tenants.update_tenant_rules(
            Actor.for_user(db.session.merge(world.tenant_owner)), tenant,
            allow_signup=tenant.allow_signup, signup_email_domains=[],
            personal_orgs=tenant.personal_orgs, members_can_create_orgs=True,
        )  # fmt: skip

    _change(app, let_members_create_orgs)
    assert _statuses(clients, "/t/acme/orgs/new") == [200, 200]


def test_a_suspension_is_seen_by_the_next_request_everywhere(app, world, signed_in, create_staff):
    staff = create_staff()
    clients = signed_in(world.member)
    assert _statuses(clients, "/t/acme/orgs/") == [200, 200]

    def suspend():
        tenants.suspend_tenant(Actor.for_staff(db.session.merge(staff)), _tenant())

    _change(app, suspend)
    assert _statuses(clients, "/t/acme/orgs/") == [403, 403]
    for client in clients:
        assert "suspended" in client.get("/t/acme/orgs/").get_data(as_text=True)

    def reactivate():
        tenants.reactivate_tenant(Actor.for_staff(db.session.merge(staff)), _tenant())

    _change(app, reactivate)
    assert _statuses(clients, "/t/acme/orgs/") == [200, 200]


def test_a_change_made_by_a_statement_is_seen_too(app, world, signed_in):
    """An UPDATE on tenants run as a statement (not through an entity) gets a new stamp."""
    clients = signed_in(world.member)
    assert _statuses(clients, "/t/acme/orgs/") == [200, 200]
    _change(
        app,
        lambda: db.session.execute(
            sa.update(Tenant).where(Tenant.slug == "acme").values(status=TenantStatus.SUSPENDED)
        ),
    )
    assert _statuses(clients, "/t/acme/orgs/") == [403, 403]


def test_tenants_never_share_what_is_cached(
    app, world, create_tenant, create_user, create_org, add_member, signed_in
):
    """The same custom role key in two tenants, with different permissions: each
    tenant's members get their own tenant's meaning of it, however the cache is warmed."""
    other = create_tenant("Globex", slug="globex")
    globex_user = create_user(other, "gina@globex.example", name="Gina")
    globex_org = create_org(other, "Research")

    def create_both():
        system = Actor.system("test")
        roles.create_role(
            system, _tenant(), key="auditor", name="Auditor", description="",
            permissions=[Perm.ORG_READ, Perm.AUDIT_READ],
        )  # fmt: skip
        globex = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "globex"))
        roles.create_role(
            system, globex, key="auditor", name="Auditor", description="",
            permissions=[Perm.ORG_READ],
        )  # fmt: skip

    _change(app, create_both)
    add_member(world.sales, world.outsider, "auditor")
    add_member(globex_org, globex_user, "auditor")
    acme_clients = signed_in(world.outsider)
    globex_client = app.test_client()
    response = globex_client.post(
        "/t/globex/login", data={"email": globex_user.email, "password": PASSWORD}
    )
    assert response.status_code == 303
    for _ in range(2):
        assert _statuses(acme_clients, "/t/acme/orgs/sales/audit") == [200, 200]
        assert globex_client.get("/t/globex/orgs/research/audit").status_code == 403


def test_a_deleted_tenant_is_gone_for_the_next_request(app, world, signed_in):
    clients = signed_in(world.member)
    assert _statuses(clients, "/t/acme/orgs/") == [200, 200]

    def delete():
        _tenant().deleted_at = utcnow()

    _change(app, delete)
    assert _statuses(clients, "/t/acme/orgs/") == [404, 404]


def test_an_api_key_on_another_instance_sees_a_new_custom_role_at_once(
    app, other_instance, world, create_api_key
):
    """The API reads the tenant with its key, then the role catalog from the cache under
    that stamp: a role made elsewhere is known to the very next call."""
    key = create_api_key(world.tenant)
    headers = {"Authorization": f"Bearer {key}"}
    other = other_instance.test_client()
    path = f"/api/v1/orgs/{world.engineering.public_id}/members/{world.member.public_id}"
    assert other.get(path, headers=headers).status_code == 200
    refused = other.patch(path, json={"role": "auditor"}, headers=headers)
    assert refused.status_code == 422

    _change(
        app,
        lambda: roles.create_role(
            Actor.system("test"), _tenant(), key="auditor", name="Auditor", description="",
            permissions=[Perm.ORG_READ, Perm.AUDIT_READ],
        ),
    )  # fmt: skip
    changed = other.patch(path, json={"role": "auditor"}, headers=headers)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["role"] == "auditor"


def test_an_api_key_on_another_instance_is_refused_once_the_tenant_is_suspended(
    app, other_instance, world, create_api_key, create_staff
):
    key = create_api_key(world.tenant)
    headers = {"Authorization": f"Bearer {key}"}
    other = other_instance.test_client()
    assert other.get("/api/v1/orgs", headers=headers).status_code == 200
    staff = create_staff()
    _change(
        app, lambda: tenants.suspend_tenant(Actor.for_staff(db.session.merge(staff)), _tenant())
    )
    assert other.get("/api/v1/orgs", headers=headers).status_code == 401


def test_the_cache_holds_at_most_so_many_tenants(monkeypatch, app, create_tenant):
    from app import tenant_cache

    monkeypatch.setattr(tenant_cache, "MAX_TENANTS", 3)
    cache = tenant_cache.TenantCache()
    made = [create_tenant(f"T{n}", slug=f"t-{n}") for n in range(5)]
    with app.app_context():
        for tenant in made:
            cache.put(db.session.merge(tenant))
    assert [cache.get(t.id, t.cache_stamp) is not None for t in made] == [
        False, False, True, True, True,
    ]  # fmt: skip
