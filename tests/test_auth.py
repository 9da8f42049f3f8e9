"""Signing in and out of a tenant, and sign-up."""

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, User
from app.services.accounts import SIGN_IN_FAILED
from tests.conftest import PASSWORD
from tests.markup import select


def test_sign_in_lands_on_tenant_home(client, auth, owner):
    response = auth.login(owner)
    assert response.headers["Location"] == "/t/acme/"
    home = client.get("/t/acme/")
    assert home.headers["Location"] == "/t/acme/orgs/"
    page = client.get("/t/acme/orgs/")
    assert page.status_code == 200
    assert "Olive" in page.get_data(as_text=True)


def test_wrong_password_and_unknown_email_get_the_same_message(client, owner):
    wrong = client.post("/t/acme/login", data={"email": owner.email, "password": "nope-nope-nope"})
    unknown = client.post(
        "/t/acme/login", data={"email": "ghost@acme.example", "password": "nope-nope-nope"}
    )
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert SIGN_IN_FAILED.replace("'", "&#39;") in response.get_data(as_text=True)


def test_sign_in_is_per_tenant(client, create_tenant, create_user, owner):
    other = create_tenant("Globex", slug="globex")
    response = client.post("/t/globex/login", data={"email": owner.email, "password": PASSWORD})
    assert response.status_code == 422
    assert other.slug == "globex"


def test_email_is_matched_case_insensitively(client, owner):
    response = client.post(
        "/t/acme/login", data={"email": "  OWNER@Acme.Example ", "password": PASSWORD}
    )
    assert response.status_code == 303


def test_deactivated_user_cannot_sign_in(client, tenant, create_user):
    user = create_user(tenant, is_active_account=False)
    response = client.post("/t/acme/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 422


def test_sign_out_kills_a_copied_session_cookie(app, client, auth, owner):
    auth.login(owner)
    stolen = client.get_cookie("tenantry_session").value
    assert client.get("/t/acme/orgs/").status_code == 200

    auth.logout("acme")
    assert client.get("/t/acme/orgs/").status_code == 302

    thief = app.test_client()
    thief.set_cookie("tenantry_session", stolen)
    response = thief.get("/t/acme/orgs/")
    assert response.status_code == 302
    assert "/t/acme/login" in response.headers["Location"]


def test_session_is_renewed_at_sign_in(client, auth, owner):
    client.get("/t/acme/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    auth.login(owner)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_only_redirects_within_the_site(client, owner):
    for evil in ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]:
        response = client.post(
            "/t/acme/login", data={"email": owner.email, "password": PASSWORD, "next": evil}
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/t/acme/", evil
        client.post("/t/acme/logout")
    response = client.post(
        "/t/acme/login", data={"email": owner.email, "password": PASSWORD, "next": "/t/acme/?x=1"}
    )
    assert response.headers["Location"] == "/t/acme/?x=1"


def test_anonymous_visitor_is_sent_to_sign_in_with_next(client, tenant):
    response = client.get("/t/acme/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/t/acme/login?next=/t/acme/"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/t/acme/"' in page


def test_sign_in_is_rate_limited(app, client, owner):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [
            client.post(
                "/t/acme/login", data={"email": owner.email, "password": "wrong-password"}
            ).status_code
            for _ in range(4)
        ]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    assert statuses == [422, 422, 422, 429]


def test_sign_in_is_audited(app, auth, owner):
    auth.login(owner)
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "user.signed_in" in actions


# --- sign-up -------------------------------------------------------------------------


def test_sign_up_closed_by_default(client, tenant):
    response = client.get("/t/acme/signup")
    assert response.status_code == 403
    assert "invite you" in response.get_data(as_text=True)


def test_sign_up_creates_an_unproven_member_and_asks_to_check_the_inbox(app, client, create_tenant):
    create_tenant("Open", slug="open", allow_signup=True)
    response = client.post(
        "/t/open/signup",
        data={"name": "New Person", "email": "New@Example.com", "password": "long-enough-pw"},
    )
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    assert "new@example.com" in response.get_data(as_text=True)
    # Nobody is signed in: the address is proven first (tests/test_email_verification.py).
    assert client.get("/t/open/orgs/").headers["Location"].startswith("/t/open/login")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "new@example.com"))
        assert user is not None
        assert user.tenant_role == "member"
        assert not user.email_verified


def test_sign_up_limited_to_domains(client, create_tenant):
    create_tenant("Open", slug="open", allow_signup=True, signup_email_domains=["corp.example"])
    refused = client.post(
        "/t/open/signup",
        data={"name": "X", "email": "x@other.example", "password": "long-enough-pw"},
    )
    assert refused.status_code == 422
    assert "limited to addresses at corp.example" in refused.get_data(as_text=True)
    accepted = client.post(
        "/t/open/signup",
        data={"name": "X", "email": "x@corp.example", "password": "long-enough-pw"},
    )
    assert accepted.status_code == 200
    assert "Check your inbox" in accepted.get_data(as_text=True)


def test_sign_up_errors_show_next_to_fields(client, create_tenant, create_user):
    tenant = create_tenant("Open", slug="open", allow_signup=True)
    create_user(tenant, "taken@example.com")
    response = client.post(
        "/t/open/signup", data={"name": "", "email": "taken@example.com", "password": "short"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert select(html, "#name-error")
    assert select(html, "#password-error")
