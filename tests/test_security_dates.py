"""Dates outside the range the app handles are refused at the form, never a 500 (issue #20, point 5).

Python's dates run from year 1 to 9999; converting a local date at either end to UTC, or adding
weeks to the last one, overflows. Every date field is ``core.forms.DateField``: 1.1.2000 up to ten
years from today, read at validation time, with a translated message at the field."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from groups import schedule, services as group_services
from groups.models import GroupSession
from meetings.models import ActionItem, Meeting
from tests.factories import logged, make_client, make_user
from tests.test_groups_support import make_group

RANGE_ERROR = "Anna päivämäärä väliltä 1.1.2000–"  # the users here read Finnish


def _latest() -> str:
    from core.forms import latest_date

    last = latest_date()
    return f"{last.day}.{last.month}.{last.year}"


def test_group_schedule_with_first_date_9999_12_31_is_refused_at_the_field(auth_client, facilitator, fresh_db):
    group = make_group(facilitator, make_user())
    response = auth_client.post_form(
        f"/groups/{group.id}/schedule",
        {"first_date": "9999-12-31", "weekday": "0", "start_time": "13:00", "minutes": "90", "weeks": "6",
         "break_weeks": ""}, token_from=f"/groups/{group.id}/schedule")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert RANGE_ERROR in page and _latest() in page and 'value="9999-12-31"' in page
    assert fresh_db.scalars(sa.select(GroupSession).where(GroupSession.group_id == group.id)) == []


def test_break_weeks_in_year_1_or_9999_are_refused(auth_client, facilitator, fresh_db):
    group = make_group(facilitator, make_user())
    for weeks in ("1.1.0001", "31.12.9999"):
        response = auth_client.post_form(
            f"/groups/{group.id}/schedule",
            {"first_date": (local_today() + timedelta(days=30)).isoformat(), "weekday": "0", "start_time": "13:00",
             "minutes": "90", "weeks": "6", "break_weeks": weeks}, token_from=f"/groups/{group.id}/schedule")
        assert response.status_code == 200
        assert RANGE_ERROR in response.get_data(as_text=True)
    assert fresh_db.scalars(sa.select(GroupSession).where(GroupSession.group_id == group.id)) == []


def test_the_schedule_service_refuses_a_first_date_it_cannot_count_weeks_from():
    from datetime import time

    with pytest.raises(group_services.GroupError) as info:
        schedule.plan_dates(first_date=date(9999, 12, 31), weekday=0, start=time(13, 0), minutes=90, weeks=6)
    assert info.value.field == "first_date"


def _meeting_form(day: str) -> dict:
    return {"purpose": "Activation plan", "day": day, "start": "13:00", "length": "60", "place_kind": "office",
            "place": "Room 2", "remote_link": "", "client_identification": "initials", "include_client": "y"}


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_new_meeting_on_an_impossible_day_is_refused_at_the_field(auth_client, facilitator, fresh_db, day):
    client = make_client(worker=facilitator)
    data = _meeting_form(day)
    data["staff"] = [str(facilitator.id)]
    db.session.commit()
    seen = len(logged(fresh_db, client.id))
    response = auth_client.post_form(f"/meetings/new/{client.id}", data)
    # The refused form showed the client: its access-log row was committed with the page.
    assert logged(fresh_db, client.id)[seen:] == [("view", "new meeting form")]
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert RANGE_ERROR in page and f'value="{day}"' in page and 'value="Activation plan"' in page
    assert fresh_db.scalars(sa.select(Meeting)) == []


def test_an_action_item_due_in_year_9999_is_not_saved(auth_client, facilitator, fresh_db):
    from tests.test_meetings_support import make_meeting, participant

    meeting = make_meeting([facilitator], client=make_client(worker=facilitator))
    staff = participant(meeting, "staff")
    response = auth_client.post_form(f"/meetings/{meeting.id}/items",
                                     {"what": "Book the assessment", "responsible": str(staff.id),
                                      "with_whom": "", "due_date": "9999-12-31"},
                                     token_from=f"/meetings/{meeting.id}")
    assert response.status_code in (200, 302)
    assert fresh_db.scalars(sa.select(ActionItem).where(ActionItem.meeting_id == meeting.id)) == []
    # The same item with a real date is saved (so the refusal above was the date's).
    auth_client.post_form(f"/meetings/{meeting.id}/items",
                          {"what": "Book the assessment", "responsible": str(staff.id), "with_whom": "",
                           "due_date": (local_today() + timedelta(days=7)).isoformat()},
                          token_from=f"/meetings/{meeting.id}")
    [item] = fresh_db.scalars(sa.select(ActionItem).where(ActionItem.meeting_id == meeting.id))
    assert item.due_date == local_today() + timedelta(days=7)


def test_feedback_report_from_year_1_to_9999_is_refused_at_the_field(lead_client):
    response = lead_client.get("/feedback/report?start=0001-01-01&end=9999-12-31")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert RANGE_ERROR in page and 'value="0001-01-01"' in page
    response = lead_client.get("/feedback/report.csv?start=0001-01-01&end=9999-12-31")
    assert response.status_code < 500


def test_feedback_report_service_is_safe_at_the_ends_of_the_calendar(app):
    from feedback.report import unit_report

    report = unit_report(date(1, 1, 1), date(9999, 12, 31), 5)
    assert report.groups_held == 0


def test_the_window_is_read_at_validation_time(app, frozen_time):
    from core.forms import EARLIEST_DATE, DateField, Form, latest_date

    class One(Form):
        class Meta:
            csrf = False

        day = DateField()

    def valid(value: str) -> bool:
        from werkzeug.datastructures import MultiDict

        with app.test_request_context():
            return One(MultiDict({"day": value})).validate()

    today = local_today()
    assert valid(EARLIEST_DATE.isoformat()) and not valid((EARLIEST_DATE - timedelta(days=1)).isoformat())
    assert valid(latest_date().isoformat()) and not valid((latest_date() + timedelta(days=1)).isoformat())
    # A server running for years moves its window with the calendar.
    later = today.replace(year=today.year + 3) if not (today.month == 2 and today.day == 29) else date(today.year + 3, 3, 1)
    frozen_time(local_to_utc(later, time(12, 0)))
    assert valid((today + timedelta(days=365 * 12)).isoformat())
