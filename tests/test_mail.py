"""Email: the outbox, SMTP delivery with retries, password reset and owner welcome links."""

from __future__ import annotations

import asyncio
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


# --- one SMTP connection for a batch ---------------------------------------------------


class BatchServer:
    """An SMTP server that counts its connections and can misbehave on cue: refuse a
    recipient (a code per address), or drop the connection at the Nth MAIL command
    (before any content) or in the DATA of an address (after the content, unkept)."""

    def __init__(self) -> None:
        self.connections = 0
        self.received: list[str] = []
        self.refuse: dict[str, str] = {}
        self.drop_at_mail: int | None = None
        self.drop_in_data: str | None = None
        self.mails = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails += 1
        if self.mails == self.drop_at_mail:
            server.transport.abort()  # no answer: the connection is simply gone
            return "421 unheard"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if envelope.rcpt_tos == [self.drop_in_data]:
            self.drop_in_data = None
            server.transport.abort()  # no answer: the connection is simply gone
            return "421 unheard"
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def batch_server(app, monkeypatch):
    from aiosmtpd.controller import Controller

    class CountingController(Controller):
        def factory(self):
            smtp = super().factory()
            connection_made = smtp.connection_made

            def counted(transport):
                handler.connections += 1
                connection_made(transport)

            smtp.connection_made = counted
            return smtp

    handler = BatchServer()
    port = free_port()
    controller = CountingController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.connections = 0  # start() opens one itself to see that the server answers
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    try:
        yield handler
    finally:
        controller.stop()
        asyncio.set_event_loop(None)


def _queue(app, count: int) -> list[str]:
    addresses = [f"p{n}@example.com" for n in range(count)]
    with app.app_context():
        for address in addresses:
            db.session.add(
                OutboxEmail(
                    kind="test", to_address=address, subject="Hi", text_body="x",
                    html_body="<p>x</p>",
                )
            )  # fmt: skip
        db.session.commit()
    return addresses


def _sent_addresses(app) -> list[str]:
    return sorted(e.to_address for e in _outbox(app) if e.status == "sent")


def _make_due(app) -> None:
    with app.app_context():
        db.session.execute(sa.update(OutboxEmail).values(next_attempt_at=utcnow()))
        db.session.commit()


def test_a_batch_goes_over_one_connection(app, batch_server):
    addresses = _queue(app, 12)
    report = _deliver(app)
    assert (report.sent, report.retried) == (12, 0)
    assert batch_server.connections == 1
    assert batch_server.received == addresses  # each once, in order
    assert _sent_addresses(app) == sorted(addresses)
    assert _deliver(app).handled == 0
    assert batch_server.connections == 1  # nothing due: no connection at all


@pytest.mark.parametrize(
    ("answer", "connections"),
    [("550 5.1.1 No such user", 1), ("421 4.3.2 Try again later", 2)],
    ids=["refused, the connection goes on", "421, the server hangs up"],
)
def test_a_refused_recipient_mid_batch_does_not_stop_the_others(
    app, batch_server, answer, connections
):
    addresses = _queue(app, 8)
    batch_server.refuse = {"p3@example.com": answer}
    report = _deliver(app)
    assert (report.sent, report.retried) == (7, 1)
    assert batch_server.connections == connections
    others = [a for a in addresses if a != "p3@example.com"]
    assert batch_server.received == others
    assert _sent_addresses(app) == sorted(others)  # sent means the server took it
    [refused] = [e for e in _outbox(app) if e.to_address == "p3@example.com"]
    assert refused.status == "pending"
    assert refused.last_error.startswith(
        f"SMTPRecipientsRefused: {{'p3@example.com': ({answer[:3]}"
    )
    assert refused.next_attempt_at > utcnow()  # backing off

    batch_server.refuse = {}
    _make_due(app)
    assert _deliver(app).sent == 1
    assert sorted(batch_server.received) == sorted(addresses)


def test_a_connection_dropped_before_the_content_is_reopened_and_the_batch_goes_on(
    app, batch_server
):
    addresses = _queue(app, 8)
    batch_server.drop_at_mail = 4  # the fourth email's MAIL FROM: nothing of it was sent
    report = _deliver(app)
    assert (report.sent, report.retried) == (8, 0)
    assert batch_server.connections == 2
    assert batch_server.received == addresses  # each exactly once
    assert _sent_addresses(app) == sorted(addresses)


def test_a_connection_dropped_after_the_content_leaves_that_email_for_a_retry(app, batch_server):
    addresses = _queue(app, 8)
    batch_server.drop_in_data = "p3@example.com"  # gone after the content: maybe kept
    report = _deliver(app)
    assert (report.sent, report.retried) == (7, 1)
    assert batch_server.connections == 2  # the rest went over a new connection
    others = [a for a in addresses if a != "p3@example.com"]
    assert batch_server.received == others
    assert _sent_addresses(app) == sorted(others)
    [lost] = [e for e in _outbox(app) if e.to_address == "p3@example.com"]
    assert (lost.status, lost.attempts) == ("pending", 1)
    assert lost.last_error.startswith("ContentSent: connection lost after the content")
    assert _deliver(app).handled == 0  # not resent at once: it waits for its backoff

    _make_due(app)
    assert _deliver(app).sent == 1
    assert sorted(batch_server.received) == sorted(addresses)
    assert batch_server.connections == 3


def test_an_unreachable_server_fails_the_batch_without_trying_each_email(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    _queue(app, 5)
    connects: list[tuple] = []
    real_connect = mail.SmtpConnection._connect

    def counted_connect(self):
        connects.append(())
        return real_connect(self)

    monkeypatch.setattr(mail.SmtpConnection, "_connect", counted_connect)
    report = _deliver(app)
    assert (report.sent, report.retried) == (0, 5)
    assert len(connects) == 1
    assert all(
        e.status == "pending" and "ConnectionRefusedError" in e.last_error for e in _outbox(app)
    )


# --- one rendering for a bulk invitation's emails --------------------------------------


def test_a_bulk_invitations_emails_are_each_their_own(app, tenant, world):
    from app.actors import Actor
    from app.credentials import hash_token
    from app.models import Invitation
    from app.services import invitations

    addresses = ["o'brien+x@example.com", "ana@example.com", "li@example.com"]
    with app.test_request_context():
        invitations.invite(
            Actor.for_user(world.tenant_owner), tenant, world.engineering,
            addresses=addresses, role="member", message="Welcome <aboard> & all",
        )  # fmt: skip
        db.session.commit()
        hashes = dict(db.session.execute(sa.select(Invitation.email, Invitation.token_hash)).all())
    emails = _outbox(app)
    assert sorted(e.to_address for e in emails) == sorted(addresses)
    for email in emails:
        for body in (email.text_body, email.html_body):
            assert "stand-in" not in body
            [token] = set(re.findall(r"/invitations/([A-Za-z0-9_-]+)", body))
            assert hash_token(token) == hashes[email.to_address]  # its own link
        assert email.text_body.count(email.to_address) == 2
        assert "Welcome <aboard> & all" in email.text_body
        assert "Welcome &lt;aboard&gt; &amp; all" in email.html_body
    [obrien] = [e for e in emails if e.to_address.startswith("o'")]
    assert obrien.html_body.count("o&#39;brien+x@example.com") == 2
    assert "o'brien" not in obrien.html_body


def test_a_merge_that_would_differ_from_the_template_renders_each_copy_in_full(app, tenant, world):
    from types import SimpleNamespace

    from app.mail.outbox import EmailMerge

    def invitation(email: str) -> SimpleNamespace:
        return SimpleNamespace(email=email, message="", expires_at=utcnow())

    with app.test_request_context():
        merge = EmailMerge(
            kind="test", subject="Hi", template="invitation", tenant=tenant,
            org=world.engineering, inviter_name="Olive", role_name="Member",
            invitation=invitation("stand-in@example.com"), link="https://x.example/stand-in",
        )  # fmt: skip
        # Nothing is replaced: merged, the first copy would not match its own rendering.
        for name in ("ann", "bo"):
            merge.add(
                to=f"{name}@example.com", replace={},
                invitation=invitation(f"{name}@example.com"), link=f"https://x.example/{name}",
            )  # fmt: skip
        assert merge.merges is False
        merge.queue()
        db.session.commit()
    ann, bo = _outbox(app)
    assert "https://x.example/ann" in ann.text_body
    assert "bo@example.com" in bo.html_body
    assert "https://x.example/bo" in bo.html_body
    assert "stand-in" not in ann.text_body + ann.html_body + bo.text_body + bo.html_body
