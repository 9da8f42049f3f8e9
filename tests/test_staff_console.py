"""The staff console: sign in, find tenants, create one, suspend and reactivate."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, StaffRole, Tenant, User
from tests.conftest import PASSWORD
from tests.markup import parse


def test_staff_sign_in_and_tenant_list(client, auth, create_staff, create_tenant):
    create_tenant("Initech", slug="initech")
    auth.login_staff(create_staff())
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Initech" in page.get_data(as_text=True)


def test_tenant_user_credentials_do_not_work_on_staff_sign_in(client, owner):
    response = client.post("/staff/login", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 422


def test_staff_session_does_not_open_tenant_pages(client, auth, tenant, create_staff):
    auth.login_staff(create_staff())
    response = client.get("/t/acme/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/t/acme/login")


def test_search_is_literal_and_htmx_gets_only_the_results(
    client, htmx_client, create_staff, create_tenant, auth
):
    create_tenant("100% Real", slug="real")
    create_tenant("Other Co", slug="other")
    staff = create_staff()
    auth.login_staff(staff)
    html = client.get("/staff/?q=%25").get_data(as_text=True)
    assert "100% Real" in html
    assert "Other Co" not in html
    assert "<html" in html

    htmx_client.post("/staff/login", data={"email": staff.email, "password": PASSWORD})
    fragment = htmx_client.get("/staff/?q=other")
    assert fragment.headers["Vary"].count("HX-Request") == 1
    body = fragment.get_data(as_text=True)
    assert "Other Co" in body
    assert "<html" not in body
    boosted = htmx_client.get("/staff/?q=other", headers={"HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_tenant_list_is_paginated(client, auth, create_staff, create_tenant):
    for n in range(30):
        create_tenant(f"Company {n:02d}", slug=f"company-{n:02d}")
    auth.login_staff(create_staff())
    first = client.get("/staff/").get_data(as_text=True)
    assert "Company 29" in first
    assert "Company 00" not in first
    second = client.get(parse(first).one('a[rel="next"]').get("href")).get_data(as_text=True)
    assert "Company 00" in second
    assert "Company 29" not in second
    old_link = client.get("/staff/?page=2")  # the pages by number of before: the first page
    assert "Company 29" in old_link.get_data(as_text=True)
    assert client.get("/staff/?page=abc&after=abc").status_code == 200


def test_create_tenant_with_owner(app, client, auth, create_staff):
    auth.login_staff(create_staff())
    response = client.post(
        "/staff/tenants/new",
        data={
            "name": "Umbrella",
            "slug": "",
            "owner_name": "Alice",
            "owner_email": "alice@umbrella.example",
            "owner_password": "long-password-1",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "umbrella"))
        owner = db.session.scalar(sa.select(User).where(User.tenant_id == tenant.id))
        assert owner.tenant_role == "owner"
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "tenant.created")
        )
        assert event.actor_type == "staff"
        assert event.tenant_id == tenant.id
        assert event.ip == "127.0.0.1"
    assert client.get(response.headers["Location"]).status_code == 200


def test_create_tenant_errors_are_shown_by_the_field(client, auth, create_staff, create_tenant):
    create_tenant("Taken", slug="taken")
    auth.login_staff(create_staff())
    response = client.post(
        "/staff/tenants/new",
        data={
            "name": "X",
            "slug": "taken",
            "owner_email": "nope",
            "owner_password": "long-password-1",
        },
    )
    assert response.status_code == 422
    assert 'id="owner_email-error"' in response.get_data(as_text=True)
    conflict = client.post(
        "/staff/tenants/new",
        data={
            "name": "X",
            "slug": "taken",
            "owner_email": "a@example.com",
            "owner_password": "long-password-1",
        },
    )
    assert conflict.status_code == 422
    assert "already taken" in conflict.get_data(as_text=True)


def test_suspend_refuses_the_tenants_users_and_reactivate_lets_them_back(
    app, client, auth, owner, create_staff
):
    staff_client = app.test_client()
    from tests.conftest import Auth

    Auth(app, staff_client).login_staff(create_staff())
    auth.login(owner)
    tenant_id = owner.tenant_id
    with app.app_context():
        public_id = db.session.get(Tenant, tenant_id).public_id

    assert staff_client.post(f"/staff/tenants/{public_id}/suspend").status_code == 303
    refused = client.get("/t/acme/orgs/")
    assert refused.status_code == 403
    assert "Acme is suspended" in refused.get_data(as_text=True)
    assert client.get("/t/acme/login").status_code == 403

    assert staff_client.post(f"/staff/tenants/{public_id}/reactivate").status_code == 303
    assert client.get("/t/acme/orgs/").status_code == 200
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.tenant_id == tenant_id)
        ).all()
    assert {"tenant.suspended", "tenant.reactivated"} <= set(actions)


def test_suspending_twice_is_a_clear_conflict(client, auth, tenant, create_staff):
    auth.login_staff(create_staff())
    url = f"/staff/tenants/{tenant.public_id}/suspend"
    assert client.post(url).status_code == 303
    again = client.post(url)
    assert again.status_code == 409
    assert "already suspended" in again.get_data(as_text=True)


def test_support_staff_cannot_create_or_suspend(client, auth, tenant, create_staff):
    auth.login_staff(create_staff(role=StaffRole.SUPPORT))
    assert client.get("/staff/tenants/new").status_code == 403
    assert client.post(f"/staff/tenants/{tenant.public_id}/suspend").status_code == 403
    assert "New tenant" not in client.get("/staff/").get_data(as_text=True)


def test_unknown_tenant_id_is_404(client, auth, create_staff):
    auth.login_staff(create_staff())
    assert client.get("/staff/tenants/tnt_nope").status_code == 404
    assert client.post("/staff/tenants/tnt_nope/suspend").status_code == 404


def test_audit_list_shows_staff_actions(client, auth, tenant, create_staff):
    staff = create_staff()
    auth.login_staff(staff)
    client.post(f"/staff/tenants/{tenant.public_id}/suspend")
    html = client.get("/staff/audit").get_data(as_text=True)
    assert "tenant.suspended" in html
    assert staff.email in html


def test_staff_sign_out_kills_the_cookie(app, client, auth, create_staff):
    auth.login_staff(create_staff())
    stolen = client.get_cookie("tenantry_session").value
    client.post("/staff/logout")
    thief = app.test_client()
    thief.set_cookie("tenantry_session", stolen)
    assert thief.get("/staff/").status_code == 302
