"""axe-core stays at zero at phone and desktop width (issue 22): one page of every kind the crawl
reaches, as a facilitator, a lead, a partner (through a personal link) and a participant (through
a feedback code), at 360 and 1280 px, with the header menu closed and, at 360 px, opened."""
from __future__ import annotations

import pytest

from tests.browser import DESKTOP, PHONE, assert_accessible
from tests.phone_walk import pages_by_user, sign_in
from tests.test_phone_focus_contrast import one_page_per_kind


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_every_kind_of_page_passes_axe(app, runner, page, viewport):
    pages = one_page_per_kind(app, pages_by_user(app, runner))
    checked = 0
    for user, urls in pages.items():
        sign_in(page, user)
        for url in urls:
            page.goto(url)
            assert_accessible(page, context=f"{url} as {user} at {viewport['width']} px")
            checked += 1
            menu = page.locator("summary.nav-menu-button")
            if menu.count() and menu.is_visible():
                menu.click()
                assert_accessible(page, context=f"{url} as {user}, menu open")
    assert checked > 30 and pages["partner"] and pages["participant"], pages
