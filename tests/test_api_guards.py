"""Guards over every API route, found by walking the URL map (so new routes are covered):

- without credentials, or with only a signed-in browser session, every route is a 401;
- with tenant A's key, every route naming tenant B's things is a 404 and changes nothing;
- routes that name nothing list and change only tenant A's things.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.routing import Rule

from app import create_app
from app.api.core import OPERATIONS
from app.extensions import db
from tests.conftest import ApiClient

PUBLIC_API_ENDPOINTS = {"api.openapi_document", "api.reference"}
_RULES = [
    rule
    for rule in create_app({"TESTING": True, "SECRET_KEY": "x"}).url_map.iter_rules()
    if rule.endpoint.startswith("api.") and rule.endpoint not in PUBLIC_API_ENDPOINTS
]
BY_ENDPOINT = {f"api.{op.endpoint}": op for op in OPERATIONS}


def _method(rule: Rule) -> str:
    return next(m for m in sorted(rule.methods or ()) if m not in ("HEAD", "OPTIONS"))


def _ids(rules: list[Rule]) -> list[str]:
    return [f"{_method(r)} {r.rule}" for r in rules]


def _path(rule: Rule, values: dict[str, str]) -> str:
    path = rule.rule.removeprefix("/api/v1")
    for name in rule.arguments:
        path = path.replace(f"<{name}>", values[name])
    return path


def _sample_body(rule: Rule, ids: dict[str, str]) -> dict | None:
    """A body that passes validation, so what answers is the lookup, not the schema."""
    body = BY_ENDPOINT[rule.endpoint].body
    if body is None:
        return None
    samples = {
        "CreateOrg": {"name": "Probe"},
        "UpdateOrg": {"name": "Probe"},
        "MoveOrg": {"parent_id": None},
        "AddMember": {"user_id": ids["user_id"], "role": "member"},
        "ChangeRole": {"role": "viewer"},
        "CreateInvitation": {"email": "probe@example.com"},
        "CreateInvitations": {"emails": ["probe@example.com"]},
        "TeamInput": {"name": "Probe"},
        "AddTeamMember": {"user_id": ids["user_id"]},
        "CreateRole": {"key": "probe", "name": "Probe", "permissions": ["org:read"]},
        "UpdateRole": {"name": "Probe"},
    }
    return samples[body.__name__]  # a new body model needs a sample here


def _call(api: ApiClient, rule: Rule, ids: dict[str, str], **kw):
    return api.request(_method(rule), _path(rule, ids), json=_sample_body(rule, ids) or {}, **kw)


@pytest.fixture
def globex(create_tenant, one_of_everything):
    """Tenant B, with one of everything an API path can name."""
    return one_of_everything(create_tenant("Globex", slug="globex"))


def _row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("rule", _RULES, ids=_ids(_RULES))
def test_api_route_refuses_a_request_without_credentials(app, client, globex, rule):
    response = _call(ApiClient(client), rule, globex)
    assert response.status_code == 401
    assert response.json["error"]["code"] in ("unauthorized", "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("rule", _RULES, ids=_ids(_RULES))
def test_api_route_ignores_a_signed_in_browser_session(app, client, auth, owner, globex, rule):
    auth.login(owner)
    assert _call(ApiClient(client), rule, globex).status_code == 401


@pytest.mark.parametrize("rule", _RULES, ids=_ids(_RULES))
def test_api_route_refuses_a_forged_or_foreign_key(app, client, globex, rule):
    for key in ("tk_forged", "tk_" + "A" * 43, "Basic dXNlcjpwYXNz", "not-a-key"):
        response = _call(ApiClient(client), rule, globex, key=key)
        assert response.status_code == 401, key


NAMING_RULES = [r for r in _RULES if r.arguments]
UNNAMED_RULES = [r for r in _RULES if not r.arguments and r.endpoint != "api.get_self"]


@pytest.mark.parametrize("rule", NAMING_RULES, ids=_ids(NAMING_RULES))
def test_api_route_is_404_for_another_tenants_things(app, api: ApiClient, globex, rule):
    with app.app_context():
        before = _row_counts()
    response = _call(api, rule, globex)
    assert response.status_code == 404, response.json
    assert response.json["error"]["code"] == "not_found"
    with app.app_context():
        after = _row_counts()
    assert after == before


@pytest.mark.parametrize("rule", UNNAMED_RULES, ids=_ids(UNNAMED_RULES))
def test_api_route_without_ids_stays_in_its_own_tenant(app, api: ApiClient, globex, rule):
    response = _call(api, rule, globex)
    assert response.status_code < 500
    text = response.get_data(as_text=True)
    for foreign in globex.values():
        assert foreign not in text
    assert "globex" not in text.lower()


def test_ids_in_a_body_are_looked_up_in_the_keys_tenant_too(
    app, api: ApiClient, tenant, create_org, globex
):
    mine = create_org(tenant, "Acme HQ").public_id
    requests = [
        ("POST", "/orgs", {"name": "X", "parent_id": globex["org_id"]}),
        ("POST", "/orgs", {"name": "X", "owner_id": globex["user_id"]}),
        ("POST", f"/orgs/{mine}/move", {"parent_id": globex["org_id"]}),
        ("POST", f"/orgs/{mine}/members", {"user_id": globex["user_id"], "role": "member"}),
    ]
    with app.app_context():
        before = _row_counts()
    for method, path, body in requests:
        response = api.request(method, path, json=body)
        assert response.status_code == 404, (path, body, response.json)
    invited = api.post(
        f"/orgs/{mine}/invitations",
        json={"email": "x@example.com", "team_ids": [globex["team_id"]]},
    )
    assert invited.status_code == 422
    with app.app_context():
        assert _row_counts() == before
