"""Lists that show a summary of each row's children (a group's session span, a meeting's staff
count, the start page's first tasks) compute it with aggregate queries instead of loading the
children. These tests pin what the summaries say, so the faster queries say the same thing."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

from core.extensions import db
from core.timeutil import local_today
from groups import finding, schedule
from meetings import plan, services
from tests.factories import make_user
from tests.test_groups_support import make_group
from tests.test_meetings_support import make_meeting, participant


def test_group_list_shows_first_and_last_session_and_count(auth_client, facilitator):
    make_group(facilitator, title="Kuuden viikon raharyhmä", weeks=6, first=date(2027, 1, 4))
    make_group(facilitator, title="Ryhmä ilman aikataulua")
    page = auth_client.get("/groups/").get_data(as_text=True)
    row = re.search(r"Kuuden viikon raharyhmä.*?</tr>", page, re.S).group(0)
    # Six Mondays from 4 January 2027; Epiphany (6.1.) is a Wednesday, so none is skipped.
    assert "4.1.2027–8.2.2027 (6)" in row
    empty = re.search(r"Ryhmä ilman aikataulua.*?</tr>", page, re.S).group(0)
    assert "Aikataulua ei ole vielä sovittu" in empty


def test_session_spans_count_every_session_including_cancelled(app, facilitator):
    group = make_group(facilitator, weeks=4, first=date(2027, 3, 1))
    schedule.set_session_status(group.sessions[1], "cancelled", facilitator)
    db.session.commit()
    span = finding.session_spans([group.id])[group.id]
    assert span.count == 4
    assert span.first == group.sessions[0].starts_at and span.last == group.sessions[-1].starts_at
    assert span.first.tzinfo is not None
    assert finding.session_spans([]) == {}


def test_start_page_sessions_show_number_of_total(auth_client, facilitator):
    # The agenda's day comes from the URL, fixed to a day with no public holiday on it or on the
    # series' other weekdays: a holiday skips that week (say Independence Day, Sunday 6.12.2026).
    today = date(2026, 11, 25)
    make_group(facilitator, title="Tämän päivän ryhmä", weeks=5, first=today - timedelta(weeks=2), start=time(23, 0),
               minutes=30)
    page = auth_client.get(f"/?day={today.isoformat()}").get_data(as_text=True)
    assert re.search(r"Tämän päivän ryhmä, ryhmäkerta 3/5", page), page


def test_start_page_task_panel_shows_first_five_and_how_many_more(auth_client, facilitator):
    meeting = make_meeting([facilitator, make_user()], day=local_today() - timedelta(days=3))
    me = participant(meeting, "staff", user_id=facilitator.id)
    today = local_today()
    for n in range(7):
        plan.add_item(meeting, responsible_id=me.id, what=f"Tehtävä {n}", due_date=today + timedelta(days=n - 2))
    plan.add_item(meeting, responsible_id=me.id, what="Tehtävä ilman päivää")
    db.session.commit()
    page = auth_client.get("/").get_data(as_text=True)
    panel = re.search(r'id="panel-my-tasks".*?</section>', page, re.S).group(0)
    shown = re.findall(r"Tehtävä [^<–]*", panel)
    # Overdue first (due two and one days ago), then by due date; the one without a date last.
    assert [s.strip() for s in shown] == ["Tehtävä 0", "Tehtävä 1", "Tehtävä 2", "Tehtävä 3", "Tehtävä 4"]
    assert panel.count("badge-error") == 2
    assert "3" in re.search(r"<p>[^<]*3[^<]*</p>", panel).group(0)  # "And 3 more."
    items, total = plan.first_open_items(facilitator.id, 5)
    assert total == 8 and len(items) == 5


def test_meeting_list_flags_single_worker_meetings_only(auth_client, facilitator):
    make_meeting([facilitator], purpose="Yksin sovittu")
    make_meeting([facilitator, make_user()], purpose="Parityönä")
    page = auth_client.get("/meetings/").get_data(as_text=True)
    single = re.search(r"Yksin sovittu.*?</td>", page, re.S).group(0)
    pair = re.search(r"Parityönä.*?</td>", page, re.S).group(0)
    assert "single-worker-flag" in single
    assert "single-worker-flag" not in pair
    assert services.staff_counts([]) == {}
