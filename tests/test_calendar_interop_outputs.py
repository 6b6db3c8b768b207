"""Every kind of calendar output, made through the app's real code paths, read by six independent
readers (``tests/ical_readers``): ical.js (Thunderbird), node-ical, libical (Evolution), vobject,
icalendar and recurring-ical-events. Every event must be read by all of them at the same start
and end instant, equal to what ``zoneinfo`` gives for its local wall time, with the same title.

The issue this guards against: the feeds' VTIMEZONE for Europe/Helsinki listed its changes as one
RDATE with many values; ical.js reads only the first, so Thunderbird showed every summer event an
hour late, while icalendar (which ignores the VTIMEZONE body) said all was well.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.extensions import db
from groups.schedule import set_session_status, update_session
from reminders.invitations import invitation_ics
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_partner
from tests.ical_readers.readers import READERS, disagreements, read_all
from tests.test_calendar_export_data import make_group, make_meeting, make_session, next_dst_change, subscribe

HELSINKI = ZoneInfo("Europe/Helsinki")  # the reference: Python's own reading of the tz database
# Every character class that has broken calendar files: TEXT separators, a backslash, a line
# break, Finnish letters and an emoji (4 bytes in UTF-8, so folding could split it).
HOSTILE = "Kahvi, pulla; \\polku\\ ja\nrivi ÄÖÅ äöå 🎉"
HOSTILE_READ = "Kahvi, pulla; \\polku\\ ja rivi ÄÖÅ äöå 🎉"  # a title is one line
PARTNER = "Jyväskylän seurakunta, diakonia"


def wall(day: date, hour: int, minute: int = 0) -> datetime:
    """The instant of a Helsinki wall-clock time, as zoneinfo reads it."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HELSINKI).astimezone(UTC)


@pytest.fixture
def world(app, facilitator, lead):
    """A group with a session every day of the weeks around both DST changes, a summer session,
    a cancelled and a moved session, a hostile title; network meetings in summer and winter."""
    partner = make_partner(name=PARTNER)
    client = make_client(name="Matti Meikäläinen")
    group = make_group(HOSTILE, (facilitator, lead), partners=[partner], room="Sali; 2, \\ B")
    spring, autumn = next_dst_change(3), next_dst_change(10)
    days = [change + timedelta(days=d) for change in (spring, autumn) for d in range(-3, 4)]
    summer = date(spring.year, 7, 15)
    times = [wall(d, 17, 30) for d in days] + [wall(summer, 10), wall(spring, 2, 30), wall(autumn, 3, 30)]
    sessions = [make_session(group, n, start, topic="Budjetti" if n % 2 else "") for n, start in
                enumerate(sorted(times), start=1)]
    cancelled, moved = sessions[2], sessions[-1]
    set_session_status(cancelled, "cancelled", facilitator)
    new_start = wall(autumn + timedelta(days=5), 9, 15)  # moved across the autumn change
    update_session(moved, starts_at=new_start, ends_at=new_start + timedelta(minutes=150), topic=moved.topic,
                   room=moved.room, plan_notes="", user=facilitator)
    meetings = [make_meeting(client, start, staff=[facilitator], contacts=partner.contacts, minutes=75)
                for start in (wall(summer, 13), wall(autumn + timedelta(days=1), 8, 45), wall(spring, 4, 0))]
    # One-to-one appointments in the staff and unit feeds: in summer, and across the autumn change.
    from appointments import services as appointments

    booked = [appointments.book(client=client, kind=kind, starts_at=start, ends_at=start + timedelta(minutes=45),
                                worker_ids=[facilitator.id], place="Huone 3")
              for kind, start in (("office", wall(summer, 9, 15)), ("phone", wall(autumn, 2, 45)))]
    empty = make_group("Tyhjä ryhmä", (lead,))
    db.session.commit()
    return dict(partner=partner, group=group, sessions=sessions, cancelled=cancelled, moved=moved,
                meetings=meetings, empty=empty, facilitator=facilitator, appointments=booked)


def session_title(session, total: int, *, cancelled_word="Peruttu") -> str:
    title = f"{HOSTILE_READ} {session.number}/{total}" + (f": {session.topic}" if session.topic else "")
    return f"{cancelled_word}: {title}" if session.status == "cancelled" else title


def expected_events(w, *, sessions=True, meetings=True, appointments=True) -> dict:
    out = {}
    if appointments:
        titles = {"office": "Tapaaminen, toimisto", "phone": "Tapaaminen, puhelin"}
        for a in w["appointments"]:
            out[calendar_uid("appointment", a.id)] = (a.starts_at, a.ends_at, titles[a.kind.value])
    if sessions:
        for s in w["sessions"]:
            out[calendar_uid("session", s.id)] = (s.starts_at, s.ends_at, session_title(s, len(w["sessions"])))
    if meetings:
        for m in w["meetings"]:
            out[calendar_uid("meeting", m.id)] = (m.starts_at, m.ends_at, "Verkostopalaveri")
    return out


def check_raw_lines(name: str, data: bytes) -> list[str]:
    """RFC 5545 3.1 on the raw bytes: CRLF line ends only, no line over 75 octets, folds never
    inside a UTF-8 character, no control characters; no COMMENT or RDATE in a VTIMEZONE."""
    problems = []
    if not data.endswith(b"\r\n"):
        problems.append(f"{name}: does not end in CRLF")
    lines = data.split(b"\r\n")[:-1]
    for i, line in enumerate(lines):
        if b"\n" in line or b"\r" in line:
            problems.append(f"{name}: bare line break in line {i}: {line[:80]!r}")
        if len(line) > 75:
            problems.append(f"{name}: line {i} is {len(line)} octets")
        try:
            text = line.decode("utf-8")  # a fold inside a character would not decode alone
        except UnicodeDecodeError:
            problems.append(f"{name}: line {i} splits a UTF-8 character: {line!r}")
            continue
        if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text):
            problems.append(f"{name}: control character in line {i}")
    unfolded = data.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode("utf-8")
    for block in re.findall(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE", unfolded, re.S):
        if re.search(r"^(COMMENT|RDATE)[:;]", block, re.M):
            problems.append(f"{name}: VTIMEZONE with COMMENT or RDATE")
    return problems


def test_every_output_reads_the_same_in_every_reader(client, auth_client, world):
    w = world
    feeds = {
        "staff feed": (subscribe("staff", w["facilitator"].id), expected_events(w)),
        "group feed": (subscribe("group", w["group"].id), expected_events(w, meetings=False, appointments=False)),
        "partner feed": (subscribe("partner", w["partner"].id), expected_events(w, appointments=False)),
        "unit feed": (subscribe("unit"), expected_events(w)),
        "empty feed": (subscribe("group", w["empty"].id), {}),
    }
    files, expected = {}, {}
    for name, (url, events) in feeds.items():
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/calendar"
        files[name], expected[name] = response.get_data(), events
    # Single-event downloads, as the logged-in facilitator gets them.
    every = expected_events(w)
    for kind, row in (("session", w["moved"]), ("session", w["cancelled"]), ("meeting", w["meetings"][0])):
        response = auth_client.get(f"/calendar/{kind}/{row.id}.ics")
        assert response.status_code == 200
        uid = calendar_uid(kind, row.id)
        files[f"{kind} {row.id} download"], expected[f"{kind} {row.id} download"] = (
            response.get_data(), {uid: every[uid]})
    # Invitations: the bytes the reminders feature attaches to its e-mails.
    meeting = w["meetings"][1]
    uid = calendar_uid("meeting", meeting.id)
    for method, word in (("REQUEST", None), ("CANCEL", "Peruttu")):
        text = invitation_ics(meeting, method, ("Tiina Kumppani", "tiina@partner.example"),
                              ("Kohtaamo", "kohtaamo@sosiaali.example"), "fi")
        files[f"{method} invitation"] = text.encode("utf-8")
        summary = f"{word}: Verkostopalaveri" if word else "Verkostopalaveri"
        expected[f"{method} invitation"] = {uid: (meeting.starts_at, meeting.ends_at, summary)}

    problems = [p for name, data in files.items() for p in check_raw_lines(name, data)]
    readings = read_all(files)
    problems += disagreements(readings, expected)
    assert problems == []
    # The summer session (the symptom) and the sessions either side of both changes.
    summer = next(s for s in w["sessions"] if s.starts_at.astimezone(HELSINKI).month == 7)
    assert summer.starts_at.astimezone(HELSINKI).utcoffset() == timedelta(hours=3)
    assert all(set(by_reader) == set(READERS) for by_reader in readings.values())
    # The partner's name, with its comma, survives as one calendar name.
    for reader in ("ical.js", "vobject", "icalendar"):
        assert readings["partner feed"][reader]["names"] == [f"Kohtaamo: {PARTNER}"] * 2, reader


def test_the_feed_vtimezone_is_one_yearly_rule_per_change(client, world):
    data = client.get(subscribe("unit")).get_data().decode("utf-8")
    block = re.search(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE", data, re.S).group(0)
    assert "TZID:Europe/Helsinki" in block
    assert re.search(r"BEGIN:DAYLIGHT\r\nDTSTART:\d{4}03\d\dT030000\r\nRRULE:FREQ=YEARLY;(BYDAY=-1SU;BYMONTH=3|"
                     r"BYMONTH=3;BYDAY=-1SU)\r\n", block)
    assert re.search(r"BEGIN:STANDARD\r\nDTSTART:\d{4}10\d\dT040000\r\nRRULE:FREQ=YEARLY;(BYDAY=-1SU;BYMONTH=10|"
                     r"BYMONTH=10;BYDAY=-1SU)\r\n", block)
    assert block.count("BEGIN:DAYLIGHT") == 1 and block.count("BEGIN:STANDARD") == 1
    assert "COMMENT" not in block and "RDATE" not in block


@pytest.mark.parametrize("language, word", [("fi", "Peruttu"), ("sv", "Inställt")])
def test_a_cancelled_invitation_says_so_in_its_title_in_the_invitees_language(world, language, word):
    """For clients that ignore STATUS:CANCELLED."""
    import icalendar

    meeting = world["meetings"][0]
    text = invitation_ics(meeting, "CANCEL", ("Tiina", "tiina@partner.example"), ("Kohtaamo", "k@example.fi"),
                          language)
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert str(event["SUMMARY"]).startswith(f"{word}: ") and str(event["STATUS"]) == "CANCELLED"


def test_a_missing_reader_fails_in_ci_and_skips_elsewhere(monkeypatch):
    from tests.ical_readers import readers

    for key in ("CI", "REQUIRE_BROWSER"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(pytest.skip.Exception):
        readers.missing("node is not installed")
    for key in ("CI", "REQUIRE_BROWSER"):
        monkeypatch.setenv(key, "1")
        with pytest.raises(pytest.fail.Exception):
            readers.missing("node is not installed")
        monkeypatch.delenv(key)
