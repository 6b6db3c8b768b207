"""Support for the phone-width tests: the demo site seeded, and every page the crawl reaches as
each kind of user (facilitator, lead, partner through a personal link, participant through a
feedback code), with the measurements the tests assert on, taken in Chromium.

The pages are found by tests/test_site_crawl.py's crawl (links followed with the test client),
then opened in the browser; a partner's and a participant's pages are reached the way they are
reached in life: the partner's link, and the code a participant types at /f.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.extensions import db
from tests.browser import browser_login
from tests.factories import login
from tests.test_site_crawl import _endpoint_of, _seed, crawl

DEMO_PASSWORD = "kohtaamo-demo"
STAFF = ("ohjaaja@example.fi", "vastaava@example.fi")

# Document and every table's scroll region: how much wider the content is than the box.
OVERFLOW_JS = """() => {
  const out = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) out.push(`document ${doc.scrollWidth} > ${doc.clientWidth}`);
  const boxes = new Set([...document.querySelectorAll('.table-wrap, table, [role=region]')]);
  for (const el of boxes) {
    if (el.scrollWidth > el.clientWidth + 1) {
      const name = el.getAttribute('aria-label') || (el.querySelector('caption') || {}).textContent || el.className;
      out.push(`${el.tagName.toLowerCase()} "${(name || '').trim().slice(0, 60)}" ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  return out;
}"""

# Controls whose text sticks out of their own box (1 px allowed for rounding).
TEXT_OVERFLOW_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('a, button, label, summary, .button, [role=button]')) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.closest('.visually-hidden, .skip-link')) continue;
    if (style.display === 'inline') continue;  // an inline box is its text: it cannot overflow itself
    // The visible text only: a visually hidden part of a name (": Matti K.") is clipped on purpose.
    const text = {left: Infinity, right: -Infinity, top: Infinity, bottom: -Infinity, width: 0, height: 0};
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || node.parentElement.closest('.visually-hidden')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (!r.width) continue;
        text.left = Math.min(text.left, r.left); text.right = Math.max(text.right, r.right);
        text.top = Math.min(text.top, r.top); text.bottom = Math.max(text.bottom, r.bottom);
      }
    }
    text.width = text.right - text.left; text.height = text.bottom - text.top;
    if (!(text.width > 0)) continue;
    if (text.left < box.left - 1 || text.right > box.right + 1 || text.top < box.top - 1 || text.bottom > box.bottom + 1
        ) {
      out.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}" text ${Math.round(text.width)}x${Math.round(text.height)} in box ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return out;
}"""


def seed_demo(app, runner) -> None:
    _seed(runner)
    db.session.commit()


def partner_start(app) -> str:
    """A fresh personal link for a demo partner contact who is in a meeting (as staff make one)."""
    from meetings import partner_links
    from meetings.models import MeetingParticipant

    contact = db.session.scalars(
        sa.select(MeetingParticipant).where(MeetingParticipant.contact_id.is_not(None))
        .order_by(MeetingParticipant.id)).first().contact
    _link, token = partner_links.create_partner_link(contact, user=None)
    db.session.commit()
    return f"/p/{token}"


def participant_code(app) -> str:
    """The code of an answer window open now, as a facilitator opens one at a group session."""
    from feedback import services
    from groups.models import GroupSession

    session = db.session.scalars(sa.select(GroupSession).order_by(GroupSession.starts_at.desc())).first()
    window = services.adjust_window(services.open_session_window(session), "open")
    db.session.commit()
    return window.code


def pages_by_user(app, runner) -> dict[str, list[str]]:
    """Every HTML page (200) the crawl reaches, per user: the two staff roles, a partner, a participant."""
    seed_demo(app, runner)
    pages: dict[str, list[str]] = {}
    for email in STAFF:
        client = app.test_client()
        login(client, email, DEMO_PASSWORD)
        seen = crawl(app, client)
        db.session.commit()
        pages[email] = [u for u, (code, mime) in seen.items()
                        if code == 200 and mime == "text/html" and _endpoint_of(app, urlsplit(u).path)]
    start = partner_start(app)
    seen = crawl(app, app.test_client(), start=start)
    db.session.commit()
    pages["partner"] = [u for u, (code, mime) in seen.items() if code == 200 and mime == "text/html"]
    code = participant_code(app)
    pages["participant"] = ["/f", f"/f/{code}", "/f/thanks"]
    return pages


def sign_in(page, user: str) -> None:
    page.context.clear_cookies()
    if user in STAFF:
        browser_login(page, user, DEMO_PASSWORD)


@pytest.fixture
def spacing_page(browser, live_server, viewport):
    """A page whose user style sheet may be added: a browser extension's or a user's own CSS is
    not bound by the site's Content-Security-Policy, so Playwright is told to bypass it."""
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="fi-FI", bypass_csp=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()
