"""Focus indicators reach 3:1 against what surrounds them (WCAG 1.4.11, issue 27.2). Chromium
tabs through one page of every kind the crawl reaches (as a facilitator, a lead, a partner and
a participant) and, for each control that takes focus, reads the focus ring's computed colours
(outline, box-shadow; on a hidden radio, those of its label) and the background behind it, and
computes the contrast ratio as WCAG defines it."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.phone_walk import pages_by_user, sign_in
from tests.test_site_crawl import _endpoint_of

MAX_TABS = 80

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


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 360, "height": 740}], ids=["360px"])
def test_focus_rings_reach_three_to_one(app, runner, page, viewport):
    pages = one_page_per_kind(app, pages_by_user(app, runner))
    assert sum(map(len, pages.values())) > 30, pages
    problems, focused = {}, 0
    for user, urls in pages.items():
        sign_in(page, user)
        for url in urls:
            page.goto(url)
            page.wait_for_load_state()
            found, count = focus_findings(page)
            focused += count
            if found:
                problems[f"{url} ({user})"] = found
    assert focused > 300, f"only {focused} controls took focus: the walk did not tab through the pages"
    assert not problems, "\n".join(f"{url}: {found}" for url, found in problems.items())


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
