"""The pure iCalendar builder: what real calendar clients need, checked with icalendar and with an
independent parser (the ``ical`` package)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from calendar_export.ical import EventRecord, build_event_ics, build_feed_ics
from tests.test_calendar_export_data import hel, next_dst_change

CHANGED = datetime(2026, 11, 1, 8, 30, 15, 123456, tzinfo=UTC)


def record(uid="session-1@kohtaamo", start=None, minutes=90, **kw) -> EventRecord:
    start = start or datetime(2027, 1, 12, 15, 0, tzinfo=UTC)
    return EventRecord(uid=uid, summary=kw.pop("summary", "Raharyhmä 3/6: Kela-etuudet"), starts_at=start,
                       ends_at=start + timedelta(minutes=minutes), updated_at=kw.pop("updated_at", CHANGED), **kw)


def both_parsers(data: bytes):
    cal = icalendar.Calendar.from_ical(data)
    other = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    return cal, other


def test_feed_has_calendar_properties_and_no_method():
    data = build_feed_ics([record()], "Kohtaamo: Sovatek")
    cal, other = both_parsers(data)
    assert cal["NAME"] == "Kohtaamo: Sovatek"
    assert cal["X-WR-CALNAME"] == "Kohtaamo: Sovatek"
    assert "METHOD" not in cal
    assert cal["PRODID"].startswith("-//Kohtaamo//")
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in data
    assert b"X-PUBLISHED-TTL:PT1H" in data
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Helsinki"]
    assert len(other.events) == 1 and other.events[0].summary == "Raharyhmä 3/6: Kela-etuudet"


@pytest.mark.parametrize("month", [3, 10])
def test_instants_either_side_of_dst_change(month):
    sunday = next_dst_change(month)
    before = hel(sunday - timedelta(days=5), 17)   # the Tuesday before
    after = hel(sunday + timedelta(days=2), 17)    # the Tuesday after
    data = build_feed_ics([record("session-1@kohtaamo", before), record("session-2@kohtaamo", after)], "x")
    # Spring: 17:00 EET = 15:00Z before, 17:00 EEST = 14:00Z after; autumn the other way round.
    expected = {3: (15, 14), 10: (14, 15)}[month]
    assert (before.hour, after.hour) == expected
    cal, other = both_parsers(data)
    for ev in cal.walk("VEVENT"):
        line = ev["DTSTART"]
        assert line.params["TZID"] == "Europe/Helsinki"
        assert ev.decoded("DTSTART").hour == 17  # wall-clock time in Helsinki
    starts = {ev["UID"]: ev.decoded("DTSTART").astimezone(UTC) for ev in cal.walk("VEVENT")}
    assert starts == {"session-1@kohtaamo": before, "session-2@kohtaamo": after}
    other_starts = {e.uid: e.dtstart.astimezone(UTC) for e in other.events}
    assert other_starts == starts
    assert b"DTSTART;TZID=Europe/Helsinki:" in data
    assert b"DTSTART:" not in data.split(b"END:VTIMEZONE")[1]  # no floating or UTC start times


def test_same_records_give_identical_bytes_whatever_their_order():
    a, b = record("session-1@kohtaamo"), record("meeting-2@kohtaamo", datetime(2027, 1, 13, 9, tzinfo=UTC))
    assert build_feed_ics([a, b], "x") == build_feed_ics([b, a], "x")


def test_dtstamp_and_last_modified_come_from_the_row_and_sequence_is_kept():
    data = build_feed_ics([record(sequence=3)], "x")
    ev = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert ev.decoded("DTSTAMP") == CHANGED.replace(microsecond=0)
    assert ev.decoded("LAST-MODIFIED") == CHANGED.replace(microsecond=0)
    assert ev["SEQUENCE"] == 3
    assert ev["STATUS"] == "CONFIRMED"


def test_cancelled_event_says_so():
    data = build_feed_ics([record(cancelled=True, sequence=2)], "x")
    cal, other = both_parsers(data)
    ev = cal.walk("VEVENT")[0]
    assert ev["STATUS"] == "CANCELLED" and ev["SEQUENCE"] == 2
    assert str(other.events[0].status).upper().endswith("CANCELLED")


def test_single_event_download_and_invitations():
    plain = build_event_ics(record())
    cal, other = both_parsers(plain)
    assert "METHOD" not in cal and len(other.events) == 1
    assert "NAME" not in cal  # a download is not a subscription
    invite = build_event_ics(record(organizer=("Fiia", "fiia@example.fi"),
                                    attendees=(("Tiina", "tiina@sovatek.example"),)), method="REQUEST")
    cal = icalendar.Calendar.from_ical(invite)
    assert cal["METHOD"] == "REQUEST"
    ev = cal.walk("VEVENT")[0]
    assert str(ev["ORGANIZER"]) == "mailto:fiia@example.fi"
    assert "mailto:tiina@sovatek.example" in str(ev["ATTENDEE"])
    cancel = icalendar.Calendar.from_ical(build_event_ics(record(), method="CANCEL"))
    assert cancel["METHOD"] == "CANCEL" and cancel.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    # Attendees never leak into plain downloads or feeds.
    assert b"ATTENDEE" not in build_event_ics(record(attendees=(("Tiina", "tiina@sovatek.example"),)))
    with pytest.raises(ValueError):
        build_event_ics(record(), method="PUBLISH")


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        build_feed_ics([record(start=datetime(2027, 1, 12, 15, 0))], "x")


# --- issue #18: read the same in every client ---------------------------------------------------

def helsinki_year_records():
    """A session every Tuesday 17:00 Helsinki time for two years (summer and winter)."""
    from tests.test_calendar_interop_timezones import events_around_changes

    return [EventRecord(uid=r.uid, summary=r.summary, starts_at=r.starts_at, ends_at=r.ends_at,
                        updated_at=r.updated_at)
            for r in events_around_changes(ZoneInfo("Europe/Helsinki"), (2027, 2028))]


def test_summer_events_are_read_at_the_right_instant_by_every_reader():
    """Thunderbird (ical.js) and vobject put every summer event an hour late, libical refused
    the VTIMEZONE: it must read the same in all six readers."""
    from tests.ical_readers.readers import disagreements, read_all

    records = helsinki_year_records()
    data = build_feed_ics(records, "Kohtaamo: Sovatek")
    want = {r.uid: (r.starts_at, r.ends_at, r.summary) for r in records}
    assert disagreements(read_all({"feed": data}), {"feed": want}) == []


def test_feed_vtimezone_is_yearly_rules_without_comment_or_rdate():
    data = build_feed_ics([record()], "x").decode()
    block = data[data.index("BEGIN:VTIMEZONE"):data.index("END:VTIMEZONE")]
    assert "COMMENT" not in block and "RDATE" not in block
    assert block.count("RRULE:FREQ=YEARLY;") == 2
    assert re.search(r"DTSTART:\d{4}03\d\dT030000", block) and re.search(r"DTSTART:\d{4}10\d\dT040000", block)


def test_vtimezone_is_built_once_per_zone_and_years():
    from calendar_export.ical import _timezone_blocks

    build_feed_ics([record()], "x")
    before = _timezone_blocks.cache_info().hits
    build_feed_ics([record(summary="toinen")], "x")
    assert _timezone_blocks.cache_info().hits == before + 1


def test_empty_feed_is_a_calendar_with_a_component():
    from tests.ical_readers.readers import disagreements, read_all

    data = build_feed_ics([], "Kohtaamo: tyhjä")
    assert b"BEGIN:VTIMEZONE" in data
    assert disagreements(read_all({"empty": data}), {"empty": {}}) == []


def test_calendar_name_is_escaped_text_every_reader_reads_whole():
    from tests.ical_readers.readers import read_all

    name = "Kohtaamo: Jyväskylän seurakunta, diakonia; \\ ryhmä"
    readings = read_all({"feed": build_feed_ics([record()], name)})["feed"]
    for reader in ("ical.js", "vobject", "icalendar"):
        assert readings[reader]["names"] == [name, name], reader


HOSTILE_TEXTS = [
    "Rivi\r\nkaksi\rkolme\nneljä",
    "Pilkku, puolipiste; kaksoispiste: kenoviiva \\ ja \\n ei rivinvaihto",
    "NUL\x00 ja muut\x01\x07\x1b\x7f ohjausmerkit",
    "Emoji 🎉👩‍👩‍👧 ja ääkköset ÅÄÖ åäö " * 30,   # about 1,000 characters, 4-byte characters
    "x" * 1000,
    '"lainausmerkit" <tagi> & ampersand',
]


def read_back_title(text: str) -> str:
    """What a title must read as: one line (line breaks become spaces), no control characters."""
    text = re.sub(r"\r\n?|\n", "\n", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return " ".join(text.split("\n")).strip()


@pytest.mark.parametrize("method", [None, "feed", "REQUEST", "CANCEL"])
def test_hostile_text_is_escaped_in_every_output_and_read_back_by_every_reader(method):
    from tests.ical_readers.readers import disagreements, read_all
    from tests.test_calendar_interop_outputs import check_raw_lines

    records = [record(f"hostile-{i}@kohtaamo", datetime(2027, 6, 1 + i, 12, tzinfo=UTC), summary=text,
                      location=text, description=text, organizer=(text, "fiia@example.fi"),
                      attendees=((text, "tiina@example.fi"),))
               for i, text in enumerate(HOSTILE_TEXTS)]
    if method == "feed":
        files = {"feed": build_feed_ics(records, HOSTILE_TEXTS[0] + HOSTILE_TEXTS[1])}
    else:
        files = {f"{r.uid} {method}": build_event_ics(r, method=method) for r in records}
    expected = {}
    for name in files:
        chosen = records if name == "feed" else [next(r for r in records if name.startswith(r.uid))]
        prefix = "Cancelled: " if method == "CANCEL" else ""
        expected[name] = {r.uid: (r.starts_at, r.ends_at, prefix + read_back_title(r.summary)) for r in chosen}
    problems = [p for name, data in files.items() for p in check_raw_lines(name, data)]
    assert b"\x00" not in b"".join(files.values())
    # node-ical 0.20 unescapes TEXT one escape at a time, so an escaped backslash ("\\\\" in
    # the file) comes out wrong there; the five other readers read RFC 5545's escapes as written.
    backslashes = frozenset(("node-ical", r.uid) for r in records if "\\" in r.summary)
    problems += disagreements(read_all(files), expected, backslashes)
    assert problems == []
    # Line breaks in a description are kept, as the TEXT escape.
    cal = icalendar.Calendar.from_ical(next(iter(files.values())))
    assert str(cal.walk("VEVENT")[0]["DESCRIPTION"]) == "Rivi\nkaksi\nkolme\nneljä"


def test_long_lines_are_folded_at_75_octets_between_characters():
    data = build_feed_ics([record(summary="🎉ä" * 400, location="å" * 333)], "ö" * 200)
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # raises if a fold split a character
    unfolded = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(unfolded["SUMMARY"]) == "🎉ä" * 400
