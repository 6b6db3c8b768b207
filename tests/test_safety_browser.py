"""Pair safety in Chromium on a phone (issue #25.5): at 360 and 320 px the tap page's "we are there"
and "we are done" work without JavaScript quirks, the pages pass axe (WCAG 2.1 A/AA) and nothing
scrolls sideways; the lead's start page shows the overdue alert at the top and "reached them, all
fine" ends it (read back from the database)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from safety.models import CheckKind, FieldCheck
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_client, make_home_visit, make_outreach_visit, make_user
from tests.phone_walk import OVERFLOW_JS, TEXT_OVERFLOW_JS

NARROW = [{"width": 360, "height": 740}, {"width": 320, "height": 640}]


def _no_sideways(page):
    assert page.evaluate(OVERFLOW_JS) == [], page.url
    assert page.evaluate(TEXT_OVERFLOW_JS) == [], page.url


@pytest.mark.browser
@pytest.mark.parametrize("viewport", NARROW, ids=["360px", "320px"])
def test_pair_taps_there_and_done_on_a_phone(app, page, viewport, fresh_db):
    worker = make_user(name="Paula Pari", email="paula@example.fi")
    second = make_user(name="Kalle Kaveri", email="kalle@example.fi")
    make_user(role="lead", name="Liisa Lead", email="liisa@example.fi")
    client = make_client(name="Uniikki Asiakas", worker=worker)
    visit = make_home_visit(client=client, worker1=worker, worker2=second, starts_at=utcnow() - timedelta(minutes=5))
    visit_id, worker_id = visit.id, worker.id
    db.session.commit()
    db.session.close()

    browser_login(page, "paula@example.fi", PASSWORD)
    page.goto("/")
    # The start page's "pair safety today" leads to the tap page.
    click_through(page, page.locator(".safety-visits a").first)
    assert page.url.endswith(f"/safety/home_visit/{visit_id}")
    assert page.evaluate("window.innerWidth") == viewport["width"]
    assert_accessible(page, context="tap page before arriving")
    _no_sideways(page)
    page.locator(".safety-settings summary").click()
    assert_accessible(page, context="tap page, settings open")
    _no_sideways(page)
    click_through(page, "button.safety-button")
    assert page.locator("button.safety-button").inner_text().strip() in ("Käynti päättyi", "We are done")
    assert_accessible(page, context="tap page after arriving")
    _no_sideways(page)
    click_through(page, "button.safety-button")
    assert_accessible(page, context="tap page after done")
    [row] = fresh_db.scalars(sa.select(FieldCheck))
    assert row.arrived_by_id == worker_id and row.done_at is not None
    assert "Uniikki" not in page.content()


@pytest.mark.browser
@pytest.mark.parametrize("viewport", NARROW, ids=["360px", "320px"])
def test_lead_sees_and_resolves_the_alert_on_a_phone(app, page, viewport, fresh_db):
    lead = make_user(role="lead", name="Liisa Lead", email="liisa@example.fi")
    pair = [make_user(name="Anna-Kristiina Aaltonen-Virtanen", email="anna@example.fi"),
            make_user(name="Kalle Kaveri", email="kalle@example.fi")]
    visit = make_outreach_visit(staff=pair, starts_at=utcnow() - timedelta(hours=3), hours=2)
    db.session.add(FieldCheck(kind=CheckKind.OUTREACH.value, outreach_visit_id=visit.id, margin_minutes=30,
                              contact_id=lead.id, arrived_at=visit.starts_at, arrived_by_id=pair[0].id))
    lead_id = lead.id
    db.session.commit()
    db.session.close()

    browser_login(page, "liisa@example.fi", PASSWORD)
    page.goto("/")
    alert = page.locator(".safety-alerts")
    assert alert.is_visible()
    # At the top: before the agenda.
    assert page.evaluate("document.querySelector('.safety-alerts').compareDocumentPosition("
                         "document.getElementById('agenda-heading')) & Node.DOCUMENT_POSITION_FOLLOWING")
    assert "Aaltonen-Virtanen" in alert.inner_text()
    assert_accessible(page, context="start page with the alert")
    _no_sideways(page)
    click_through(page, alert.locator("button"))
    assert page.locator(".safety-alerts").count() == 0
    assert_accessible(page, context="start page after resolving")
    [row] = fresh_db.scalars(sa.select(FieldCheck))
    assert row.resolved_by_id == lead_id
