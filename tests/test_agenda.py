"""The start page's agenda: the worker's day or week in time order from every feature's source
(group sessions, network meetings, outreach visits), each a link with what it still needs; the
"to record" list; a lead's view of the unit's exceptions and of open records per worker (counts,
never the content); bad dates in the URL; and a fixed number of queries."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from core import agenda
from core.extensions import db
from core.timeutil import local_to_utc, local_today
from groups.models import GroupSession
from reminders.models import OutboxMessage
from tests.factories import make_client, make_user
from tests.sqlcapture import captured_statements
from tests.test_groups_support import make_group, text_of
from tests.test_meetings_support import make_meeting
from tests.test_outreach_visits import make_venue, make_visit

# A Tuesday two weeks on, so the day after is in the same week.
AHEAD = local_today() + timedelta(days=14 - local_today().weekday() + 1)
PAST = local_today() - timedelta(days=14)


def _session(group, day, at, number=1):
    starts = local_to_utc(day, at)
    session = GroupSession(group_id=group.id, number=number, starts_at=starts, ends_at=starts + timedelta(hours=1))
    db.session.add(session)
    db.session.commit()
    return session


def _items(html):
    section = html[html.index('id="agenda-heading"'):html.index('id="to-record-heading"')]
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', section)


def test_week_in_time_order_from_every_source_without_client_names(auth_client, facilitator):
    group = make_group(facilitator, make_user(), title="Raharyhmä")
    _session(group, AHEAD + timedelta(days=1), time(13, 0))
    meeting = make_meeting([facilitator], client=make_client(name="Matti Kuusela", worker=facilitator),
                           day=AHEAD, at=time(9, 0))
    visit = make_visit(make_venue("Diakoniakahvila"), local_to_utc(AHEAD, time(11, 0)), staff=[facilitator])
    others = make_group(make_user(), make_user(), title="Jonkun muun ryhmä")
    _session(others, AHEAD, time(10, 0))

    html = text_of(auth_client.get(f"/?view=week&day={AHEAD.isoformat()}"))
    items = _items(html)
    assert [title for _url, title in items if not title.startswith(("Edellinen", "Seuraava", "Tänään", "Näytä"))] == [
        "Verkostopalaveri", "Jalkautuminen: Diakoniakahvila", "Raharyhmä, ryhmäkerta 1/1"]
    urls = [url for url, _title in items]
    assert f"/meetings/{meeting.id}" in urls and f"/outreach/visits/{visit.id}" in urls
    assert "Jonkun muun ryhmä" not in html
    assert "Matti Kuusela" not in html and "Kuusela" not in html
    # The day view shows only that day.
    day = text_of(auth_client.get(f"/?view=day&day={AHEAD.isoformat()}"))
    assert "Verkostopalaveri" in day and "Raharyhmä, ryhmäkerta 1/1" not in day


@pytest.mark.parametrize("query", ["day=2026-13-45", "day=x", "day=99999-01-01", "day=1900-01-01",
                                   "view=year&day=", "day=%00", "day=2026-02-30&view=week"])
def test_a_bad_date_in_the_url_is_today_not_an_error(auth_client, query):
    response = auth_client.get(f"/?{query}")
    assert response.status_code == 200
    assert "Minun päiväni" in text_of(response) or "Minun viikkoni" in text_of(response)


def test_needs_roll_call_record_and_failed_reminder(auth_client, facilitator, lead_client, lead):
    client = make_client(worker=facilitator)
    group = make_group(facilitator, make_user(), title="Raharyhmä", status="running")
    from groups import attendance, enrolment

    enrolment.enrol(group, client.id)
    held = _session(group, PAST, time(13, 0))
    meeting = make_meeting([facilitator], client=client, day=PAST, at=time(9, 0))
    db.session.add(OutboxMessage(kind="reminder", target_kind="meeting", target_id=meeting.id,
                                 recipient_kind="client", recipient_id=client.id, slot="x", channel="sms",
                                 client_id=client.id, address="+358401234567", body="b", status="failed"))
    db.session.commit()
    html = text_of(auth_client.get(f"/?view=week&day={PAST.isoformat()}"))
    agenda_part = html[html.index('id="agenda-heading"'):html.index('id="to-record-heading"')]
    assert "Läsnäolot merkitsemättä" in agenda_part
    assert "Kirjaus tekemättä: pidettiinkö?" in agenda_part
    assert "Muistutuksen lähetys epäonnistui" in agenda_part

    # To record, oldest first; both 14 days ago, so overdue by more than 3 working days.
    to_record = html[html.index('id="to-record-heading"'):]
    assert f"/meetings/{meeting.id}#record-heading" in to_record
    assert f"/groups/{group.id}/sessions/{held.id}/roll-call" in to_record
    assert to_record.index(f"/meetings/{meeting.id}") < to_record.index("/roll-call")  # 9.00 before 13.00
    assert to_record.count("Myöhässä") == 2

    # The lead: the unit's exceptions and the counts per worker, never the content.
    lead_html = text_of(lead_client.get("/"))
    unit = lead_html[lead_html.index('id="unit-heading"'):]
    assert "1 viestiä ei voitu lähettää" in unit
    row = re.search(r"<tr><td>" + re.escape(facilitator.name) + r"</td><td>(\d+)</td><td>(\d+)</td></tr>", unit)
    assert row and row.groups() == ("2", "2")
    assert "Raharyhmä" not in unit and f"/meetings/{meeting.id}" not in unit

    # Recording the roll call and marking the meeting held empties the list.
    attendance.record_attendance(held, {e.id: "present" for e in group.enrolments})
    meeting.status = "held"
    db.session.commit()
    assert "Kaikki on kirjattu." in text_of(auth_client.get("/"))


def test_lead_sees_single_worker_visits_and_free_places(lead_client, facilitator):
    group = make_group(facilitator, make_user(), title="Täysi ryhmä", capacity=1, status="enrolling")
    from groups import enrolment

    enrolment.enrol(group, make_client().id)
    enrolment.enrol(group, make_client().id)       # waiting
    group.capacity = 2
    meeting = make_meeting([facilitator], day=local_today() + timedelta(days=3))
    meeting.place_kind = "home_visit"
    make_visit(make_venue("Asukastupa"), local_to_utc(local_today() + timedelta(days=2), time(12)),
               staff=[facilitator])
    db.session.commit()
    unit = text_of(lead_client.get("/"))
    unit = unit[unit.index('id="unit-heading"'):]
    assert "Täysi ryhmä: 1 vapaata paikkaa, 1 jonossa" in unit
    assert "Kotikäynti alle kahdella työntekijällä" in unit
    assert "Jalkautuminen alle kahdella työntekijällä: Asukastupa" in unit


def test_working_days_skip_weekends_and_finnish_holidays():
    # Wed 23.12.2026 -> Mon 28.12.2026: 24.12 (Christmas Eve), 25.12, 26.12 are holidays, 27.12 is Sunday.
    assert agenda.working_days_between(date(2026, 12, 23), date(2026, 12, 28)) == 1
    assert agenda.working_days_between(date(2026, 11, 30), date(2026, 12, 4)) == 4
    # Thu 3.12 -> Tue 8.12: Fri 4, Mon 7, Tue 8 = 3 (not overdue); Independence Day 6.12 is Sunday.
    assert agenda.working_days_between(date(2026, 12, 3), date(2026, 12, 8)) == 3


def test_start_page_reads_a_fixed_number_of_times(auth_client, facilitator):
    def add(first, n):
        for i in range(first, first + n):
            client = make_client(worker=facilitator)
            group = make_group(facilitator, make_user(), title=f"Ryhmä {i}", status="running")
            from groups import enrolment

            enrolment.enrol(group, client.id)
            _session(group, local_today(), time(8, 0))
            _session(group, PAST, time(8, 0))
            make_meeting([facilitator], client=client, day=local_today(), at=time(10, 0))
            make_meeting([facilitator], client=client, day=PAST, at=time(10, 0))
            make_visit(make_venue(f"Paikka {i}"), local_to_utc(local_today(), time(14)), staff=[facilitator])

    def count():
        with captured_statements() as statements:
            assert auth_client.get("/?view=week").status_code == 200
        return len(statements)

    add(0, 1)
    few = count()
    add(1, 4)
    assert count() == few


def test_demo_gives_the_demo_facilitator_a_realistic_week(app, runner):
    from tests.factories import login

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    http = app.test_client()
    login(http, "ohjaaja@example.fi", "kohtaamo-demo")
    today = local_today()
    todays = text_of(http.get(f"/?day={today.isoformat()}"))
    # A group session within the coming week (weekly, so within seven days unless a holiday
    # falls on it: then the series moved on a week).
    coming = [text_of(http.get(f"/?day={(today + timedelta(days=d)).isoformat()}")) for d in range(0, 14)]
    assert any("Arjen hallinta -ryhmä, ryhmäkerta" in page for page in coming)
    tomorrow = text_of(http.get(f"/?day={(today + timedelta(days=1)).isoformat()}"))
    tomorrow = tomorrow[tomorrow.index('id="agenda-heading"'):tomorrow.index('id="to-record-heading"')]
    assert "Verkostopalaveri" in tomorrow and "Jalkautuminen: Diakonian avoin kahvila" in tomorrow
    to_record = todays[todays.index('id="to-record-heading"'):]
    assert "Kirjaus tekemättä: pidettiinkö?" in to_record and "Myöhässä" in to_record
    # A referral waits for the spring round's facilitators; the backlog counts a theme's clients.
    from groups.models import Group

    spring = db.session.scalar(sa.select(Group).where(Group.title == "Raharyhmä, kevät"))
    participants = text_of(http.get(f"/groups/{spring.id}/participants"))
    assert "Vuokrarästejä, haluaa oppia tekemään budjetin." in participants
    ideas = text_of(http.get("/groups/ideas"))
    assert "Ehdotettuja asiakkaita</dt><dd>2</dd>" in ideas
