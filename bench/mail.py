"""Benchmark mail and bulk work: seeding a large tenant, a 1,000-address bulk invite, and
the mail worker's emails per second.

    .venv/bin/python bench/mail.py [--emails 2000] [--addresses 1000] [--orgs 10000]
                                   [--members 100000] [--database-url URL] [--quick]

On an empty database (a temporary SQLite file by default; ``--database-url``, or
``DATABASE_URL``, for an empty PostgreSQL database, which is left filled), in one process:

1. seeding: ``flask demo seed --orgs 10000 --members 100000``, the command itself (Click's
   runner), timed whole; target under 60 s;
2. bulk invite: ``--addresses`` new addresses into the demo's Engineering org through the
   invite form (POST …/invitations/new with the Flask test client, signed in as the demo
   owner), then as many again through the service (``invitations.invite`` as the demo
   admin, committed); target under 3 s each;
3. the mail worker: the outbox then holds those invitation emails (topped up with copies
   of one to ``--emails``); an aiosmtpd sink in its own process, which only counts,
   accepts them. ``mail.Worker`` makes passes until the outbox is empty, as
   ``flask mail deliver`` does, timed whole: emails/s. For comparison the same emails are
   sent again by the same worker, one SMTP connection per email (how it worked before
   connections were reused for a batch). The sink's count is checked against each run.

It prints a Markdown report and writes it to bench/results/mail-<database>.md (not with
``--quick``: small sizes, a smoke run). Misses are marked MISSED; the exit code stays 0.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

import _common  # bench/_common.py: schema, sign-in, report (puts app on the path)
import sqlalchemy as sa
from flask import Flask

from app import create_app, mail
from app.actors import Actor
from app.extensions import db
from app.mail.worker import build_message
from app.models import Organization, OutboxEmail, OutboxStatus, Tenant, User, utcnow
from app.policy import Role
from app.seed import demo
from app.services import invitations

BENCH = Path(__file__).resolve().parent
EMAILS_PER_SECOND = 200
INVITE_SECONDS = 3.0
SEED_SECONDS = 60.0
QUICK = {"emails": 200, "addresses": 100, "orgs": 500, "members": 5_000}
INVITED_ORG = "Engineering"


# --- the SMTP sink -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Counts what it accepts and says nothing else: the worker, not the sink, is measured.
# (bench/load/smtp_sink.py parses and stores every message, which would cap the figure.)
SINK = """
import signal, sys, threading
from aiosmtpd.controller import Controller

class Count:
    received = 0

    async def handle_DATA(self, server, session, envelope):
        Count.received += len(envelope.rcpt_tos)
        return "250 OK"

controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
controller.stop()
print(Count.received, flush=True)
"""


@dataclass
class Sink:
    port: int
    received: int = 0


@contextmanager
def smtp_sink():
    """An aiosmtpd sink in its own process (not sharing the worker's GIL); ``received``
    is filled in when it stops."""
    sink = Sink(free_port())
    process = subprocess.Popen(
        [sys.executable, "-c", SINK, str(sink.port)], stdout=subprocess.PIPE, text=True
    )
    try:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("bench: the SMTP sink did not start")
        yield sink
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
        sink.received = int(output.strip() or 0)


# --- the steps ---------------------------------------------------------------------------


def seed(app: Flask, orgs: int, members: int) -> tuple[float, str]:
    args = ["demo", "seed", "--orgs", str(orgs), "--members", str(members)]
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=args)
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"bench: demo seed failed:\n{result.output}")
    generated = next(line for line in result.output.splitlines() if "generated" in line)
    return seconds, generated.split("generated", 1)[1].strip()


def invited_org(app: Flask) -> tuple[str, int]:
    with app.app_context():
        org = db.session.scalar(sa.select(Organization).where(Organization.name == INVITED_ORG))
        return org.slug, org.id


def addresses(label: str, count: int) -> list[str]:
    return [f"bench.{label}.{n}@invited.example" for n in range(count)]


def invite_through_the_form(app: Flask, slug: str, count: int) -> float:
    """Signed in as the demo owner; a few addresses first to warm the route up."""
    client = app.test_client()
    _common.sign_in(client)
    path = f"/t/{demo.DEMO_TENANT_SLUG}/orgs/{slug}/invitations/new"
    token = _common.csrf_token(client, path)

    def post(emails: list[str]) -> float:
        form = {"emails": "\n".join(emails), "role": Role.MEMBER, "csrf_token": token}
        started = time.perf_counter()
        response = client.post(path, data=form)
        seconds = time.perf_counter() - started
        if response.status_code != 200 or b"invited" not in response.data:
            raise SystemExit(f"bench: the invite form answered {response.status_code}")
        return seconds

    post(addresses("warm-form", 3))
    return post(addresses("form", count))


def invite_through_the_service(app: Flask, org_id: int, count: int) -> float:
    def invite(emails: list[str]) -> float:
        with app.test_request_context():
            tenant = db.session.scalar(
                sa.select(Tenant).where(Tenant.slug == demo.DEMO_TENANT_SLUG)
            )
            admin = db.session.scalar(sa.select(User).where(User.email == demo.DEMO_ADMIN))
            org = db.session.get(Organization, org_id)
            started = time.perf_counter()
            results = invitations.invite(
                Actor.for_user(admin), tenant, org, addresses=emails, role=Role.MEMBER
            )
            db.session.commit()
            seconds = time.perf_counter() - started
        if not all(result.ok for result in results):
            raise SystemExit("bench: the service did not invite every address")
        return seconds

    invite(addresses("warm-service", 3))
    return invite(addresses("service", count))


def fill_outbox(app: Flask, total: int) -> int:
    """Top the outbox up to ``total`` pending emails with copies of one invitation's."""
    with app.app_context():
        pending = db.session.scalar(
            sa.select(sa.func.count()).where(OutboxEmail.status == OutboxStatus.PENDING)
        )
        model = db.session.scalar(
            sa.select(OutboxEmail).where(OutboxEmail.kind == "invitation").limit(1)
        )
        rows = [
            {
                "tenant_id": model.tenant_id,
                "kind": model.kind,
                "to_address": f"copy.{n}@invited.example",
                "subject": model.subject,
                "text_body": model.text_body,
                "html_body": model.html_body,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": utcnow(),
                "created_at": utcnow(),
            }
            for n in range(max(total - pending, 0))
        ]
        if rows:
            db.session.execute(sa.insert(OutboxEmail), rows)
        db.session.commit()
        return db.session.scalar(
            sa.select(sa.func.count()).where(OutboxEmail.status == OutboxStatus.PENDING)
        )


def requeue_everything(app: Flask) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(OutboxEmail).values(
                status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
                locked_until=None, sent_at=None, last_error=None,
            )
        )  # fmt: skip
        db.session.commit()


def one_connection_per_email(config) -> Callable[[OutboxEmail], None]:
    """What the worker did before it reused a connection for a batch."""

    def send(email: OutboxEmail) -> None:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as client:
            client.send_message(build_message(config, email))

    return send


@dataclass
class Delivery:
    emails: int
    seconds: float
    received: int

    @property
    def per_second(self) -> float:
        return self.emails / self.seconds


def deliver(app: Flask, *, per_email: bool) -> Delivery:
    """Passes until the outbox is empty: the ``mail deliver`` worker, or the same loop
    with one connection per email; a fresh sink each time."""
    with smtp_sink() as sink, app.app_context():
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port)
        started = time.perf_counter()
        if per_email:
            send = one_connection_per_email(app.config)
            sent = 0
            while (report := mail.deliver_pending(send=send)).handled:
                sent += report.sent
                db.session.remove()
        else:
            lines: list[str] = []
            mail.Worker(stop=threading.Event(), say=lines.append).run(loop=False)
            said = [line.split() for line in lines if line.startswith("sent")]
            sent = sum(int(words[1].rstrip(",")) for words in said)
        seconds = time.perf_counter() - started
        left = db.session.scalar(
            sa.select(sa.func.count()).where(OutboxEmail.status != OutboxStatus.SENT)
        )
    if left:
        raise SystemExit(f"bench: {left} emails were not sent")
    return Delivery(sent, seconds, sink.received)


def smtp_floor(app: Flask, count: int) -> Delivery:
    """What one connection carries with no worker around it: one email's bytes, built
    once, sent ``count`` times with smtplib to a fresh sink; no database. On a busy
    machine this says how much of the worker's figure is the machine."""
    with app.app_context():
        email = db.session.scalar(sa.select(OutboxEmail).limit(1))
        message = build_message(app.config, email)
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        sender = parseaddr(app.config["MAIL_DEFAULT_SENDER"])[1]
    with smtp_sink() as sink, smtplib.SMTP("127.0.0.1", sink.port, timeout=15) as client:
        started = time.perf_counter()
        for n in range(count):
            client.sendmail(sender, [f"floor.{n}@invited.example"], data)
        seconds = time.perf_counter() - started
    return Delivery(count, seconds, sink.received)


# --- the report --------------------------------------------------------------------------


def verdict(ok: bool, target: str) -> str:
    return f"pass ({target})" if ok else f"**MISSED** ({target})"


def report(facts: list[str], rows: list[tuple[str, str, str]], title: str) -> str:
    lines = [f"# {title}", "", *[f"- {fact}" for fact in facts], ""]
    lines += ["| what | measured | target |", "|---|--:|---|"]
    lines += [f"| {what} | {measured} | {target} |" for what, measured, target in rows]
    missed = [what for what, _m, target in rows if "MISSED" in target]
    lines += ["", f"MISSED: {', '.join(missed)}" if missed else "Every target is met.", ""]
    return "\n".join(lines)


def run(database_url: str, args: argparse.Namespace) -> str:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "LOGIN_RATE_LIMIT": "1000000 per minute",
            "MAIL_SERVER": None,
        }
    )
    _common.create_schema(app)
    with app.app_context():
        kind = db.engine.dialect.name
        database = _common.describe_database(kind)
    load = os.getloadavg()[0]

    print(f"Seeding: demo seed --orgs {args.orgs} --members {args.members}…", flush=True)
    seed_seconds, generated = seed(app, args.orgs, args.members)
    print(f"  {seed_seconds:.1f} s", flush=True)

    slug, org_id = invited_org(app)
    print(f"Inviting {args.addresses:,} addresses through the form, then the service…")
    form_seconds = invite_through_the_form(app, slug, args.addresses)
    service_seconds = invite_through_the_service(app, org_id, args.addresses)
    print(f"  form {form_seconds:.2f} s, service {service_seconds:.2f} s", flush=True)

    emails = fill_outbox(app, args.emails)
    print(f"Delivering {emails:,} emails, one connection per batch…", flush=True)
    batched = deliver(app, per_email=False)
    print(f"  {batched.per_second:,.0f} emails/s", flush=True)
    requeue_everything(app)
    print(f"Delivering {emails:,} emails again, one connection per email…", flush=True)
    single = deliver(app, per_email=True)
    print(f"  {single.per_second:,.0f} emails/s", flush=True)
    floor = smtp_floor(app, emails)
    for run_ in (batched, single, floor):
        if run_.received != emails or run_.emails != emails:
            raise SystemExit(
                f"bench: {emails} emails queued, {run_.emails} marked sent, "
                f"{run_.received} received by the sink"
            )

    facts = [
        f"database: {database}",
        f"seeding: `flask demo seed --orgs {args.orgs} --members {args.members}` on an empty "
        f"database (Click's runner, in process): {generated}",
        f"bulk invite: {args.addresses:,} new addresses into {INVITED_ORG} (the demo org), "
        "through the invite form (Flask test client, signed in as the demo owner, the "
        "whole request) and through `invitations.invite` as the demo admin (with its "
        "commit); each after a 3-address warm-up",
        f"mail: {emails:,} pending invitation emails (about "
        f"{_outbox_size(app) / 1024:.0f} KB each), an aiosmtpd sink in its own process on "
        f"127.0.0.1 that only counts; `mail.Worker` making passes of "
        f"{mail.BATCH_SIZE} until the outbox is empty (one process, as `flask mail deliver`); "
        "each outcome committed as soon as it is known; the sink's count matched each run",
        _common.machine(load),
    ]
    rows = [
        (
            "mail worker, one SMTP connection per batch",
            f"{batched.per_second:,.0f} emails/s ({batched.emails:,} in {batched.seconds:.1f} s)",
            verdict(batched.per_second >= EMAILS_PER_SECOND, f"≥ {EMAILS_PER_SECOND} emails/s"),
        ),
        (
            "for comparison: one SMTP connection per email",
            f"{single.per_second:,.0f} emails/s ({single.emails:,} in {single.seconds:.1f} s)",
            "(how the worker connected before)",
        ),
        (
            "for scale: smtplib alone, one connection, no database",
            f"{floor.per_second:,.0f} emails/s ({floor.emails:,} in {floor.seconds:.1f} s)",
            "(the same sink; one email's bytes built once)",
        ),
        (
            f"bulk invite of {args.addresses:,} addresses, the form",
            f"{form_seconds:.2f} s",
            verdict(form_seconds < INVITE_SECONDS, f"< {INVITE_SECONDS:.0f} s"),
        ),
        (
            f"bulk invite of {args.addresses:,} addresses, the service",
            f"{service_seconds:.2f} s",
            verdict(service_seconds < INVITE_SECONDS, f"< {INVITE_SECONDS:.0f} s"),
        ),
        (
            f"demo seed --orgs {args.orgs:,} --members {args.members:,}",
            f"{seed_seconds:.1f} s",
            verdict(seed_seconds < SEED_SECONDS, f"< {SEED_SECONDS:.0f} s"),
        ),
    ]
    text = report(facts, rows, f"Mail and bulk — {database.split(' (')[0]}")
    print()
    print(text)
    if not args.quick:
        print(f"Written to {_common.write_results(text, f'mail-{kind}')}")
    return text


def _outbox_size(app: Flask) -> float:
    with app.app_context():
        return db.session.scalar(
            sa.select(
                sa.func.avg(
                    sa.func.length(OutboxEmail.text_body) + sa.func.length(OutboxEmail.html_body)
                )
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=2_000, help="emails the worker sends")
    parser.add_argument("--addresses", type=int, default=1_000, help="addresses per bulk invite")
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--quick", action="store_true", help="small sizes; writes nothing")
    args = parser.parse_args()
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    if not 1 <= args.addresses <= invitations.MAX_ADDRESSES:
        raise SystemExit(f"bench: --addresses must be 1 to {invitations.MAX_ADDRESSES}")
    folder = Path(tempfile.mkdtemp(prefix="tenantry-bench-mail-"))
    try:
        database_url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        run(database_url, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
