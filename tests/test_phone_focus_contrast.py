"""Focus indicators reach 3:1 against what surrounds them (WCAG 1.4.11, issue 27.2): the
measure, its teeth and the roll call's own ring. The walk over every kind of page is in
tests/test_phone_pages.py, which opens each page once for all the phone checks. Chromium
tabs through the pages the crawl reaches (as a facilitator, a lead, a partner and a
participant; every kind of page, up to PAGES_PER_KIND of each; at most MAX_TABS controls a
page) and, for each control that takes focus, reads
the focus ring's computed colours (outline, box-shadow; on a hidden radio, those of its label)
and the background behind it, and computes the contrast ratio as WCAG defines it.

The walk has teeth: with the roll call's old ring (#ffbf47 on white, 1.64:1) planted back by
injected CSS, the same walk over the same crawl fails on the roll-call pages.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.phone_walk import pages_by_user, sign_in, spacing_page  # noqa: F401 (a fixture)
from tests.test_site_crawl import _endpoint_of

MAX_TABS = 60   # controls a page: a long list repeats the same few kinds of control

# The roll call's ring before issue 27.2 (static/css/app.css at e3570c9^): the yellow focus
# colour as the label's outline, 1.64:1 on white.
OLD_ROLL_CALL_RING = (".roll-call-option input:focus-visible + label "
                      "{ outline: 3px solid #ffbf47 !important; outline-offset: 2px !important; }")
ROLL_CALL = "groups.roll_call"
# Pages of one endpoint share their template; the crawl reaches up to hundreds of one kind (each
# client, each meeting). Every page of the crawl, walked once (793 pages as the four users),
# took 11 minutes here; five of each kind per user keep the data's variety (empty and full
# lists, past and future sessions) at a fraction of that.
PAGES_PER_KIND = 5

# For the focused element: the best contrast of its indicator against the background behind it.
FOCUS_JS = """() => {
  const parse = c => { const m = c && c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const backdrop = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  let el = document.activeElement;
  if (!el || el === document.body) return null;
  let shown = el;
  const st = getComputedStyle(el);
  if (parseFloat(st.opacity) === 0 || el.getBoundingClientRect().width <= 1) {
    shown = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.nextElementSibling || el;
  }
  const s = getComputedStyle(shown);
  const behind = backdrop(shown.parentElement);
  const rings = [];
  if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) rings.push(['outline', parse(s.outlineColor)]);
  for (const part of (s.boxShadow === 'none' ? [] : s.boxShadow.split(/,(?![^(]*\\))/))) {
    const px = (part.match(/(-?[\\d.]+)px/g) || []).map(parseFloat);
    if (px.length >= 4 && px[3] >= 2) rings.push(['box-shadow', parse(part)]);
  }
  const best = Math.max(0, ...rings.filter(r => r[1] && r[1].a > 0.5).map(r => ratio(r[1], behind)));
  const name = (shown.textContent || shown.getAttribute('aria-label') || el.name || '').trim().slice(0, 40);
  return {key: el.tagName + '#' + (el.id || name), tag: el.tagName.toLowerCase(), name, best: Math.round(best * 100) / 100,
          rings: rings.map(r => r[0]).join('+')};
}"""


def focus_findings(page) -> tuple[list[str], int]:
    """Tab through the page: (controls whose ring is under 3:1, how many controls took focus)."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    problems, seen = [], set()
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        found = page.evaluate(FOCUS_JS)
        if found is None or found["key"] in seen:
            break
        seen.add(found["key"])
        if found["best"] < 3:
            problems.append(f'{found["tag"]} "{found["name"]}": {found["best"]}:1 ({found["rings"] or "no ring"})')
    return problems, len(seen)


def one_page_per_kind(app, pages: dict[str, list[str]]) -> dict[str, list[str]]:
    kinds: set[str] = set()
    chosen: dict[str, list[str]] = {}
    for user, urls in pages.items():
        chosen[user] = []
        for url in urls:
            endpoint = _endpoint_of(app, urlsplit(url).path)
            if endpoint not in kinds:
                kinds.add(endpoint)
                chosen[user].append(url)
    return chosen


def walk_focus(page, pages: dict[str, list[str]], *, before=None) -> tuple[dict[str, list[str]], int, int]:
    """Tab through every page as its user: (url -> rings under 3:1, pages walked, controls focused).
    ``before(page)`` runs after each page loads (to plant CSS)."""
    problems, walked, focused = {}, 0, 0
    for user, urls in pages.items():
        sign_in(page, user)
        for url in urls:
            response = page.goto(url)
            assert response is not None and response.status == 200, f"{url} as {user}"
            page.wait_for_load_state()
            if before is not None:
                before(page)
            found, count = focus_findings(page)
            walked += 1
            focused += count
            if found:
                problems[f"{url} ({user})"] = found
    return problems, walked, focused


def at_most_per_kind(app, pages: dict[str, list[str]], limit: int) -> dict[str, list[str]]:
    """The first ``limit`` crawled pages of each endpoint, per user, in crawl order."""
    chosen: dict[str, list[str]] = {}
    for user, urls in pages.items():
        count: dict[str | None, int] = {}
        chosen[user] = []
        for url in urls:
            endpoint = _endpoint_of(app, urlsplit(url).path)
            count[endpoint] = count.get(endpoint, 0) + 1
            if count[endpoint] <= limit:
                chosen[user].append(url)
    return chosen


def endpoints_of(app, pages: dict[str, list[str]]) -> set[str]:
    return {_endpoint_of(app, urlsplit(url).path) for urls in pages.values() for url in urls}


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}], ids=["360px"])
def test_the_walk_fails_when_the_old_roll_call_ring_is_back(app, runner, spacing_page, viewport):  # noqa: F811 (the fixture)
    """The same crawl and walk, with the old ring planted by a user style sheet (the app is not
    edited; ``spacing_page`` bypasses the CSP as a browser extension's CSS does). Every roll call
    the crawl reaches that shows its options is reported, at the old ring's 1.64:1, and nothing
    else is."""
    pages = pages_by_user(app, runner)
    roll_calls = {user: [u for u in urls if _endpoint_of(app, urlsplit(u).path) == ROLL_CALL]
                  for user, urls in pages.items()}
    roll_calls = {user: urls for user, urls in roll_calls.items() if urls}
    assert roll_calls, "the crawl reached no roll call"
    with_options: set[str] = set()

    def plant(p):
        p.add_style_tag(content=OLD_ROLL_CALL_RING)
        # A roll call that cannot be taken (a future or cancelled session) shows no options.
        if p.locator(".roll-call-option input").count():
            with_options.add(urlsplit(p.url).path)

    problems, walked, _focused = walk_focus(spacing_page, roll_calls, before=plant)
    assert walked == sum(map(len, roll_calls.values())) and with_options, roll_calls
    assert {url.split(" ")[0] for url in problems} == with_options, (problems, with_options)
    for url, found in problems.items():
        assert found and all('1.64:1 (outline)' in f for f in found), (url, found)
    # And without the planted CSS the same pages pass (the failure is the ring's, not the walk's).
    clean, _walked, _focused = walk_focus(spacing_page, roll_calls)
    assert not clean, clean


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}], ids=["360px"])
def test_roll_call_focus_ring_reaches_three_to_one(app, runner, page, viewport):
    """The roll call's own ring (it replaces the site's): every option reached by keyboard."""
    from tests.phone_walk import seed_demo

    seed_demo(app, runner)
    sign_in(page, "ohjaaja@example.fi")
    page.goto("/groups/1/sessions/1/roll-call")
    page.focus(".roll-call-option input")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    found = page.evaluate(FOCUS_JS)
    assert found["tag"] == "input" and found["best"] >= 3, found
