"""The lead's outreach report: visits per venue, people met per visit, topics and appointments,
a month-by-month table alternative, and the chart rendered by a pure function."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from outreach import report, services
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
    app.config["FEEDBACK_MIN_RESPONSES"] = 5
    cafe, yard, m1, m2 = seed(app)
    months = services.report_months(local_today(), 6)
    raw = report.figures(months)
    assert (raw[(cafe.id, m1)]["people_met"], raw[(cafe.id, m1)]["appointments_booked"]) == (6, 2)
    assert (raw[(cafe.id, m2)]["people_met"], raw[(cafe.id, m2)]["topic_money"]) == (10, 5)
    stats = report.by_venue(months)
    c, y = stats[cafe.id], stats[yard.id]
    # 6 + 10 people, both months at least k: shown. Appointments 2 + 1 and one referral: hidden.
    assert (c["held"], c["people_met"], c["appointments_booked"], c["referred"]) == (2, 16, None, None)
    assert report.per_visit(c) == 8.0
    # Benefits 4 + 3 would be 7, but each month is under k, so the sum is hidden too.
    assert (c["topic_benefits"], c["topic_housing"], c["topic_money"], c["topic_work"]) == (None, None, 5, 0)
    assert (y["held"], y["cancelled"], y["people_met"], y["topic_health"]) == (1, 1, None, None)
    assert report.per_visit(y) is None


def test_report_page_is_for_leads_with_tables_and_charts(app, auth_client, lead, lead_client):
    app.config["FEEDBACK_MIN_RESPONSES"] = 5
    cafe, _yard, m1, _m2 = seed(app)
    assert auth_client.get("/outreach/report").status_code == 403
    lead.language = "en"
    db.session.commit()
    # The stacked-table labels (data-label) are left out of the comparison.
    body = re.sub(r' data-label="[^"]*"', "", lead_client.get("/outreach/report?months=6").get_data(as_text=True))
    assert "<caption>Visits per venue</caption>" in body
    assert ('<th scope="row">Diakoniakahvila</th><td class="num">2</td><td class="num">0</td>\n'
            '    <td class="num">16</td><td class="num">8,0</td>\n'
            '    <td class="num">fewer than 5</td><td class="num">fewer than 5</td></tr>') in body
    assert '<th scope="row">Työpaja Verstas</th><td class="num">1</td><td class="num">1</td>\n    <td class="num">fewer than 5</td>' in body
    # The workshop's 3 people make every total across venues a secret too.
    assert "3 visits, fewer than 5 people met, fewer than 5 appointments booked, fewer than 5 guided onward." in body
    assert "Bar chart of Diakoniakahvila: people met and appointments booked month by month." in body
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
