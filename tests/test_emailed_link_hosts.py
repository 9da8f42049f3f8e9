"""Emailed links never come from an arbitrary Host header (the trust issue's item 7)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import OutboxEmail


def _forgot_password_as(client, host: str, email: str):
    """Ask for a reset link the way a browser on ``host`` would: its own page, its token."""
    page = client.get("/t/acme/password/forgot", headers={"Host": host})
    assert page.status_code == 200, page.status_code
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
    )
    return client.post(
        "/t/acme/password/forgot",
        data={"email": email, "csrf_token": token.group(1)},
        headers={"Host": host},
        csrf=False,
    )


def _outbox(app) -> list[OutboxEmail]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))


def test_a_forged_host_is_refused_and_no_link_is_made(app, client, world):
    response = client.post(
        "/t/acme/password/forgot",
        data={"email": world.owner.email},
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 400
    assert _outbox(app) == []


@pytest.mark.parametrize("path", ["/", "/t/acme/login", "/t/acme/orgs/", "/api/v1/users", "/nope"])
def test_any_page_for_a_foreign_host_is_a_plain_400(client, path):
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)


def test_an_allowed_host_builds_the_link_from_itself(app, client, world):
    response = client.post("/t/acme/password/forgot", data={"email": world.owner.email})
    assert response.status_code in (200, 303)
    [email] = _outbox(app)
    assert "http://localhost/t/acme/password/reset/" in email.text_body


def test_with_base_url_any_host_may_ask_and_links_use_base_url(app, client, world):
    app.config.update(BASE_URL="https://admin.example.com", TRUSTED_HOSTS=None)
    try:
        response = _forgot_password_as(client, "evil.example", world.owner.email)
    finally:
        app.config.update(BASE_URL=None, TRUSTED_HOSTS=["localhost", "127.0.0.1", "[::1]"])
    assert response.status_code in (200, 303)
    [email] = _outbox(app)
    assert "https://admin.example.com/t/acme/password/reset/" in email.text_body
    assert "evil.example" not in email.text_body
