"""The lead's unit report for a period and its CSV download."""
from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from core.extensions import db
from feedback import services
from tests.test_feedback_factories import add_responses, attend, close_window, make_group


def release_groups(*groups):
    """Each group's results page opened once after its end (which releases its figures)."""
    from feedback import release

    for group in groups:
        release.ensure_group_release(group)
    db.session.commit()


@pytest.fixture
def unit(app, facilitator):
    from groups.models import Attendance
    from meetings.models import ActionItem, Meeting, MeetingParticipant
    from tests.factories import make_client

    money = make_group([facilitator], title="Raharyhmä", theme="Raha", sessions=2, enrolled=6,
                       start=datetime(2026, 3, 2, 10, tzinfo=UTC))
    mood = make_group([facilitator], title="Mielenryhmä", theme="Mieli", sessions=2, enrolled=2,
                      start=datetime(2026, 3, 3, 10, tzinfo=UTC))
    make_group([facilitator], title="Syksyn ryhmä", theme="Raha", sessions=1,
               start=datetime(2026, 10, 1, 10, tzinfo=UTC))  # outside the period
    # 5 different people present over the round (8 present of 12 recorded); Mieli's 2 were present.
    roll = [["present"] * 5 + ["absent"], ["present"] * 3 + ["absent", "excused", "absent"]]
    for session, statuses in zip(money.sessions, roll, strict=True):
        for enrolment, status in zip(money.enrolments, statuses, strict=True):
            db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status=status))
    for enrolment in mood.enrolments:
        db.session.add(Attendance(session_id=mood.sessions[0].id, enrolment_id=enrolment.id, status="present"))
    db.session.commit()
    w1, w2 = (services.open_session_window(s) for s in money.sessions)
    m1 = services.open_session_window(mood.sessions[0])
    db.session.commit()
    add_responses(w1, [[8, 8, 8, 8]] * 3)
    add_responses(w2, [[6, 6, 6, 6]] * 3)
    add_responses(m1, [[2, 2, 2, 2]] * 2)
    for w in (w1, w2, m1):
        close_window(w)
    release_groups(money, mood)

    client = make_client()
    for day, status in ((date(2026, 3, 10), "held"), (date(2026, 3, 20), "cancelled"), (date(2026, 4, 1), "held")):
        start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
        db.session.add(Meeting(client_id=client.id, starts_at=start, ends_at=start + timedelta(hours=1), status=status))
    db.session.commit()
    meeting = db.session.query(Meeting).first()
    who = MeetingParticipant(meeting_id=meeting.id, kind="client")
    db.session.add(who)
    db.session.flush()
    for due, status, changed in ((date(2026, 3, 15), "done", datetime(2026, 3, 15, 20, tzinfo=UTC)),  # 22:00 local, on time
                                 (date(2026, 3, 15), "done", datetime(2026, 3, 15, 22, 30, tzinfo=UTC)),  # 00:30 next day
                                 (date(2026, 3, 20), "open", None),
                                 (date(2026, 3, 25), "dropped", datetime(2026, 3, 1, tzinfo=UTC)),
                                 (date(2026, 9, 1), "done", datetime(2026, 8, 1, tzinfo=UTC))):
        db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=who.id, what="Tehtävä", due_date=due,
                                  status=status, status_changed_at=changed))
    db.session.commit()
    return money, mood


def test_report_figures_with_suppression(lead_client, unit):
    html = lead_client.get("/feedback/report", query_string={"start": "2026-03-01", "end": "2026-04-30"}).get_data(as_text=True)
    facts = html.split('<dl class="facts">')[1].split("</dl>")[0]
    assert "<dd>2 (4 ryhmäkertaa)</dd>" in facts
    assert "<dt>Osallistujat (paikalla vähintään kerran)</dt><dd>7</dd>" in facts
    assert "71 % (10 paikalla 14 kirjatusta)" in facts
    assert "<dt>Pidetyt verkostopalaverit</dt><dd>2</dd>" in facts
    assert "1 / 3 jaksolla erääntynyttä tehtävää" in facts
    # Raha: 6 answers from 5 people, mean 7.0. Mieli's group has 2 people: never released, so it
    # is left out of every figure and the total is Raha's and reveals nothing of Mieli.
    table = html.split("<tbody>")[1].split("</tfoot>")[0]
    assert '<th scope="row">Raha</th><td class="num">1</td>' in table
    assert '<td class="num">6</td><td class="num">7,0</td>' in table
    assert "Ei julkaistuja ryhmien tuloksia" in table
    assert "2.0" not in table and "5.8" not in table and '<td class="num">8</td>' not in table


def test_report_csv(lead_client, unit):
    response = lead_client.get("/feedback/report.csv", query_string={"start": "2026-03-01", "end": "2026-04-30"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert ["Pidetyt ryhmät", "2"] in rows
    assert ["Osallistumisaste", "71 %"] in rows
    assert ["Raha", "1", "6", "7,0"] in rows  # the Finnish download has a decimal comma
    assert ["Mieli", "1", "Ei julkaistuja ryhmien tuloksia", ""] in rows
    assert not any("2,0" in cell or "2.0" in cell for row in rows for cell in row)


def test_report_is_for_leads_and_checks_dates(auth_client, lead_client, unit):
    assert auth_client.get("/feedback/report").status_code == 403
    assert auth_client.get("/feedback/report.csv").status_code == 403
    html = lead_client.get("/feedback/report", query_string={"start": "2026-05-01", "end": "2026-04-01"}).get_data(as_text=True)
    assert "Loppupäivä ei voi olla ennen alkupäivää." in html and 'value="2026-05-01"' in html
    html = lead_client.get("/feedback/report", query_string={"start": "nonsense", "end": ""}).get_data(as_text=True)
    assert "Anna loppupäivä." in html
    assert lead_client.get("/feedback/report.csv", query_string={"start": "x", "end": "y"}).status_code == 400
    assert lead_client.get("/feedback/report").status_code == 200  # default period


def test_overlapping_periods_never_differ_by_fewer_than_k(app, facilitator):
    """Comparing any two reports (overlapping periods included) can only reveal whole groups that
    each have at least k responses."""
    from itertools import combinations

    from feedback.report import unit_report

    sizes = {"Maaliskuu": (datetime(2026, 3, 2, 10, tzinfo=UTC), 6),
             "Huhtikuu": (datetime(2026, 4, 6, 10, tzinfo=UTC), 3),       # too few on its own
             "Toukokuu": (datetime(2026, 5, 4, 10, tzinfo=UTC), 5)}
    for title, (start, n) in sizes.items():
        group = make_group([facilitator], title=title, theme="Raha", sessions=2, start=start, enrolled=n)
        windows = [services.open_session_window(s) for s in group.sessions]
        db.session.commit()
        attend(group.sessions[0], group.enrolments[:n - n // 2])
        attend(group.sessions[1], group.enrolments[n - n // 2:])
        add_responses(windows[0], [[7, 7, 7, 7]] * (n - n // 2))
        add_responses(windows[1], [[5, 5, 5, 5]] * (n // 2))
        for w in windows:
            close_window(w)
        release_groups(group)
    k = 5
    periods = [(date(2026, 1, 1), date(2026, m, 28)) for m in (3, 4, 5, 6)] + \
              [(date(2026, m, 1), date(2026, 6, 30)) for m in (3, 4, 5)]
    shown = []
    for start, end in periods:
        report = unit_report(start, end, k)
        row = next((line.row for line in report.themes if line.theme == "Raha"), None)
        figures = [r for r in (row, report.total) if r is not None and r.shown]
        for r in figures:
            assert r.n >= k
        shown.append(((start, end), row.n if row is not None and row.shown else 0))
    # One period inside another: what the larger adds is whole groups of at least k responses.
    for ((s1, e1), a), ((s2, e2), b) in combinations(shown, 2):
        if (s1 <= s2 and e2 <= e1) or (s2 <= s1 and e1 <= e2):
            assert abs(a - b) == 0 or abs(a - b) >= k, ((s1, e1, a), (s2, e2, b))
    # Every figure is made of whole groups; the April group (3 responses) is in none of them.
    assert {n for _p, n in shown} <= {0, 6, 5, 11}


def test_done_on_time_is_judged_by_the_helsinki_day_in_summer_and_winter(lead_client):
    """An item is done on time when it is marked done on or before its due date, a Helsinki
    calendar day: the day ends at 21.00 UTC in summer and at 22.00 UTC in winter, and on the
    nights the clocks change by the offset of that midnight. Counted by the database, with only
    the evening hours in doubt judged in Python (feedback.report)."""
    from meetings.models import ActionItem, Meeting, MeetingParticipant
    from tests.factories import make_client

    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    meeting = Meeting(client_id=make_client().id, starts_at=start, ends_at=start + timedelta(hours=1), status="held")
    db.session.add(meeting)
    db.session.flush()
    who = MeetingParticipant(meeting_id=meeting.id, kind="client")
    db.session.add(who)
    db.session.flush()
    items = [  # (due, done at UTC, on time?)
        (date(2026, 6, 10), datetime(2026, 6, 10, 19, 59, tzinfo=UTC), True),    # 22.59 local
        (date(2026, 6, 10), datetime(2026, 6, 10, 20, 30, tzinfo=UTC), True),    # 23.30 local
        (date(2026, 6, 10), datetime(2026, 6, 10, 21, 0, tzinfo=UTC), False),    # 00.00 the next day
        (date(2026, 6, 10), datetime(2026, 6, 10, 21, 30, tzinfo=UTC), False),   # 00.30 the next day
        (date(2026, 6, 10), datetime(2026, 6, 11, 8, 0, tzinfo=UTC), False),
        (date(2026, 11, 10), datetime(2026, 11, 10, 21, 30, tzinfo=UTC), True),  # 23.30 local
        (date(2026, 11, 10), datetime(2026, 11, 10, 21, 59, 59, tzinfo=UTC), True),
        (date(2026, 11, 10), datetime(2026, 11, 10, 22, 0, tzinfo=UTC), False),  # 00.00 the next day
        (date(2026, 11, 10), datetime(2026, 11, 10, 23, 0, tzinfo=UTC), False),
        # Summer time starts at 03.00 on 29 March: the midnight before is still winter's.
        (date(2026, 3, 28), datetime(2026, 3, 28, 21, 30, tzinfo=UTC), True),    # 23.30 local
        # Summer time ends at 04.00 on 25 October: the midnight before is still summer's.
        (date(2026, 10, 24), datetime(2026, 10, 24, 21, 30, tzinfo=UTC), False),  # 00.30 the next day
        (date(2026, 10, 24), datetime(2026, 10, 20, 12, 0, tzinfo=UTC), True),
    ]
    for due, changed, _on_time in items:
        db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=who.id, what="Tehtävä", due_date=due,
                                  status="done", status_changed_at=changed))
    db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=who.id, what="Auki", due_date=date(2026, 6, 10)))
    db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=who.id, what="Pois", due_date=date(2026, 6, 10),
                              status="dropped", status_changed_at=datetime(2026, 6, 1, tzinfo=UTC)))
    db.session.commit()

    html = lead_client.get("/feedback/report", query_string={"start": "2026-03-01", "end": "2026-11-30"}) \
        .get_data(as_text=True)
    on_time = sum(1 for *_item, yes in items if yes)
    assert on_time == 6
    assert f"{on_time} / {len(items) + 1} jaksolla erääntynyttä tehtävää" in html
