"""The command line (``flask --app wsgi …``), per CONTRACT.md.

Every command runs in one transaction: on bad input it prints a one-line reason, exits
non-zero and changes nothing.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import mail
from app.actors import Actor
from app.errors import ServiceError
from app.extensions import db
from app.models import StaffRole, utcnow
from app.seed import demo
from app.services import access_tokens, accounts, api_keys, orgs, tenants

staff_cli = AppGroup("staff", help="Platform staff accounts.")
tenants_cli = AppGroup("tenants", help="Tenants and their owners.")
demo_cli = AppGroup("demo", help="Demonstration data.")
mail_cli = AppGroup("mail", help="The email outbox.")
api_keys_cli = AppGroup("api-keys", help="Tenant API keys for the JSON API.")
signing_keys_cli = AppGroup("signing-keys", help="The keys that sign a tenant's access tokens.")


@contextmanager
def one_transaction() -> Iterator[None]:
    """Commit if the block succeeds; otherwise roll back and exit with the reason."""
    try:
        yield
        db.session.commit()
    except ServiceError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    except Exception:
        db.session.rollback()
        raise


@staff_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default="")
@click.option(
    "--role", type=click.Choice(StaffRole.ALL), default=StaffRole.SUPPORT, show_default=True
)
def create_staff(email: str, password: str, name: str, role: str) -> None:
    """Create a platform staff account."""
    with one_transaction():
        staff = accounts.create_staff(
            Actor.system("cli"), email=email, password=password, name=name, role=role
        )
    click.echo(f"Created {staff.role} {staff.email} ({staff.public_id}).")


@tenants_cli.command("create")
@click.option("--name", required=True)
@click.option("--slug", default=None, help="Defaults to one derived from the name.")
@click.option("--owner-email", required=True)
@click.option("--owner-password", default=None)
@click.option("--owner-name", default="")
@click.option("--allow-signup/--no-allow-signup", default=False, show_default=True)
def create_tenant(
    name: str,
    slug: str | None,
    owner_email: str,
    owner_password: str | None,
    owner_name: str,
    allow_signup: bool,
) -> None:
    """Create a tenant and its owner."""
    with one_transaction():
        tenant, owner = tenants.create_tenant(
            Actor.system("cli"),
            name=name,
            slug=slug,
            owner_email=owner_email,
            owner_password=owner_password,
            owner_name=owner_name,
            allow_signup=allow_signup,
        )
    click.echo(f"Created tenant {tenant.name} at /t/{tenant.slug}/ with owner {owner.email}.")
    if not owner_password:
        click.echo(f"{owner.email} is emailed a link to choose a password (flask mail deliver).")


class PhaseProgress:
    """Progress on stderr, one line per phase: redrawn in place on a terminal, and ending
    with its row count and seconds (the only output when stderr is a file or a pipe)."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.started = time.perf_counter()
        self.phases = 0

    @contextmanager
    def phase(self, name: str, total: int) -> Iterator[Callable[[int], None]]:
        self.phases += 1
        started = time.perf_counter()
        done = 0

        def advance(rows: int) -> None:
            nonlocal done
            done += rows
            if self.live:
                share = done * 100 // max(total, 1)
                click.echo(f"\r  {name:<12} {done:>9,} of {total:,} ({share}%)", err=True, nl=False)

        if self.live:
            click.echo(f"  {name:<12} …", err=True, nl=False)
        yield advance
        seconds = time.perf_counter() - started
        line = f"  {name:<12} {done:>9,} rows in {seconds:5.1f} s"
        click.echo(f"\r{line}{' ' * 12}" if self.live else line, err=True)


@demo_cli.command("seed")
@click.option("--orgs", "orgs_count", type=click.IntRange(0, 200_000), default=0)
@click.option("--members", "members_count", type=click.IntRange(0, 2_000_000), default=0)
@click.option(
    "--invitations",
    "invitations_count",
    type=click.IntRange(0, 2_000_000),
    default=None,
    help="Generated invitations (default: one per 10 members).",
)
@click.option(
    "--events",
    "events_count",
    type=click.IntRange(0, 5_000_000),
    default=None,
    help="Generated audit events (default: 4 per org).",
)
@click.option(
    "--tenant",
    "tenant_slug",
    default=demo.DEMO_TENANT_SLUG,
    show_default=True,
    help="The demo tenant's slug; it never writes into a tenant it did not create.",
)
@click.option(
    "--with-staff",
    is_flag=True,
    help="Also a demo superadmin with the published demo password (always in debug mode).",
)
def seed_demo(
    orgs_count: int,
    members_count: int,
    invitations_count: int | None,
    events_count: int | None,
    tenant_slug: str,
    with_staff: bool,
) -> None:
    """A demo tenant with a nested org tree and members (and, in debug mode only, a demo
    staff account); prints logins.

    Run again, it keeps what exists and prints the same logins.

    --orgs/--members grow a large generated tree beside it (nested up to 8 deep), with
    users, invitations (pending, accepted, revoked, declined, expired) and audit events,
    showing progress on stderr. That happens once per database: asked again with the
    same sizes it says the tree is there and changes nothing; with other sizes it
    refuses (exit 1). For other sizes, start from an empty database.
    """
    progress = PhaseProgress()
    with one_transaction():
        logins = demo.seed(
            orgs_count=orgs_count,
            members_count=members_count,
            invitations_count=invitations_count,
            events_count=events_count,
            progress=progress,
            tenant_slug=tenant_slug,
            # A superadmin with a published password belongs on a developer's machine
            # only: `make run` serves in debug mode.
            with_staff=with_staff or current_app.debug,
        )
    if progress.phases:
        seconds = time.perf_counter() - progress.started
        click.echo(f"  {'total':<12} {'':18} {seconds:5.1f} s", err=True)
    click.echo("Demo data is ready. Sign in with:")
    for line in logins:
        click.echo(f"  {line}")


@mail_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped (Ctrl+C, SIGTERM).")
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True)
def deliver_mail(loop: bool, interval: float) -> None:
    """Send pending outbox email over SMTP (MAIL_SERVER), with retries and backoff."""
    if not current_app.config.get("MAIL_SERVER"):
        raise click.ClickException("MAIL_SERVER is not set: there is nowhere to deliver to.")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker = mail.Worker(stop=stop, interval=interval, say=click.echo)
    if not worker.run(loop=loop):
        raise click.ClickException(f"The database is unreachable ({worker.last_error}).")


def _tenant(slug: str):
    try:
        return tenants.get_tenant(slug)
    except ServiceError as error:
        raise click.ClickException(f"{error.message} ({slug!r})") from None


@api_keys_cli.command("create")
@click.option("--tenant", "tenant_slug", required=True, help="The tenant's slug.")
@click.option("--name", required=True, help="What the key is for, e.g. 'billing sync'.")
@click.option(
    "--permission",
    "permissions",
    multiple=True,
    help="A permission the key holds (repeat it), e.g. org:read. Default: every one.",
)
@click.option("--org", "org_slug", default=None, help="Limit the key to this org's subtree.")
@click.option("--expires-days", type=int, default=None, help="Days until it stops working.")
def create_api_key(
    tenant_slug: str,
    name: str,
    permissions: tuple[str, ...],
    org_slug: str | None,
    expires_days: int | None,
) -> None:
    """Create a key and print it, once: only its hash is stored."""
    with one_transaction():
        tenant = _tenant(tenant_slug)
        try:
            made = api_keys.create_key(
                Actor.system("cli"),
                tenant,
                name=name,
                permissions=list(permissions) or None,
                org=orgs.get_org(tenant, org_slug) if org_slug else None,
                expires_in_days=expires_days,
            )
        except ServiceError as error:
            raise click.ClickException(error.message) from None
        row = api_keys.row_of(made.key)
    click.echo(made.secret)
    click.echo(
        f"API key {made.key.public_id} “{made.key.name}” ({row.summary}): shown once, "
        "store it now.",
        err=True,
    )


@api_keys_cli.command("list")
@click.option("--tenant", "tenant_slug", required=True)
def list_api_keys(tenant_slug: str) -> None:
    """The tenant's keys (never their secrets), with what each may do."""
    now = utcnow()
    for row in api_keys.list_keys_with_scope(_tenant(tenant_slug)):
        key = row.key
        used = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "never"
        click.echo(
            f"{key.public_id}  {key.display_prefix}…  {row.state(now):8}  "
            f"last used {used}  {key.name}  [{row.summary}]"
        )


@api_keys_cli.command("revoke")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--id", "public_id", required=True, help="The key's id (key_…).")
def revoke_api_key(tenant_slug: str, public_id: str) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    with one_transaction():
        tenant = _tenant(tenant_slug)
        key = api_keys.revoke_key(Actor.system("cli"), tenant, api_keys.get_key(tenant, public_id))
    click.echo(f"Revoked {key.public_id} “{key.name}”.")


@signing_keys_cli.command("rotate")
@click.option("--tenant", "tenant_slug", required=True)
def rotate_signing_key(tenant_slug: str) -> None:
    """Start signing with a new key; the old one stays published until its tokens expire."""
    with one_transaction():
        key = access_tokens.rotate(Actor.system("cli"), _tenant(tenant_slug))
    click.echo(f"Tokens are now signed with {key.kid}.")


def register(app: Flask) -> None:
    app.cli.add_command(staff_cli)
    app.cli.add_command(tenants_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(api_keys_cli)
    app.cli.add_command(signing_keys_cli)
