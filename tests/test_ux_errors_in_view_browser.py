"""Errors where the eye is (GOV.UK's error summary pattern, no JavaScript of the app's own):
every form of the demo site that has a required field, submitted empty, comes back with its
error summary focused and inside the viewport, and the page's title starts with "Virhe:".

The forms are collected by crawling the demo site as the facilitator and the lead (as
tests/test_site_crawl.py does). The browser's own `required` check is switched off for the
submit (a user agent without it, or a value the browser accepts but the server refuses), so the
server's answer is what is tested."""
from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import pytest

from core.extensions import db
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import login
from tests.test_site_crawl import _endpoint_of, _seed, crawl

# Forms with a required field the user types into: clearing those fields must be refused.
FORMS_JS = """() => Array.from(document.querySelectorAll('main form[method=post], main form[method=POST]'))
  .map((f, i) => ({i, action: f.getAttribute('action') || '',
    required: Array.from(f.querySelectorAll('input[required], textarea[required]'))
      .filter(e => ['text', 'date', 'time', 'email', 'number', 'tel', 'password', 'textarea', 'url']
        .includes(e.type)).length}))
  .filter(f => f.required > 0)"""

EMPTY_AND_SUBMIT_JS = """(i) => {
  const forms = Array.from(document.querySelectorAll('main form[method=post], main form[method=POST]'));
  const f = forms[i];
  f.noValidate = true;
  f.querySelectorAll('input, textarea').forEach(e => {
    if (['text', 'date', 'time', 'email', 'number', 'tel', 'password', 'textarea', 'url'].includes(e.type)) e.value = '';
  });
  const button = f.querySelector('button[type=submit], input[type=submit], button:not([type])');
  button.setAttribute('data-ux-submit', '1');
}"""

SUMMARY_STATE_JS = """() => {
  const s = document.querySelector('.error-summary');
  if (!s) return null;
  const r = s.getBoundingClientRect();
  return {focused: document.activeElement === s, active: document.activeElement.outerHTML.slice(0, 200), count: document.querySelectorAll("[autofocus]").length, top: r.top, bottom: r.bottom,
          height: window.innerHeight, title: document.title};
}"""


def summary_state(page):
    # The browser runs autofocus at its next rendering step after the load, not at once.
    with contextlib.suppress(Exception):  # the assertion below says what is wrong
        page.wait_for_function("() => document.activeElement && document.activeElement.matches('.error-summary')",
                               timeout=3000)
    return page.evaluate(SUMMARY_STATE_JS)


def assert_summary_in_view(page, context: str) -> None:
    state = summary_state(page)
    assert state is not None, f"no error summary after an empty submit: {context} ({page.url})"
    assert state["focused"], f"error summary not focused {state}: {context}"
    # Its top is on screen (a long summary may continue below the fold). Scrolling to a focused
    # element can land a fraction of a CSS pixel past it on a phone-sized viewport (top -0.31 at
    # 360 px): less than a device pixel is not out of view.
    assert -1 < state["top"] < state["height"], f"error summary out of view {state}: {context}"
    assert state["title"].startswith("Virhe:"), f"title does not say so: {state['title']!r}: {context}"


@pytest.mark.browser
def test_every_form_submitted_empty_shows_its_summary_in_view(app, runner, page):
    _seed(runner)
    db.session.commit()
    checked: list[str] = []
    for email in ("ohjaaja@example.fi", "vastaava@example.fi"):
        client = app.test_client()
        login(client, email, "kohtaamo-demo")
        seen = crawl(app, client, limit=250)
        db.session.commit()
        page.context.clear_cookies()
        browser_login(page, email, "kohtaamo-demo")
        endpoints_done: set[str] = set()
        for url, (code, mimetype) in seen.items():
            endpoint = _endpoint_of(app, urlsplit(url).path)
            if code != 200 or mimetype != "text/html" or endpoint is None or endpoint in endpoints_done:
                continue
            endpoints_done.add(endpoint)
            page.goto(url)
            forms = page.evaluate(FORMS_JS)
            for form in forms:
                page.goto(url)
                page.evaluate(EMPTY_AND_SUBMIT_JS, form["i"])
                click_through(page, "[data-ux-submit='1']")
                context = f"{endpoint} form {form['i']} ({form['action']}) as {email}"
                assert_summary_in_view(page, context)
                checked.append(context)
    # The demo site has many such forms (meeting details, plan items, groups, outreach, staff).
    assert len(checked) >= 10, checked


@pytest.mark.browser
def test_the_summary_of_a_long_page_is_in_view_and_accessible(app, runner, page):
    """The issue's own case: the plan-item form at the bottom of a meeting page."""
    _seed(runner)
    db.session.commit()
    browser_login(page, "ohjaaja@example.fi", "kohtaamo-demo")
    page.goto("/meetings/")
    click_through(page, "main table a[href*='/meetings/']")
    form = page.locator("main form[action$='/items']")
    assert form.count() == 1
    page.evaluate("() => { const f = document.querySelector(\"main form[action$='/items']\"); f.noValidate = true; }")
    click_through(page, "main form[action$='/items'] button[type=submit]")
    assert_summary_in_view(page, "plan item on a meeting page")
    assert page.evaluate("() => window.scrollY") > 0, "the page did not scroll to the summary"
    assert_accessible(page, context="meeting page with the plan item's errors")
