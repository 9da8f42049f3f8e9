"""An org owner invites people by email; a stranger signs up through the link, an existing
user signs in through theirs, and spent, revoked, expired, tampered and declined links
are refused.

The email really travels: the app queues it in its outbox, a separate
``flask mail deliver --loop`` worker sends it over SMTP, and a local SMTP sink receives
it. The links the journey follows are the ones in those emails.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Dialog, Locator, Page, Response, expect

from app.models import Invitation, utcnow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TENANT = "Acme Corporation"
OWNER_EMAIL = "owner@acme.example"  # the demo tenant's owner
OWNER_NAME = "Olivia Owner"
PASSWORD = "demo-password-1"
MAIL_TIMEOUT = 15.0  # the worker polls every 0.5 s: mail normally arrives within a second
DELIVER_INTERVAL = "0.5"

# --- the mail worker ---------------------------------------------------------------------


@dataclass
class MailWorker:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@pytest.fixture
def mail_worker(smtp_server, live_server_env, tmp_path) -> Iterator[MailWorker]:
    """``flask mail deliver --loop`` against the live server's database, into the sink."""
    env = dict(live_server_env)
    env.update({"MAIL_SERVER": smtp_server.host, "MAIL_PORT": str(smtp_server.port)})
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "deliver", "--loop"]
    command += ["--interval", DELIVER_INTERVAL]
    log_path = tmp_path / "mail-worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    worker = MailWorker(process, log_path)
    try:
        yield worker
    finally:
        process.terminate()  # SIGTERM: the loop finishes its round and exits
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def inbox(smtp_server, mail_worker) -> Callable[[str], EmailMessage]:
    """``inbox(address)``: the one email the sink received for that address (waits for it);
    ``inbox(address, about="…")``: the one whose subject contains that."""

    def wait_for(address: str, about: str = "") -> EmailMessage:
        deadline = time.monotonic() + MAIL_TIMEOUT
        while True:
            found = [
                (message, envelope)
                for message, envelope in zip(
                    list(smtp_server.messages), list(smtp_server.envelopes), strict=False
                )
                if message["To"] == address and about in message["Subject"]
            ]
            if found:
                assert len(found) == 1, f"{len(found)} emails to {address}"
                message, (_mail_from, recipients) = found[0]
                assert recipients == [address], recipients
                return message
            if mail_worker.process.poll() is not None:
                pytest.fail(
                    f"the mail worker exited with {mail_worker.process.returncode}:\n"
                    f"{mail_worker.log()}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                received = [m["To"] for m in smtp_server.messages]
                pytest.fail(
                    f"no email to {address} within {MAIL_TIMEOUT:.0f} s; the sink has "
                    f"{received}; the worker said:\n{mail_worker.log()}",
                    pytrace=False,
                )
            time.sleep(0.1)

    return wait_for


# --- moving time -------------------------------------------------------------------------


@pytest.fixture
def expire_invitation(live_server_env) -> Callable[[str], None]:
    """``expire_invitation(email)``: the invitation's expiry moves into the past.

    Written through the app's own table definition, so the stored timestamp has the form
    the app writes and compares."""

    def expire(email: str) -> None:
        engine = sa.create_engine(live_server_env["DATABASE_URL"])
        table = Invitation.__table__
        try:
            with engine.begin() as connection:
                changed = connection.execute(
                    sa.update(table)
                    .where(table.c.email == email)
                    .values(expires_at=utcnow() - timedelta(minutes=1))
                ).rowcount
        finally:
            engine.dispose()
        assert changed == 1, f"{changed} invitations to {email}"

    return expire


# --- helpers -----------------------------------------------------------------------------


def sign_in(page: Page, assert_accessible) -> None:
    page.goto("/t/acme/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Signed in: the account's link is in the header (or, on a phone, in its Menu).
    expect(page.locator(".app-header a.who").first).to_have_attribute(
        "title", re.compile(OWNER_EMAIL)
    )


def sign_up(page: Page, name: str, email: str, password: str, assert_accessible) -> None:
    """An account made the ordinary way, at the tenant's sign-up page (not yet proven: its
    holder is asked to open the link emailed to it, and is not signed in)."""
    page.goto("/t/acme/signup")
    expect(page.get_by_role("heading", level=1, name="Create an account")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1, name="Check your inbox")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    assert_accessible(page)


def create_top_level_org(page: Page, name: str, assert_accessible) -> str:
    """From the tree's New organization form; returns the new org's slug."""
    page.get_by_role("banner").get_by_role("link", name="Organizations", exact=True).click()
    page.get_by_role("button", name="New organization").click()
    expect(page.get_by_role("heading", level=1, name="New organization")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"{name} created.")
    assert_accessible(page)
    match = re.search(r"/t/acme/orgs/([a-z0-9-]+)/(?:#[\w-]*)?$", page.url)
    assert match, page.url
    return match.group(1)


def open_org_page(page: Page, org: str, link: str) -> None:
    """One of the org's pages, from its dashboard (through the breadcrumb, unless there)."""
    dashboard = page.get_by_role("heading", level=1, name=org, exact=True)
    if not dashboard.is_visible():
        page.get_by_role("navigation", name="Breadcrumb").get_by_role(
            "link", name=org, exact=True
        ).click()
    expect(dashboard).to_be_visible()
    page.get_by_role("navigation", name=f"{org} sections").get_by_role(
        "link", name=link, exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name=link, exact=True)).to_be_visible()


def invite(page: Page, org: str, addresses: list[str], assert_accessible) -> None:
    """Fill the open Invite members form as Member; check every address was invited."""
    expect(page.get_by_role("heading", level=1, name="Invite members")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email addresses", exact=True).fill("\n".join(addresses))
    page.get_by_label("Role", exact=True).select_option(label="Member")
    page.get_by_role("button", name="Send invitations").click()

    expect(page.get_by_role("heading", level=1, name=f"Invitations to {org}")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(f"{len(addresses)} invited")
    results = page.get_by_role("table", name="What happened to each address")
    expect(results.get_by_role("rowheader")).to_have_text(addresses)
    for address in addresses:
        row = results.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=address, exact=True)
        )
        expect(row.get_by_role("cell")).to_have_text("invited")
    assert_accessible(page)


def invitation_link(message: EmailMessage, *, org: str, address: str, base_url: str) -> str:
    """Check the invitation email's parts; return the link it carries."""
    subject = f"{OWNER_NAME} invited you to {org} on {TENANT}"
    assert message["Subject"] == subject
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"], parts
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    sentence = f"{OWNER_NAME} invited {address} to join {org} in {TENANT} as Member."
    assert sentence in text, text
    for body in (text, html):
        for fact in (org, TENANT, OWNER_NAME, address):
            assert fact in body, f"{fact!r} missing from:\n{body}"

    links = re.findall(rf"{re.escape(base_url)}/invitations/[A-Za-z0-9_-]+", text)
    assert len(set(links)) == 1, text
    link = links[0]
    assert f'href="{link}"' in html, html  # the button goes where the text link goes
    return link


def expect_in_org(page: Page, org: str, slug: str, assert_accessible) -> None:
    """Landed on the org's dashboard, welcomed, as a member."""
    expect(page).to_have_url(re.compile(rf"/t/acme/orgs/{re.escape(slug)}/$"))
    expect(page.get_by_role("heading", level=1, name=org, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Welcome to {org}!")
    expect(page.get_by_text("Your role: member")).to_be_visible()
    assert_accessible(page)


def expect_refused(page: Page, link: str, why: str, assert_accessible) -> None:
    """The dead link's page, whose heading says ``why``."""
    response = page.goto(link)
    assert response is not None
    assert response.status == 410, f"{link} answered {response.status}"
    expect(page.get_by_role("heading", level=1, name=why, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Accept invitation")).to_have_count(0)
    assert_accessible(page)


def invitation_row(page: Page, org: str, address: str) -> Locator:
    table = page.get_by_role("table", name=f"Invitations to {org}")
    return table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=address, exact=True)
    )


def filter_invitations(page: Page, org: str, label: str, addresses: list[str]) -> None:
    """Pick a status filter (an htmx swap that updates the URL); exactly these rows show,
    in this order (newest first)."""
    value = label.lower()

    def is_filtered(response: Response) -> bool:
        return response.url.endswith(f"/invitations?status={value}")

    with page.expect_response(is_filtered) as answer:
        page.get_by_label("Filter by status", exact=True).select_option(label=label)
    assert answer.value.status == 200
    expect(page).to_have_url(re.compile(rf"/invitations\?status={value}$"))
    if not addresses:
        expect(page.get_by_text(f"No {value} invitations.", exact=True)).to_be_visible()
        return
    table = page.get_by_role("table", name=f"Invitations to {org}")
    expect(table.get_by_role("rowheader")).to_have_text(addresses)  # newest first
    for address in addresses:
        expect(invitation_row(page, org, address).get_by_text(label, exact=True)).to_be_visible()


# --- the journey -------------------------------------------------------------------------


def test_owner_invites_people_who_join_and_dead_links_are_refused(
    page: Page, new_context, base_url, inbox, expire_invitation, assert_accessible
):
    suffix = uuid.uuid4().hex[:8]
    org = f"Umbrella {suffix}"
    stranger, stranger_email = f"Sam Stranger {suffix}", f"sam.{suffix}@umbrella.example"
    known, known_email = f"Kim Known {suffix}", f"kim.{suffix}@umbrella.example"
    revoked_email = f"rex.{suffix}@umbrella.example"
    expired_email = f"eve.{suffix}@umbrella.example"
    declined_email = f"dan.{suffix}@umbrella.example"
    stranger_password = f"stranger-pass-{suffix}"
    known_password = f"known-pass-{suffix}"

    # --- someone who already has an account, made beforehand --------------------------
    with new_context() as context:
        sign_up(context.new_page(), known, known_email, known_password, assert_accessible)

    # --- the owner makes an org and invites two people from the members page ----------
    sign_in(page, assert_accessible)
    slug = create_top_level_org(page, org, assert_accessible)
    open_org_page(page, org, "Members")
    page.get_by_role("button", name="Invite members").click()
    invite(page, org, [stranger_email, known_email], assert_accessible)

    # --- both emails arrive, each with its own link -----------------------------------
    stranger_link = invitation_link(
        inbox(stranger_email), org=org, address=stranger_email, base_url=base_url
    )
    known_link = invitation_link(  # their sign-up's verification email came first
        inbox(known_email, about="invited you"), org=org, address=known_email, base_url=base_url
    )
    assert stranger_link != known_link

    # --- the stranger signs up through the link and lands in the org ------------------
    with new_context() as context:
        visitor = context.new_page()
        visitor.goto(stranger_link)
        expect(visitor.get_by_role("heading", level=1, name=f"Join {org}")).to_be_visible()
        expect(
            visitor.get_by_text(f"{OWNER_NAME} invited {stranger_email} to {org}")
        ).to_be_visible()
        email = visitor.get_by_label("Email", exact=True)
        expect(email).to_have_value(stranger_email)
        expect(email).not_to_be_editable()
        assert_accessible(visitor)
        visitor.get_by_label("Name", exact=True).fill(stranger)
        visitor.get_by_label("Password", exact=True).fill(stranger_password)
        visitor.get_by_role("button", name="Accept invitation").click()
        expect_in_org(visitor, org, slug, assert_accessible)
        expect(
            visitor.get_by_role("banner").get_by_text(stranger, exact=True).first
        ).to_be_visible()

        # The link is spent: even its owner can't use it again; it shows them the way in.
        expect_refused(visitor, stranger_link, f"You're already in {org}", assert_accessible)
        expect(visitor.get_by_role("button", name=f"Go to {org}")).to_be_visible()

    # --- the existing user signs in through theirs and lands in the org ---------------
    with new_context() as context:
        visitor = context.new_page()
        visitor.goto(known_link)
        expect(visitor.get_by_role("heading", level=1, name=f"Join {org}")).to_be_visible()
        expect(visitor.get_by_text(f"You already have an account at {TENANT}.")).to_be_visible()
        expect(visitor.get_by_label("Email", exact=True)).to_have_value(known_email)
        expect(visitor.get_by_label("Name", exact=True)).to_have_count(0)
        assert_accessible(visitor)
        visitor.get_by_label("Password", exact=True).fill(known_password)
        visitor.get_by_role("button", name="Sign in and accept").click()
        expect_in_org(visitor, org, slug, assert_accessible)
        expect(visitor.get_by_role("banner").get_by_text(known, exact=True).first).to_be_visible()

    # A used link is dead for anyone, signed in or not.
    with new_context() as context:
        visitor = context.new_page()
        expect_refused(
            visitor, known_link, "This invitation was accepted already", assert_accessible
        )
        expect(visitor.get_by_role("button", name=f"Sign in to {TENANT}")).to_be_visible()

    # --- the owner sees both as members ------------------------------------------------
    open_org_page(page, org, "Members")
    members = page.get_by_role("table", name=f"Members of {org}")
    expect(members.get_by_role("rowheader")).to_have_text(sorted([OWNER_NAME, stranger, known]))
    assert_accessible(page)

    # --- three more invitations: to revoke, to expire, to decline ---------------------
    page.get_by_role("button", name="Invite members").click()
    invite(page, org, [revoked_email, expired_email, declined_email], assert_accessible)
    revoked_link, expired_link, declined_link = (
        invitation_link(inbox(address), org=org, address=address, base_url=base_url)
        for address in (revoked_email, expired_email, declined_email)
    )

    page.get_by_role("button", name="See all invitations").click()  # a link styled as one
    expect(page.get_by_role("heading", level=1, name="Invitations")).to_be_visible()
    table = page.get_by_role("table", name=f"Invitations to {org}")
    expect(table.get_by_role("rowheader")).to_have_count(5)
    for address in (stranger_email, known_email):
        expect(
            invitation_row(page, org, address).get_by_text("Accepted", exact=True)
        ).to_be_visible()
    for address in (revoked_email, expired_email, declined_email):
        expect(
            invitation_row(page, org, address).get_by_text("Pending", exact=True)
        ).to_be_visible()
    assert_accessible(page)
    # Only the links' hashes are stored: no page shows a token.
    html = page.content()
    for link in (revoked_link, expired_link, declined_link):
        assert link.rpartition("/")[2] not in html

    # Revoked on the invitations page (in place, after a confirmation): its link is refused.
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    revoked_row = invitation_row(page, org, revoked_email)
    page.once("dialog", accept)
    with page.expect_response(lambda r: r.url.endswith("/revoke")) as answer:
        revoked_row.get_by_role("button", name="Revoke").click()
    assert answer.value.status == 200
    assert dialogs == [f"Revoke the invitation to {revoked_email}? Its link stops working."]
    expect(revoked_row.get_by_role("status")).to_have_text("Revoked: the link no longer works.")
    expect(revoked_row.get_by_text("Revoked", exact=True)).to_be_visible()
    expect(revoked_row.get_by_role("button")).to_have_count(0)  # no Resend, no Revoke
    assert_accessible(page)
    with new_context() as context:
        expect_refused(
            context.new_page(), revoked_link, "This invitation was withdrawn", assert_accessible
        )

    # Expired, by moving its expiry into the past: its link is refused.
    expire_invitation(expired_email)
    with new_context() as context:
        visitor = context.new_page()
        expect_refused(visitor, expired_link, "This invitation has expired", assert_accessible)
        # A tampered link (one character changed) names no invitation at all.
        last = declined_link[-1]
        expect_refused(
            visitor,
            declined_link[:-1] + ("A" if last != "A" else "B"),
            "This invitation link doesn't work",
            assert_accessible,
        )

    # Declined by the invitee, from the sign-up page, without an account.
    with new_context() as context:
        visitor = context.new_page()
        visitor.goto(declined_link)
        expect(visitor.get_by_role("heading", level=1, name=f"Join {org}")).to_be_visible()
        assert_accessible(visitor)
        visitor.get_by_role("button", name="Decline").click()
        expect(visitor.get_by_role("heading", level=1, name="Invitation declined")).to_be_visible()
        expect(visitor.get_by_text(f"You won't join {org}.")).to_be_visible()
        expect(visitor.get_by_role("button", name="Sign out")).to_have_count(0)  # no account
        assert_accessible(visitor)
        expect_refused(visitor, declined_link, "This invitation was declined", assert_accessible)

    # --- the owner's list, filtered by status, tells each story ------------------------
    page.reload()
    expect(table.get_by_role("rowheader")).to_have_count(5)
    filter_invitations(page, org, "Declined", [declined_email])
    assert_accessible(page)
    filter_invitations(page, org, "Expired", [expired_email])
    filter_invitations(page, org, "Revoked", [revoked_email])
    filter_invitations(page, org, "Accepted", [known_email, stranger_email])
    filter_invitations(page, org, "Pending", [])
