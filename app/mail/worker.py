"""Delivering the outbox: the worker, which owns its own transactions.

``deliver_pending`` claims due rows so that several workers never send one message
twice, sends them over SMTP, and marks each sent, or schedules a retry with backoff, or
after the last attempt, failed.

A batch goes over one SMTP connection (``SmtpConnection``): opened for its first email,
reused for the next, reopened when the server drops it. An email is marked sent only once
the server accepted it; a refusal (a recipient, the sender, the content) retries that email
alone, the connection goes on with the next. Delivery is at least once: an email is sent
again only when the connection was lost after its content went out (the server may have
kept it, and the retry waits for its backoff) or when the worker died before recording it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email import headerregistry, policy
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.mail.outbox import one_line
from app.models import OutboxEmail, OutboxStatus, utcnow

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 300
BATCH_SIZE = 50


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def _due(now) -> sa.ColumnElement[bool]:
    pending = sa.and_(
        OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now
    )
    # A worker that died mid-send leaves a claim behind; once it expires, retry the row.
    abandoned = sa.and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.locked_until < now)
    return sa.or_(pending, abandoned)


def claim_batch(limit: int = BATCH_SIZE) -> list[OutboxEmail]:
    """Claim due emails for this worker and commit the claim.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets workers take disjoint rows without
    waiting. SQLite has no row locks, but one writer at a time: the claim's transaction
    holds the write lock from its BEGIN.
    """
    now = utcnow()
    claim = {
        "status": OutboxStatus.SENDING,
        "locked_until": now + timedelta(seconds=CLAIM_SECONDS),
        "attempts": OutboxEmail.attempts + 1,
    }
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(
            db.session.scalars(
                sa.select(OutboxEmail.id)
                .where(_due(now))
                .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            db.session.execute(
                sa.update(OutboxEmail).where(OutboxEmail.id.in_(ids)).values(**claim)
            )
    else:
        candidates = list(
            db.session.scalars(
                sa.select(OutboxEmail.id)
                .where(_due(now))
                .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
                .limit(limit)
            )
        )
        # The worker's transaction began IMMEDIATE (app/database.py): it holds SQLite's
        # write lock, so no other worker can claim these between the SELECT and here; the
        # condition stays as a guard. One statement, not one per row.
        ids = (
            list(
                db.session.scalars(
                    sa.update(OutboxEmail)
                    .where(OutboxEmail.id.in_(candidates), _due(now))
                    .values(**claim)
                    .returning(OutboxEmail.id)
                    .execution_options(synchronize_session=False)
                )
            )
            if candidates
            else []
        )
    db.session.commit()
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.id.in_(ids)).order_by(OutboxEmail.id)
        )
    )


class DeliveryInterrupted(Exception):
    """The database went away in the middle of a batch.

    ``sent``: emails sent but not recorded as sent; record them (``mark_sent``) once the
    database is back, or their claims expire and they go out a second time. ``unsent``:
    the rest of the claimed batch; hand them back (``release``) rather than leave them
    waiting for their claims to expire.
    """

    def __init__(self, sent: list[int], unsent: list[int], cause: Exception) -> None:
        super().__init__(str(cause))
        self.sent = sent
        self.unsent = unsent


def deliver_pending(
    limit: int = BATCH_SIZE, send: Callable[[OutboxEmail], None] | None = None
) -> DeliveryReport:
    """Send one batch of due emails; each outcome is committed as soon as it is known.

    ``send`` defaults to SMTP per the MAIL_* settings, one connection for the whole batch
    (nothing happens without a server).
    Raises DeliveryInterrupted when an outcome can't be recorded (the database is gone).
    """
    config = current_app.config
    if send is not None:
        return _deliver_batch(limit, send)
    if not config.get("MAIL_SERVER"):
        return DeliveryReport()
    with SmtpConnection(config) as connection:
        return _deliver_batch(limit, connection.send)


_OUTCOME = ("status", "sent_at", "locked_until", "last_error", "next_attempt_at")


def _deliver_batch(limit: int, send: Callable[[OutboxEmail], None]) -> DeliveryReport:
    report = DeliveryReport()
    batch = claim_batch(limit)
    # PostgreSQL: an outcome's commit needn't wait for the disk. Once committed it is
    # visible and survives this worker dying; only the database server crashing within a
    # fraction of a second could lose it, and then the row is sent or tried again when its
    # claim expires: at least once, as ever. (SQLite has no such switch short of risking
    # the file.)
    unflushed_commit = db.session.get_bind().dialect.name == "postgresql"
    batch_ids = [email.id for email in batch]  # readable even once the database is gone
    for email in batch:
        # Outcomes are written by id, so a commit doesn't expire the rest of the batch
        # (each would be read again before its turn).
        db.session.expunge(email)
    for position, email in enumerate(batch):
        email_id = batch_ids[position]
        try:
            send(email)
        except (OSError, smtplib.SMTPException) as exc:
            _record_failure(email, exc, report)
            delivered = False
        else:
            email.status = OutboxStatus.SENT
            email.sent_at = utcnow()
            email.locked_until = None
            email.last_error = None
            report.sent += 1
            delivered = True
        try:
            if unflushed_commit:
                db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
            db.session.execute(
                sa.update(OutboxEmail)
                .where(OutboxEmail.id == email_id)
                .values({name: getattr(email, name) for name in _OUTCOME})
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
        except sa.exc.DBAPIError as exc:
            db.session.rollback()
            rest = batch_ids[position + 1 :]
            if delivered:
                raise DeliveryInterrupted([email_id], rest, exc) from exc
            raise DeliveryInterrupted([], [email_id, *rest], exc) from exc
    return report


def mark_sent(email_ids: list[int]) -> int:
    """Record emails a worker sent but could not mark sent at the time; commits."""
    if not email_ids:
        return 0
    done = db.session.execute(
        sa.update(OutboxEmail)
        .where(OutboxEmail.id.in_(email_ids), OutboxEmail.status == OutboxStatus.SENDING)
        .values(status=OutboxStatus.SENT, sent_at=utcnow(), locked_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return done


def release(email_ids: list[int]) -> int:
    """Hand claimed but unsent emails back to the queue, due now; commits."""
    if not email_ids:
        return 0
    done = db.session.execute(
        sa.update(OutboxEmail)
        .where(OutboxEmail.id.in_(email_ids), OutboxEmail.status == OutboxStatus.SENDING)
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=utcnow(),
            locked_until=None,
            attempts=OutboxEmail.attempts - 1,  # claimed, never tried
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return done


@dataclass
class Worker:
    """The ``mail deliver`` loop: deliver, sleep when idle, and ride out a database
    outage (wait and retry, with backoff) instead of dying with the batch half recorded."""

    stop: Any  # a threading.Event: set it to end the loop
    interval: float = 2.0
    say: Callable[[str], None] = print
    unrecorded: list[int] = field(default_factory=list)
    unsent: list[int] = field(default_factory=list)
    max_wait: float = 30.0
    last_error: str = ""

    def run(self, *, loop: bool) -> bool:
        """Deliver until idle (or, with ``loop``, until stopped); False if the database
        was unreachable on a single pass."""
        outage = 0
        while True:
            try:
                if self.unrecorded or self.unsent:
                    mark_sent(self.unrecorded)
                    self.unrecorded.clear()
                    release(self.unsent)
                    self.unsent.clear()
                report = deliver_pending()
            except DeliveryInterrupted as interrupted:
                self.unrecorded.extend(interrupted.sent)
                self.unsent.extend(interrupted.unsent)
                report = None
                error: Exception | None = interrupted
            except sa.exc.DBAPIError as exc:
                report = None
                error = exc
            finally:
                db.session.remove()
            if report is None:
                self.last_error = one_line(str(error), 160)
                if not loop:
                    return False
                outage += 1
                wait = min(self.interval * 2 ** (outage - 1), self.max_wait)
                self.say(f"database unavailable, retrying in {wait:.0f} s")
                self.stop.wait(wait)
                if self.stop.is_set():
                    return True
                continue
            if outage:
                self.say("database reachable again")
                outage = 0
            if report.handled:
                self.say(f"sent {report.sent}, retrying {report.retried}, failed {report.failed}")
            if self.stop.is_set() or (not loop and report.handled == 0):
                return True
            if report.handled == 0:
                self.stop.wait(self.interval)


def _record_failure(email: OutboxEmail, exc: Exception, report: DeliveryReport) -> None:
    email.last_error = one_line(f"{type(exc).__name__}: {exc}", 500)
    email.locked_until = None
    if email.attempts >= MAX_ATTEMPTS:
        email.status = OutboxStatus.FAILED
        report.failed += 1
    else:
        email.status = OutboxStatus.PENDING
        email.next_attempt_at = utcnow() + backoff(email.attempts)
        report.retried += 1


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, … capped at an hour."""
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


class _HeaderClasses(headerregistry.HeaderRegistry):
    """The standard registry makes a new class for every header it parses; this one makes
    each kind once (a message is built in two thirds of the time)."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


_POLICY = policy.default.clone(header_factory=_HeaderClasses())


def build_message(config, email: OutboxEmail) -> EmailMessage:
    sender_name, sender_address = parseaddr(config["MAIL_DEFAULT_SENDER"])
    message = EmailMessage(policy=_POLICY)
    message["From"] = formataddr((sender_name, sender_address))
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    return message


class ContentSent(smtplib.SMTPServerDisconnected):
    """The connection was lost after an email's content went out: the server may have
    accepted it, so it is not sent again at once (``__cause__`` says what happened)."""


# The server answered (and smtplib reset the transaction): the connection is still good,
# unless the answer was 421, after which the server closes it and smtplib with it.
_ANSWERED = (
    smtplib.SMTPResponseException,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPNotSupportedError,
)


class _Client(smtplib.SMTP):
    """Remembers whether the current email's content went out (the DATA command began)."""

    content_sent = False

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        self.content_sent = True
        return super().data(msg)


class _SslClient(smtplib.SMTP_SSL, _Client):
    pass


class SmtpConnection:
    """One SMTP connection for a batch of emails, per the MAIL_* settings.

    ``send`` raises what the server or the network said, for the caller to record against
    that email. A connection lost before an email's content went out is reopened and the
    email sent at once on the new one (the server can't have kept it); lost after, the
    email is left for a retry (``ContentSent``) and the next one opens a new connection.
    When the server can't be reached at all, the rest of the batch fails with the same
    error without trying (they wait for their backoff, as if each had tried).
    """

    def __init__(self, config) -> None:
        self.config = config
        self.client: _Client | None = None
        self.unreachable: Exception | None = None

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def send(self, email: OutboxEmail) -> None:
        message = build_message(self.config, email)
        for fresh_retry in (False, True):
            client = self._connected()
            client.content_sent = False
            try:
                client.send_message(message)
                return
            except _ANSWERED:
                if client.sock is None:
                    self.client = None
                raise
            except (OSError, smtplib.SMTPException) as exc:
                self._drop()
                if client.content_sent:
                    raise ContentSent(f"connection lost after the content went out: {exc}") from exc
                if fresh_retry:
                    raise

    def _connected(self) -> _Client:
        if self.unreachable is not None:
            raise self.unreachable.with_traceback(None)
        if self.client is None:
            try:
                self.client = self._connect()
            except (OSError, smtplib.SMTPException) as exc:
                self.unreachable = exc
                raise
        return self.client

    def _connect(self) -> _Client:
        config = self.config
        host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
        if config.get("MAIL_USE_SSL"):
            client: _Client = _SslClient(
                host, port, timeout=15, context=ssl.create_default_context()
            )
        else:
            client = _Client(host, port, timeout=15)
        try:
            if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
                client.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except BaseException:
            client.close()
            raise
        return client

    def _drop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def close(self) -> None:
        """QUIT if the connection is still up; a server that is gone already is fine."""
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                pass
            finally:
                self._drop()
