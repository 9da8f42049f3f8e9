"""Someone signs up on their own, is asked to prove the address, reads the email, proves it,
and only then accepts the invitation waiting for that address.

The emails really travel: the app queues them in its outbox, a separate
``flask mail deliver --loop`` worker sends them over SMTP, and a local SMTP sink receives
them. The link the journey follows is the one in the verification email.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.screen import fits
from tests.e2e.test_invite_and_join import (  # noqa: F401 (fixtures)
    create_top_level_org,
    inbox,
    invite,
    mail_worker,
    open_org_page,
    sign_in,
)

TENANT = "Acme Corporation"
PHONE = {"width": 390, "height": 844}


def verification_link(message, *, address: str, base_url: str) -> str:
    assert message["Subject"] == f"Confirm your email address for {TENANT}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert address in text
    links = re.findall(rf"{re.escape(base_url)}/t/acme/account/confirm/[A-Za-z0-9_-]+", text)
    assert len(set(links)) == 1, text
    assert f'href="{links[0]}"' in html
    return links[0]


def test_a_new_account_proves_its_address_before_accepting_an_invitation(
    page: Page,
    new_context,
    base_url,
    inbox,  # noqa: F811 (the fixture)
    assert_accessible,
):
    suffix = uuid.uuid4().hex[:8]
    org = f"Initrode {suffix}"
    name, email = f"Nia New {suffix}", f"nia.{suffix}@initrode.example"
    password = f"nia-pass-{suffix}"

    # --- the owner invites an address that has no account yet ---------------------------
    sign_in(page, assert_accessible)
    slug = create_top_level_org(page, org, assert_accessible)
    open_org_page(page, org, "Members")
    page.get_by_role("button", name="Invite members").click()
    invite(page, org, [email], assert_accessible)

    with new_context(viewport=PHONE) as context:
        visitor = context.new_page()

        # --- she signs up on her own, not through the invitation's link -----------------
        visitor.goto("/t/acme/signup")
        visitor.get_by_label("Name", exact=True).fill(name)
        visitor.get_by_label("Email", exact=True).fill(email)
        visitor.get_by_label("Password", exact=True).fill(password)
        visitor.get_by_role("button", name="Create account").click()
        expect(visitor.get_by_role("heading", level=1, name="Check your inbox")).to_be_visible()
        expect(visitor.get_by_text(email)).to_be_visible()
        assert_accessible(visitor)
        fits(visitor)

        # --- signed in, she sees nothing of any org until the address is proven ---------
        visitor.get_by_role("button", name="Sign in").click()
        expect(visitor.get_by_label("Email", exact=True)).to_have_value(email)
        visitor.get_by_label("Password", exact=True).fill(password)
        visitor.get_by_role("button", name="Sign in").click()
        expect(visitor.get_by_role("heading", level=1, name="Check your inbox")).to_be_visible()
        expect(visitor.get_by_role("button", name="Resend the link")).to_be_visible()
        expect(visitor.get_by_role("link", name="Change your email address")).to_be_visible()
        expect(visitor.get_by_role("button", name="Sign out").first).to_be_visible()
        assert_accessible(visitor)
        fits(visitor)
        for path in ("/t/acme/orgs/switch", f"/t/acme/orgs/{slug}/members"):
            visitor.goto(path)
            expect(visitor.get_by_role("heading", level=1, name="Check your inbox")).to_be_visible()
            expect(visitor.get_by_text("My invitations")).to_have_count(0)
            expect(visitor.get_by_text(org)).to_have_count(0)

        # --- the email arrives; its link proves the address ------------------------------
        link = verification_link(
            inbox(email, about="Confirm your email"), address=email, base_url=base_url
        )
        visitor.goto(link)
        expect(
            visitor.get_by_role("heading", level=1, name="Confirm your email address")
        ).to_be_visible()
        assert_accessible(visitor)
        fits(visitor)
        visitor.get_by_role("button", name="Confirm email address").click()
        expect(visitor.get_by_role("status")).to_contain_text(f"{email} is confirmed")

        # --- now "My invitations" shows the invitation, and accepting it lands her in ---
        visitor.goto("/t/acme/orgs/switch")
        invitations = visitor.get_by_role("region", name="My invitations")
        expect(invitations.get_by_text(org)).to_be_visible()
        assert_accessible(visitor)
        invitations.get_by_role("button", name="Accept").click()
        expect(visitor).to_have_url(re.compile(rf"/t/acme/orgs/{re.escape(slug)}/$"))
        expect(visitor.get_by_role("heading", level=1, name=org, exact=True)).to_be_visible()
        expect(visitor.get_by_role("status")).to_contain_text(f"Welcome to {org}!")

        # The link was single use.
        visitor.goto(link)
        expect(
            visitor.get_by_role("heading", level=1, name="This link is no longer valid")
        ).to_be_visible()
