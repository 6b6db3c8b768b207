"""Every page on a phone, walked once (issues 22 and 27): at 320 and 360 px no page the crawl
reaches, as a facilitator, a lead, a partner or a participant, scrolls sideways (WCAG 1.4.10);
with WCAG's text spacing no control's text sticks out of its box (1.4.12); and every focus ring
reaches 3:1 against what surrounds it (1.4.11).

Each page is opened once, at 320 px, as a phone opens it, and measured in turn:
1. the page and every table region at 320 px;
2. the same at 360 px (the window widened: the layout is CSS alone, so it reflows as a page
   opened at 360 px would; the axe walk, tests/test_phone_axe_widths.py, opens pages afresh at
   360 and 1280 px);
3. the focus rings at 360 px, by tabbing, on up to PAGES_PER_KIND pages of each kind
   (tests/test_phone_focus_contrast.py);
4. back at 320 px, WCAG's spacing set on every element, the controls' text and the page again.

Three walks of about 800 pages each, one per criterion, took six minutes of the suite's time;
the measurements are the same, taken on one load. The walk runs once per module (the tests of
a module run on one xdist worker) and each criterion is its own test, so a failure names it.
The spacing is set through the CSSOM (``el.style.setProperty(..., "important")``), which the
site's Content-Security-Policy allows, so every measurement is of the page under its real CSP.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.phone_walk import OVERFLOW_JS, TEXT_OVERFLOW_JS, pages_by_user, sign_in, spacing_page  # noqa: F401
from tests.test_phone_focus_contrast import (
    PAGES_PER_KIND,
    ROLL_CALL,
    at_most_per_kind,
    endpoints_of,
    focus_findings,
)

NARROW = {"width": 320, "height": 640}
PHONE = {"width": 360, "height": 740}

# WCAG 2.1 success criterion 1.4.12's values, on every element as a user's style sheet would set
# them (inline !important outranks the site's own !important rules, as a user's does).
SPACE_TEXT_JS = """() => {
  for (const el of document.querySelectorAll('*')) {
    const s = el.style;
    s.setProperty('line-height', '1.5', 'important');
    s.setProperty('letter-spacing', '0.12em', 'important');
    s.setProperty('word-spacing', '0.16em', 'important');
    if (el.tagName === 'P') s.setProperty('margin-bottom', '2em', 'important');
  }
}"""


def spaced_findings(page) -> list[str]:
    """WCAG's text spacing set on the page as it is: controls whose text sticks out, and (spaced
    text must not push anything beyond the screen's edge either: the roll call's "Poissa
    ilmoitetusti" once widened the page) the page and tables that grew sideways."""
    page.evaluate(SPACE_TEXT_JS)
    return page.evaluate(TEXT_OVERFLOW_JS) + page.evaluate(OVERFLOW_JS)


@dataclass
class Walk:
    pages: dict[str, list[str]]
    kinds: set[str | None]
    focus_pages: int = 0
    focused: int = 0
    spaced: int = 0           # pages whose every element took the spacing
    found: dict[str, dict[str, list[str]]] = field(default_factory=lambda: {
        "320px": {}, "360px": {}, "spacing": {}, "focus": {}})


_WALK: dict[str, Walk] = {}


def _walk(app, runner, page) -> Walk:
    pages = pages_by_user(app, runner)
    focus = {url for urls in at_most_per_kind(app, pages, PAGES_PER_KIND).values() for url in urls}
    walk = Walk(pages=pages, kinds=endpoints_of(app, pages))
    for user, urls in pages.items():
        sign_in(page, user)
        for url in urls:
            key = f"{url} ({user})"
            page.set_viewport_size(NARROW)
            response = page.goto(url)
            assert response is not None and response.status == 200, f"{url} as {user}: {response and response.status}"
            page.wait_for_load_state()
            found = {"320px": page.evaluate(OVERFLOW_JS)}
            page.set_viewport_size(PHONE)
            found["360px"] = page.evaluate(OVERFLOW_JS)
            if url in focus:
                found["focus"], count = focus_findings(page)
                walk.focus_pages += 1
                walk.focused += count
            for name, problems in found.items():
                if problems:
                    walk.found[name][key] = problems
            page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
            page.set_viewport_size(NARROW)
            spaced = spaced_findings(page)
            walk.spaced += page.evaluate("() => [...document.querySelectorAll('*')].every("
                                         "el => el.style.getPropertyValue('letter-spacing') === '0.12em')")
            if spaced:
                walk.found["spacing"][key] = spaced
    return walk


def walked(app, runner, page) -> Walk:
    """The walk of this module's first test, for the others: its findings are plain data."""
    if "walk" not in _WALK:
        _WALK["walk"] = _walk(app, runner, page)
    return _WALK["walk"]


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{url}: {problems}" for url, problems in found.items())


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [NARROW], ids=["320px"])
@pytest.mark.parametrize("width", ["320px", "360px"])
def test_no_page_or_table_scrolls_sideways(app, runner, page, viewport, width):
    walk = walked(app, runner, page)
    assert len(walk.pages["ohjaaja@example.fi"]) > 20 and len(walk.pages["vastaava@example.fi"]) > 20, walk.pages
    assert walk.pages["partner"] and walk.pages["participant"], walk.pages
    assert not walk.found[width], _report(walk.found[width])


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [NARROW], ids=["320px"])
def test_no_control_text_overflows_with_wcag_text_spacing(app, runner, page, viewport):
    walk = walked(app, runner, page)
    # The spacing took on every page: a page the CSP kept it off would measure nothing.
    assert walk.spaced == sum(map(len, walk.pages.values())), (walk.spaced, walk.pages)
    assert not walk.found["spacing"], _report(walk.found["spacing"])


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [NARROW], ids=["320px"])
def test_focus_rings_reach_three_to_one(app, runner, page, viewport):
    walk = walked(app, runner, page)
    # The walk must reach the pages whose rings are their own: the roll call's and the
    # participants' 0-10 scale (hidden radios whose label shows the ring).
    assert {ROLL_CALL, "feedback.public_form"} <= walk.kinds, sorted(map(str, walk.kinds))
    assert not walk.found["focus"], _report(walk.found["focus"])
    assert walk.focus_pages > 100, walk.focus_pages
    assert walk.focused > 5 * walk.focus_pages, \
        f"only {walk.focused} controls took focus on {walk.focus_pages} pages: the walk did not tab"


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}], ids=["360px"])
def test_the_measure_sees_an_overflowing_roll_call_button(app, runner, spacing_page, viewport):  # noqa: F811 - a fixture
    """The check itself: roll-call buttons squeezed three side by side without wrapping, just wide
    enough for "Paikalla" as the site sets it, are reported once WCAG's spacing is set the walk's
    way, so a clean walk means the spaced text fits, not that nothing was measured or spaced."""
    from tests.phone_walk import seed_demo

    page = spacing_page
    seed_demo(app, runner)
    sign_in(page, "ohjaaja@example.fi")
    page.goto("/groups/1/sessions/1/roll-call")
    assert not spaced_findings(page)
    page.goto("/groups/1/sessions/1/roll-call")
    page.add_style_tag(content=".roll-call-person { grid-template-columns: repeat(3, 5.5rem) !important; }"
                               ".roll-call-option label { overflow-wrap: normal !important; }")
    assert not page.evaluate(TEXT_OVERFLOW_JS)  # squeezed, the text still fits its box
    found = spaced_findings(page)
    assert any(f.startswith('label "Paikalla"') for f in found), found
