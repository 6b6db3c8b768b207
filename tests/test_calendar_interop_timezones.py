"""The VTIMEZONE builder (``calendar_export.ical.vtimezone``), read by six independent readers:
events around every offset change of several zones and years must be read at the instant
``zoneinfo`` gives for their local wall time, by every reader."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from calendar_export.ical import EventRecord, _transitions, build_feed_ics, vtimezone
from tests.ical_readers.readers import disagreements, read_all

CHANGED = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
YEARS = (2026, 2027, 2028, 2029, 2031)


def event(uid: str, start: datetime, minutes: int = 90) -> EventRecord:
    return EventRecord(uid=uid, summary=f"Tapahtuma {uid}", starts_at=start.astimezone(UTC),
                       ends_at=(start + timedelta(minutes=minutes)).astimezone(UTC), updated_at=CHANGED)


def events_around_changes(tz: ZoneInfo, years=YEARS) -> list[EventRecord]:
    """Wall-clock events (zoneinfo's reading of them is the reference) the days before and after
    each change, at the hours next to it, plus one in the middle of each half-year."""
    records = []
    for year in years:
        walls = [datetime(year, 1, 15, 10), datetime(year, 7, 15, 17)]
        for change in _transitions(tz, year, year):
            local = change.at.astimezone(tz).replace(tzinfo=None)
            for days in (-6, -1, 0, 1, 6):
                day = (local + timedelta(days=days)).date()
                walls += [datetime.combine(day, datetime.min.time()).replace(hour=h) for h in (0, 1, 5, 9, 17, 23)]
        for wall in walls:
            # zoneinfo's instant for the wall time (the first one when it repeats; in the spring
            # gap an instant around it): the app stores instants, any instant is a fair question.
            start = wall.replace(tzinfo=tz)
            records.append(event(f"{tz.key.replace('/', '-')}-{wall:%Y%m%dT%H%M}@test", start))
    return records


def expected(records: list[EventRecord]) -> dict:
    return {r.uid: (r.starts_at, r.ends_at, r.summary) for r in records}


ZONES = ("Europe/Helsinki", "Asia/Kolkata", "Australia/Sydney", "America/New_York")


@pytest.mark.parametrize("zone", ZONES)
def test_every_reader_reads_every_event_at_zoneinfos_instant(zone):
    tz = ZoneInfo(zone)
    records = events_around_changes(tz)
    assert len(records) >= 2 * len(YEARS)
    data = build_feed_ics(records, f"Testi {zone}", tz=tz)
    readings = read_all({zone: data})
    assert disagreements(readings, {zone: expected(records)}) == []


def test_helsinki_is_one_yearly_rule_per_change_with_the_wall_time_before_it():
    tz = vtimezone(ZoneInfo("Europe/Helsinki"), 2026, 2028)
    blocks = {c.name: c for c in tz.subcomponents}
    assert set(blocks) == {"STANDARD", "DAYLIGHT"} and len(tz.subcomponents) == 2
    daylight, standard = blocks["DAYLIGHT"], blocks["STANDARD"]
    text = tz.to_ical().decode()
    assert "DTSTART:20260329T030000" in text and "DTSTART:20261025T040000" in text
    assert daylight["RRULE"].to_ical() in (b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3", b"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU")
    assert standard["RRULE"].to_ical() in (b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
                                           b"FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU")
    assert daylight["TZOFFSETFROM"].to_ical() == "+0200" and daylight["TZOFFSETTO"].to_ical() == "+0300"
    assert standard["TZOFFSETFROM"].to_ical() == "+0300" and standard["TZOFFSETTO"].to_ical() == "+0200"
    assert "RDATE" not in text and "COMMENT" not in text and "UNTIL" not in text


def test_a_zone_without_summer_time_has_one_standard_block():
    tz = vtimezone(ZoneInfo("Asia/Kolkata"), 2026, 2030)
    assert [c.name for c in tz.subcomponents] == ["STANDARD"]
    assert tz.subcomponents[0]["TZOFFSETTO"].to_ical() == "+0530"


def test_southern_zone_has_summer_over_the_new_year():
    blocks = {c.name: c for c in vtimezone(ZoneInfo("Australia/Sydney"), 2026, 2028).subcomponents}
    assert blocks["DAYLIGHT"].decoded("DTSTART").month == 10 and blocks["STANDARD"].decoded("DTSTART").month == 4
    assert blocks["DAYLIGHT"]["TZOFFSETTO"].to_ical() == "+1100"


@pytest.mark.parametrize("zone, years", [("America/Sao_Paulo", (2017, 2018, 2019, 2020)),
                                         ("Europe/Moscow", (2010, 2011, 2012, 2014, 2015))])
def test_a_zone_that_changed_its_rules_falls_back_to_one_block_per_change(zone, years):
    """Sao Paulo dropped summer time in 2019, Moscow kept it all year in 2011 and left it in 2014:
    no yearly rule fits, so each change is a block of its own, and every reader agrees."""
    tz = ZoneInfo(zone)
    records = events_around_changes(tz, years)
    data = build_feed_ics(records, zone, tz=tz)
    component = icalendar.Calendar.from_ical(data).walk("VTIMEZONE")[0]
    assert all("RRULE" not in c and "RDATE" not in c for c in component.subcomponents)
    assert len(component.subcomponents) > 2
    assert disagreements(read_all({zone: data}), {zone: expected(records)}) == []
