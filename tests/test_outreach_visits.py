"""Outreach venues, schedules and visits through the pages: generating the rota (idempotent),
a rule without dates, staff pairs and safety flags, moving (public-holiday warning), cancelling,
anonymous counts, malformed ids, and no query per row on the rota."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from accounts.models import User
from core.extensions import db
from core.timeutil import HELSINKI, local_to_utc, local_today, now_utc, to_local
from outreach import services
from outreach.models import OutreachRule, OutreachVenue, OutreachVisit, VisitReport
from tests.factories import make_partner, make_user

RULE = {"frequency": "monthly", "nth": "2", "weekday": "1", "interval_weeks": "1", "start_time": "13:00",
        "end_time": "15:00", "valid_until": "", "break_from": "", "break_until": "", "version": ""}


def make_venue(name="Diakoniakahvila", partner=None, *, nth=2, weekday=1, today=None):
    partner = partner or make_partner(name=f"Seurakunta {name}", kind="parish")
    venue = services.save_venue(None, partner_id=partner.id, name=name, address="Kirkkotie 1", active=True)
    spec = services.RuleSpec(frequency="monthly", nth=nth, weekday=weekday, valid_from=date(2020, 1, 1))
    services.save_rule(venue, spec=spec, start_time=time(13), end_time=time(15))
    db.session.commit()
    return venue


def make_visit(venue, starts_at, *, staff=(), status="scheduled", hours=2):
    visit = OutreachVisit(venue=venue, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours), status=status,
                          staff1_id=staff[0].id if staff else None,
                          staff2_id=staff[1].id if len(staff) > 1 else None)
    db.session.add(visit)
    db.session.commit()
    return visit


@pytest.fixture(autouse=True)
def english(facilitator, lead):
    """These tests read the English msgids; test_outreach_feed.py checks the Finnish text."""
    facilitator.language = lead.language = "en"
    db.session.commit()


def visit_count(venue_id=None):
    stmt = sa.select(sa.func.count(OutreachVisit.id))
    if venue_id:
        stmt = stmt.where(OutreachVisit.venue_id == venue_id)
    return db.session.scalar(stmt)


def test_venue_and_schedule_generate_the_rota_once(auth_client):
    partner = make_partner(name="Jyväskylän seurakunta", kind="parish")
    response = auth_client.post_form("/outreach/venues/new", {"partner_id": str(partner.id), "name": "Diakoniakahvila",
                                                              "address": "", "active": "y", "version": ""},
                                     token_from="/outreach/venues/new")
    venue = db.session.scalar(sa.select(OutreachVenue))
    assert response.status_code == 302 and response.location.endswith(f"/outreach/venues/{venue.id}/rule")
    assert venue.partner_id == partner.id and venue.name == "Diakoniakahvila"

    today = local_today()
    response = auth_client.post_form(f"/outreach/venues/{venue.id}/rule", dict(RULE, valid_from=today.isoformat()),
                                     token_from="/outreach/venues")
    assert response.status_code == 302
    rule = db.session.scalar(sa.select(OutreachRule))
    assert (rule.nth, rule.weekday, rule.start_time) == (2, 1, time(13, 0))
    visits = db.session.scalars(sa.select(OutreachVisit).order_by(OutreachVisit.starts_at)).all()
    expected = services.rule_dates(services.RuleSpec.of(rule), today, services.horizon_end(today))
    assert len(visits) == len(expected) >= 3
    for visit in visits:
        local = to_local(visit.starts_at)
        assert local.weekday() == 1 and 8 <= local.day <= 14 and local.time() == time(13, 0)
        assert to_local(visit.ends_at).time() == time(15, 0)
        assert local.tzinfo is not None and local.utcoffset() in (timedelta(hours=2), timedelta(hours=3))

    # Regenerating and re-saving the same schedule add nothing.
    response = auth_client.post_form(f"/outreach/venues/{venue.id}/generate", {}, token_from="/outreach/")
    assert response.status_code == 302
    auth_client.post_form(f"/outreach/venues/{venue.id}/rule",
                          dict(RULE, valid_from=today.isoformat(), version=str(rule.version)),
                          token_from="/outreach/venues")
    assert visit_count() == len(expected)
    page = auth_client.get(f"/outreach/venues/{venue.id}").get_data(as_text=True)
    assert "Diakoniakahvila" in page and "The second Tuesday of the month, 13.00–15.00" in page


def test_rule_that_yields_no_dates_is_a_form_error(auth_client):
    partner = make_partner(name="Sovatek", kind="substance_abuse")
    venue = services.save_venue(None, partner_id=partner.id, name="Olohuone", address="", active=True)
    db.session.commit()
    data = dict(RULE, valid_from=local_today().isoformat(), break_month_list=[str(m) for m in range(1, 13)])
    response = auth_client.post_form(f"/outreach/venues/{venue.id}/rule", data, token_from="/outreach/venues")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "no visit dates in the next 12 months" in body
    assert 'checked id="break_month_list-11"' in body  # the user's ticks are kept
    assert db.session.scalar(sa.select(sa.func.count(OutreachRule.id))) == 0 and visit_count() == 0
    # End before start, half a break range: errors at the fields, nothing saved.
    body = auth_client.post_form(f"/outreach/venues/{venue.id}/rule",
                                 dict(RULE, valid_from=local_today().isoformat(), end_time="12:00",
                                      break_from="2027-07-01"), token_from="/outreach/venues").get_data(as_text=True)
    assert 'id="end_time-error"' in body and 'id="break_until-error"' in body and 'value="2027-07-01"' in body
    assert db.session.scalar(sa.select(sa.func.count(OutreachRule.id))) == 0


def test_changing_the_rule_updates_coming_visits(app):
    venue = make_venue(nth=2, weekday=1)
    today = local_today()
    created = services.generate_visits(venue, today=today)
    db.session.commit()
    moved = created[0]
    services.move_visit(moved, moved.rule_date, time(9), time(11))
    db.session.commit()
    # Same days, new times: untouched visits follow the rule; the hand-moved one keeps its time.
    spec = services.RuleSpec.of(venue.rule)
    services.save_rule(venue, spec=spec, start_time=time(14), end_time=time(16), today=today)
    db.session.commit()
    for visit in created[1:]:
        assert to_local(visit.starts_at).time() == time(14) and visit.sequence == 1
    assert to_local(moved.starts_at).time() == time(9)
    # A different weekday: the old dates are cancelled (they stay in feeds), new ones generated.
    services.save_rule(venue, spec=services.RuleSpec(frequency="monthly", nth=2, weekday=3, valid_from=spec.valid_from),
                       start_time=time(14), end_time=time(16), today=today)
    services.generate_visits(venue, today=today)
    db.session.commit()
    assert all(v.status == "cancelled" for v in created)
    thursdays = [v for v in venue.visits if v.status == "scheduled"]
    assert thursdays and all(to_local(v.starts_at).weekday() == 3 for v in thursdays)


def test_same_person_twice_is_refused(auth_client, facilitator):
    venue = make_venue()
    visit = make_visit(venue, now_utc() + timedelta(days=10))
    response = auth_client.post_form(f"/outreach/visits/{visit.id}/pair",
                                     {"staff1_id": str(facilitator.id), "staff2_id": str(facilitator.id)},
                                     token_from=f"/outreach/visits/{visit.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="staff2_id-error"' in body
    assert "the same person cannot be both workers" in body
    db.session.refresh(visit)
    assert visit.staff1_id is None and visit.staff2_id is None
    with pytest.raises(services.OutreachError):
        services.assign_pair(visit, facilitator.id, facilitator.id)
    # An unknown user id is a form error too, not a 500.
    body = auth_client.post_form(f"/outreach/visits/{visit.id}/pair", {"staff1_id": "999999", "staff2_id": ""},
                                 token_from="/outreach/").get_data(as_text=True)
    assert 'id="staff1_id-error"' in body


def test_single_worker_and_new_venue_are_flagged(auth_client, facilitator):
    veteran = make_user(name="Vera Veteraani")
    venue = make_venue()
    make_visit(venue, now_utc() - timedelta(days=30), staff=(veteran,), status="done")
    visit = make_visit(venue, now_utc() + timedelta(days=7))

    response = auth_client.post_form(f"/outreach/visits/{visit.id}/pair",
                                     {"staff1_id": str(facilitator.id), "staff2_id": ""},
                                     token_from=f"/outreach/visits/{visit.id}", follow_redirects=True)
    body = response.get_data(as_text=True)
    db.session.refresh(visit)
    assert (visit.staff1_id, visit.staff2_id) == (facilitator.id, None) and visit.sequence == 1
    assert "only one worker" in body and "The venue is new to Fiia Facilitator" in body

    flags = services.visit_flags([visit])[visit.id]
    assert flags.single_worker and [u.id for u in flags.new_to] == [facilitator.id]

    auth_client.post_form(f"/outreach/visits/{visit.id}/pair",
                          {"staff1_id": str(facilitator.id), "staff2_id": str(veteran.id)}, token_from="/outreach/")
    db.session.refresh(visit)
    flags = services.visit_flags([visit])[visit.id]
    assert not flags.single_worker and [u.id for u in flags.new_to] == [facilitator.id]
    rota = auth_client.get("/outreach/").get_data(as_text=True)
    assert "Fiia Facilitator &amp; Vera Veteraani" in rota and "New venue for Fiia Facilitator" in rota
    assert "New venue for Vera Veteraani" not in rota and "Only one worker" not in rota

    # After Fiia's first done visit there, a later visit is no longer new to her.
    make_visit(venue, now_utc() - timedelta(days=3), staff=(facilitator, veteran), status="done")
    assert not services.visit_flags([visit])[visit.id].any


def test_move_onto_a_public_holiday_warns_first(auth_client):
    venue = make_venue()
    visit = make_visit(venue, local_to_utc(date(2027, 12, 14), time(13)))
    url = f"/outreach/visits/{visit.id}/move"
    assert auth_client.get(url).status_code == 200
    data = {"day": "2027-12-06", "start_time": "13:00", "end_time": "15:00", "version": str(visit.version)}
    body = auth_client.post_form(url, data, token_from=url).get_data(as_text=True)
    assert 'id="day-error"' in body and "Independence Day" in body and 'value="2027-12-06"' in body
    assert 'name="confirm_holiday"' in body
    db.session.refresh(visit)
    assert to_local(visit.starts_at).date() == date(2027, 12, 14) and visit.sequence == 0

    response = auth_client.post_form(url, dict(data, confirm_holiday="y"), token_from=url, follow_redirects=True)
    assert "public holiday (Independence Day)" in response.get_data(as_text=True)
    db.session.refresh(visit)
    assert to_local(visit.starts_at) == local_to_utc(date(2027, 12, 6), time(13)).astimezone(HELSINKI)
    assert visit.sequence == 1
    # The holiday is named in the user's language.
    facilitator = db.session.scalar(sa.select(User).where(User.email == "fiia@example.fi"))
    facilitator.language = "sv"
    db.session.commit()
    assert "Självständighetsdagen" in auth_client.get(f"/outreach/visits/{visit.id}").get_data(as_text=True)
    facilitator.language = "en"
    db.session.commit()

    # An ordinary day moves at once; end before start is refused at the field.
    body = auth_client.post_form(url, dict(data, day="2027-12-07", end_time="12:00", version=str(visit.version)),
                                 token_from=url).get_data(as_text=True)
    assert 'id="end_time-error"' in body
    auth_client.post_form(url, dict(data, day="2027-12-07", version=str(visit.version)), token_from=url)
    db.session.refresh(visit)
    assert to_local(visit.starts_at).date() == date(2027, 12, 7) and visit.sequence == 2


def test_cancel_and_restore_raise_the_sequence(auth_client):
    visit = make_visit(make_venue(), now_utc() + timedelta(days=5))
    assert auth_client.post_form(f"/outreach/visits/{visit.id}/cancel", {}, token_from="/outreach/").status_code == 302
    db.session.refresh(visit)
    assert (visit.status, visit.sequence) == ("cancelled", 1)
    assert "Cancelled" in auth_client.get(f"/outreach/visits/{visit.id}").get_data(as_text=True)
    auth_client.post_form(f"/outreach/visits/{visit.id}/restore", {}, token_from="/outreach/")
    db.session.refresh(visit)
    assert (visit.status, visit.sequence) == ("scheduled", 2)
    # A cancel without a CSRF token changes nothing.
    assert auth_client.post(f"/outreach/visits/{visit.id}/cancel").status_code == 400
    db.session.refresh(visit)
    assert visit.status == "scheduled"


COUNTS = {"people_met": "7", "topic_benefits": "4", "topic_housing": "2", "topic_money": "1", "topic_health": "0",
          "topic_other": "1", "guided_onward": "2", "appointments_booked": "1", "version": "0",
          "people_new": "3", "met_one_to_one": "5", "met_in_group": "2", "topic_work": "0", "topic_substance": "0",
          "topic_loneliness": "1", "errands_sorted": "2", "referred_office": "0", "referred_kela": "1",
          "staff_advised": "1", "held": "yes", "not_held_reason": ""}


def test_counts_below_zero_are_refused_and_valid_counts_close_the_visit(auth_client, facilitator):
    visit = make_visit(make_venue(), now_utc() - timedelta(hours=3))
    url = f"/outreach/visits/{visit.id}/counts"
    body = auth_client.post_form(url, dict(COUNTS, people_met="-1", topic_money="abc"),
                                 token_from=url).get_data(as_text=True)
    assert 'id="people_met-error"' in body and "cannot be below zero" in body and 'value="-1"' in body
    assert 'id="topic_money-error"' in body and 'value="4"' in body
    assert db.session.scalar(sa.select(sa.func.count(VisitReport.id))) == 0
    with pytest.raises(services.OutreachError):
        services.save_report(visit, facilitator,
                             {k: (-2 if k == "guided_onward" else 0) for k in services.COUNT_FIELDS})
    with pytest.raises(services.OutreachError):
        services.save_report(visit, facilitator,
                             {k: (3 if k == "guided_onward" else 1) for k in services.COUNT_FIELDS})

    body = auth_client.post_form(url, dict(COUNTS, appointments_booked="8"), token_from=url).get_data(as_text=True)
    assert 'id="appointments_booked-error"' in body and "cannot be more than the people met (7)" in body
    assert db.session.scalar(sa.select(sa.func.count(VisitReport.id))) == 0

    response = auth_client.post_form(url, COUNTS, token_from=url)
    assert response.status_code == 302
    report = db.session.scalar(sa.select(VisitReport))
    db.session.refresh(visit)
    assert (report.people_met, report.topic_benefits, report.appointments_booked) == (7, 4, 1)
    assert report.recorded_by_id == facilitator.id
    assert (visit.status, visit.sequence) == ("done", 1)
    assert "7 people met" in auth_client.get(f"/outreach/visits/{visit.id}").get_data(as_text=True)
    # A correction with the old version is refused (someone saved meanwhile), the input kept.
    body = auth_client.post_form(url, dict(COUNTS, people_met="9", met_one_to_one="7"),
                                 token_from=url).get_data(as_text=True)
    assert "Someone else saved" in body and 'value="9"' in body
    auth_client.post_form(url, dict(COUNTS, people_met="9", met_one_to_one="7", version="1"), token_from=url)
    db.session.refresh(report)
    assert report.people_met == 9


def test_counts_wait_until_the_visit_has_started(auth_client):
    visit = make_visit(make_venue(), now_utc() + timedelta(days=2))
    url = f"/outreach/visits/{visit.id}/counts"
    body = auth_client.post_form(url, COUNTS, token_from=url).get_data(as_text=True)
    assert "once the visit has started" in body
    assert db.session.scalar(sa.select(sa.func.count(VisitReport.id))) == 0


@pytest.mark.parametrize("path", ["/outreach/visits/abc", "/outreach/visits/0", "/outreach/visits/99999999",
                                  "/outreach/visits/-1/move", "/outreach/visits/1e3/counts",
                                  "/outreach/venues/x", "/outreach/venues/99999/edit", "/outreach/venues/%20/rule"])
def test_malformed_or_unknown_ids_are_404(auth_client, path):
    assert auth_client.get(path).status_code == 404


def test_malformed_ids_on_post_are_404(auth_client, lead_client):
    for path in ("/outreach/visits/abc/pair", "/outreach/visits/999999/cancel", "/outreach/venues/x/generate"):
        assert auth_client.post_form(path, {}, token_from="/outreach/").status_code == 404
    assert lead_client.get("/outreach/report/venues/abc/chart.png").status_code == 404


def _count_queries(client, url):
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_rota_has_no_query_per_row(auth_client):
    staff = [make_user(name=f"Työntekijä {i}") for i in range(4)]
    venue = make_venue("Kahvila A")
    # The baseline has a row of every kind, so every eager load already runs once.
    make_visit(venue, now_utc() + timedelta(days=3), staff=staff[:2])
    make_visit(venue, now_utc() - timedelta(days=3), staff=staff[:2])
    make_visit(venue, now_utc() - timedelta(days=9), staff=staff[:2], status="done")
    small = _count_queries(auth_client, "/outreach/")
    for i in range(12):
        v = make_venue(f"Paikka {i}")
        make_visit(v, now_utc() + timedelta(days=4 + i), staff=(staff[i % 4], staff[(i + 1) % 4]))
        make_visit(v, now_utc() - timedelta(days=20 + i), staff=(staff[i % 4],), status="done")
        make_visit(v, now_utc() - timedelta(days=1 + i), staff=(staff[(i + 2) % 4],))
    big = _count_queries(auth_client, "/outreach/")
    assert big == small
    body = auth_client.get("/outreach/").get_data(as_text=True)
    assert "Paikka 11" in body and "Työntekijä 3" in body
    assert _count_queries(auth_client, "/outreach/venues") == _count_queries(auth_client, "/outreach/venues")


def test_start_page_and_rota_show_visits_waiting_for_counts(auth_client, facilitator):
    venue = make_venue("Olohuone")
    other = make_user(name="Pekka Peltonen")
    waiting = make_visit(venue, now_utc() - timedelta(days=2), staff=(facilitator, other))
    coming = make_visit(venue, now_utc() + timedelta(days=3), staff=(facilitator, other))
    make_visit(venue, now_utc() + timedelta(days=4), staff=(other,))  # not Fiia's
    long_ago = make_visit(venue, now_utc() - timedelta(days=70), staff=(facilitator, other))  # past the 60 days
    # The start page's agenda (tests/test_agenda.py): the visit waiting for counts is to record,
    # the coming one is on its day.
    start = auth_client.get("/").get_data(as_text=True)
    assert f"/outreach/visits/{waiting.id}/counts" in start
    coming_day = auth_client.get(f"/?day={to_local(coming.starts_at).date().isoformat()}").get_data(as_text=True)
    day_part = coming_day[coming_day.index('id="agenda-heading"'):coming_day.index('id="to-record-heading"')]
    assert f"/outreach/visits/{coming.id}\"" in day_part and day_part.count("Outreach: Olohuone") == 1
    rota = auth_client.get("/outreach/").get_data(as_text=True)
    assert "Visits waiting for counts" in rota and f"/outreach/visits/{waiting.id}/counts" in rota
    assert f"/outreach/visits/{long_ago.id}/counts" not in rota
    mine = auth_client.get("/outreach/?mine=1").get_data(as_text=True)
    assert mine.count("Fiia Facilitator &amp; Pekka Peltonen") == 1 and "Only one worker" not in mine
    services.save_report(waiting, facilitator, {name: 1 for name in services.COUNT_FIELDS})
    db.session.commit()
    assert f"/outreach/visits/{waiting.id}/counts" not in auth_client.get("/").get_data(as_text=True)
    assert "Visits waiting for counts" not in auth_client.get("/outreach/").get_data(as_text=True)


def test_editing_a_venue_raises_coming_visits_sequence_and_refuses_stale_saves(auth_client):
    venue = make_venue("Kahvila")
    coming = make_visit(venue, now_utc() + timedelta(days=3))
    past = make_visit(venue, now_utc() - timedelta(days=3), status="done")
    url = f"/outreach/venues/{venue.id}/edit"
    data = {"partner_id": str(venue.partner_id), "name": "Kahvila Kulma", "address": "Kulmakatu 2", "active": "y",
            "version": str(venue.version)}
    assert auth_client.post_form(url, data, token_from=url).status_code == 302
    db.session.refresh(coming)
    db.session.refresh(past)
    assert (venue.name, venue.address) == ("Kahvila Kulma", "Kulmakatu 2")
    assert coming.sequence == 1 and past.sequence == 0
    body = auth_client.post_form(url, dict(data, name="Vanha nimi"), token_from=url).get_data(as_text=True)
    assert "Someone else saved" in body and 'value="Vanha nimi"' in body
    body = auth_client.post_form(url, dict(data, partner_id="99999", version=str(venue.version)),
                                 token_from=url).get_data(as_text=True)
    assert 'id="partner_id-error"' in body
    db.session.refresh(venue)
    assert venue.name == "Kahvila Kulma"
    # Stopping the visits cancels the coming ones (they stay in feeds as cancelled), not the past.
    auth_client.post_form(url, {k: v for k, v in data.items() if k != "active"} | {"version": str(venue.version)},
                          token_from=url)
    db.session.refresh(coming)
    db.session.refresh(past)
    assert not venue.active and (coming.status, coming.sequence) == ("cancelled", 2) and past.status == "done"
    assert services.generate_visits(venue) == []


def test_editing_a_rule_with_break_months(auth_client):
    venue = make_venue("Verstas")
    spec = services.RuleSpec(frequency="weekly", weekday=3, interval_weeks=2, valid_from=date(2026, 1, 1),
                             break_months=(6, 7, 8))
    services.save_rule(venue, spec=spec, start_time=time(9), end_time=time(11))
    db.session.commit()
    url = f"/outreach/venues/{venue.id}/rule"
    body = auth_client.get(url).get_data(as_text=True)
    assert 'checked id="break_month_list-5"' in body and 'checked id="break_month_list-7"' in body
    assert 'checked id="frequency-1"' in body and 'value="09:00"' in body
    data = dict(RULE, frequency="weekly", weekday="3", interval_weeks="2", start_time="09:00", end_time="11:00",
                valid_from="2026-01-01", break_month_list=["7"], version=str(venue.rule.version))
    assert auth_client.post_form(url, data, token_from=url).status_code == 302
    db.session.refresh(venue.rule)
    assert venue.rule.break_months == "7" and venue.rule.interval_weeks == 2
    assert "Every other Thursday, 9.00–11.00; no visits in July" in auth_client.get(
        f"/outreach/venues/{venue.id}").get_data(as_text=True)


def test_daily_command_generates_idempotently(app, runner):
    venue = make_venue("Olohuone")
    first = runner.invoke(args=["outreach", "generate"])
    assert first.exit_code == 0, first.output
    count = visit_count(venue.id)
    assert count >= 3 and f"{count} new outreach visits" in first.output
    again = runner.invoke(args=["outreach", "generate"])
    assert "0 new outreach visits" in again.output and visit_count(venue.id) == count


def test_new_counts_form_starts_topics_at_zero(auth_client):
    visit = make_visit(make_venue(), now_utc() - timedelta(hours=1))
    body = auth_client.get(f"/outreach/visits/{visit.id}/counts").get_data(as_text=True)
    assert 'name="topic_housing" required type="number" value="0"' in body
    assert 'name="people_met" required type="number" value=""' in body
