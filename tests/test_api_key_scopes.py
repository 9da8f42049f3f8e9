"""API keys never outrank their maker (issue 14, item 2).

- Every API operation declares the permission it needs, in the code and the OpenAPI
  document; a key without it gets 403 ``insufficient_scope`` and changes nothing.
- A key limited to an org's subtree finds nothing outside it (404, as another tenant's).
- Nobody creates a key holding a permission they lack, nor reaching orgs they can't
  manage; only tenant owners give keys tenant-level powers. The escalation found from
  outside (a tenant admin's key creating a role with org:delete, restoring an org) fails.
- Keys made before permission sets read "full access" and can be narrowed, never widened.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import Result

from app.api.core import OPERATIONS
from app.extensions import db
from app.models import ApiKey, AuditEvent, Organization, TenantRole
from app.policy import KEY_PERMISSIONS, Perm, TenantPerm
from tests.conftest import ApiClient
from tests.markup import one
from tests.test_api_guards import _RULES, BY_ENDPOINT, _call, _ids, _row_counts

KEY_OPERATIONS = [op for op in OPERATIONS if op.auth == "api_key"]


@pytest.fixture
def things(tenant, one_of_everything):
    return one_of_everything(tenant)


def _key(app, create_api_key, tenant, permissions, org_id=None) -> str:
    return create_api_key(tenant, permissions=sorted(permissions), org_id=org_id)


def _org_id(app, public_id: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Organization.id).where(Organization.public_id == public_id)
        )


# --- every operation declares, and is held to, its permission ---------------------------


def test_every_key_operation_declares_a_permission_a_key_can_hold():
    assert KEY_OPERATIONS, "the API has operations"
    for op in KEY_OPERATIONS:
        assert op.permission in KEY_PERMISSIONS, f"{op.method} {op.rule}"


def test_the_openapi_document_names_each_operations_permission(client):
    document = client.get("/api/v1/openapi.json").json
    for op in KEY_OPERATIONS:
        path = op.rule.replace("<", "{").replace(">", "}")
        spec = document["paths"][path][op.method.lower()]
        assert spec["x-permission"] == op.permission
        assert f"`{op.permission}`" in spec["description"]
        assert "403" in spec["responses"]


@pytest.mark.parametrize("rule", _RULES, ids=_ids(_RULES))
def test_a_key_without_the_declared_permission_gets_403_and_changes_nothing(
    app, tenant, things, create_api_key, rule
):
    needed = BY_ENDPOINT[rule.endpoint].permission
    if needed is None:
        pytest.skip("takes an access token, not a key")
    secret = _key(app, create_api_key, tenant, KEY_PERMISSIONS - {needed})
    with app.app_context():
        before = _row_counts()
    response = _call(ApiClient(app.test_client(), secret), rule, things)
    assert response.status_code == 403, response.json
    assert response.json["error"]["code"] == "insufficient_scope"
    assert needed in response.json["error"]["message"]
    with app.app_context():
        after = _row_counts()
    # Only the key's own "last used" stamp may be written.
    assert before == after


# --- a key limited to a subtree ----------------------------------------------------------


@pytest.fixture
def elsewhere(tenant, create_org):
    """A top-level org apart from the one_of_everything tree."""
    return create_org(tenant, "Elsewhere")


ORG_RULES = [rule for rule in _RULES if "org_id" in rule.arguments]


@pytest.mark.parametrize("rule", ORG_RULES, ids=_ids(ORG_RULES))
def test_a_subtree_key_gets_404_outside_its_subtree_and_changes_nothing(
    app, tenant, things, elsewhere, create_api_key, rule
):
    secret = _key(app, create_api_key, tenant, KEY_PERMISSIONS, org_id=elsewhere.id)
    with app.app_context():
        before = _row_counts()
    response = _call(ApiClient(app.test_client(), secret), rule, things)
    if BY_ENDPOINT[rule.endpoint].permission in set(TenantPerm):
        # A tenant-level power (restoring) is refused to any subtree key before lookup.
        assert response.status_code == 403, response.json
        assert response.json["error"]["code"] == "insufficient_scope"
    else:
        assert response.status_code == 404, response.json
    with app.app_context():
        assert _row_counts() == before


def test_a_subtree_key_works_inside_and_lists_only_its_subtree(
    app, tenant, things, elsewhere, create_api_key, create_org
):
    child = create_org(tenant, "Elsewhere Labs", parent=elsewhere)
    org_perms = KEY_PERMISSIONS - set(TenantPerm)
    api = ApiClient(app.test_client(), _key(app, create_api_key, tenant, org_perms, elsewhere.id))
    listed = {org["id"] for org in api.get("/orgs").json["data"]}
    assert listed == {elsewhere.public_id, child.public_id}
    top = api.get("/orgs?top_level=true").json["data"]
    assert [org["id"] for org in top] == [elsewhere.public_id]
    assert api.get(f"/orgs/{child.public_id}").status_code == 200
    made = api.post("/orgs", json={"name": "Inside", "parent_id": child.public_id})
    assert made.status_code == 201, made.json
    # Nothing at the top level, nothing tenant-wide.
    top_level = api.post("/orgs", json={"name": "Loose"})
    assert top_level.status_code == 403
    assert top_level.json["error"]["code"] == "insufficient_scope"
    loose = api.post(f"/orgs/{child.public_id}/move", json={"parent_id": None})
    assert loose.status_code == 403
    users = api.get("/users")
    assert users.status_code == 403
    assert users.json["error"]["code"] == "insufficient_scope"
    assert "tenant-wide" in users.json["error"]["message"]


def test_a_subtree_key_cannot_move_an_org_out_of_its_reach(
    app, tenant, things, elsewhere, create_api_key, create_org
):
    child = create_org(tenant, "Elsewhere Labs", parent=elsewhere)
    api = ApiClient(
        app.test_client(),
        _key(
            app,
            create_api_key,
            tenant,
            {"org:update", "org:create_child", "org:read"},
            elsewhere.id,
        ),
    )
    away = api.post(f"/orgs/{child.public_id}/move", json={"parent_id": things["org_id"]})
    assert away.status_code == 404
    with app.app_context():
        assert db.session.get(Organization, child.id).parent_id == elsewhere.id


# --- nobody makes a key stronger than themselves ----------------------------------------


def _create_on_the_page(client, **data):
    return client.post("/t/acme/settings/api-keys", data={"key_name": "Probe", **data})


def test_a_tenant_admin_cannot_make_a_key_with_what_they_lack(
    app, client, auth, tenant, create_user
):
    admin = create_user(tenant, "admin@acme.example", tenant_role=TenantRole.ADMIN)
    auth.login(admin)
    for lacking in (Perm.ORG_DELETE, TenantPerm.ROLES_MANAGE, TenantPerm.ORGS_RESTORE):
        response = _create_on_the_page(client, key_permissions=["org:read", lacking])
        assert response.status_code == 422, lacking
        error = one(response.get_data(as_text=True), "#key-permissions-error").text
        assert lacking in error
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0
    made = _create_on_the_page(client, key_permissions=["org:read", "members:invite"])
    assert made.status_code == 200


def test_the_escalation_through_a_key_is_closed(app, client, auth, tenant, create_user, things):
    """Found from outside: a tenant admin's key created a role with org:delete and
    restored a deleted org, both refused to that admin on the pages."""
    admin = create_user(tenant, "admin@acme.example", tenant_role=TenantRole.ADMIN)
    auth.login(admin)
    everything_allowed = sorted(KEY_PERMISSIONS - {Perm.ORG_DELETE} - set(TenantPerm))
    page = _create_on_the_page(client, key_permissions=everything_allowed)
    secret = one(page.get_data(as_text=True), "input#new-key-secret")["value"]
    api = ApiClient(app.test_client(), secret)
    role = api.post(
        "/roles", json={"key": "deleter", "name": "Deleter", "permissions": ["org:delete"]}
    )
    assert role.status_code == 403
    assert role.json["error"]["code"] == "insufficient_scope"
    deleted = api.delete(f"/orgs/{things['org_id']}")
    assert deleted.status_code == 403
    restored = api.post(f"/orgs/{things['org_id']}/restore")
    assert restored.status_code == 403
    assert restored.json["error"]["code"] == "insufficient_scope"


def test_a_key_with_roles_power_grants_no_permission_it_lacks(app, tenant, create_api_key):
    secret = _key(app, create_api_key, tenant, {TenantPerm.ROLES_MANAGE, Perm.ORG_READ})
    api = ApiClient(app.test_client(), secret)
    refused = api.post(
        "/roles", json={"key": "deleter", "name": "Deleter", "permissions": ["org:delete"]}
    )
    assert refused.status_code == 403
    allowed = api.post(
        "/roles", json={"key": "reader", "name": "Reader", "permissions": ["org:read"]}
    )
    assert allowed.status_code == 201, allowed.json


def test_a_key_without_every_permission_cannot_make_an_owner(app, tenant, things, create_api_key):
    secret = _key(app, create_api_key, tenant, KEY_PERMISSIONS - {Perm.AUDIT_READ})
    api = ApiClient(app.test_client(), secret)
    response = api.patch(
        f"/orgs/{things['org_id']}/members/{things['user_id']}", json={"role": "owner"}
    )
    assert response.status_code == 403


def test_a_subtree_key_needs_rights_in_that_org(
    app, client, auth, tenant, create_user, create_org, add_member
):
    """An org admin who is not a tenant admin reaches no settings page; a tenant admin
    manages every org, so may make a key for any subtree, with org:delete there."""
    hq = create_org(tenant, "HQ")
    admin = create_user(tenant, "admin@acme.example", tenant_role=TenantRole.ADMIN)
    auth.login(admin)
    made = _create_on_the_page(
        client, key_permissions=["org:read", "org:delete"], limit_to_org=hq.slug
    )
    assert made.status_code == 200
    unknown = _create_on_the_page(client, key_permissions=["org:read"], limit_to_org="no-such-org")
    assert unknown.status_code == 422
    assert (
        "No organization has that slug"
        in one(unknown.get_data(as_text=True), "#limit_to_org-error").text
    )
    member = create_user(tenant, "member@acme.example")
    add_member(hq, member, "admin")
    auth.logout("acme")
    auth.login(member)
    assert (
        _create_on_the_page(client, key_permissions=["org:read"], limit_to_org=hq.slug).status_code
        == 403
    )


# --- keys made before permission sets --------------------------------------------------


def test_an_old_key_reads_full_access_and_can_be_narrowed_not_widened(
    app, client, auth, owner, tenant, things, create_api_key
):
    secret = create_api_key(tenant, permissions=None)  # as every key made before
    api = ApiClient(app.test_client(), secret)
    assert api.post(f"/orgs/{things['org_id']}/restore").status_code == 404  # allowed, not deleted
    auth.login(owner)
    page = client.get("/t/acme/settings/api-keys").get_data(as_text=True)
    assert "full access" in page
    with app.app_context():
        key_id = db.session.scalar(sa.select(ApiKey.public_id))
    narrow_page = client.get(f"/t/acme/settings/api-keys/{key_id}")
    assert narrow_page.status_code == 200
    assert "Full access" in narrow_page.get_data(as_text=True)
    narrowed = client.post(
        f"/t/acme/settings/api-keys/{key_id}", data={"key_permissions": ["org:read"]}
    )
    assert narrowed.status_code == 303
    assert api.get("/orgs").status_code == 200
    assert api.get(f"/orgs/{things['org_id']}/members").status_code == 403
    widened = client.post(
        f"/t/acme/settings/api-keys/{key_id}",
        data={"key_permissions": ["org:read", "members:read"]},
    )
    assert widened.status_code == 422
    assert "only takes permissions away" in widened.get_data(as_text=True)
    with app.app_context():
        key = db.session.scalar(sa.select(ApiKey))
        assert key.permissions == ["org:read"]
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "api_key.narrowed")
        )
        assert event.before["permissions"] == "full access"


def test_audit_events_name_the_key_and_its_maker(app, client, auth, owner, tenant, things):
    auth.login(owner)
    page = _create_on_the_page(client, key_permissions=["org:read", "org:update"])
    secret = one(page.get_data(as_text=True), "input#new-key-secret")["value"]
    api = ApiClient(app.test_client(), secret)
    assert api.patch(f"/orgs/{things['org_id']}", json={"name": "Renamed"}).status_code == 200
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "org.updated"))
        assert "Probe" in event.actor_label
        assert owner.email in event.actor_label


def test_the_command_line_makes_a_limited_key(app, tenant, things, elsewhere):
    runner = app.test_cli_runner()
    result: Result = runner.invoke(
        args=["api-keys", "create", "--tenant", "acme", "--name", "sync",
              "--permission", "org:read", "--org", elsewhere.slug]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    api = ApiClient(app.test_client(), secret)
    assert [org["id"] for org in api.get("/orgs").json["data"]] == [elsewhere.public_id]
    assert (
        api.post("/orgs", json={"name": "x", "parent_id": elsewhere.public_id}).status_code == 403
    )
    bad = runner.invoke(
        args=["api-keys", "create", "--tenant", "acme", "--name", "x", "--permission", "org:fly"]
    )
    assert bad.exit_code != 0
    assert "Unknown permission" in bad.output
    listed = runner.invoke(args=["api-keys", "list", "--tenant", "acme"])
    assert "org:read in Elsewhere and below" in listed.output


# --- found in the route review -------------------------------------------------------------


def test_private_metadata_and_settings_need_org_update(app, tenant, things, create_api_key):
    from app.models import Organization as Org

    with app.app_context():
        org = db.session.scalar(sa.select(Org).where(Org.public_id == things["org_id"]))
        org.private_metadata = {"bank_account": "DE89-SECRET"}
        org.settings = {"timezone": "UTC"}
        db.session.commit()
    reader = ApiClient(app.test_client(), _key(app, create_api_key, tenant, {"org:read"}))
    for path in (f"/orgs/{things['org_id']}", "/orgs"):
        body = reader.get(path).get_data(as_text=True)
        assert "DE89-SECRET" not in body
        assert "timezone" not in body
    shown = reader.get(f"/orgs/{things['org_id']}").json
    assert shown["private_metadata"] is None
    assert shown["settings"] is None
    editor = ApiClient(
        app.test_client(), _key(app, create_api_key, tenant, {"org:read", "org:update"})
    )
    assert editor.get(f"/orgs/{things['org_id']}").json["private_metadata"] == {
        "bank_account": "DE89-SECRET"
    }


def test_a_key_shrinks_with_its_maker_and_stops_with_them(
    app, client, auth, tenant, create_user, things
):
    from app.models import User

    admin = create_user(tenant, "admin@acme.example", tenant_role=TenantRole.ADMIN)
    auth.login(admin)
    page = _create_on_the_page(client, key_permissions=["org:read", "members:read"])
    secret = one(page.get_data(as_text=True), "input#new-key-secret")["value"]
    api = ApiClient(app.test_client(), secret)
    assert api.get("/users").status_code == 200
    with app.app_context():
        db.session.get(User, admin.id).tenant_role = TenantRole.MEMBER
        db.session.commit()
    demoted = api.get("/users")
    assert demoted.status_code == 403
    assert demoted.json["error"]["code"] == "insufficient_scope"
    with app.app_context():
        maker = db.session.get(User, admin.id)
        maker.tenant_role, maker.is_active_account = TenantRole.ADMIN, False
        db.session.commit()
    assert api.get("/orgs").status_code == 401


def test_a_subtree_key_asks_once_whether_an_org_is_inside(
    app, tenant, elsewhere, create_api_key, create_org, count_queries
):
    """The door and the services behind it ask about the same org: one closure query."""
    child = create_org(tenant, "Elsewhere Labs", parent=elsewhere)
    org_perms = KEY_PERMISSIONS - set(TenantPerm)
    api = ApiClient(app.test_client(), _key(app, create_api_key, tenant, org_perms, elsewhere.id))
    with count_queries() as queries:
        response = api.patch(f"/orgs/{child.public_id}", json={"name": "Elsewhere Lab"})
    assert response.status_code == 200, response.json
    closure = [q for q in queries.statements if "organization_closure" in q]
    assert len(closure) == 1, closure


def test_a_revoked_key_cannot_be_narrowed(app, client, auth, owner, tenant, create_api_key):
    create_api_key(tenant, permissions=["org:read", "members:read"])
    auth.login(owner)
    with app.app_context():
        key = db.session.scalar(sa.select(ApiKey))
        key_id = key.public_id
    assert client.post(f"/t/acme/settings/api-keys/{key_id}/revoke").status_code == 303
    page = client.get(f"/t/acme/settings/api-keys/{key_id}")
    assert page.status_code == 200
    assert "revoked" in page.get_data(as_text=True)
    refused = client.post(
        f"/t/acme/settings/api-keys/{key_id}", data={"key_permissions": ["org:read"]}
    )
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey)).permissions == ["org:read", "members:read"]


def test_the_settings_page_says_when_a_key_stopped_with_its_maker(
    app, client, auth, owner, tenant, create_user
):
    from app.models import User

    admin = create_user(tenant, "admin@acme.example", tenant_role=TenantRole.ADMIN)
    auth.login(admin)
    made = _create_on_the_page(client, key_permissions=["org:read"])
    assert made.status_code == 200
    with app.app_context():
        db.session.get(User, admin.id).is_active_account = False
        db.session.commit()
    auth.logout("acme")
    auth.login(owner)
    page = client.get("/t/acme/settings/api-keys").get_data(as_text=True)
    row = one(page, "#api-keys tbody tr")
    assert "stopped" in row.text
    assert "admin@acme.example, is deactivated" in row.text
    revoke = one(row.html, "a[href$=/revoke]")  # it can still be revoked
    assert revoke.text == "Revoke"
