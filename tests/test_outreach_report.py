"""The lead's outreach report: visits per venue, people met per visit, topics and appointments,
a month-by-month table alternative, and the chart rendered by a pure function."""
from __future__ import annotations

import re

from datetime import date, time, timedelta

import pytest

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from outreach import services
from outreach.chart import venue_chart_png
from outreach.models import OutreachVisit
from tests.factories import make_partner, make_user


def month_start(months_back):
    return services.add_months(date(local_today().year, local_today().month, 1), -months_back)


def add_done_visit(venue, day, user, **counts):
    start = local_to_utc(day, time(13))
    visit = OutreachVisit(venue=venue, starts_at=start, ends_at=start + timedelta(hours=2), staff1_id=user.id)
    db.session.add(visit)
    db.session.flush()
    values = {name: 0 for name in services.COUNT_FIELDS}
    values.update(counts)
    services.save_report(visit, user, values)
    return visit


def seed(app):
    worker = make_user(name="Sanna Saarinen")
    parish = make_partner(name="Seurakunta", kind="parish")
    cafe = services.save_venue(None, partner_id=parish.id, name="Diakoniakahvila", address="", active=True)
    yard = services.save_venue(None, partner_id=parish.id, name="Työpaja Verstas", address="", active=True)
    m1, m2 = month_start(2), month_start(1)
    add_done_visit(cafe, m1 + timedelta(days=9), worker, people_met=6, topic_benefits=4, topic_housing=1,
                   appointments_booked=2, guided_onward=1)
    add_done_visit(cafe, m2 + timedelta(days=9), worker, people_met=10, topic_benefits=3, topic_money=5,
                   appointments_booked=1)
    add_done_visit(yard, m2 + timedelta(days=12), worker, people_met=3, topic_health=2)
    cancelled_start = local_to_utc(m2 + timedelta(days=20), time(10))
    db.session.add(OutreachVisit(venue=yard, starts_at=cancelled_start, ends_at=cancelled_start + timedelta(hours=2),
                                 status="cancelled"))
    # Outside the period: must not count.
    add_done_visit(cafe, month_start(20), worker, people_met=99)
    db.session.commit()
    return cafe, yard, m1, m2


def test_report_numbers_per_venue(app):
    cafe, yard, m1, m2 = seed(app)
    stats = {s.venue.name: s for s in services.outreach_report(services.report_months(local_today(), 6))}
    c, y = stats["Diakoniakahvila"], stats["Työpaja Verstas"]
    assert (c.visits_done, c.people_met, c.appointments_booked, c.guided_onward) == (2, 16, 3, 1)
    assert c.people_per_visit == 8.0
    assert c.topics == {"benefits": 7, "housing": 1, "money": 5, "work": 0, "health": 0, "substance": 0,
                        "loneliness": 0, "other": 0}
    assert c.months[m1] == [1, 6, 2] and c.months[m2] == [1, 10, 1]
    assert (y.visits_done, y.visits_cancelled, y.people_met, y.topics["health"]) == (1, 1, 3, 2)


def test_report_page_is_for_leads_with_tables_and_charts(app, auth_client, lead, lead_client):
    cafe, _yard, m1, _m2 = seed(app)
    assert auth_client.get("/outreach/report").status_code == 403
    lead.language = "en"
    db.session.commit()
    # The stacked-table labels (data-label) are left out of the comparison.
    body = re.sub(r' data-label="[^"]*"', "", lead_client.get("/outreach/report?months=6").get_data(as_text=True))
    assert "<caption>Visits per venue</caption>" in body
    assert '<th scope="row">Diakoniakahvila</th><td class="num">2</td><td class="num">0</td>' in body
    assert '<td class="num">16</td><td class="num">8,0</td>' in body
    assert "3 visits, 19 people met, 3 appointments booked, 1 guided onward." in body
    assert "Bar chart of Diakoniakahvila: 16 people met and 3 appointments booked in 2 visits" in body
    assert f'/outreach/report/venues/{cafe.id}/chart.png?months=6' in body
    assert "<caption>Diakoniakahvila month by month</caption>" in body
    # A bad period falls back to 12 months instead of failing.
    assert lead_client.get("/outreach/report?months=abc").status_code == 200

    response = lead_client.get(f"/outreach/report/venues/{cafe.id}/chart.png?months=6")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert auth_client.get(f"/outreach/report/venues/{cafe.id}/chart.png").status_code == 403


def test_chart_is_a_pure_function_of_its_data():
    args = ("Diakoniakahvila", ["syys 2026", "loka 2026"], [6, 10], [2, 1])
    labels = {"people_label": "Tavattuja", "appointments_label": "Varattuja aikoja"}
    first, again = venue_chart_png(*args, **labels), venue_chart_png(*args, **labels)
    assert first.startswith(b"\x89PNG") and first == again
    assert venue_chart_png("Diakoniakahvila", ["syys 2026", "loka 2026"], [6, 11], [2, 1], **labels) != first
    width = int.from_bytes(first[16:20], "big")
    assert width == 750
    with pytest.raises(ValueError):
        venue_chart_png("x", ["a"], [1, 2], [1], **labels)


def test_report_queries_do_not_grow_with_the_data(app, lead, lead_client):
    import sqlalchemy as sa

    def queries():
        statements = []

        def listener(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert lead_client.get("/outreach/report?months=12").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    seed(app)
    small = queries()
    worker = make_user(name="Pekka Peltonen")
    partner = make_partner(name="Sovatek", kind="substance_abuse")
    for i in range(6):
        venue = services.save_venue(None, partner_id=partner.id, name=f"Paikka {i}", address="", active=True)
        for months_back in range(1, 4):
            add_done_visit(venue, month_start(months_back) + timedelta(days=3), worker, people_met=i + months_back)
    db.session.commit()
    assert queries() == small
