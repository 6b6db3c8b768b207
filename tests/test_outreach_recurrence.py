"""Outreach recurrence rules: nth and last weekday of the month, weekly rhythms, Finnish public
holidays skipped, summer break months and break ranges."""
from __future__ import annotations

from datetime import date

from outreach.models import LAST
from outreach.services import RuleSpec, horizon_end, nth_weekday, rule_dates

TUE, FRI, MON = 1, 4, 0


def monthly(nth, weekday, **kw):
    valid_from = kw.pop("valid_from", date(2026, 1, 1))
    return RuleSpec(frequency="monthly", nth=nth, weekday=weekday, valid_from=valid_from, **kw)


def test_second_tuesday_of_each_month():
    dates = rule_dates(monthly(2, TUE), date(2026, 1, 1), date(2026, 5, 1))
    assert dates == [date(2026, 1, 13), date(2026, 2, 10), date(2026, 3, 10), date(2026, 4, 14)]
    assert all(d.weekday() == TUE and 8 <= d.day <= 14 for d in dates)


def test_last_friday_of_the_month():
    dates = rule_dates(monthly(LAST, FRI), date(2026, 1, 1), date(2026, 4, 1))
    assert dates == [date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 27)]
    # A month whose last day is the weekday itself.
    assert nth_weekday(2026, 7, FRI, LAST) == date(2026, 7, 31)


def test_public_holidays_are_skipped():
    # The first Monday of December 2027 is Independence Day (6.12.).
    dec = rule_dates(monthly(1, MON), date(2027, 11, 1), date(2028, 1, 1))
    assert dec == [date(2027, 11, 1)]
    # The last Friday of June 2027 is Midsummer Eve (25.6.).
    june = rule_dates(monthly(LAST, FRI), date(2027, 5, 1), date(2027, 8, 1))
    assert date(2027, 6, 25) not in june and june == [date(2027, 5, 28), date(2027, 7, 30)]
    # Weekly Wednesdays skip Epiphany 6.1.2027.
    weekly = RuleSpec(frequency="weekly", weekday=2, valid_from=date(2026, 12, 28))
    assert rule_dates(weekly, date(2026, 12, 28), date(2027, 1, 21)) == [
        date(2026, 12, 30), date(2027, 1, 13), date(2027, 1, 20)]


def test_summer_break_months_and_break_range():
    rule = monthly(2, TUE, break_months=(6, 7))
    dates = rule_dates(rule, date(2026, 5, 1), date(2026, 9, 1))
    assert dates == [date(2026, 5, 12), date(2026, 8, 11)]
    ranged = monthly(2, TUE, break_from=date(2026, 12, 1), break_until=date(2027, 1, 31))
    assert rule_dates(ranged, date(2026, 11, 1), date(2027, 3, 1)) == [date(2026, 11, 10), date(2027, 2, 9)]


def test_validity_and_fortnightly_rhythm():
    rule = RuleSpec(frequency="weekly", weekday=TUE, interval_weeks=2, valid_from=date(2026, 3, 3),
                    valid_until=date(2026, 4, 14))
    # Anchored to valid_from even when the window starts later.
    assert rule_dates(rule, date(2026, 3, 10), date(2026, 12, 31)) == [
        date(2026, 3, 17), date(2026, 3, 31), date(2026, 4, 14)]
    assert rule_dates(monthly(2, TUE, valid_from=date(2026, 3, 11)), date(2026, 3, 1), date(2026, 4, 1)) == []


def test_rule_that_yields_nothing():
    everything_off = monthly(1, MON, break_months=tuple(range(1, 13)))
    assert rule_dates(everything_off, date(2026, 1, 1), date(2027, 1, 1)) == []


def test_horizon_is_rest_of_month_and_three_more():
    assert horizon_end(date(2026, 11, 23)) == date(2027, 3, 1)
