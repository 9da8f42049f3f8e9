"""Security headers, cookies, configuration and the error policy."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from app import create_app
from app.config import PROJECT_ROOT
from app.extensions import db
from app.models import Tenant


@pytest.mark.parametrize(
    "path", ["/", "/t/acme/login", "/t/nope/", "/staff/login", "/static/css/app.css"]
)
def test_security_headers_on_every_response(client, tenant, path):
    response = client.get(path)
    response.close()  # a static file response holds the file open until closed
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_error_pages_carry_security_headers_too(client):
    response = client.post("/")  # 405
    assert response.status_code == 405
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_templates_have_no_inline_script_or_style():
    for template in (PROJECT_ROOT / "templates").rglob("*.html"):
        if template.parent.name == "emails":
            continue  # email clients need inline styles; emails are never served as pages
        text = template.read_text()
        for forbidden in ("<script>", "<script >", " style=", " onclick=", "hx-on"):
            assert forbidden not in text, (template, forbidden)


def test_session_cookie_flags(client, auth, owner):
    auth.login(owner)
    cookie = client.get_cookie("tenantry_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure  # plain http here


def test_session_cookie_is_secure_over_https(app, owner):
    client = app.test_client()
    response = client.get("/t/acme/login", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_secret_key_is_required_outside_debug(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=PROJECT_ROOT,
        env={**env, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
        capture_output=True,
        text=True,
        check=False,
    )
    # 3, not 2: gunicorn's master stops on a worker that exits with 3 instead of booting
    # another one forever.
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "Tenantry cannot start: SECRET_KEY is not set: set it in the environment or .env "
        "(only debug mode may run with a random one)"
    ]


def test_debug_runs_with_a_random_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


# --- the tenant scope ----------------------------------------------------------------


def test_unknown_tenant_is_404(client):
    response = client.get("/t/nobody/login")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_deleted_tenant_is_404(app, client, tenant):
    with app.app_context():
        db.session.get(Tenant, tenant.id).deleted_at = datetime.now(UTC)
        db.session.commit()
    assert client.get("/t/acme/login").status_code == 404


def test_htmx_error_is_a_fragment_retargeted_to_the_flash_region(htmx_client, auth, create_staff):
    htmx_client.post(
        "/staff/login", data={"email": create_staff().email, "password": "correct-horse-battery"}
    )
    response = htmx_client.get("/staff/tenants/tnt_missing")
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#flash-region"
    body = response.get_data(as_text=True)
    assert 'role="alert"' in body
    assert "<html" not in body


def test_htmx_request_from_signed_out_user_redirects_the_whole_page(htmx_client, tenant):
    response = htmx_client.get("/t/acme/")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/t/acme/login")


def _database_gone(*_args, **_kwargs):
    import sqlalchemy as sa

    raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


def test_with_the_database_down_pages_say_503_not_500(
    app, client, auth, owner, monkeypatch, create_api_key, tenant
):
    from app.extensions import login_manager
    from tests.conftest import ApiClient

    key = create_api_key(tenant)
    auth.login(owner)
    monkeypatch.setattr("app.web.tenant.first_read", _database_gone)
    monkeypatch.setattr(login_manager, "_user_callback", _database_gone)
    monkeypatch.setattr("app.services.api_keys.authenticate", _database_gone)
    page = client.get("/t/acme/orgs/")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert page.headers["Cache-Control"] == "no-store"
    assert "nothing was changed" in page.get_data(as_text=True)
    api = ApiClient(app.test_client(), key).get("/orgs")
    assert api.status_code == 503
    assert api.json["error"]["code"] == "unavailable"
