"""No sideways swipe on a phone (issue 22, WCAG 1.4.10): at 320 and 360 px no page the crawl
reaches, as a facilitator, a lead, a partner or a participant, is wider than the screen, and no
table's region scrolls sideways (wide tables become stacked rows with their labels)."""
from __future__ import annotations

import pytest

from tests.phone_walk import OVERFLOW_JS, pages_by_user, walk

NARROW = [{"width": 320, "height": 640}, {"width": 360, "height": 740}]


@pytest.mark.browser
@pytest.mark.parametrize("viewport", NARROW, ids=["320px", "360px"])
def test_no_page_or_table_scrolls_sideways(app, runner, page, viewport):
    pages = pages_by_user(app, runner)
    assert len(pages["ohjaaja@example.fi"]) > 20 and len(pages["vastaava@example.fi"]) > 20, pages
    assert pages["partner"], "the partner's link reached no page"
    problems = walk(page, pages, lambda pg: pg.evaluate(OVERFLOW_JS))
    assert not problems, "\n".join(f"{url}: {found}" for url, found in problems.items())
