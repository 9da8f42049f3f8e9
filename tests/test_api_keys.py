"""Tenant API keys: made on the settings page or the command line, shown once, stored
hashed, revocable, expiring, and rate-limited per key."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.credentials import hash_token
from app.extensions import db
from app.models import ApiKey, AuditEvent, Tenant, TenantRole, utcnow
from tests.conftest import ApiClient
from tests.markup import one


def _create_on_the_page(client, name="CI sync", **fields) -> str:
    data = {"key_name": name, "key_permissions": ["org:read"], **fields}
    response = client.post("/t/acme/settings/api-keys", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    shown = one(response.get_data(as_text=True), "input#new-key-secret")
    assert shown["value"].startswith("tk_"), "the new key is shown on the page"
    return shown["value"]


def test_an_owner_creates_a_key_sees_it_once_and_it_works(app, client, auth, owner):
    auth.login(owner)
    secret = _create_on_the_page(client)
    assert secret.startswith("tk_")
    assert len(secret) >= 40
    page = client.get("/t/acme/settings/api-keys").get_data(as_text=True)
    assert secret not in page  # never shown again
    assert secret[:10] in page  # but recognisable by its prefix
    with app.app_context():
        key = db.session.scalar(sa.select(ApiKey))
        assert key.token_hash == hash_token(secret)
        assert secret not in str(
            db.session.scalars(
                sa.select(AuditEvent.after).where(AuditEvent.action == "api_key.created")
            ).all()
        )
    assert ApiClient(client, secret).get("/orgs").status_code == 200


def test_form_errors_show_next_to_the_field(client, auth, owner):
    auth.login(owner)
    response = client.post(
        "/t/acme/settings/api-keys", data={"key_name": "", "expires_in_days": "0"}
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'id="key_name-error"' in body
    assert 'id="expires_in_days-error"' in body


def test_a_revoked_key_gets_401(app, client, auth, owner):
    auth.login(owner)
    secret = _create_on_the_page(client)
    api = ApiClient(app.test_client(), secret)
    assert api.get("/orgs").status_code == 200
    with app.app_context():
        key_id = db.session.scalar(sa.select(ApiKey.public_id))
    revoked = client.post(f"/t/acme/settings/api-keys/{key_id}/revoke")
    assert revoked.status_code == 303
    response = api.get("/orgs")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "api_key.revoked")
        )
        assert event.actor_id == owner.public_id


def test_an_expired_or_altered_key_gets_401(app, tenant, create_api_key):
    client = app.test_client()
    expired = create_api_key(tenant, expires_at=utcnow() - timedelta(seconds=1))
    assert ApiClient(client, expired).get("/orgs").status_code == 401
    live = create_api_key(tenant)
    assert ApiClient(client, live).get("/orgs").status_code == 200
    altered = live[:-1] + ("A" if live[-1] != "A" else "B")
    assert ApiClient(client, altered).get("/orgs").status_code == 401
    assert ApiClient(client, live.removeprefix("tk_")).get("/orgs").status_code == 401


def test_a_key_expiring_later_works_until_then(app, client, auth, owner):
    auth.login(owner)
    secret = _create_on_the_page(client, expires_in_days="30")
    with app.app_context():
        key = db.session.scalar(sa.select(ApiKey))
        assert timedelta(days=29) < key.expires_at - utcnow() <= timedelta(days=30)
    assert ApiClient(client, secret).get("/orgs").status_code == 200


def test_a_suspended_tenants_keys_stop_working(app, tenant, create_api_key):
    secret = create_api_key(tenant)
    with app.app_context():
        db.session.get(Tenant, tenant.id).status = "suspended"
        db.session.commit()
    assert ApiClient(app.test_client(), secret).get("/orgs").status_code == 401


def test_last_use_is_stamped_at_most_once_a_minute(app, tenant, create_api_key, count_queries):
    secret = create_api_key(tenant)
    api = ApiClient(app.test_client(), secret)
    api.get("/orgs")
    with app.app_context():
        first = db.session.scalar(sa.select(ApiKey.last_used_at))
    assert first is not None
    with count_queries() as queries:
        api.get("/orgs")
    assert not any(q.lstrip().upper().startswith("UPDATE") for q in queries.statements)
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey.last_used_at)) == first


def test_members_cannot_manage_keys(client, auth, tenant, create_user):
    member = create_user(tenant, "member@acme.example")
    auth.login(member)
    assert client.get("/t/acme/settings").status_code == 403
    assert client.post("/t/acme/settings/api-keys", data={"key_name": "x"}).status_code == 403


def test_a_tenant_admin_manages_keys(client, auth, tenant, create_user):
    admin = create_user(tenant, "admin@acme.example", tenant_role=TenantRole.ADMIN)
    auth.login(admin)
    assert _create_on_the_page(client).startswith("tk_")


def test_requests_are_rate_limited_per_key(app, tenant, create_api_key):
    one, other = create_api_key(tenant, "one"), create_api_key(tenant, "other")
    client = app.test_client()
    app.config["API_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [ApiClient(client, one).get("/roles").status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = ApiClient(client, one).get("/roles")
        assert limited.json["error"]["code"] == "rate_limited"
        assert "Retry-After" in limited.headers
        assert ApiClient(client, other).get("/roles").status_code == 200
    finally:
        app.config["API_RATE_LIMIT"] = "100000 per minute"


def test_the_cli_creates_lists_and_revokes_keys(app, tenant):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["api-keys", "create", "--tenant", "acme", "--name", "Billing"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[0]
    assert secret.startswith("tk_")
    assert ApiClient(app.test_client(), secret).get("/orgs").status_code == 200
    listed = runner.invoke(args=["api-keys", "list", "--tenant", "acme"])
    assert "Billing" in listed.output
    assert secret not in listed.output
    key_id = listed.output.split()[0]
    revoked = runner.invoke(args=["api-keys", "revoke", "--tenant", "acme", "--id", key_id])
    assert revoked.exit_code == 0, revoked.output
    assert ApiClient(app.test_client(), secret).get("/orgs").status_code == 401


def test_the_cli_refuses_bad_input_with_one_line(app, tenant):
    runner = app.test_cli_runner()
    for args in (
        ["api-keys", "create", "--tenant", "nope", "--name", "x"],
        ["api-keys", "create", "--tenant", "acme", "--name", ""],
        ["api-keys", "create", "--tenant", "acme", "--name", "x", "--expires-days", "0"],
        ["api-keys", "revoke", "--tenant", "acme", "--id", "key_nope"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert result.output.strip().startswith("Error:"), result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiKey)) == 0


def test_the_cli_rotates_signing_keys(app, tenant):
    result = app.test_cli_runner().invoke(args=["signing-keys", "rotate", "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "now signed with" in result.output
