"""Every page, on a laptop (1280x800) and a phone (390x844): none is wider than the
screen, none has a serious or critical axe violation, and every org page shows the
org's section nav with the section on screen marked (issue 15).

The pages are found, not listed: from a few starting points the test follows every
link of this site it meets, as the demo tenant's owner, a plain member, support staff
and an anonymous visitor (the invitee's pages), and visits each *kind* of page once
(a path with its org slug and ids replaced by placeholders). A page added later is
covered as soon as something links to it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.screen import SIZES, fits

PASSWORD = "demo-password-1"
MAX_PAGES = 80  # per visitor and size: far more kinds of page than the app has

# Not pages: downloads, JSON, fragments for htmx, the development mailbox, API docs'
# machine-readable parts.
SKIP = re.compile(r"(\.csv$|\.json$|/children$|^/dev/|^/api/|/jwks|/logout$)")
ORG_PAGE = re.compile(r"^/t/acme/orgs/(?!new$|new/|switch|deleted)([^/]+)/")
ID_SEGMENT = re.compile(r"^([a-z]{2,4}_[A-Za-z0-9_-]{6,}|\d+|[A-Za-z0-9_-]{20,})$")


def kind_of(path: str) -> str:
    """A page's kind: its path with the org's slug and any id replaced."""
    org = ORG_PAGE.match(path)
    if org:
        path = path.replace(f"/orgs/{org.group(1)}/", "/orgs/{org}/", 1)
    return "/".join("{id}" if ID_SEGMENT.match(part) else part for part in path.split("/"))


def shows_its_section(page: Page, path: str, *, sees_every_section: bool) -> None:
    """An org page shows the org's sections. For someone who may open every section the
    one on screen is marked; others see only theirs (a member may reach "Leave" of a
    section they can't list), so at most one is."""
    if not ORG_PAGE.match(path):
        return
    nav = page.locator("nav.org-sections")
    expect(nav, f"{path}: the org's section nav").to_have_count(1)
    marked = nav.locator('a[aria-current="page"]')
    if sees_every_section:
        expect(marked, f"{path}: the section on screen").to_have_count(1)
    else:
        assert marked.count() <= 1, path


def same_site_links(page: Page) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def walk(
    context: BrowserContext,
    starts: Iterable[str],
    check: Callable[[Page, str], None],
    *,
    stay_under: str,
) -> set[str]:
    """Visit each kind of page reachable from ``starts`` (within ``stay_under``) once."""
    page = context.new_page()
    seen: set[str] = set()
    queue = list(starts)
    while queue and len(seen) < MAX_PAGES:
        target = queue.pop(0)
        path = urlsplit(target).path
        kind = kind_of(path)
        if kind in seen or SKIP.search(path) or not path.startswith(stay_under):
            continue
        seen.add(kind)
        response = page.goto(target)
        assert response is not None, target
        assert response.status < 500, f"{target}: {response.status}"
        if response.status >= 400:
            continue  # a refusal page is checked below like any other, but not followed
        check(page, path)
        queue.extend(same_site_links(page))
    page.close()
    return seen


def sign_in(page: Page, email: str) -> None:
    page.goto("/t/acme/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def staff_sign_in(page: Page) -> None:
    page.goto("/staff/login")
    page.get_by_label("Email", exact=True).fill("staff@tenantry.example")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def an_invitation_link(live_server_env: dict[str, str]) -> str:
    """The path of a link the demo emailed to an invitee (read from the outbox)."""
    database = live_server_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        bodies = [row[0] for row in connection.execute("SELECT text_body FROM outbox_emails")]
    for body in bodies:
        found = re.search(r"https?://[^/\s]+(/invitations/\S+)", body)
        if found:
            return found.group(1)
    pytest.fail("the demo seeds an invitation email")


@pytest.fixture
def check_page(assert_accessible) -> Callable[[Page, str], None]:
    """Checks for a tenant owner (every org section visible)."""

    def check(page: Page, path: str) -> None:
        fits(page)
        shows_its_section(page, path, sees_every_section=True)
        assert_accessible(page)

    return check


@pytest.fixture
def check_member_page(assert_accessible) -> Callable[[Page, str], None]:
    def check(page: Page, path: str) -> None:
        fits(page)
        shows_its_section(page, path, sees_every_section=False)
        assert_accessible(page)

    return check


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_every_page_of_the_tenant_fits_as_its_owner(new_context, size, check_page):
    with new_context(viewport=SIZES[size]) as context:
        sign_in(context.new_page(), "owner@acme.example")
        seen = walk(
            context,
            ["/t/acme/orgs/", "/t/acme/orgs/engineering/", "/t/acme/settings", "/t/acme/account"],
            check_page,
            stay_under="/t/acme/",
        )
    # the walk did reach the org's sections and the settings sub-pages
    for kind in ("/t/acme/orgs/{org}/members", "/t/acme/orgs/{org}/audit", "/t/acme/account"):
        assert kind in seen, sorted(seen)
    assert len(seen) >= 20, sorted(seen)


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_every_page_a_plain_member_reaches_fits(new_context, size, check_member_page):
    with new_context(viewport=SIZES[size]) as context:
        sign_in(context.new_page(), "member@acme.example")
        seen = walk(context, ["/t/acme/orgs/"], check_member_page, stay_under="/t/acme/")
    assert "/t/acme/orgs/{org}/" in seen, sorted(seen)


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_every_page_of_the_support_console_fits(new_context, size, check_page):
    with new_context(viewport=SIZES[size]) as context:
        staff_sign_in(context.new_page())
        seen = walk(
            context,
            ["/staff/", "/staff/search?q=acme", "/staff/audit"],
            check_page,
            stay_under="/staff/",
        )
    assert len(seen) >= 5, sorted(seen)


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_the_invitees_and_signed_out_pages_fit(new_context, size, check_page, live_server_env):
    with new_context(viewport=SIZES[size]) as context:
        seen = walk(
            context,
            [
                an_invitation_link(live_server_env),
                "/invitations/not-a-real-link",
                "/join/not-a-real-link",
                "/t/acme/login",
                "/t/acme/signup",
                "/t/acme/password/forgot",
                "/",
            ],
            check_page,
            stay_under="/",
        )
    assert len(seen) >= 4, sorted(seen)
