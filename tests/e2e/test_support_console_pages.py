"""Support staff use every page of the console on a laptop and on a phone: search by any
part of a name, a tenant and its users, a user, the audit log with its filters, and the
confirmation page a destructive action opens without JavaScript. Nothing is wider than
the screen, and axe finds nothing serious. (Only reads: the live server is shared.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.screen import fits

STAFF_EMAIL = "staff@tenantry.example"  # the demo superadmin
PASSWORD = "demo-password-1"
TENANT = "Acme Corporation"

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _signed_in(context: BrowserContext) -> Page:
    page = context.new_page()
    page.goto("/staff/login")
    page.get_by_label("Email", exact=True).fill(STAFF_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tenants", exact=True)).to_be_visible()
    return page


def _tenant_path(page: Page) -> str:
    page.goto("/staff/")
    page.get_by_role("link", name=TENANT, exact=True).first.click()
    expect(page.get_by_role("heading", level=1, name=TENANT)).to_be_visible()
    return re.sub(r"^https?://[^/]+", "", page.url)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280x800", "390x844"])
def test_every_console_page_fits_and_reads(new_context, assert_accessible, viewport):
    page = _signed_in(new_context(viewport=viewport))
    fits(page)
    assert_accessible(page)

    # Search by a part of an address in the middle: every Acme user's domain.
    page.goto("/staff/search?q=acme.EXAMPLE")
    users = page.get_by_role("region", name="Users")
    expect(users.get_by_role("cell", name="owner@acme.example")).to_be_visible()
    expect(users.get_by_role("link", name=TENANT).first).to_be_visible()  # whose user it is
    fits(page)
    assert_accessible(page)
    # and by a fragment of a name
    page.goto("/staff/search?q=livia own")
    expect(
        page.get_by_role("region", name="Users").get_by_role("link", name="Olivia Owner")
    ).to_be_visible()
    fits(page)

    # The tenant, then its users page by page.
    tenant = _tenant_path(page)
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    fits(page)
    assert_accessible(page)
    page.goto(f"{tenant}/users")
    expect(page.get_by_role("heading", level=1, name=f"Users of {TENANT}")).to_be_visible()
    # 50 a page by name: other journeys add people to Acme, so the owner may be further on.
    owner = page.get_by_role("cell", name="owner@acme.example")
    for _ in range(20):
        if owner.count():
            break
        page.goto(page.locator("a[rel=next]").get_attribute("href"))
    expect(owner).to_be_visible()
    fits(page)
    assert_accessible(page)

    # A user.
    page.get_by_role("link", name="Olivia Owner").click()
    expect(page.get_by_role("heading", level=1, name="Olivia Owner")).to_be_visible()
    fits(page)
    assert_accessible(page)

    # The tenant's organizations, failed emails and deleted organizations.
    for section, heading in (
        ("orgs", "Organizations"),
        ("outbox", "Failed emails"),
        ("deleted", "Deleted organizations"),
    ):
        page.goto(f"{tenant}/{section}")
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        fits(page)
        assert_accessible(page)

    # The audit log, filtered, and a filter with a mistake.
    page.goto("/staff/audit")
    page.get_by_label("Action", exact=True).fill("org.")
    page.get_by_label("Tenant", exact=True).fill("acme")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/staff/audit\?.*action=org\."))
    expect(page.get_by_role("cell", name=re.compile(r"created")).first).to_be_visible()
    fits(page)
    assert_accessible(page)
    page.goto("/staff/audit?since=2026-13-01")
    expect(page.get_by_text("Enter a date as YYYY-MM-DD.").first).to_be_visible()
    fits(page)
    assert_accessible(page)

    # Staff accounts, a new tenant's form, and the page that asks before suspending (where
    # the Suspend link leads without JavaScript; opening it changes nothing).
    for path, heading in (
        ("/staff/staff", "Staff accounts"),
        ("/staff/tenants/new", "New tenant"),
        (f"{tenant}/suspend", f"Suspend {TENANT}?"),
    ):
        page.goto(path)
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
        fits(page)
        assert_accessible(page)


def test_the_header_folds_into_a_menu_on_a_phone(new_context):
    page = _signed_in(new_context(viewport=PHONE))
    links = page.locator(".header-links")
    expect(links).to_be_hidden()
    menu = page.get_by_text("Menu", exact=True)
    menu.focus()
    page.keyboard.press("Enter")
    audit = page.locator(".app-menu").get_by_role("link", name="Audit log")
    expect(audit).to_be_visible()
    audit.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()


def test_without_javascript_suspending_asks_on_a_page_first(new_context):
    # (No width or axe check here: both run scripts in the page. The same page is checked
    # with them above.)
    page = _signed_in(new_context(viewport=PHONE, java_script_enabled=False))
    tenant = _tenant_path(page)
    page.get_by_role("button", name="Suspend tenant").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(tenant)}/suspend$"))
    expect(page.get_by_role("heading", level=1, name=f"Suspend {TENANT}?")).to_be_visible()
    expect(page.get_by_role("button", name="Suspend tenant")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()  # and nothing happened
    expect(page.get_by_role("heading", level=1, name=TENANT)).to_be_visible()
    expect(page.get_by_text("Active", exact=True).first).to_be_visible()
