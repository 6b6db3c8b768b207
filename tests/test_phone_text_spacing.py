"""Text spacing (WCAG 1.4.12, issue 27.7): with the spacing a user's style sheet may set (line
height 1.5, paragraphs 2em apart, letters 0.12em and words 0.16em apart), at 320 px, no
button's, link's or label's text sticks out of its box, and nothing is pushed sideways, on any page the crawl reaches, as a
facilitator, a lead, a partner or a participant."""
from __future__ import annotations

import pytest

from tests.phone_walk import OVERFLOW_JS, TEXT_OVERFLOW_JS, TEXT_SPACING_CSS, pages_by_user, sign_in, spacing_page, walk  # noqa: F401


def _spaced(page):
    page.add_style_tag(content=TEXT_SPACING_CSS)
    # Spaced text must not push anything beyond the screen's edge either (a control that grew
    # instead of overflowing: the roll call's "Poissa ilmoitetusti" widened the page).
    return page.evaluate(TEXT_OVERFLOW_JS) + page.evaluate(OVERFLOW_JS)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 320, "height": 640}], ids=["320px"])
def test_no_control_text_overflows_with_wcag_text_spacing(app, runner, spacing_page, viewport):  # noqa: F811 - a fixture
    pages = pages_by_user(app, runner)
    page = spacing_page
    problems = walk(page, pages, _spaced)
    assert not problems, "\n".join(f"{url}: {found}" for url, found in problems.items())


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}], ids=["360px"])
def test_the_measure_sees_an_overflowing_roll_call_button(app, runner, spacing_page, viewport):  # noqa: F811 - a fixture
    """The check itself: a roll-call button squeezed as it was before (three side by side, no
    wrapping) is reported, so a clean walk means the text fits, not that nothing was measured."""
    from tests.phone_walk import seed_demo

    page = spacing_page
    seed_demo(app, runner)
    sign_in(page, "ohjaaja@example.fi")
    page.goto("/groups/1/sessions/1/roll-call")
    page.add_style_tag(content=".roll-call-person { grid-template-columns: repeat(3, 4rem) !important; }"
                               ".roll-call-option label { overflow-wrap: normal !important; }")
    found = _spaced(page)
    assert any(f.startswith('label "Paikalla"') for f in found), found
