"""Schedule generation: weekly series, Finnish holidays, break weeks, DST, 1–52 weeks."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import to_local
from groups import schedule, services
from groups.models import GroupSession
from tests.factories import make_user
from tests.test_groups_support import make_group, text_of


def _days(planned):
    return [p.day for p in planned]


def test_independence_day_is_skipped_and_series_moves_on():
    planned = schedule.plan_dates(first_date=date(2027, 11, 29), weekday=0, start=time(13, 0), minutes=90, weeks=3)
    assert _days(planned) == [date(2027, 11, 29), date(2027, 12, 13), date(2027, 12, 20)]
    assert planned[1].skipped[0][0] == date(2027, 12, 6)
    assert "Itsenäisyyspäivä" in planned[1].skipped[0][1]


def test_easter_monday_skipped_and_spring_dst_keeps_wall_time():
    # Mondays from 23.3.2026: DST starts 29.3, Easter Monday is 6.4.
    planned = schedule.plan_dates(first_date=date(2026, 3, 23), weekday=0, start=time(13, 0), minutes=90, weeks=4)
    assert _days(planned) == [date(2026, 3, 23), date(2026, 3, 30), date(2026, 4, 13), date(2026, 4, 20)]
    assert planned[0].starts_at == datetime(2026, 3, 23, 11, 0, tzinfo=UTC)   # EET, UTC+2
    assert planned[1].starts_at == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)   # EEST, UTC+3
    assert all(to_local(p.starts_at).time() == time(13, 0) for p in planned)
    assert all((p.ends_at - p.starts_at).total_seconds() == 90 * 60 for p in planned)


def test_autumn_dst_keeps_wall_time():
    # Thursdays around 25.10.2026 (DST ends).
    planned = schedule.plan_dates(first_date=date(2026, 10, 15), weekday=3, start=time(17, 0), minutes=60, weeks=3)
    assert [p.starts_at for p in planned] == [
        datetime(2026, 10, 15, 14, 0, tzinfo=UTC), datetime(2026, 10, 22, 14, 0, tzinfo=UTC),
        datetime(2026, 10, 29, 15, 0, tzinfo=UTC)]


def test_first_date_moves_to_the_chosen_weekday_and_break_weeks_are_skipped():
    breaks = schedule.parse_break_weeks("23.12.2026, 2026-12-30")
    assert breaks == [date(2026, 12, 21), date(2026, 12, 28)]
    planned = schedule.plan_dates(first_date=date(2026, 12, 9), weekday=2, start=time(10, 0), minutes=90, weeks=3,
                                  break_weeks=breaks)
    # 16.12, then two break weeks, then 6.1.2027 is Epiphany (a Wednesday), so 13.1.
    assert _days(planned) == [date(2026, 12, 9), date(2026, 12, 16), date(2027, 1, 13)]


@pytest.mark.parametrize("weeks", [0, 53])
def test_weeks_out_of_range_refused(weeks):
    with pytest.raises(services.GroupError):
        schedule.plan_dates(first_date=date(2027, 1, 4), weekday=0, start=time(13, 0), minutes=90, weeks=weeks)


def test_bad_break_week_refused():
    with pytest.raises(services.GroupError) as info:
        schedule.parse_break_weeks("joulu")
    assert info.value.field == "break_weeks"


def _schedule_post(client, group, **overrides):
    data = {"first_date": "2027-11-29", "weekday": "0", "start_time": "13:00", "minutes": "90", "weeks": "6",
            "break_weeks": ""}
    data.update(overrides)
    return client.post_form(f"/groups/{group.id}/schedule", data, token_from=f"/groups/{group.id}/schedule")


def test_schedule_page_creates_sessions(auth_client, facilitator):
    group = make_group(facilitator, make_user())
    response = _schedule_post(auth_client, group, break_weeks="15.12.2027")
    assert response.status_code == 302
    sessions = db.session.scalars(sa.select(GroupSession).where(GroupSession.group_id == group.id)
                                  .order_by(GroupSession.number)).all()
    assert [to_local(s.starts_at).date() for s in sessions] == [
        date(2027, 11, 29), date(2027, 12, 20), date(2027, 12, 27), date(2028, 1, 3), date(2028, 1, 10),
        date(2028, 1, 17)]
    assert [s.number for s in sessions] == [1, 2, 3, 4, 5, 6]
    assert all(s.room == "Ryhmähuone 1" for s in sessions)
    assert group.break_weeks == "2027-12-13"
    page = text_of(auth_client.get(f"/groups/{group.id}"))
    assert "2/6" in page and "20.12.2027" in page


@pytest.mark.parametrize("weeks", ["0", "53"])
def test_schedule_page_refuses_bad_week_count_and_keeps_input(auth_client, facilitator, weeks):
    group = make_group(facilitator, make_user())
    response = _schedule_post(auth_client, group, weeks=weeks, break_weeks="24.12.2027")
    html = text_of(response)
    assert response.status_code == 200
    assert "Valitse 1–52 viikkoa." in html
    assert 'value="24.12.2027"' in html
    assert db.session.scalar(sa.select(sa.func.count(GroupSession.id))) == 0


def test_schedule_cannot_be_replaced_once_enrolling(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=2, status="enrolling")
    response = _schedule_post(auth_client, group)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(GroupSession.id))) == 2


def test_schedule_form_starts_from_the_current_series(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=4, first=date(2027, 3, 3), start=time(9, 30))
    html = text_of(auth_client.get(f"/groups/{group.id}/schedule"))
    assert 'value="2027-03-03"' in html and 'value="09:30"' in html and 'value="4"' in html
    assert '<option selected value="2">' in html or '<option value="2" selected>' in html
