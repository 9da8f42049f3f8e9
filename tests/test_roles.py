"""Custom roles on the tenant settings page."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import CustomRole, Membership, TenantRole


def _role(app, key):
    with app.app_context():
        return db.session.scalar(sa.select(CustomRole).where(CustomRole.key == key))


def test_owner_creates_edits_and_deletes_a_role(app, client, auth, owner):
    auth.login(owner)
    response = client.post(
        "/t/acme/settings/roles",
        data={
            "name": "Billing manager",
            "key": "billing_manager",
            "description": "Reads members and the audit log",
            "permissions": ["org:read", "members:read", "audit:read"],
        },
    )
    assert response.status_code == 303
    role = _role(app, "billing_manager")
    assert role.permissions == ["audit:read", "members:read", "org:read"]
    page = client.get("/t/acme/settings/roles").get_data(as_text=True)
    assert "Billing manager" in page

    edit = client.post(
        f"/t/acme/settings/roles/{role.public_id}",
        data={"name": "Billing", "key": "ignored", "permissions": ["org:read"]},
    )
    assert edit.status_code == 303
    role = _role(app, "billing_manager")
    assert (role.name, role.permissions) == ("Billing", ["org:read"])

    assert client.post(f"/t/acme/settings/roles/{role.public_id}/delete").status_code == 303
    assert _role(app, "billing_manager") is None


def test_role_keys_and_permissions_are_validated(client, auth, owner):
    auth.login(owner)
    for data, message in [
        ({"name": "X", "key": "owner", "permissions": ["org:read"]}, "already used"),
        ({"name": "X", "key": "Bad Key!", "permissions": ["org:read"]}, "lowercase"),
        ({"name": "X", "key": "empty_role"}, "at least one permission"),
        (
            {"name": "X", "key": "weird", "permissions": ["root:everything"]},
            "is not a valid choice",
        ),
    ]:
        response = client.post("/t/acme/settings/roles", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data


def test_tenant_admin_cannot_create_a_role_stronger_than_itself(
    app, client, auth, tenant, create_user
):
    admin = create_user(tenant, tenant_role=TenantRole.ADMIN)
    auth.login(admin)
    response = client.post(
        "/t/acme/settings/roles",
        data={"name": "Destroyer", "key": "destroyer", "permissions": ["org:read", "org:delete"]},
    )
    assert response.status_code == 403
    assert _role(app, "destroyer") is None


def test_role_in_use_needs_a_replacement_before_deletion(
    app, client, auth, owner, tenant, create_org, create_user, add_member
):
    auth.login(owner)
    client.post(
        "/t/acme/settings/roles",
        data={"name": "Auditor", "key": "auditor", "permissions": ["org:read", "audit:read"]},
    )
    org = create_org(tenant, "Finance")
    person = create_user(tenant)
    add_member(org, person, "auditor")
    role = _role(app, "auditor")
    refused = client.post(
        f"/t/acme/settings/roles/{role.public_id}/delete", data={"reassign_to": ""}
    )
    assert refused.status_code == 303
    assert _role(app, "auditor") is not None
    assert "still given to 1 member" in client.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    done = client.post(
        f"/t/acme/settings/roles/{role.public_id}/delete", data={"reassign_to": "viewer"}
    )
    assert done.status_code == 303
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Membership.role).where(Membership.user_id == person.id))
            == "viewer"
        )


def test_a_custom_role_grants_exactly_its_permissions(
    app, client, auth, owner, tenant, create_org, create_user, add_member
):
    auth.login(owner)
    client.post(
        "/t/acme/settings/roles",
        data={"name": "Org editor", "key": "org_editor", "permissions": ["org:read", "org:update"]},
    )
    org = create_org(tenant, "Design")
    editor = create_user(tenant)
    add_member(org, editor, "org_editor")
    auth.logout("acme")
    auth.login(editor)
    assert client.get("/t/acme/orgs/design/settings").status_code == 200
    assert client.post("/t/acme/orgs/design/delete").status_code == 403


def test_built_in_roles_cannot_be_edited(client, auth, owner):
    auth.login(owner)
    assert client.get("/t/acme/settings/roles/owner").status_code == 404
    assert client.post("/t/acme/settings/roles/role_nope/delete").status_code == 404


def test_seat_limit_setting(app, client, auth, owner):
    auth.login(owner)
    ok = client.post("/t/acme/settings/seats", data={"seat_limit": "5"})
    assert ok.status_code == 303
    bad = client.post("/t/acme/settings/seats", data={"seat_limit": "0"})
    assert bad.status_code == 422
    # the message says what the hint says, not WTForms' "Number must be between…"
    assert "Use a whole number from 1 to 1,000,000, or leave it empty." in bad.get_data(
        as_text=True
    )
    with app.app_context():
        from app.models import Tenant

        assert db.session.get(Tenant, owner.tenant_id).seat_limit == 5
