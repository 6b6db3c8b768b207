"""iCalendar files as pure functions: event records in, bytes out (no request, no database).

Everything that breaks real subscriptions in Google, Outlook, Apple and Thunderbird is decided
here: local times with ``TZID=Europe/Helsinki`` and a matching VTIMEZONE, stable UIDs, SEQUENCE,
DTSTAMP and LAST-MODIFIED from the row's change time (so unchanged data gives identical bytes),
``STATUS:CANCELLED`` for cancelled events, and no METHOD in subscribed feeds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vDuration

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


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime in an event record; give aware UTC")
    # Whole seconds: iCalendar has no fractions, and dropping them keeps output stable.
    return value.astimezone(UTC).replace(microsecond=0)


def _vevent(record: EventRecord, *, invitation: bool) -> Event:
    event = Event()
    event.add("uid", record.uid)
    event.add("dtstamp", _utc(record.updated_at))
    if record.created_at is not None:
        event.add("created", _utc(record.created_at))
    event.add("last-modified", _utc(record.updated_at))
    event.add("sequence", max(0, int(record.sequence)))
    event.add("summary", record.summary)
    # Local wall-clock time with TZID: the VTIMEZONE added below makes it unambiguous, and
    # clients show it in Helsinki time even where the viewer's own zone differs.
    event.add("dtstart", _utc(record.starts_at).astimezone(HELSINKI))
    event.add("dtend", _utc(record.ends_at).astimezone(HELSINKI))
    if record.location:
        event.add("location", record.location)
    if record.description:
        event.add("description", record.description)
    if record.url:
        event.add("url", record.url)
    event.add("status", "CANCELLED" if record.cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if record.cancelled else "OPAQUE")
    if invitation:
        if record.organizer:
            name, email = record.organizer
            organizer = vCalAddress(f"mailto:{email}")
            organizer.params["CN"] = name
            event.add("organizer", organizer)
        for name, email in record.attendees:
            attendee = vCalAddress(f"mailto:{email}")
            attendee.params["CN"] = name
            attendee.params["ROLE"] = "REQ-PARTICIPANT"
            attendee.params["RSVP"] = "FALSE"
            event.add("attendee", attendee)
    return event


def _calendar(name: str | None = None, method: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("name", name)
        cal.add("x-wr-calname", name)
        cal.add("x-wr-timezone", "Europe/Helsinki")
        cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(REFRESH))
    return cal


def build_feed_ics(events: list[EventRecord], name: str) -> bytes:
    """A subscribed feed: no METHOD, calendar name, refresh hints, events in a stable order."""
    cal = _calendar(name)
    for record in sorted(events, key=lambda e: (_utc(e.starts_at), e.uid)):
        cal.add_component(_vevent(record, invitation=False))
    cal.add_missing_timezones()
    return cal.to_ical()


def build_event_ics(event: EventRecord, method: str | None = None) -> bytes:
    """One event as a file: an "add to my calendar" download (no method) or an e-mail
    invitation (``method`` "REQUEST" or "CANCEL", which needs organizer and attendees)."""
    if method is not None and method not in INVITATION_METHODS:
        raise ValueError(f"method must be one of {INVITATION_METHODS} or None")
    if method == "CANCEL" and not event.cancelled:
        # A CANCEL message announces a cancellation; the event must say so too.
        from dataclasses import replace

        event = replace(event, cancelled=True)
    cal = _calendar(method=method)
    cal.add_component(_vevent(event, invitation=method is not None))
    cal.add_missing_timezones()
    return cal.to_ical()
