"""Issue 15, in the browser: the header's switcher and phone menu, focus you can see, the
loading bar, and a tree that remembers what was open (problems 3, 9, 11, 14 and 15)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.screen import SIZES, fits
from tests.e2e.test_every_page_fits import sign_in

# WCAG's relative luminance and contrast ratio, computed in the page from computed colours.
CONTRAST_JS = """
(el) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ring = getComputedStyle(el).outlineColor;
  let node = el.parentElement, behind = "rgb(255, 255, 255)";
  while (node) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && !bg.startsWith("rgba(0, 0, 0, 0)") && bg !== "transparent") { behind = bg; break; }
    node = node.parentElement;
  }
  const [a, b] = [lum(rgb(ring)), lum(rgb(behind))].sort((x, y) => y - x);
  return { ratio: (a + 0.05) / (b + 0.05), width: parseFloat(getComputedStyle(el).outlineWidth),
           style: getComputedStyle(el).outlineStyle };
}
"""


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has focus (so :focus-visible applies, as for a user)."""
    page.locator("body").click(position={"x": 1, "y": 300})
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def test_p14_focus_rings_have_3_to_1_contrast(new_context):
    with new_context(viewport=SIZES["laptop"]) as context:
        page = context.new_page()
        sign_in(page, "owner@acme.example")
        page.goto("/t/acme/orgs/engineering/members")
        for selector in (
            ".org-switcher > summary",  # the switcher
            ".header-links button.outline",  # an outline button: Sign out
            ".org-sections a",  # a link
        ):
            tab_to(page, selector)
            ring = page.evaluate(CONTRAST_JS, page.evaluate_handle("document.activeElement"))
            assert ring["style"] != "none", selector
            assert ring["width"] >= 2, (selector, ring)
            assert ring["ratio"] >= 3, (selector, ring)


def test_p3_p11_the_switcher_is_a_list_that_esc_closes(new_context):
    with new_context(viewport=SIZES["laptop"]) as context:
        page = context.new_page()
        sign_in(page, "owner@acme.example")
        page.goto("/t/acme/orgs/engineering/")
        switcher = page.locator(".org-switcher")
        expect(switcher.locator("summary")).to_contain_text("Engineering")
        tab_to(page, ".org-switcher > summary")
        page.keyboard.press("Enter")
        current = switcher.locator('.switch-choice[aria-current="true"]')
        expect(current).to_contain_text("Engineering")
        # one org per line: the names stack, each on a single line
        boxes = [item.bounding_box() for item in switcher.locator(".switch-list > li").all()[:3]]
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]
        name = switcher.locator(".switch-name").first.bounding_box()
        assert name["height"] < 40  # not one letter per line
        page.keyboard.press("Escape")
        expect(switcher).not_to_have_attribute("open", "")
        assert page.evaluate("document.activeElement.matches('.org-switcher > summary')")


def test_p9_on_a_phone_the_header_folds_into_a_menu_usable_by_keyboard(new_context):
    with new_context(viewport=SIZES["phone"]) as context:
        page = context.new_page()
        sign_in(page, "owner@acme.example")
        page.goto("/t/acme/orgs/engineering/")
        expect(page.locator(".header-links")).to_be_hidden()
        menu = page.locator(".app-menu")
        tab_to(page, ".app-menu > summary")
        page.keyboard.press("Enter")
        expect(menu.get_by_role("link", name="Tenant settings")).to_be_visible()
        expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
        fits(page)
        page.keyboard.press("Escape")
        expect(menu.get_by_role("link", name="Tenant settings")).to_be_hidden()


def test_p9_the_phone_menu_works_without_javascript(new_context):
    with new_context(viewport=SIZES["phone"], java_script_enabled=False) as context:
        page = context.new_page()
        sign_in(page, "owner@acme.example")
        page.goto("/t/acme/orgs/engineering/")
        page.locator(".app-menu > summary").click()
        page.locator(".app-menu").get_by_role("link", name="Tenant settings").click()
        expect(page).to_have_url(re.compile(r"/t/acme/settings"))


def test_p15_htmx_requests_show_a_loading_bar(new_context):
    with new_context(viewport=SIZES["laptop"]) as context:
        page = context.new_page()
        sign_in(page, "owner@acme.example")
        page.goto("/t/acme/orgs/engineering/")
        release = []

        def slow(route):
            release.append(route)

        page.route(re.compile(r"/orgs/switch\?"), slow)
        page.locator(".org-switcher > summary").click()
        expect(page.locator("html")).to_have_class(re.compile(r"\bis-loading\b"))
        bar = page.evaluate("getComputedStyle(document.body, '::before').content")
        assert bar not in ("none", "normal")
        while not release:
            page.wait_for_timeout(50)
        release[0].continue_()
        expect(page.locator("html")).not_to_have_class(re.compile(r"\bis-loading\b"))


def test_p15_the_tree_remembers_what_was_expanded_on_back(new_context):
    with new_context(viewport=SIZES["laptop"]) as context:
        page = context.new_page()
        sign_in(page, "owner@acme.example")
        page.goto("/t/acme/orgs/")
        tree = page.get_by_role("tree", name="Organizations")
        root = tree.get_by_role("treeitem").first
        root.locator(".twisty").first.click()
        child = tree.get_by_role("link", name="Engineering", exact=True)
        expect(child).to_be_visible()
        child.click()
        expect(page).to_have_url(re.compile(r"/orgs/engineering/$"))
        page.go_back()
        expect(tree.get_by_role("link", name="Engineering", exact=True)).to_be_visible()
        expect(root).to_have_attribute("aria-expanded", "true")
