"""The header at phone width (issue 22): one "Menu" button (<details>, no JavaScript) instead of
ten wrapped links; opened, the navigation follows it in focus order, inside the labelled nav
landmark; at desktop width the links show without the button."""
from __future__ import annotations

import pytest

from tests.browser import DESKTOP, assert_accessible, browser_login
from tests.factories import PASSWORD


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 320, "height": 640}, {"width": 360, "height": 740}], ids=["320px", "360px"])
def test_header_is_one_row_with_a_menu_on_a_phone(page, facilitator, viewport):
    browser_login(page, facilitator.email, PASSWORD)
    page.goto("/clients")
    page.context.set_offline(True)  # proof that no script is needed: nothing more is fetched
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] <= 72, f"header takes {header['height']} px of {viewport['height']}"
    nav = page.get_by_role("navigation", name="Päävalikko")
    assert nav.count() == 1
    links = nav.locator("ul a")
    assert links.count() >= 5 and not links.first.is_visible()

    # Keyboard: skip link, brand, then the menu button; Enter opens it; Tab goes to the first link.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "nav-menu-button"
    page.keyboard.press("Enter")
    assert links.first.is_visible() and page.locator("#language-select").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == links.first.inner_text()
    # The opened menu is inside the screen: no sideways scroll.
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.context.set_offline(False)
    assert_accessible(page, context="header menu open")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP], ids=["desktop"])
def test_header_shows_the_links_at_desktop_width(page, facilitator):
    browser_login(page, facilitator.email, PASSWORD)
    page.goto("/clients")
    assert not page.locator("summary.nav-menu-button").is_visible()
    nav = page.get_by_role("navigation", name="Päävalikko")
    assert nav.locator("ul a").first.is_visible() and page.locator("#language-select").is_visible()
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] <= 120, header
    assert_accessible(page, context="header at desktop width")
