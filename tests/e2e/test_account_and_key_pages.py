"""The pages this issue added, on a laptop and a phone: "Your account" and an API key's
own page (what it may do, narrowed by keyboard alone), and the settings page's key form
with its permission list. None is wider than the screen; each passes axe."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.screen import SIZES, fits
from tests.e2e.test_invite_and_join import sign_in


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_account_and_key_pages_fit_and_work_by_keyboard(
    new_context, base_url, assert_accessible, size
):
    with new_context(viewport=SIZES[size]) as context:
        page = context.new_page()
        sign_in(page, assert_accessible)

        page.goto("/t/acme/account")
        expect(page.get_by_role("heading", level=1, name="Your account")).to_be_visible()
        expect(page.get_by_label("New email address")).to_be_visible()
        assert_accessible(page)
        fits(page)

        page.goto("/t/acme/settings/api-keys")
        key_name = f"Sync {uuid.uuid4().hex[:6]}"
        page.get_by_label("Key name").fill(key_name)
        page.get_by_role("checkbox", name="See the members").check()
        page.get_by_role("button", name="Create API key").click()
        expect(page.get_by_role("textbox", name="API key")).to_be_visible()
        assert_accessible(page)
        fits(page)

        row = page.get_by_role("row").filter(has_text=key_name)
        expect(row).to_contain_text("2 permissions, whole tenant")
        row.get_by_role("link", name=f"See or narrow {key_name}").click()
        expect(page.get_by_role("heading", level=1, name=f"API key “{key_name}”")).to_be_visible()
        assert_accessible(page)
        fits(page)

        # By keyboard alone: untick "See the members" and save.
        members = page.get_by_role("checkbox", name="See the members")
        members.focus()
        page.keyboard.press("Space")
        expect(members).not_to_be_checked()
        page.get_by_role("button", name="Save what the key may do").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text(f"“{key_name}” narrowed.")
        page.get_by_role("link", name="API keys and tokens", exact=True).first.click()
        row = page.get_by_role("row").filter(has_text=key_name)
        expect(row).to_contain_text("1 permission, whole tenant")
