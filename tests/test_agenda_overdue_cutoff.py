"""A lead's overview judges every open record "overdue" or not: more than OVERDUE_WORKING_DAYS
working days (weekends and Finnish public holidays not counted) since it started. The judgement
is made against one cut-off day per day (core.agenda.overdue_before) instead of walking each
record's days; it must agree with counting the working days, around every kind of holiday."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from core import agenda
from core.timeutil import local_to_utc


def _counted(start: date, today: date) -> bool:
    """The definition, counted day by day (independently of core.agenda)."""
    from core.timeutil import finnish_holiday

    days, day = 0, start
    while day < today:
        day += timedelta(days=1)
        if day.weekday() < 5 and not finnish_holiday(day):
            days += 1
    return days > agenda.OVERDUE_WORKING_DAYS


def test_cutoff_agrees_with_counting_working_days():
    # Christmas and New Year, Epiphany, Easter, May Day and Ascension, Midsummer, All Saints',
    # Independence Day, ordinary weeks; every start day in the three weeks before each "today".
    todays = [date(2026, 12, 28), date(2027, 1, 7), date(2027, 3, 30), date(2027, 4, 1), date(2027, 5, 7),
              date(2027, 6, 28), date(2026, 11, 2), date(2026, 12, 8), date(2026, 12, 9), date(2027, 2, 15),
              date(2027, 2, 13), date(2027, 2, 14)]
    judged = 0
    for today in todays:
        for back in range(0, 22):
            start = today - timedelta(days=back)
            item = {"start": local_to_utc(start, time(10, 0))}
            assert agenda.is_overdue(item, today) is _counted(start, today), (start, today)
            judged += 1
    assert judged == len(todays) * 22


def test_late_evening_start_is_its_helsinki_day():
    # 23.30 UTC on Sunday is already Monday in Helsinki: the record started on Monday.
    item = {"start": datetime(2026, 11, 29, 23, 30, tzinfo=UTC)}
    assert agenda.is_overdue(item, date(2026, 12, 3)) is False  # Tue, Wed, Thu: three working days
    assert agenda.is_overdue(item, date(2026, 12, 4)) is True   # Friday: the fourth
