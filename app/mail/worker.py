"""Delivering the outbox: the worker, which owns its own transactions.

``deliver_pending`` claims due rows so that several workers never send one message
twice, sends them over SMTP, and marks each sent, or schedules a retry with backoff, or
after the last attempt, failed.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
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
    waiting. SQLite has no row locks: each row is claimed by a conditional UPDATE that
    only one worker can win.
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
        ids = [
            email_id
            for email_id in candidates
            if db.session.execute(
                sa.update(OutboxEmail).where(OutboxEmail.id == email_id, _due(now)).values(**claim)
            ).rowcount
            == 1
        ]
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

    ``send`` defaults to SMTP per the MAIL_* settings (nothing happens without a server).
    Raises DeliveryInterrupted when an outcome can't be recorded (the database is gone).
    """
    report = DeliveryReport()
    config = current_app.config
    if send is None:
        if not config.get("MAIL_SERVER"):
            return report
        send = lambda email: send_over_smtp(config, email)  # noqa: E731
    batch = claim_batch(limit)
    batch_ids = [email.id for email in batch]  # readable even once the database is gone
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


def build_message(config, email: OutboxEmail) -> EmailMessage:
    sender_name, sender_address = parseaddr(config["MAIL_DEFAULT_SENDER"])
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender_address))
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2] or None)
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    return message


def send_over_smtp(config, email: OutboxEmail) -> None:
    message = build_message(config, email)
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    if config.get("MAIL_USE_SSL"):
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=15, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, port, timeout=15)
    with client:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            client.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            client.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        client.send_message(message)
