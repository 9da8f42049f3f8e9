"""Guards that cover every route, including ones added later, by walking the URL map.

- every route under /t/<tenant> sends an anonymous visitor to that tenant's sign-in and
  gives another tenant's user a 404, unless it is one of the few public ones;
- every staff route refuses anyone who isn't signed in as staff;
- every POST route refuses a request without a valid CSRF token, and changes nothing
  (except the JSON API, which never reads a cookie: tests/test_api_guards.py covers it).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import Rule

from app import create_app
from app.extensions import db
from app.models import TenantRole

PUBLIC_TENANT_ENDPOINTS = {
    "tenant.auth.login",
    "tenant.auth.logout",
    "tenant.auth.signup",
    "tenant.auth.forgot_password",
    "tenant.auth.reset_password",
    "tenant.jwks",
    "tenant.account.verify_email",
    "tenant.account.switch_account",
}
PUBLIC_STAFF_ENDPOINTS = {"staff.login", "staff.logout"}

# The URL map is the same for every app instance; build the parameter lists from one.
_RULES = list(create_app({"TESTING": True, "SECRET_KEY": "x"}).url_map.iter_rules())


def _url(rule: Rule, tenant_slug: str = "acme") -> str:
    values = dict.fromkeys(rule.arguments, "placeholder")
    values["tenant"] = tenant_slug
    path = rule.rule
    for name, value in values.items():
        for converter in ("", "string:", "int:", "path:"):
            path = path.replace(f"<{converter}{name}>", value)
    return path


def _is_api(rule: Rule) -> bool:
    return rule.endpoint.startswith("api.")


def _answers_json(app: Flask, rule: Rule) -> bool:
    return getattr(app.view_functions[rule.endpoint], "returns_json", False)


def _method(rule: Rule) -> str:
    return "GET" if "GET" in (rule.methods or set()) else "POST"


def _visit(client, rule: Rule, tenant_slug: str = "acme"):
    """What a browser would send: a GET, or a POST carrying its page's CSRF token."""
    url = _url(rule, tenant_slug)
    return client.get(url) if _method(rule) == "GET" else client.post(url)


TENANT_RULES = [r for r in _RULES if r.rule.startswith("/t/<tenant>")]
STAFF_RULES = [r for r in _RULES if r.rule.startswith("/staff")]
POST_RULES = [r for r in _RULES if "POST" in (r.methods or set()) and not _is_api(r)]


def _ids(rules: list[Rule]) -> list[str]:
    return [f"{_method(r)} {r.rule}" for r in rules]


def test_public_tenant_routes_are_exactly_the_known_ones(app: Flask):
    marked = {
        rule.endpoint
        for rule in TENANT_RULES
        if getattr(app.view_functions[rule.endpoint], "tenant_public", False)
    }
    assert marked == PUBLIC_TENANT_ENDPOINTS


def test_every_tenant_route_is_inside_the_tenant_blueprint():
    outside = [r.rule for r in TENANT_RULES if not r.endpoint.startswith("tenant.")]
    assert outside == [], "routes under /t/<tenant> must live in the tenant blueprint"


@pytest.fixture
def other_tenant_user(create_tenant, create_user):
    globex = create_tenant("Globex", slug="globex")
    return create_user(globex, "boss@globex.example", tenant_role=TenantRole.OWNER)


@pytest.mark.parametrize(
    "rule",
    [r for r in TENANT_RULES if r.endpoint not in PUBLIC_TENANT_ENDPOINTS],
    ids=_ids([r for r in TENANT_RULES if r.endpoint not in PUBLIC_TENANT_ENDPOINTS]),
)
def test_tenant_route_sends_anonymous_visitor_to_sign_in(app, client, tenant, rule):
    response = _visit(client, rule)
    if _answers_json(app, rule):
        assert response.status_code == 401
        assert response.json["error"]["code"] == "unauthorized"
        return
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/t/acme/login")


@pytest.mark.parametrize(
    "rule",
    [r for r in TENANT_RULES if r.endpoint not in PUBLIC_TENANT_ENDPOINTS],
    ids=_ids([r for r in TENANT_RULES if r.endpoint not in PUBLIC_TENANT_ENDPOINTS]),
)
def test_tenant_route_is_404_for_another_tenants_user(
    client, auth, tenant, other_tenant_user, rule
):
    auth.login(other_tenant_user)
    assert _visit(client, rule).status_code == 404


@pytest.mark.parametrize("rule", TENANT_RULES, ids=_ids(TENANT_RULES))
def test_tenant_route_is_404_for_unknown_tenant(client, auth, owner, rule):
    auth.login(owner)
    assert _visit(client, rule, "no-such-tenant").status_code == 404


@pytest.mark.parametrize(
    "rule",
    [r for r in STAFF_RULES if r.endpoint not in PUBLIC_STAFF_ENDPOINTS],
    ids=_ids([r for r in STAFF_RULES if r.endpoint not in PUBLIC_STAFF_ENDPOINTS]),
)
def test_staff_route_refuses_anonymous_and_tenant_users(client, auth, owner, rule):
    anonymous = _visit(client, rule)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/staff/login")

    auth.login(owner)
    tenant_user = _visit(client, rule)
    assert tenant_user.status_code == 302
    assert tenant_user.headers["Location"].startswith("/staff/login")


def _row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("rule", POST_RULES, ids=_ids(POST_RULES))
@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_post_route_refuses_missing_csrf_token_and_changes_nothing(
    app, client, auth, owner, create_staff, rule, as_htmx
):
    if rule.rule.startswith("/staff"):
        auth.login_staff(create_staff())
    else:
        auth.login(owner)
    with app.app_context():
        before = _row_counts()

    headers = {"HX-Request": "true"} if as_htmx else {}
    response = client.post(_url(rule), data={"email": "x@example.com"}, csrf=False, headers=headers)
    forged = client.post(_url(rule), data={"csrf_token": "forged"}, csrf=False, headers=headers)

    for result in (response, forged):
        assert result.status_code == 400
        body = result.get_data(as_text=True)
        assert "Reload the page" in body
        if _answers_json(app, rule):
            assert result.json["error"]["code"] == "csrf_failed"
        elif as_htmx:
            assert "<html" not in body
            assert result.headers["HX-Retarget"] == "#flash-region"
    with app.app_context():
        assert _row_counts() == before
