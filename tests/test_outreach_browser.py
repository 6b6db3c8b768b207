"""Browser tests at phone width with axe-core on every outreach page reached: a worker records a
visit's anonymous counts from the rota (a negative count is refused first), and a lead walks
through venues, a schedule and the report."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import now_utc
from outreach import services
from outreach.models import OutreachVisit, VisitReport
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_partner, make_user

pytestmark = pytest.mark.browser


def _venue_with_visits(worker, other):
    partner = make_partner(name="Jyväskylän seurakunta", kind="parish")
    venue = services.save_venue(None, partner_id=partner.id, name="Diakoniakahvila", address="Kirkkotie 1",
                                active=True)
    services.save_rule(venue, spec=services.RuleSpec(frequency="monthly", nth=2, weekday=1,
                                                     valid_from=date(2020, 1, 1)),
                       start_time=time(13), end_time=time(15))
    services.generate_visits(venue)
    start = now_utc() - timedelta(hours=4)
    past = OutreachVisit(venue=venue, starts_at=start, ends_at=start + timedelta(hours=2), staff1_id=worker.id,
                         staff2_id=other.id)
    db.session.add(past)
    db.session.commit()
    return venue, past


def test_worker_records_counts_at_phone_width(page, app):
    worker = make_user(name="Sanna Saarinen", email="sanna@example.fi")
    other = make_user(name="Pekka Peltonen")
    _venue, visit = _venue_with_visits(worker, other)
    visit_id = visit.id
    db.session.commit()
    db.session.close()

    browser_login(page, "sanna@example.fi", PASSWORD)
    page.goto("/outreach/")
    assert page.locator("h1").inner_text() == "Jalkautumisten vuorolista"
    assert_accessible(page, context="rota")
    click_through(page, f"a[href='/outreach/visits/{visit_id}/counts']")
    page.wait_for_url(f"**/outreach/visits/{visit_id}/counts")
    assert_accessible(page, context="counts form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.fill("#people_met", "-2")
    for field, value in (("topic_benefits", "3"), ("topic_housing", "1"), ("topic_money", "2"), ("topic_health", "0"),
                         ("topic_other", "0"), ("guided_onward", "1"), ("appointments_booked", "1")):
        page.fill(f"#{field}", value)
    click_through(page, "main form button[type=submit]")
    page.wait_for_selector("#people_met-error")
    assert "nolla" in page.inner_text("#people_met-error")
    assert page.input_value("#topic_benefits") == "3"
    assert_accessible(page, context="counts form with an error")

    # Counts that do not add up: 6 met, but only 4 one to one and 1 in a group.
    page.fill("#people_met", "6")
    for field, value in (("people_new", "2"), ("met_one_to_one", "4"), ("met_in_group", "1"),
                         ("topic_loneliness", "1"), ("errands_sorted", "2"), ("referred_kela", "1"),
                         ("staff_advised", "1")):
        page.fill(f"#{field}", value)
    page.check("#queue")
    page.fill("#note", "Juteltiin Matin kanssa vuokrasta. Kahvilan väki kysyi Kelan lomakkeista.")
    click_through(page, "main form button[type=submit]")
    page.wait_for_selector("#met_in_group-error")
    assert "vähintään" in page.inner_text("#met_in_group-error")
    assert page.input_value("#met_one_to_one") == "4" and page.is_checked("#queue")
    assert_accessible(page, context="counts that do not add up")

    # Added up, but the note seems to name someone: a warning, the input kept, save anyway.
    page.fill("#met_in_group", "2")
    click_through(page, "main form button[type=submit]")
    page.wait_for_selector(".name-warning")
    assert "Matin" in page.inner_text(".name-warning") and "Kelan" not in page.inner_text(".name-warning")
    assert page.input_value("#note").startswith("Juteltiin Matin")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, context="note warning")
    assert db.session.scalar(sa.select(VisitReport).where(VisitReport.visit_id == visit_id)) is None
    db.session.close()
    page.check("#save_anyway")
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(f"**/outreach/visits/{visit_id}")
    assert "6 tavattua ihmistä" in page.inner_text("main")
    assert_accessible(page, context="visit page")

    report = db.session.scalar(sa.select(VisitReport).where(VisitReport.visit_id == visit_id))
    assert (report.people_met, report.topic_benefits, report.appointments_booked) == (6, 3, 1)
    assert (report.people_new, report.met_one_to_one, report.met_in_group, report.topic_loneliness) == (2, 4, 2, 1)
    assert (report.errands_sorted, report.referred_kela, report.staff_advised, report.queue) == (2, 1, 1, True)
    assert report.note.startswith("Juteltiin Matin") and report.held
    assert db.session.get(OutreachVisit, visit_id).status == "done"
    db.session.close()


def test_lead_pages_are_accessible_at_phone_width(page, app):
    lead = make_user(role="lead", name="Leo Lead", email="leo@example.fi")
    other = make_user(name="Pekka Peltonen")
    venue, visit = _venue_with_visits(lead, other)
    services.save_report(visit, lead, {name: 2 for name in services.COUNT_FIELDS})
    venue_id = venue.id
    db.session.commit()
    db.session.close()

    browser_login(page, "leo@example.fi", PASSWORD)
    for path in ("/outreach/venues", f"/outreach/venues/{venue_id}", f"/outreach/venues/{venue_id}/rule",
                 "/outreach/venues/new", f"/outreach/venues/{venue_id}/site", f"/outreach/venues/{venue_id}/review",
                 "/outreach/report/year", "/outreach/report"):
        page.goto(path)
        assert page.locator("h1").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert_accessible(page, context=path)
    # Both charts of each venue (months, topics) load.
    assert page.locator("img.outreach-chart").count() == 2
    assert page.eval_on_selector_all("img.outreach-chart", "imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
    page.click("details summary")
    assert_accessible(page, context="report with the chart table open")
    # A visit page with the pair form and the move form.
    coming = db.session.scalar(sa.select(OutreachVisit.id).where(OutreachVisit.status == "scheduled",
                                                                 OutreachVisit.starts_at > now_utc()))
    db.session.close()
    for path in (f"/outreach/visits/{coming}", f"/outreach/visits/{coming}/move"):
        page.goto(path)
        assert_accessible(page, context=path)
