"""Platform staff create a tenant, find it, suspend it and bring it back."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import BrowserContext, Dialog, Page, expect

STAFF_EMAIL = "staff@tenantry.example"
STAFF_PASSWORD = "demo-password-1"
OWNER_PASSWORD = "owner-password-42"


def sign_in_as_staff(page: Page, assert_accessible) -> None:
    page.goto("/staff/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email", exact=True).fill(STAFF_EMAIL)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tenants", exact=True)).to_be_visible()
    assert_accessible(page)


def test_staff_creates_finds_suspends_and_reactivates_a_tenant(
    page: Page, new_context, assert_accessible
):
    suffix = uuid.uuid4().hex[:6]
    name = f"Globex {suffix}"
    slug = f"globex-{suffix}"
    owner_email = f"hank-{suffix}@globex.example"

    sign_in_as_staff(page, assert_accessible)

    # Create the tenant and its owner through the form.
    # A link styled as a button (Pico's role="button"), so assistive tech announces a button.
    page.get_by_role("button", name="New tenant").click()
    expect(page).to_have_url(re.compile(r"/staff/tenants/new$"))
    expect(page.get_by_role("heading", name="New tenant")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Tenant name", exact=True).fill(name)
    page.get_by_label("Slug", exact=True).fill(slug)
    page.get_by_label("Owner name", exact=True).fill("Hank Scorpio")
    page.get_by_label("Owner email", exact=True).fill(owner_email)
    page.get_by_label("Owner password", exact=True).fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Create tenant").click()

    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Tenant {name} created")
    assert_accessible(page)

    # Find it from the tenant list with the search box: the results update in place.
    page.get_by_role("link", name="Tenants", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    results = page.locator("#tenant-results")
    expect(results.get_by_role("link", name="Acme Corporation")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("searchbox", name="Search tenants").fill(suffix)
    expect(results.get_by_role("link", name="Acme Corporation")).to_have_count(0)
    expect(results.get_by_role("link", name=name)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/staff/\?q={suffix}$"))
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page"
    assert_accessible(page)

    results.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    assert_accessible(page)

    # Suspend it, accepting the confirmation.
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Suspend tenant").click()
    expect(page.get_by_role("button", name="Reactivate tenant")).to_be_visible()
    assert len(dialogs) == 1
    assert dialogs[0].startswith(f"Suspend {name}?")
    expect(page.get_by_role("status")).to_contain_text(f"{name} is suspended")
    assert_accessible(page)

    # Its owner, in a browser of their own, is turned away.
    owner_context: BrowserContext = new_context()
    owner = owner_context.new_page()
    response = owner.goto(f"/t/{slug}/login")
    assert response is not None
    assert response.status == 403
    expect(owner.get_by_role("heading", name=f"{name} is suspended")).to_be_visible()
    expect(owner.get_by_role("button", name="Sign in")).to_have_count(0)
    assert_accessible(owner)

    # Staff reactivate it; now the owner can sign in.
    page.get_by_role("button", name="Reactivate tenant").click()
    expect(page.get_by_role("button", name="Suspend tenant")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"{name} is active again")
    assert_accessible(page)

    response = owner.goto(f"/t/{slug}/login")
    assert response is not None
    assert response.status == 200
    expect(owner.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(owner)
    owner.get_by_label("Email", exact=True).fill(owner_email)
    owner.get_by_label("Password", exact=True).fill(OWNER_PASSWORD)
    owner.get_by_role("button", name="Sign in").click()
    expect(owner).to_have_url(re.compile(rf"/t/{slug}/(?!login)"))
    # (the header's links are written twice, once in the phone Menu: the visible one)
    expect(owner.get_by_role("banner").get_by_role("link", name="Hank Scorpio")).to_be_visible()
    expect(owner.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(owner)
