"""An owner manages an org's invitations and join links on a laptop and on a phone, with
and without JavaScript (issue 15: 2, 9, 10, 12).

The invitations table fits the page at 1280x800 with every Revoke on screen, and turns
into cards at 390x844 that keep every action; an expired invitation is resent; a revoke
without JavaScript asks on a page of its own first; a new join link's Copy button puts
the link on the clipboard (and is hidden where it could not work).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Dialog, Locator, Page, expect

from app.models import Invitation, utcnow

OWNER_EMAIL = "owner@acme.example"  # the demo tenant's owner
PASSWORD = "demo-password-1"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def expire_invitation(live_server_env) -> Callable[[str], None]:
    """``expire_invitation(email)``: that invitation's expiry moves into the past."""
    from datetime import timedelta

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


def sign_in(page: Page) -> None:
    page.goto("/t/acme/login")
    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def create_org(page: Page, name: str) -> str:
    """A new top-level org (from its form); returns its slug."""
    page.goto("/t/acme/orgs/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
    match = re.search(r"/t/acme/orgs/([a-z0-9-]+)/(?:#[\w-]*)?$", page.url)
    assert match, page.url
    return match.group(1)


def invite(page: Page, slug: str, addresses: list[str]) -> None:
    page.goto(f"/t/acme/orgs/{slug}/invitations/new")
    page.get_by_label("Email addresses", exact=True).fill("\n".join(addresses))
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("status").first).to_contain_text(f"{len(addresses)} invited")


def invitation_row(page: Page, org: str, address: str) -> Locator:
    table = page.get_by_role("table", name=f"Invitations to {org}")
    return table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=address, exact=True)
    )


def assert_fits(page: Page) -> None:
    """No horizontal scrolling: the page is no wider than the window."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"page {widths[0]} px wide in a {widths[1]} px window"


def assert_on_screen(page: Page, control: Locator) -> None:
    """The control's right edge is inside the window (not cut off, not scrolled away)."""
    expect(control).to_be_visible()
    box = control.bounding_box()
    assert box is not None
    inner_width = page.evaluate("window.innerWidth")
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= inner_width, f"{box} in a {inner_width} px window"


def accept_dialogs(page: Page) -> list[str]:
    seen: list[str] = []

    def accept(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return seen


def test_the_invitations_page_fits_a_laptop_and_a_phone_and_keeps_its_actions(
    new_context, expire_invitation, assert_accessible
):
    suffix = uuid.uuid4().hex[:8]
    org = f"Initech {suffix}"
    long_address = f"a.very.long.address.to.test.widths.{suffix}@subsidiary.initech-global.example"
    pending = [long_address, f"pat.{suffix}@initech.example"]
    expired = f"exp.{suffix}@initech.example"

    context: BrowserContext = new_context(
        viewport=LAPTOP, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    dialogs = accept_dialogs(page)
    sign_in(page)
    slug = create_org(page, org)
    invite(page, slug, [*pending, expired])
    expire_invitation(expired)
    invitations_url = f"/t/acme/orgs/{slug}/invitations"

    # --- a laptop: the table fits, every Revoke on screen, Resend for the expired one --
    page.goto(invitations_url)
    expect(page.get_by_role("heading", level=1, name="Invitations")).to_be_visible()
    for address in pending:
        row = invitation_row(page, org, address)
        assert_on_screen(page, row.get_by_role("button", name="Revoke"))
        assert_on_screen(page, row.get_by_role("button", name="Resend"))
    expired_row = invitation_row(page, org, expired)
    expect(expired_row.get_by_text("Expired", exact=True)).to_be_visible()
    expect(expired_row.get_by_role("button", name="Revoke")).to_have_count(0)
    assert_fits(page)
    assert_accessible(page)

    # The expired invitation is resent in place: pending again, with a new link.
    with page.expect_response(lambda r: r.url.endswith("/resend")) as answer:
        expired_row.get_by_role("button", name="Resend").click()
    assert answer.value.status == 200
    expect(expired_row.get_by_role("status")).to_have_text(
        "Sent again with a new link; the earlier one no longer works."
    )
    expect(expired_row.get_by_text("Pending", exact=True)).to_be_visible()
    assert_on_screen(page, expired_row.get_by_role("button", name="Revoke"))

    # --- a join link, shown once, copied with its button --------------------------------
    page.get_by_label("Role", exact=True).select_option(label="Member")
    page.get_by_role("button", name="Create join link").click()
    shown = page.get_by_label("Your new join link. Copy it now: it won't be shown again.")
    expect(shown).to_have_value(re.compile(r"/join/[A-Za-z0-9_-]+$"))
    copy = page.get_by_role("button", name="Copy link")
    assert_on_screen(page, copy)
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()  # for two seconds
    assert page.evaluate("navigator.clipboard.readText()") == shown.input_value()
    links = page.get_by_role("table", name=f"Join links of {org}")
    expect(links.get_by_role("row")).to_have_count(2)  # its heading row and the link's
    assert_on_screen(page, links.get_by_role("button", name="Revoke"))
    assert_fits(page)
    assert_accessible(page)

    # --- a phone: cards that keep every action ------------------------------------------
    page.set_viewport_size(PHONE)
    page.goto(invitations_url)
    expect(page.get_by_role("heading", level=1, name="Invitations")).to_be_visible()
    assert_fits(page)
    for address in [*pending, expired]:
        row = invitation_row(page, org, address)
        expect(row.get_by_role("rowheader")).to_be_visible()
        assert_on_screen(page, row.get_by_role("button", name="Revoke"))
        assert_on_screen(page, row.get_by_role("button", name="Resend"))
    assert_on_screen(page, links.get_by_role("button", name="Revoke"))
    assert_accessible(page)

    # Revoked from the phone, after the browser's confirmation, in place.
    row = invitation_row(page, org, pending[1])
    with page.expect_response(lambda r: r.url.endswith("/revoke")) as answer:
        row.get_by_role("button", name="Revoke").click()
    assert answer.value.status == 200
    assert dialogs == [f"Revoke the invitation to {pending[1]}? Its link stops working."]
    expect(row.get_by_role("status")).to_have_text("Revoked: the link no longer works.")
    expect(row.get_by_role("button")).to_have_count(0)
    assert_fits(page)
    context.close()

    # --- without JavaScript: revokes ask on a page first; no Copy button -----------------
    for viewport in (LAPTOP, PHONE):
        context = new_context(viewport=viewport, java_script_enabled=False)
        page = context.new_page()
        sign_in(page)
        page.goto(invitations_url)
        assert_fits(page)
        target = pending[0] if viewport is LAPTOP else expired
        revoke = invitation_row(page, org, target).get_by_role("button", name="Revoke")
        assert_on_screen(page, revoke)
        revoke.click()
        expect(page.get_by_role("heading", level=1, name="Revoke invitation")).to_be_visible()
        expect(page.get_by_text(f"Revoke the invitation to {target}?")).to_be_visible()
        assert_fits(page)
        assert_accessible(page)
        page.get_by_role("button", name="Revoke invitation").click()
        expect(page.get_by_role("heading", level=1, name="Invitations")).to_be_visible()
        expect(page.get_by_role("status").first).to_contain_text(
            f"Revoked the invitation to {target}"
        )
        expect(invitation_row(page, org, target).get_by_text("Revoked", exact=True)).to_be_visible()
        context.close()

    context = new_context(viewport=LAPTOP, java_script_enabled=False)
    page = context.new_page()
    sign_in(page)
    page.goto(invitations_url)
    page.get_by_role("button", name="Create join link").click()
    expect(page.get_by_label(re.compile("^Your new join link"))).to_have_value(
        re.compile(r"/join/")
    )
    expect(page.get_by_role("button", name="Copy link")).to_be_hidden()  # nothing to copy with
    page.goto(invitations_url)
    links = page.get_by_role("table", name=f"Join links of {org}")
    links.get_by_role("button", name="Revoke").first.click()
    expect(page.get_by_role("heading", level=1, name="Revoke join link")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Revoke join link").click()
    expect(page.get_by_role("status").first).to_contain_text("Revoked the join link")
    expect(links.get_by_text("Revoked", exact=True)).to_have_count(1)
    context.close()
