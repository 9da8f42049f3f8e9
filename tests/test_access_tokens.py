"""Access tokens: minted for a signed-in user, signed per tenant, verified by JWKS and /self."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import SigningKey, Tenant, TenantRole, utcnow
from tests.conftest import ApiClient


def _switch(client, tenant_slug: str, org) -> None:
    response = client.post(f"/t/{tenant_slug}/orgs/switch", data={"org": org.public_id})
    assert response.status_code == 303


def _mint(client, tenant_slug: str = "acme") -> dict:
    response = client.post(f"/t/{tenant_slug}/token")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.json


def _jwks(client, tenant_slug: str = "acme") -> jwt.PyJWKSet:
    response = client.get(f"/t/{tenant_slug}/.well-known/jwks.json")
    assert response.status_code == 200
    return jwt.PyJWKSet.from_dict(response.json)


def _verify(token: str, keys: jwt.PyJWKSet, *, audience: str, issuer: str) -> dict:
    """What a product's backend does (see the README guide)."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer)


def _self(client, token: str):
    return ApiClient(client).get("/self", key=token)


@pytest.fixture
def engineering(tenant, owner, create_org, add_member, create_user):
    acme = create_org(tenant, "Acme")
    eng = create_org(tenant, "Engineering", parent=acme)
    return {"acme": acme, "engineering": eng}


@pytest.fixture
def dev(tenant, create_user, engineering, add_member):
    user = create_user(tenant, "dev@acme.example", name="Dev")
    add_member(engineering["acme"], user, "member")
    add_member(engineering["engineering"], user, "admin")
    return user


def test_a_signed_in_user_gets_a_short_lived_token_with_their_org_and_role(
    client, auth, tenant, dev, engineering
):
    auth.login(dev)
    _switch(client, "acme", engineering["engineering"])
    answer = _mint(client)
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 600
    claims = _verify(
        answer["access_token"],
        _jwks(client),
        audience=tenant.public_id,
        issuer="http://localhost/t/acme",
    )
    assert claims["sub"] == dev.public_id
    assert claims["tenant_id"] == tenant.public_id
    assert claims["org_id"] == engineering["engineering"].public_id
    assert claims["role"] == "admin"
    assert "members:invite" in claims["permissions"]
    assert claims["exp"] - claims["iat"] == 600
    assert claims["jti"]
    assert claims["authorization"] == {
        engineering["acme"].public_id: {"roles": ["member"]},
        engineering["engineering"].public_id: {"roles": ["admin"]},
    }


def test_without_a_current_org_the_token_says_so(client, auth, dev):
    auth.login(dev)
    token = _mint(client)["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["org_id"] is None
    assert claims["role"] is None
    assert claims["permissions"] == []


def test_anonymous_visitors_get_a_json_401(client, tenant):
    response = client.post("/t/acme/token")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_the_token_endpoint_needs_the_csrf_token(client, auth, dev):
    auth.login(dev)
    response = client.post("/t/acme/token", csrf=False)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"


def test_a_token_of_one_tenant_fails_with_another_tenants_keys(
    app, client, auth, tenant, dev, create_tenant, create_user
):
    globex = create_tenant("Globex", slug="globex")
    boss = create_user(globex, "boss@globex.example", tenant_role=TenantRole.OWNER)
    auth.login(dev)
    acme_token = _mint(client)["access_token"]
    other = app.test_client()
    from tests.conftest import Auth

    Auth(app, other).login(boss)
    globex_token = other.post("/t/globex/token", data={"csrf_token": other.csrf_token()}).json[
        "access_token"
    ]
    acme_keys, globex_keys = _jwks(client), _jwks(client, "globex")
    assert {k.key_id for k in acme_keys.keys}.isdisjoint({k.key_id for k in globex_keys.keys})
    with pytest.raises(StopIteration):  # its kid is not among Globex's keys…
        _verify(
            acme_token, globex_keys, audience=globex.public_id, issuer="http://localhost/t/globex"
        )
    # …and forcing Globex's key on it fails the signature.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            acme_token, globex_keys.keys[0], algorithms=["RS256"], options={"verify_aud": False}
        )
    assert _verify(
        globex_token, globex_keys, audience=globex.public_id, issuer="http://localhost/t/globex"
    )


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _sign_like_tenantry(app, tenant: Tenant, claims: dict, **header) -> str:
    """A token signed with the tenant's real key, but with claims of the test's choosing."""
    with app.app_context():
        key = db.session.scalar(sa.select(SigningKey).where(SigningKey.tenant_id == tenant.id))
        return jwt.encode(
            claims, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid, **header}
        )


def test_self_rejects_forged_altered_wrong_audience_and_expired_tokens(
    app, client, auth, tenant, dev
):
    auth.login(dev)
    good = _mint(client)["access_token"]
    assert _self(client, good).status_code == 200
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})

    kid = jwt.get_unverified_header(good)["kid"]
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{payload}."
    someone_else = {**claims, "sub": "usr_01JD5Q8Z9Y3XK7V2N4M6P8R0ST", "role": "owner"}
    edited = f"{header}.{_b64(someone_else)}.{signature}"
    wrong_aud = _sign_like_tenantry(app, tenant, {**claims, "aud": "someone-else"})
    now = int(utcnow().timestamp())
    expired = _sign_like_tenantry(app, tenant, {**claims, "iat": now - 3600, "exp": now - 600})
    wrong_iss = _sign_like_tenantry(app, tenant, {**claims, "iss": "https://evil.example/t/acme"})
    no_exp = _sign_like_tenantry(app, tenant, {k: v for k, v in claims.items() if k != "exp"})
    hs256 = jwt.encode(
        claims,
        "a-guessed-secret-of-at-least-32-bytes",
        algorithm="HS256",
        headers={"kid": jwt.get_unverified_header(good)["kid"]},
    )

    for name, token in [
        ("alg none", alg_none),
        ("edited payload", edited),
        ("wrong aud", wrong_aud),
        ("expired", expired),
        ("wrong iss", wrong_iss),
        ("no exp", no_exp),
        ("HS256 with a guessed secret", hs256),
        ("garbage", "not.a.token"),
    ]:
        response = _self(client, token)
        assert response.status_code == 401, name
        assert response.json["error"]["code"] == "invalid_token", name
    assert "expired" in _self(client, expired).json["error"]["message"]


def test_after_a_role_change_a_new_token_reflects_it_and_self_reflects_now(
    app, client, auth, tenant, owner, dev, engineering, api: ApiClient
):
    auth.login(dev)
    _switch(client, "acme", engineering["engineering"])
    old = _mint(client)["access_token"]
    eng_id = engineering["engineering"].public_id

    changed = api.patch(f"/orgs/{eng_id}/members/{dev.public_id}", json={"role": "viewer"})
    assert changed.status_code == 200
    new = _mint(client)["access_token"]
    new_claims = jwt.decode(new, options={"verify_signature": False})
    assert new_claims["role"] == "member"  # viewer here, but still a member from Acme above
    assert new_claims["authorization"][eng_id] == {"roles": ["viewer"]}
    now = _self(client, old).json
    assert now["role"] == "member"
    assert now["authorization"][eng_id] == {"roles": ["viewer"]}
    assert "members:invite" not in now["permissions"]

    assert api.delete(f"/orgs/{eng_id}/members/{dev.public_id}").status_code == 204
    acme_id = engineering["acme"].public_id
    assert api.delete(f"/orgs/{acme_id}/members/{dev.public_id}").status_code == 204
    after = _self(client, old).json
    assert after["org_id"] is None
    assert after["role"] is None
    assert after["permissions"] == []
    assert after["authorization"] == {}
    latest = jwt.decode(_mint(client)["access_token"], options={"verify_signature": False})
    assert latest["org_id"] is None
    assert latest["authorization"] == {}


def test_a_deactivated_users_token_stops_working_at_self(app, client, auth, dev, api: ApiClient):
    auth.login(dev)
    token = _mint(client)["access_token"]
    assert api.post(f"/users/{dev.public_id}/deactivate").status_code == 200
    assert _self(client, token).status_code == 401


def test_an_api_key_is_not_an_access_token_and_vice_versa(client, auth, dev, api: ApiClient):
    assert api.get("/self").status_code == 401
    auth.login(dev)
    token = _mint(client)["access_token"]
    assert ApiClient(client).get("/orgs", key=token).status_code == 401


def test_rotating_keeps_the_old_key_published_until_its_tokens_expire(
    app, client, auth, owner, tenant
):
    auth.login(owner)
    old = _mint(client)["access_token"]
    old_kid = jwt.get_unverified_header(old)["kid"]
    page = client.get("/t/acme/settings/signing-keys")
    assert old_kid in page.get_data(as_text=True)
    rotated = client.post("/t/acme/settings/signing-keys/rotate")
    assert rotated.status_code == 303
    new = _mint(client)["access_token"]
    new_kid = jwt.get_unverified_header(new)["kid"]
    assert new_kid != old_kid
    assert {k.key_id for k in _jwks(client).keys} == {old_kid, new_kid}
    assert _self(client, old).status_code == 200
    assert _self(client, new).status_code == 200

    with app.app_context():
        retired = db.session.scalar(sa.select(SigningKey).where(SigningKey.kid == old_kid))
        assert retired.published_until - retired.retired_at >= timedelta(minutes=10)
        retired.published_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert {k.key_id for k in _jwks(client).keys} == {new_kid}
    assert _self(client, old).status_code == 401


def test_token_settings_change_audience_and_lifetime(app, client, auth, owner, tenant):
    auth.login(owner)
    saved = client.post(
        "/t/acme/settings/tokens",
        data={"token_audience": "https://api.acme.example", "token_lifetime_minutes": "5"},
    )
    assert saved.status_code == 303
    claims = jwt.decode(_mint(client)["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "https://api.acme.example"
    assert claims["exp"] - claims["iat"] == 300
    refused = client.post("/t/acme/settings/tokens", data={"token_lifetime_minutes": "0"})
    assert refused.status_code == 422
    assert "Use a whole number of minutes from 1 to 1,440." in refused.get_data(as_text=True)


def test_members_cannot_rotate_keys_or_change_token_settings(client, auth, dev):
    auth.login(dev)
    assert client.post("/t/acme/settings/signing-keys/rotate").status_code == 403
    assert (
        client.post("/t/acme/settings/tokens", data={"token_lifetime_minutes": "60"}).status_code
        == 403
    )
    assert client.get("/t/acme/settings").status_code == 403


def test_jwks_is_public_and_cacheable(client, auth, dev):
    empty = client.get("/t/acme/.well-known/jwks.json")
    assert empty.json == {"keys": []}
    auth.login(dev)
    _mint(client)
    keys = client.get("/t/acme/.well-known/jwks.json")
    assert keys.headers["Cache-Control"] == "public, max-age=300"
    [key] = keys.json["keys"]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"
    assert key["use"] == "sig"
    assert "d" not in key  # public parts only


def test_issuer_follows_base_url(app, client, auth, dev, tenant):
    app.config["BASE_URL"] = "https://admin.example.com"
    try:
        auth.login(dev)
        claims = jwt.decode(_mint(client)["access_token"], options={"verify_signature": False})
        assert claims["iss"] == "https://admin.example.com/t/acme"
    finally:
        app.config["BASE_URL"] = None


def test_a_suspended_tenant_mints_nothing_and_says_so_in_json(app, client, auth, dev, tenant):
    auth.login(dev)
    token = _mint(client)["access_token"]
    with app.app_context():
        db.session.get(Tenant, tenant.id).status = "suspended"
        db.session.commit()
    refused = client.post("/t/acme/token")
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"
    assert _self(client, token).status_code == 401
