"""Reading the audit log on a laptop and a phone: entries in words, their codes in a
disclosure, filters whose labels, hints and inputs never overlap, and a page no wider than
the screen; choosing an action by its words filters by its code."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.screen import SIZES, fits
from tests.e2e.test_invite_and_join import OWNER_EMAIL, PASSWORD

# Every visible label, input, select, hint, error, button and link of the filters, as
# boxes; two that overlap by more than half a pixel are named.
OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll(
      '#audit-filters label, #audit-filters input, #audit-filters select,'
      + ' #audit-filters small, #audit-filters button, #audit-filters a')]
    .map(e => ({e, r: e.getBoundingClientRect()}))
    .filter(({r}) => r.width > 0 && r.height > 0);
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.htmlFor ? '[for=' + e.htmlFor + ']' : '')
    + ' ' + (e.textContent || '').trim().slice(0, 20);
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (x > 0.5 && y > 0.5) found.push(name(boxes[i].e) + ' / ' + name(boxes[j].e));
    }
  }
  return {count: boxes.length, found};
}"""


def sign_in(page: Page, assert_accessible) -> None:
    """The demo tenant's owner, Olivia Owner, signs in."""
    page.goto("/t/acme/login")
    assert_accessible(page)
    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def filters_do_not_overlap(page: Page) -> None:
    boxes = page.evaluate(OVERLAPS)
    assert boxes["count"] >= 10, boxes  # five labels, five inputs, hints, the buttons
    assert boxes["found"] == [], f"overlapping filter parts on {page.url}: {boxes['found']}"


def entries_fit(page: Page, phone: bool) -> None:
    """No entry's cell is cut off: each lies within the screen; on a phone each entry's
    cells stack (the sentence below its time)."""
    cells = page.evaluate(
        """() => [...document.querySelectorAll('.audit-table tbody tr')].slice(0, 10).map(
            row => [...row.children].map(td => {
              const r = td.getBoundingClientRect();
              const clipped = td.scrollWidth > td.clientWidth + 1;
              return {left: r.left, right: r.right, top: r.top, clipped};
            }))"""
    )
    assert cells, "no entries shown"
    for row in cells:
        for cell in row:
            assert cell["left"] >= 0, row
            assert cell["right"] <= page.viewport_size["width"] + 1, row
            assert not cell["clipped"], row
        if phone:
            assert row[1]["top"] > row[0]["top"], row


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_the_audit_log_reads_in_words_and_fits(new_context, assert_accessible, size):
    with new_context(viewport=SIZES[size]) as context:
        page = context.new_page()
        sign_in(page, assert_accessible)

        page.goto("/t/acme/audit")
        expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
        sentences = page.locator(".audit-sentence")
        expect(sentences.filter(has_text="Olivia Owner invited").first).to_be_visible()
        assert_accessible(page)
        fits(page)
        filters_do_not_overlap(page)
        entries_fit(page, phone=size == "phone")

        # The raw code is one disclosure away, by keyboard.
        first = page.locator(".audit-table tbody tr").first
        code = first.get_attribute("data-action")
        first.locator("summary").focus()
        page.keyboard.press("Enter")
        expect(first.locator("details code").first).to_have_text(code)
        fits(page)

        # Choosing an action by its words filters by its code (htmx swaps the results).
        page.get_by_label("Action", exact=True).select_option(label="Invitation sent")
        expect(page).to_have_url(re.compile(r"action=invitation\.created"))
        rows = page.locator(".audit-table tbody tr")
        expect(rows.first).to_have_attribute("data-action", "invitation.created")
        assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.action)")) == {
            "invitation.created"
        }
        expect(sentences.first).to_contain_text("Olivia Owner invited")
        expect(sentences.first).to_contain_text("as Member")
        fits(page)
        filters_do_not_overlap(page)

        # A bad date: its message sits under its field, overlapping nothing.
        page.goto("/t/acme/audit?since=2024-02-30&actor=olivia")
        expect(page.locator("#since-error")).to_be_visible()
        filters_do_not_overlap(page)
        fits(page)

        page.goto("/t/acme/orgs/engineering/audit")
        expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
        assert_accessible(page)
        fits(page)
        filters_do_not_overlap(page)
        entries_fit(page, phone=size == "phone")
