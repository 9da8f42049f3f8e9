"""Settings, a page each (issue 15): a failed save low on a page comes back with its
error summary focused and in view (5); an org is deleted by typing its name (10); a
tenant's destructive action without JavaScript goes through its confirmation page (10);
every settings page fits a 390 px phone and a 1280 px laptop (2/9) and passes axe."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, Response, expect

from tests.e2e.screen import SIZES, fits
from tests.e2e.test_invite_and_join import OWNER_EMAIL, PASSWORD, create_top_level_org, sign_in

TENANT_SETTINGS = [
    "/t/acme/settings",
    "/t/acme/settings/sign-up",
    "/t/acme/settings/seats",
    "/t/acme/settings/roles",
    "/t/acme/settings/api-keys",
    "/t/acme/settings/signing-keys",
]
ORG_SETTINGS = ["settings", "settings/metadata", "settings/move", "settings/danger-zone"]


def _summary_is_focused_and_in_view(page: Page) -> None:
    focused = page.evaluate(
        "() => document.activeElement && document.activeElement.matches('[data-error-summary]')"
    )
    assert focused, "the error summary has the focus"
    box = page.evaluate(
        """() => {
            const r = document.activeElement.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, height: innerHeight};
        }"""
    )
    assert box["top"] >= 0, f"summary above the view: {box}"
    assert box["bottom"] <= box["height"], f"summary below the view: {box}"


def _sign_in_anywhere(page: Page) -> None:
    """Sign in at any width (on a phone, Sign out is inside the header's Menu)."""
    page.goto("/t/acme/login")
    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _new_top_level_org(page: Page, name: str) -> str:
    page.goto("/t/acme/orgs/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
    match = re.search(r"/t/acme/orgs/([a-z0-9-]+)/(#.*)?$", page.url)
    assert match, page.url
    return match.group(1)


def _status(response: Response | None) -> int | None:
    return response.status if response is not None else None


def test_a_failed_save_low_on_a_settings_page_is_summarised_in_view_and_focused(
    new_context, assert_accessible
):
    with new_context(viewport=SIZES["laptop"]) as context:
        page = context.new_page()
        sign_in(page, assert_accessible)

        # The access token form sits at the bottom of API keys and tokens.
        page.goto("/t/acme/settings/api-keys")
        lifetime = page.get_by_label("Lifetime (minutes)")
        lifetime.scroll_into_view_if_needed()
        lifetime.fill("0")
        page.get_by_role("button", name="Save token settings").click()
        summary = page.get_by_role("alert").filter(has_text="There is a problem")
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("Lifetime (minutes): Use a whole number of minutes")
        expect(page.locator("#token_lifetime_minutes-error")).to_have_text(
            "Use a whole number of minutes from 1 to 1,440."
        )
        _summary_is_focused_and_in_view(page)
        assert_accessible(page)
        # The address is one whose reload shows the page again, never a 405.
        assert _status(page.reload()) == 200, page.url
        expect(page.get_by_role("heading", level=1, name="API keys and tokens")).to_be_visible()

        # An org's Metadata page: its third form, low on the page.
        name = f"Settings {uuid.uuid4().hex[:6]}"
        slug = create_top_level_org(page, name, assert_accessible)
        page.goto(f"/t/acme/orgs/{slug}/settings/metadata")
        key = page.get_by_label("Settings key 1", exact=True)
        key.scroll_into_view_if_needed()
        key.fill("timezone")
        page.get_by_label("Settings value 1", exact=True).fill("{not json")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("alert").filter(has_text="not valid JSON")).to_be_focused()
        _summary_is_focused_and_in_view(page)
        expect(page.locator("#settings-form-error")).to_contain_text("not valid JSON")
        assert_accessible(page)
        assert _status(page.reload()) == 200, page.url


def test_without_javascript_a_failed_save_opens_at_its_form(new_context, assert_accessible):
    with new_context(viewport=SIZES["laptop"], java_script_enabled=False) as context:
        page = context.new_page()
        sign_in(page, assert_accessible)
        page.goto("/t/acme/settings/api-keys")
        page.get_by_label("Lifetime (minutes)").fill("0")
        page.get_by_role("button", name="Save token settings").click()
        expect(page).to_have_url(re.compile(r"/t/acme/settings/tokens#tokens-form$"))
        page.wait_for_load_state("load")
        # (No page.evaluate or viewport observer without JavaScript: the box tells.) The
        # URL changes when the answer starts; the browser jumps to #tokens-form once it
        # has laid the page out, later on a long page (many keys): wait for that, briefly.
        summary = page.locator("#tokens-form [data-error-summary]")
        box = summary.bounding_box()
        for _ in range(50):
            if box is not None and 0 <= box["y"] < SIZES["laptop"]["height"]:
                break
            page.wait_for_timeout(100)
            box = summary.bounding_box()
        assert box is not None
        assert 0 <= box["y"] < SIZES["laptop"]["height"], f"the summary is out of view: {box}"
        heading = page.get_by_role("heading", level=1, name="API keys and tokens").bounding_box()
        assert heading is not None
        assert heading["y"] < 0, "opened at the form, not at the top of the page"


def test_delete_an_org_by_typing_its_name(new_context, assert_accessible):
    with new_context(viewport=SIZES["laptop"]) as context:
        page = context.new_page()
        sign_in(page, assert_accessible)
        name = f"Doomed {uuid.uuid4().hex[:6]}"
        create_top_level_org(page, name, assert_accessible)
        page.get_by_role("navigation", name=f"{name} sections").get_by_role(
            "link", name="Settings"
        ).click()
        page.get_by_role("navigation", name="Settings pages").get_by_role(
            "link", name="Danger zone"
        ).click()
        expect(page.get_by_role("heading", level=1, name="Danger zone")).to_be_visible()
        expect(page.locator("p.deletion-scope")).to_contain_text("It has no sub-organizations.")
        assert_accessible(page)

        confirm = page.get_by_label("Type the organization's name to confirm")
        confirm.fill(name.lower())  # close, but not its name
        page.get_by_role("button", name=f"Delete {name}").click()
        expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_focused()
        expect(page.locator("#confirm_name-error")).to_contain_text(f"type “{name}” exactly")
        assert_accessible(page)

        confirm.fill(name)
        page.get_by_role("button", name=f"Delete {name}").click()
        expect(page).to_have_url(re.compile(r"/t/acme/orgs/$"))
        expect(page.get_by_role("status")).to_contain_text(
            f"{name} deleted. A tenant owner can restore it."
        )


def test_revoking_a_key_without_javascript_goes_through_its_confirmation_page(
    new_context, assert_accessible
):
    with new_context(viewport=SIZES["laptop"], java_script_enabled=False) as context:
        page = context.new_page()
        sign_in(page, assert_accessible)
        page.goto("/t/acme/settings/api-keys")
        key_name = f"No-JS {uuid.uuid4().hex[:6]}"
        page.get_by_label("Key name").fill(key_name)
        page.get_by_role("button", name="Create API key").click()
        expect(page.get_by_role("textbox", name="API key")).to_have_value(re.compile(r"^tk_"))

        row = page.get_by_role("row").filter(has_text=key_name)
        row.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("heading", level=1, name=f"Revoke “{key_name}”?")).to_be_visible()
        assert_accessible(page)
        page.get_by_role("button", name="Revoke key").click()
        expect(page).to_have_url(re.compile(r"/t/acme/settings/api-keys$"))
        expect(page.get_by_role("status")).to_contain_text(f"“{key_name}” revoked")
        expect(page.get_by_role("row").filter(has_text=key_name)).to_contain_text("revoked")


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_every_settings_page_fits_the_screen(new_context, assert_accessible, size):
    with new_context(viewport=SIZES[size]) as context:
        page = context.new_page()
        _sign_in_anywhere(page)
        slug = _new_top_level_org(page, f"Fits {uuid.uuid4().hex[:6]}")
        pages = TENANT_SETTINGS + [f"/t/acme/orgs/{slug}/{sub}" for sub in ORG_SETTINGS]
        for url in pages:
            assert _status(page.goto(url)) == 200, url
            current = page.get_by_role("navigation", name="Settings pages").locator(
                "[aria-current=page]"
            )
            expect(current).to_have_count(1)
            fits(page)
            assert_accessible(page)
