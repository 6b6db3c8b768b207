"""iCalendar files as pure functions: event records in, bytes out (no request, no database).

Everything that breaks real subscriptions in Google, Outlook, Apple and Thunderbird is decided
here: local times with the installation's ``TZID`` and a VTIMEZONE every client reads the same
way (``vtimezone``), UIDs unique to the installation (``UidPolicy``), SEQUENCE, DTSTAMP and
LAST-MODIFIED from the row's change time (so unchanged data gives identical bytes),
``STATUS:CANCELLED`` and a "Cancelled" title prefix for cancelled events, text without control
characters, and no METHOD in subscribed feeds. ``tests/test_calendar_interop*.py`` read every
kind of output with six independent readers.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vRecur,
    vText,
)

from core.timeutil import HELSINKI

PRODID = "-//Kohtaamo//Kohtaamo calendar export//FI"
REFRESH = timedelta(hours=1)
INVITATION_METHODS = ("REQUEST", "CANCEL")


@dataclass(frozen=True)
class EventRecord:
    """One calendar event, already stripped of anything that must not leave the system."""

    uid: str
    summary: str
    starts_at: datetime          # aware UTC
    ends_at: datetime            # aware UTC
    updated_at: datetime         # aware UTC; DTSTAMP and LAST-MODIFIED
    sequence: int = 0
    cancelled: bool = False
    location: str = ""
    description: str = ""
    url: str = ""
    created_at: datetime | None = None
    # Only used in e-mail invitations (METHOD:REQUEST/CANCEL), never in subscribed feeds.
    organizer: tuple[str, str] | None = None              # (name, email)
    attendees: tuple[tuple[str, str], ...] = field(default_factory=tuple)


LEGACY_UID_DOMAIN = "kohtaamo"


@dataclass(frozen=True)
class UidPolicy:
    """Which domain the UIDs of this installation end in.

    Sources make UIDs as ``<kind>-<id>@kohtaamo``; every installation did, so two installations'
    events collided in a calendar subscribed to both. The domain is now the installation's own
    (``calendar_export.installation``); events created before that change keep the UID their
    subscribers already have (a new UID would show up as a second copy of the event)."""

    domain: str
    legacy_before: datetime | None = None     # aware UTC; events created earlier keep "@kohtaamo"

    def uid(self, record: EventRecord) -> str:
        local, sep, domain = record.uid.rpartition("@")
        if not sep or domain != LEGACY_UID_DOMAIN:
            return record.uid
        if (self.legacy_before is not None and record.created_at is not None
                and record.created_at.astimezone(UTC) < self.legacy_before.astimezone(UTC)):
            return record.uid
        return f"{local}@{self.domain}"


# C0 control characters (NUL included) and DEL have no place in a calendar text; CR/LF are
# line breaks, written as the TEXT escape "\n" by icalendar.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAK = re.compile(r"\r\n?|\u2028|\u2029")


def clean_text(value: str) -> str:
    """Text as a calendar property may carry it: line breaks as "\n", no other control characters."""
    if value.isprintable():  # the usual case, and much faster than the substitutions
        return value
    return _CONTROL.sub("", _LINE_BREAK.sub("\n", value))


def clean_line(value: str) -> str:
    """One-line text (titles, places, names, calendar names): line breaks become spaces."""
    if value.isprintable():
        return value.strip()
    return " ".join(clean_text(value).split("\n")).strip()


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime in an event record; give aware UTC")
    # Whole seconds: iCalendar has no fractions, and dropping them keeps output stable.
    return value.astimezone(UTC).replace(microsecond=0)


def _wall_time(value: datetime, tz: ZoneInfo) -> datetime:
    """The local time to write, or UTC for a time in the hour that repeats when summer time ends:
    RFC 5545 says such a wall time is the first of the two, but ical.js reads the second."""
    local = _utc(value).astimezone(tz)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return _utc(value)
    return local


def _vevent(record: EventRecord, *, invitation: bool, tz: ZoneInfo, uids: UidPolicy | None,
            cancelled_label: str, stamp: datetime | None = None) -> Event:
    event = Event()
    event.add("uid", clean_line(uids.uid(record) if uids else record.uid))
    # A feed stamps an event with its change time, so unchanged data gives the same bytes; an
    # invitation is stamped when it is made (RFC 5546), which the caller passes as ``stamp``.
    event.add("dtstamp", _utc(stamp or record.updated_at))
    if record.created_at is not None:
        event.add("created", _utc(record.created_at))
    event.add("last-modified", _utc(record.updated_at))
    event.add("sequence", max(0, int(record.sequence)))
    summary = clean_line(record.summary)
    if record.cancelled and cancelled_label and not summary.startswith(cancelled_label):
        # Some clients ignore STATUS:CANCELLED and would show the event as if it took place.
        summary = f"{cancelled_label}: {summary}"
    event.add("summary", summary)
    # Local wall-clock time with TZID: the VTIMEZONE added with it makes it unambiguous, and
    # clients show it in the installation's time even where the viewer's own zone differs.
    event.add("dtstart", _wall_time(record.starts_at, tz))
    event.add("dtend", _wall_time(record.ends_at, tz))
    if clean_line(record.location):
        event.add("location", clean_line(record.location))
    if clean_text(record.description).strip():
        event.add("description", clean_text(record.description))
    if clean_line(record.url):
        event.add("url", clean_line(record.url))
    event.add("status", "CANCELLED" if record.cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if record.cancelled else "OPAQUE")
    if invitation:
        if record.organizer:
            name, email = record.organizer
            organizer = vCalAddress(f"mailto:{clean_line(email)}")
            organizer.params["CN"] = _param(name)
            event.add("organizer", organizer)
        for name, email in record.attendees:
            attendee = vCalAddress(f"mailto:{clean_line(email)}")
            attendee.params["CN"] = _param(name)
            attendee.params["ROLE"] = "REQ-PARTICIPANT"
            attendee.params["RSVP"] = "FALSE"
            event.add("attendee", attendee)
    return event


def _param(value: str) -> str:
    # A parameter value cannot escape anything (RFC 5545 3.2): a double quote cannot be
    # written at all, so it becomes a single one; icalendar quotes values with , ; or :.
    return clean_line(value).replace('"', "'")


def _calendar(tz: ZoneInfo, name: str | None = None, method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        # TEXT values (RFC 7986 5.1), escaped, so "Jyväskylä, diakonia" stays one name. ical.js
        # knows neither property and would show the escape "\," unless VALUE=TEXT says what
        # the value is; with it ical.js, vobject and icalendar all read the name as written.
        cal.add("name", vText(clean_line(name)), parameters={"VALUE": "TEXT"})
        cal.add("x-wr-calname", vText(clean_line(name)), parameters={"VALUE": "TEXT"})
        cal.add("x-wr-timezone", tz.key)
        cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(REFRESH))
    return cal


# --- VTIMEZONE ---------------------------------------------------------------------------------
#
# icalendar's own ``Timezone.from_tzinfo`` (7.3) writes each kind of change as one DTSTART plus
# an RDATE list, at the wall time *after* the change, with a COMMENT: ical.js reads only the
# first RDATE value (so Thunderbird put summer events an hour late), libical refuses the
# COMMENT. Every client reads the form Google Calendar exports: one STANDARD and one DAYLIGHT
# block, each a yearly rule whose DTSTART is the local wall time *before* the change. It is
# derived here from the tz database and checked against it for every year the file needs.

_DAY_NAMES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class _Transition:
    at: datetime                 # aware UTC
    offset_from: timedelta
    offset_to: timedelta
    name: str                    # TZNAME after the change
    dst: bool                    # summer time after the change

    @property
    def wall_before(self) -> datetime:
        """The local wall time at which the change happens, as a clock showed it just before
        (RFC 5545 3.6.5: DTSTART of a STANDARD/DAYLIGHT block is in TZOFFSETFROM)."""
        return (self.at + self.offset_from).replace(tzinfo=None)


@dataclass(frozen=True)
class _Block:
    dst: bool
    start: datetime              # naive local wall time before the change
    offset_from: timedelta
    offset_to: timedelta
    name: str
    rule: tuple[int, str] | None = None   # (BYMONTH, BYDAY) of a yearly rule


def _transitions(tz: ZoneInfo, first_year: int, last_year: int) -> list[_Transition]:
    """Every UTC-offset change of ``tz`` from the start of ``first_year`` to the end of ``last_year``."""
    def offset(at: datetime) -> timedelta:
        return at.astimezone(tz).utcoffset() or timedelta(0)

    found = []
    step = timedelta(hours=12)  # no zone changes its offset twice within 12 hours
    at, end = datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year + 1, 1, 1, tzinfo=UTC)
    current = offset(at)
    while at < end:
        after = at + step
        if offset(after) != current:
            low, high = at, after   # the change is in (low, high]: bisect to the second
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                if offset(mid) == current:
                    low = mid
                else:
                    high = mid
            high = high.replace(microsecond=0)
            local = high.astimezone(tz)
            found.append(_Transition(at=high, offset_from=current, offset_to=offset(high),
                                     name=local.tzname() or "", dst=bool(local.dst())))
            current = offset(high)
        at = after
    return found


def _yearly_rules(day: date) -> set[str]:
    """The BYDAY values that name ``day`` within its month: "-1SU" (last), "2SU" (second)..."""
    weekday = _DAY_NAMES[day.weekday()]
    rules = {f"{(day.day - 1) // 7 + 1}{weekday}"}
    if (day + timedelta(days=7)).month != day.month:
        rules.add(f"-1{weekday}")
    return rules


def _as_yearly_blocks(changes: list[_Transition], first_year: int, last_year: int) -> list[_Block] | None:
    """One block per kind of change with a yearly rule, or None when the zone's changes in these
    years are not the same rule every year (the zone changed its rules)."""
    kinds: dict[tuple, list[_Transition]] = {}
    for change in changes:
        kinds.setdefault((change.offset_from, change.offset_to, change.name, change.dst), []).append(change)
    if len(kinds) != 2:
        return None
    blocks = []
    for group in kinds.values():
        if [c.wall_before.year for c in group] != list(range(first_year, last_year + 1)):
            return None
        first = group[0].wall_before
        rules = set.intersection(*(_yearly_rules(c.wall_before.date()) for c in group))
        if not rules or any((c.wall_before.month, c.wall_before.time()) != (first.month, first.time())
                            for c in group):
            return None
        byday = sorted(rules)[0]  # "-1SU" sorts first: Google's form when "last" fits
        blocks.append(_Block(dst=group[0].dst, start=first, offset_from=group[0].offset_from,
                             offset_to=group[0].offset_to, name=group[0].name, rule=(first.month, byday)))
    return blocks


@functools.lru_cache(maxsize=64)
def _timezone_blocks(tz: ZoneInfo, first_year: int, last_year: int) -> tuple[_Block, ...]:
    changes = _transitions(tz, first_year, last_year)
    start = datetime(first_year, 1, 1, tzinfo=UTC).astimezone(tz)
    if not changes:
        # No summer time: one STANDARD block (from and to the same offset).
        offset = start.utcoffset() or timedelta(0)
        return (_Block(dst=False, start=datetime(first_year, 1, 1), offset_from=offset, offset_to=offset,
                       name=start.tzname() or ""),)
    blocks = _as_yearly_blocks(changes, first_year, last_year)
    if blocks is not None:
        return tuple(sorted(blocks, key=lambda b: b.start))
    # The rules changed within these years: one block per change, each with its own DTSTART and
    # no RRULE or RDATE (every reader takes a block's DTSTART), after a block that says what the
    # offset was when the years begin. After the last change its offset holds, as in the tz data.
    begin = start.utcoffset() or timedelta(0)
    return (_Block(dst=bool(start.dst()), start=datetime(first_year, 1, 1), offset_from=begin, offset_to=begin,
                   name=start.tzname() or ""),
            *(_Block(dst=c.dst, start=c.wall_before, offset_from=c.offset_from, offset_to=c.offset_to, name=c.name)
              for c in changes))


def vtimezone(tz: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of ``tz`` right for every time from ``first_year`` to ``last_year`` (and
    later, as long as the zone keeps its present rules). Built from a cached description."""
    component = Timezone()
    component.add("tzid", tz.key)
    for block in _timezone_blocks(tz, first_year, last_year):
        sub = TimezoneDaylight() if block.dst else TimezoneStandard()
        sub.add("dtstart", block.start)
        if block.rule is not None:
            month, byday = block.rule
            sub.add("rrule", vRecur({"FREQ": "YEARLY", "BYMONTH": month, "BYDAY": byday}))
        if block.name:
            sub.add("tzname", block.name)
        sub.add("tzoffsetfrom", block.offset_from)
        sub.add("tzoffsetto", block.offset_to)
        component.add_component(sub)
    return component


def _with_timezone(cal: Calendar, events: list[EventRecord], tz: ZoneInfo, today: date | None) -> None:
    """The VTIMEZONE first (some readers want it before its use), covering the events' years
    with a year to spare either side (so the first rule starts before the first event)."""
    years = {_utc(t).astimezone(tz).year for e in events for t in (e.starts_at, e.ends_at)}
    if not years:
        years = {(today or datetime.now(UTC).date()).year}
    cal.subcomponents.insert(0, vtimezone(tz, min(years) - 1, max(years) + 1))


def build_feed_ics(events: list[EventRecord], name: str, *, tz: ZoneInfo = HELSINKI,
                   uids: UidPolicy | None = None, cancelled_label: str = "Cancelled",
                   today: date | None = None) -> bytes:
    """A subscribed feed: no METHOD, calendar name, refresh hints, events in a stable order.
    An empty feed still has a component (its VTIMEZONE for ``today``'s year), as RFC 5545
    requires."""
    cal = _calendar(tz, name)
    for record in sorted(events, key=lambda e: (_utc(e.starts_at), e.uid)):
        cal.add_component(_vevent(record, invitation=False, tz=tz, uids=uids, cancelled_label=cancelled_label))
    _with_timezone(cal, events, tz, today)
    return cal.to_ical()


def build_event_ics(event: EventRecord, method: str | None = None, *, tz: ZoneInfo = HELSINKI,
                    uids: UidPolicy | None = None, cancelled_label: str = "Cancelled",
                    stamp: datetime | None = None) -> bytes:
    """One event as a file: an "add to my calendar" download (no method) or an e-mail
    invitation (``method`` "REQUEST" or "CANCEL", which needs organizer and attendees)."""
    if method is not None and method not in INVITATION_METHODS:
        raise ValueError(f"method must be one of {INVITATION_METHODS} or None")
    if method == "CANCEL" and not event.cancelled:
        # A CANCEL message announces a cancellation; the event must say so too.
        event = replace(event, cancelled=True)
    cal = _calendar(tz, method=method)
    cal.add_component(_vevent(event, invitation=method is not None, tz=tz, uids=uids,
                              cancelled_label=cancelled_label, stamp=stamp))
    _with_timezone(cal, [event], tz, None)
    return cal.to_ical()
