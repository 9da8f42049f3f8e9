"""Issue 15, problem 16: what a newcomer sees first points where the app really runs.

`make run` serves on $PORT (5000 unless set): the logins `demo seed` prints are full URLs
with that port, and so are the links in the emails it seeds; the development mailbox's
HTML preview sends a clicked link to the whole window, not into its frame."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.models import OutboxEmail

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_seed_prints_full_urls_and_its_emails_link_to_the_port_in_use(app, monkeypatch):
    monkeypatch.setenv("PORT", "5081")
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--with-staff"])
    assert result.exit_code == 0, result.output
    assert "at http://127.0.0.1:5081/t/acme/login" in result.output
    assert "at http://127.0.0.1:5081/staff/login" in result.output
    assert "http://127.0.0.1:5081/dev/mail" in result.output
    with app.app_context():
        bodies = db.session.scalars(sa.select(OutboxEmail.text_body)).all()
    links = [link for body in bodies for link in re.findall(r"https?://\S+", body)]
    assert links, "the demo seeds invitation emails"
    assert all(link.startswith("http://127.0.0.1:5081/") for link in links), links


def test_base_url_wins_over_the_port(app, monkeypatch):
    monkeypatch.setenv("PORT", "5081")
    monkeypatch.setitem(app.config, "BASE_URL", "https://admin.example.com")
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert "at https://admin.example.com/t/acme/login" in result.output


def test_mailbox_html_preview_opens_links_in_the_whole_window():
    from app.web.dev.routes import _links_open_the_app

    html = '<html><head><title>x</title></head><body><a href="http://h/t/a">Open</a></body></html>'
    framed = _links_open_the_app(html)
    assert framed.index('<base target="_top">') < framed.index("<a href")
    assert _links_open_the_app("<p>bare</p>").startswith('<base target="_top">')
    page = (PROJECT_ROOT / "templates" / "dev" / "message.html").read_text()
    # sandboxed, yet a click may take the whole window to the link
    assert 'sandbox="allow-top-navigation-by-user-activation"' in page


def test_setting_a_password_from_its_link_signs_you_in(app, client, owner):
    """Problem 15: a new tenant owner was asked to sign in again right after setting the
    password the welcome link asked for."""
    from app.models import User
    from app.services.passwords import RESET_LIFETIME, _issue

    with app.test_request_context():
        token = _issue(db.session.get(User, owner.id), "welcome", RESET_LIFETIME)
        db.session.commit()
    password = "a-brand-new-passphrase"
    response = client.post(
        f"/t/acme/password/reset/{token}", data={"password": password, "confirm": password}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/t/acme/"
    home = client.get("/t/acme/orgs/")
    assert home.status_code == 200
    assert "Your password is set and you" in home.get_data(as_text=True)
