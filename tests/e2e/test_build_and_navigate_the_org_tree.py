"""A tenant owner builds a small org tree, walks it with the keyboard, finds, switches,
deletes and restores organizations."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Locator, Page, expect

OWNER_EMAIL = "owner@acme.example"
PASSWORD = "demo-password-1"
MAX_TOP_LEVEL_STEPS = 200


def sign_in(page: Page, assert_accessible) -> None:
    page.goto("/t/acme/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page, assert_accessible) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/t/acme/login$"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert_accessible(page)


def tree_item(page: Page, name: str) -> Locator:
    """The visible tree item for the org called ``name``.

    A tree item's accessible name comes from its content, its visible sub-tree included,
    so it *starts* with the org's own name (followed by the member count)."""
    tree = page.get_by_role("tree", name="Organizations")
    return tree.get_by_role("treeitem", name=re.compile(rf"^{re.escape(name)}\s"))


def open_tree(page: Page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Organizations", exact=True).click()
    expect(page).to_have_url(re.compile(r"/t/acme/orgs/$"))
    expect(page.get_by_role("heading", name="Organizations", exact=True)).to_be_visible()


def focus_top_level_item_with_keyboard(page: Page, name: str) -> Locator:
    """Tab from the search box into the tree (its first item), then ArrowDown to ``name``."""
    first = page.get_by_role("tree", name="Organizations").get_by_role("treeitem").first
    expect(first).to_have_attribute("tabindex", "0")
    page.get_by_role("searchbox", name="Search organizations").focus()
    page.keyboard.press("Tab")
    expect(first).to_be_focused()
    target = tree_item(page, name)
    for _ in range(MAX_TOP_LEVEL_STEPS):
        if target.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("ArrowDown")
    expect(target).to_be_focused()
    expect(target).to_have_attribute("tabindex", "0")  # the roving tab stop moved with it
    expect(first).to_have_attribute("tabindex", "-1")
    return target


def create_org(page: Page, name: str, assert_accessible) -> str:
    """Fill the open create form; returns the new org's dashboard path."""
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"{name} created.")
    assert_accessible(page)
    path = re.sub(r"^https?://[^/]+", "", page.url)
    assert re.fullmatch(r"/t/acme/orgs/[a-z0-9-]+/", path), path
    return path


def test_owner_builds_walks_finds_switches_deletes_and_restores_orgs(page: Page, assert_accessible):
    suffix = uuid.uuid4().hex[:6]
    top = f"Globex Holdings {suffix}"
    middle = f"Globex Research {suffix}"
    leaf = f"Quantum Lab {suffix}"

    sign_in(page, assert_accessible)
    assert_accessible(page)

    # --- build: a top-level org, a sub-org, a sub-sub-org -----------------------------
    open_tree(page)
    assert_accessible(page)
    page.get_by_role("button", name="New organization").click()
    expect(page.get_by_role("heading", level=1, name="New organization")).to_be_visible()
    assert_accessible(page)
    top_path = create_org(page, top, assert_accessible)

    page.get_by_role("button", name="New sub-organization").click()
    expect(page.get_by_role("heading", name=f"New sub-organization of {top}")).to_be_visible()
    assert_accessible(page)
    middle_path = create_org(page, middle, assert_accessible)
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumbs.get_by_role("link", name=top, exact=True)).to_be_visible()

    page.get_by_role("button", name="New sub-organization").click()
    expect(page.get_by_role("heading", name=f"New sub-organization of {middle}")).to_be_visible()
    assert_accessible(page)
    leaf_path = create_org(page, leaf, assert_accessible)
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumbs.get_by_role("listitem")).to_have_text(["Organizations", top, middle, leaf])

    # --- walk the tree with the keyboard only -----------------------------------------
    open_tree(page)
    top_item = focus_top_level_item_with_keyboard(page, top)
    expect(top_item).to_have_attribute("aria-level", "1")
    expect(top_item).to_have_attribute("aria-expanded", "false")
    expect(tree_item(page, middle)).to_have_count(0)  # collapsed: its children are hidden

    page.keyboard.press("ArrowRight")  # expands; the children load through htmx
    expect(top_item).to_have_attribute("aria-expanded", "true")
    middle_item = tree_item(page, middle)
    expect(middle_item).to_be_visible()
    expect(middle_item).to_have_attribute("aria-level", "2")
    expect(middle_item).to_have_attribute("aria-expanded", "false")
    expect(top_item).to_be_focused()  # expanding doesn't move focus
    assert_accessible(page)

    page.keyboard.press("ArrowRight")  # already open: moves to the first child
    expect(middle_item).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(middle_item).to_have_attribute("aria-expanded", "true")
    leaf_item = tree_item(page, leaf)
    expect(leaf_item).to_be_visible()
    expect(leaf_item).to_have_attribute("aria-level", "3")
    expect(leaf_item).not_to_have_attribute("aria-expanded", re.compile(".*"))  # a leaf

    page.keyboard.press("ArrowDown")
    expect(leaf_item).to_be_focused()
    page.keyboard.press("ArrowLeft")  # on a leaf: moves to the parent
    expect(middle_item).to_be_focused()
    page.keyboard.press("ArrowLeft")  # open: collapses
    expect(middle_item).to_have_attribute("aria-expanded", "false")
    expect(tree_item(page, leaf)).to_have_count(0)
    expect(middle_item).to_be_focused()
    page.keyboard.press("ArrowRight")  # opens again, from what was loaded already
    expect(middle_item).to_have_attribute("aria-expanded", "true")
    expect(tree_item(page, leaf)).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(tree_item(page, leaf)).to_have_count(0)
    page.keyboard.press("ArrowUp")
    expect(top_item).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(top_item).to_have_attribute("aria-expanded", "false")
    expect(tree_item(page, middle)).to_have_count(0)
    expect(top_item).to_be_focused()
    assert_accessible(page)

    page.keyboard.press("Enter")  # opens the focused org
    expect(page).to_have_url(re.compile(rf"{re.escape(top_path)}$"))
    expect(page.get_by_role("heading", level=1, name=top, exact=True)).to_be_visible()
    assert_accessible(page)

    # --- search by name: the match shows where it sits ----------------------------------
    open_tree(page)
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("searchbox", name="Search organizations").fill(leaf)
    results = page.get_by_role("list", name="Matching organizations")
    match = results.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=leaf, exact=True)
    )
    expect(match).to_have_count(1)
    expect(match).to_contain_text(f"{top} › {middle} › {leaf}")
    expect(results.get_by_role("link", name=top, exact=True)).to_have_count(0)
    expect(results.get_by_role("link", name=middle, exact=True)).to_have_count(0)
    expect(page.get_by_role("tree")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true"), "the search reloaded the page"
    assert_accessible(page)
    match.get_by_role("link", name=leaf, exact=True).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(leaf_path)}$"))
    expect(page.get_by_role("heading", level=1, name=leaf, exact=True)).to_be_visible()
    assert_accessible(page)

    # --- switch to the new top-level org; it stays current ------------------------------
    # (the header's switcher names the org on screen: here the leaf)
    switcher = page.get_by_role("button", name=re.compile(r"^Organization: "))
    expect(switcher).not_to_have_accessible_name(f"Organization: {top} (switch)")
    switcher.click()
    choice = page.get_by_role("button", name=re.compile(rf"^{re.escape(top)}\s"))
    expect(choice).to_be_visible()  # loaded on first opening: the creator owns it
    expect(page.get_by_role("button", name=re.compile(rf"^{re.escape(leaf)}\s"))).to_be_visible()
    assert_accessible(page)
    choice.click()
    expect(page).to_have_url(re.compile(rf"{re.escape(top_path)}$"))
    expect(page.get_by_role("heading", level=1, name=top, exact=True)).to_be_visible()
    switcher = page.get_by_role("button", name=re.compile(r"^Organization: "))
    expect(switcher).to_have_accessible_name(f"Organization: {top} (switch)")
    assert_accessible(page)

    page.reload()
    expect(switcher).to_have_accessible_name(f"Organization: {top} (switch)")
    assert_accessible(page)
    page.goto("/t/acme/")  # the tenant's start page is the current org
    expect(page).to_have_url(re.compile(rf"{re.escape(top_path)}$"))
    expect(switcher).to_have_accessible_name(f"Organization: {top} (switch)")

    # Remembered across sessions: signing in again lands in it.
    sign_out(page, assert_accessible)
    sign_in(page, assert_accessible)
    expect(page).to_have_url(re.compile(rf"{re.escape(top_path)}$"))
    expect(page.get_by_role("heading", level=1, name=top, exact=True)).to_be_visible()
    expect(switcher).to_have_accessible_name(f"Organization: {top} (switch)")
    assert_accessible(page)

    # --- delete the middle org: its sub-org goes with it --------------------------------
    page.get_by_role("link", name=middle, exact=True).click()  # from the sub-org list
    expect(page).to_have_url(re.compile(rf"{re.escape(middle_path)}$"))
    page.get_by_role("navigation", name=f"{middle} sections").get_by_role(
        "link", name="Settings"
    ).click()
    expect(page.get_by_role("heading", level=1, name="General")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("navigation", name="Settings pages").get_by_role(
        "link", name="Danger zone"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Danger zone")).to_be_visible()
    assert_accessible(page)
    # Its name, typed, is the confirmation (no dialog).
    page.get_by_label("Type the organization's name to confirm").fill(middle)
    page.get_by_role("button", name=f"Delete {middle}").click()
    expect(page).to_have_url(re.compile(r"/t/acme/orgs/$"))
    expect(page.get_by_role("status")).to_contain_text(f"{middle} deleted with 1 sub-organization.")
    top_item = tree_item(page, top)
    expect(top_item).to_be_visible()
    expect(top_item).not_to_have_attribute("aria-expanded", re.compile(".*"))  # nothing below
    expect(tree_item(page, middle)).to_have_count(0)
    expect(tree_item(page, leaf)).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("searchbox", name="Search organizations").fill(suffix)
    results = page.get_by_role("list", name="Matching organizations")
    expect(results.get_by_role("link")).to_have_text([top])
    assert_accessible(page)

    for gone in (middle_path, leaf_path):
        response = page.goto(gone)
        assert response is not None
        assert response.status == 404, gone
        expect(page.get_by_role("heading", level=1, name="Not found")).to_be_visible()
        assert_accessible(page)

    # --- restore it from "Deleted organizations": it and its sub-org come back ----------
    page.goto("/t/acme/orgs/")
    page.get_by_role("link", name="Deleted organizations").click()
    expect(page.get_by_role("heading", level=1, name="Deleted organizations")).to_be_visible()
    assert_accessible(page)
    expect(page.get_by_role("button", name=f"Restore {leaf}")).to_have_count(0)
    page.get_by_role("button", name=f"Restore {middle}").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(middle_path)}$"))
    expect(page.get_by_role("heading", level=1, name=middle, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"{middle} restored")
    expect(page.get_by_role("link", name=leaf, exact=True)).to_be_visible()
    assert_accessible(page)

    open_tree(page)
    top_item = focus_top_level_item_with_keyboard(page, top)
    page.keyboard.press("ArrowRight")
    middle_item = tree_item(page, middle)
    expect(middle_item).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(middle_item).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(tree_item(page, leaf)).to_be_visible()
    assert_accessible(page)

    response = page.goto(leaf_path)
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", level=1, name=leaf, exact=True)).to_be_visible()


def test_text_typed_while_the_page_arrives_is_searched(page: Page, assert_accessible):
    """A page swapped in by htmx is inert until it settles; what was typed then still counts."""
    sign_in(page, assert_accessible)
    page.evaluate("htmx.config.defaultSettleDelay = 1500")  # widen the moment to hit it surely
    open_tree(page)
    search = page.get_by_role("searchbox", name="Search organizations")
    search.fill("Infrastructure")
    assert page.evaluate("document.querySelector('.htmx-added') !== null"), "page already settled"
    results = page.get_by_role("list", name="Matching organizations")
    expect(results.get_by_role("listitem")).to_contain_text(
        ["Acme Corporation › Engineering › Platform › Infrastructure"]
    )
    expect(page).to_have_url(re.compile(r"/t/acme/orgs/\?q=Infrastructure$"))
    assert_accessible(page)
