"""A tenant user signs in and out of their workspace."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

OWNER_EMAIL = "owner@acme.example"
PASSWORD = "demo-password-1"
OWNER_NAME = "Olivia Owner"


def sign_in_form(page: Page):
    return page.locator("form").filter(has=page.get_by_role("button", name="Sign in"))


def expect_signed_in(page: Page) -> None:
    """Wherever the tenant's start page leads, the header names the person and offers sign-out."""
    expect(page).to_have_url(re.compile(r"/t/acme/(?!login)"))
    expect(page.get_by_role("banner").get_by_role("link", name=OWNER_NAME)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_owner_signs_in_then_signs_out_and_cannot_go_back(page: Page, assert_accessible):
    response = page.goto("/t/acme/login")
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect_signed_in(page)
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/t/acme/login$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)

    # The back button must not bring the signed-in page back.
    page.go_back()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("banner").get_by_text(OWNER_NAME)).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)

    # Nor may visiting the home page directly: it sends the visitor to sign in.
    page.goto("/t/acme/")
    expect(page).to_have_url(re.compile(r"/t/acme/login\?"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    url = urlsplit(page.url)
    assert parse_qs(url.query) == {"next": ["/t/acme/"]}
    assert_accessible(page)


def test_wrong_password_shows_the_error_by_the_form_and_keeps_the_email(
    page: Page, assert_accessible
):
    page.goto("/t/acme/login")
    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    form = sign_in_form(page)
    expect(form.get_by_role("alert")).to_have_text(
        "That email and password don't match an account here."
    )
    expect(page).to_have_url(re.compile(r"/t/acme/login$"))
    expect(page.get_by_label("Email", exact=True)).to_have_value(OWNER_EMAIL)
    expect(page.get_by_role("banner").get_by_text(OWNER_NAME)).to_have_count(0)
    assert_accessible(page)

    # The form still works: the right password now signs in.
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_signed_in(page)
    assert_accessible(page)
