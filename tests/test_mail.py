"""Email: the outbox, SMTP delivery with retries, password reset and owner welcome links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.mail import worker as mail
from app.models import OutboxEmail, PasswordResetToken, User, utcnow
from tests.conftest import free_port


@pytest.fixture
def smtp(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", smtp_server.host)
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    return smtp_server


def _deliver(app) -> mail.DeliveryReport:
    with app.app_context():
        return mail.deliver_pending()


def _outbox(app) -> list[OutboxEmail]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))


def _link(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/t/\S+)", text).group(1)


def test_password_reset_over_real_smtp(app, client, auth, owner, smtp):
    auth.login(owner)
    stolen = client.get_cookie("tenantry_session").value
    anonymous = app.test_client()
    from tests.conftest import CSRFClient

    anonymous.__class__ = CSRFClient
    response = anonymous.post("/t/acme/password/forgot", data={"email": owner.email})
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)

    assert _deliver(app).sent == 1
    [message] = smtp.messages
    assert message["To"] == owner.email
    assert message.is_multipart()
    assert {part.get_content_type() for part in message.iter_parts()} == {"text/plain", "text/html"}
    link = _link(message)

    assert anonymous.get(link).status_code == 200
    done = anonymous.post(link, data={"password": "a-brand-new-password"})
    assert done.status_code == 303
    assert anonymous.get(link).status_code == 410  # single use

    # every session of that user ended, including the one signed in before
    thief = app.test_client()
    thief.set_cookie("tenantry_session", stolen)
    assert thief.get("/t/acme/orgs/").status_code == 302
    assert client.get("/t/acme/orgs/").status_code == 302
    # the link's holder is signed in by it; signed out, the new password works
    assert anonymous.get("/t/acme/orgs/").status_code == 200
    anonymous.post("/t/acme/logout")
    ok = anonymous.post(
        "/t/acme/login", data={"email": owner.email, "password": "a-brand-new-password"}
    )
    assert ok.status_code == 303


def test_reset_answers_the_same_for_unknown_addresses(app, client, owner):
    known = client.post("/t/acme/password/forgot", data={"email": owner.email})
    unknown = client.post("/t/acme/password/forgot", data={"email": "nobody@acme.example"})

    def strip(response):
        text = response.get_data(as_text=True)
        # the CSRF token is signed with the second it is rendered in
        text = re.sub(r'(X-CSRFToken": "|data-csrf-token=")[^"]+', r"\1…", text)
        return text.replace(owner.email, "X").replace("nobody@acme.example", "X")

    assert known.status_code == unknown.status_code == 200
    assert strip(known) == strip(unknown)
    assert [e.to_address for e in _outbox(app)] == [owner.email]


def test_reset_links_expire_and_only_the_newest_works(app, client, owner, smtp):
    client.post("/t/acme/password/forgot", data={"email": owner.email})
    client.post("/t/acme/password/forgot", data={"email": owner.email})
    _deliver(app)
    first, second = (_link(m) for m in smtp.messages)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    with app.app_context():
        db.session.execute(
            sa.update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert client.get(second).status_code == 410
    assert client.get("/t/acme/password/reset/tampered-token").status_code == 410


def test_smtp_down_then_up_delivers_each_email_exactly_once(
    app, client, owner, smtp_server, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    for _ in range(3):
        client.post("/t/acme/password/forgot", data={"email": owner.email})
    down = _deliver(app)
    assert (down.sent, down.retried) == (0, 3)
    assert all(e.status == "pending" and e.last_error for e in _outbox(app))

    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)
    assert _deliver(app).handled == 0  # not due yet: backing off
    with app.app_context():
        db.session.execute(sa.update(OutboxEmail).values(next_attempt_at=utcnow()))
        db.session.commit()
    assert _deliver(app).sent == 3
    assert _deliver(app).handled == 0
    assert len(smtp_server.messages) == 3
    assert {e.status for e in _outbox(app)} == {"sent"}


def test_gives_up_after_the_last_attempt(app, owner, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    client.post("/t/acme/password/forgot", data={"email": owner.email})
    for _ in range(mail.MAX_ATTEMPTS):
        with app.app_context():
            db.session.execute(sa.update(OutboxEmail).values(next_attempt_at=utcnow()))
            db.session.commit()
        _deliver(app)
    [email] = _outbox(app)
    assert (email.status, email.attempts) == ("failed", mail.MAX_ATTEMPTS)
    assert "ConnectionRefusedError" in email.last_error


def test_headers_cannot_be_injected_and_names_are_escaped(app, smtp, create_tenant, create_user):
    tenant = create_tenant('<script>alert("x")</script>\r\nBcc: victim@example.com', slug="evil")
    user = create_user(tenant, "boss@example.com")
    with app.test_request_context():
        from app.services import passwords

        passwords.send_owner_welcome(tenant, user)
        db.session.commit()
    _deliver(app)
    [message] = smtp.messages
    assert "\n" not in message["Subject"]
    assert message["Bcc"] is None
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_tenant_owner_without_password_is_emailed_a_link(app, smtp):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["tenants", "create", "--name", "Initech", "--owner-email", "bill@initech.example"]
    )
    assert result.exit_code == 0, result.output
    assert "emailed a link" in result.output
    _deliver(app)
    [message] = smtp.messages
    assert message["Subject"] == "You're the owner of Initech on Tenantry"
    link = _link(message)
    client = app.test_client()
    from tests.conftest import CSRFClient

    client.__class__ = CSRFClient
    assert client.post(link, data={"password": "my-first-password"}).status_code == 303
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "bill@initech.example"))
        assert user.password_hash.startswith("$argon2")


def test_mail_deliver_cli(app, smtp, owner, client):
    client.post("/t/acme/password/forgot", data={"email": owner.email})
    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    assert len(smtp.messages) == 1


def test_mail_deliver_needs_a_server(app):
    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 1
    assert "MAIL_SERVER is not set" in result.output


def test_dev_mailbox_only_in_debug(app, client, owner):
    assert client.get("/dev/mail").status_code == 404
    debug_app = create_app(
        {
            "DEBUG": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    assert "dev.mailbox" in debug_app.view_functions


def test_dev_mailbox_shows_emails_with_clickable_links(app, owner, client):
    from app.web.dev.routes import linkify

    html = str(linkify("Go to http://x.example/t/acme/a?b=1&c=2 <b>now</b>"))
    assert '<a href="http://x.example/t/acme/a?b=1&amp;c=2">' in html
    assert "&lt;b&gt;now&lt;/b&gt;" in html


def test_dev_delivery_hands_mail_to_the_mailbox(app, client, owner):
    from app.web.dev import delivery

    assert not delivery.should_start(app)
    client.post("/t/acme/password/forgot", data={"email": owner.email})
    with app.app_context():
        report = mail.deliver_pending(send=lambda _email: None)
    assert report.sent == 1
    assert [e.status for e in _outbox(app)] == ["sent"]


def test_two_workers_never_send_one_email_twice(app, client, owner):
    """SQLite: claims are conditional updates; the PostgreSQL run proves SKIP LOCKED."""
    import threading

    for _ in range(20):
        client.post("/t/acme/password/forgot", data={"email": owner.email})
    sent: list[int] = []
    lock = threading.Lock()

    def record(email):
        with lock:
            sent.append(email.id)

    for _ in range(3):  # interleave two "workers" claiming small batches
        with app.app_context():
            mail.deliver_pending(limit=4, send=record)
        with app.app_context():
            mail.deliver_pending(limit=3, send=record)
    with app.app_context():
        mail.deliver_pending(send=record)
    assert sorted(sent) == sorted(set(sent))
    assert len(sent) == 20


# --- the worker rides out a database outage ------------------------------------------


def _db_gone() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))


def test_an_email_sent_while_the_database_drops_is_recorded_later_not_resent(
    app, client, owner, monkeypatch
):
    client.post("/t/acme/password/forgot", data={"email": owner.email})
    sent: list[str] = []
    with app.app_context():
        real_commit = db.session.commit
        calls = {"n": 0}

        def commit_fails_after_the_send():
            calls["n"] += 1
            if calls["n"] == 2:  # the first commits the claim, the second the outcome
                raise _db_gone()
            real_commit()

        monkeypatch.setattr(db.session, "commit", commit_fails_after_the_send)
        with pytest.raises(mail.DeliveryInterrupted) as interrupted:
            mail.deliver_pending(send=lambda email: sent.append(email.to_address))
        monkeypatch.undo()
        assert sent == [owner.email]
        [email_id] = interrupted.value.sent
        status = sa.select(OutboxEmail.status).where(OutboxEmail.id == email_id)
        assert db.session.scalar(status) == "sending"
        assert mail.mark_sent(interrupted.value.sent) == 1
        assert db.session.scalar(status) == "sent"
        assert mail.deliver_pending(send=lambda email: sent.append(email.to_address)).handled == 0
    assert sent == [owner.email]  # once


def test_the_worker_waits_for_the_database_instead_of_dying(app, monkeypatch):
    import threading

    answers = [_db_gone(), _db_gone(), mail.DeliveryReport(sent=2), mail.DeliveryReport()]
    said: list[str] = []
    stop = threading.Event()

    def deliver_pending():
        answer = answers.pop(0)
        if not answers:
            stop.set()
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(mail, "deliver_pending", deliver_pending)
    with app.app_context():
        worker = mail.Worker(stop=stop, interval=0.01, say=said.append)
        assert worker.run(loop=True)
    assert said == [
        "database unavailable, retrying in 0 s",
        "database unavailable, retrying in 0 s",
        "database reachable again",
        "sent 2, retrying 0, failed 0",
    ]


def test_one_pass_with_the_database_down_exits_with_one_line(app, smtp, monkeypatch):
    def deliver_pending():
        raise _db_gone()

    monkeypatch.setattr(mail, "deliver_pending", deliver_pending)
    result = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: The database is unreachable")
    assert len(result.output.strip().splitlines()) == 1


def test_the_rest_of_an_interrupted_batch_goes_back_to_the_queue(app, monkeypatch):
    with app.app_context():
        for n in range(3):
            db.session.add(
                OutboxEmail(
                    kind="test", to_address=f"p{n}@example.com", subject="Hi",
                    text_body="x", html_body="<p>x</p>",
                )
            )  # fmt: skip
        db.session.commit()
        real_commit = db.session.commit
        calls = {"n": 0}

        def commit_fails_after_the_first_send():
            calls["n"] += 1
            if calls["n"] == 2:
                raise _db_gone()
            real_commit()

        monkeypatch.setattr(db.session, "commit", commit_fails_after_the_first_send)
        with pytest.raises(mail.DeliveryInterrupted) as interrupted:
            mail.deliver_pending(send=lambda _email: None)
        monkeypatch.undo()
        assert len(interrupted.value.sent) == 1
        assert len(interrupted.value.unsent) == 2
        assert mail.release(interrupted.value.unsent) == 2
        rows = db.session.execute(
            sa.select(OutboxEmail.status, OutboxEmail.attempts).where(
                OutboxEmail.id.in_(interrupted.value.unsent)
            )
        ).all()
        assert rows == [("pending", 0), ("pending", 0)]
        assert mail.deliver_pending(send=lambda _email: None).sent == 2
