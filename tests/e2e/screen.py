"""What the browser tests share about screens: the two sizes every page must fit (a
laptop and a phone), and the check that a page is no wider than the window."""

from __future__ import annotations

from playwright.sync_api import Page

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def fits(page: Page) -> None:
    """The page scrolls no sideways: ``scrollWidth <= innerWidth``; a failure names the
    first elements that stick out."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow <= 0:
        return
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
    )
    raise AssertionError(f"{page.url} is {overflow}px wider than the screen: {wide}")
