"""Test data for the calendar_export tests: groups, sessions and network meetings created as rows
directly (the groups and meetings services are built elsewhere), and DST dates that stay inside
the feed window whenever the tests run."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from core.db import utcnow
from core.extensions import db
from core.timeutil import local_to_utc


def last_sunday(year: int, month: int) -> date:
    day = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def next_dst_change(month: int) -> date:
    """The next last Sunday of ``month`` (3 = spring forward, 10 = fall back) at least a week away."""
    today = utcnow().date()
    year = today.year
    while last_sunday(year, month) < today + timedelta(days=7):
        year += 1
    return last_sunday(year, month)


def hel(day: date, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(day, time(hour, minute))


def soon(days: int = 7, hour: int = 17) -> datetime:
    return hel(utcnow().date() + timedelta(days=days), hour)


def make_group(title: str = "Raharyhmä", facilitators=(), *, venue: str = "Kohtaamo, Kauppakatu 5",
               room: str = "Iso sali", partners=()):
    from groups.models import Group, GroupPartner

    f1 = facilitators[0] if len(facilitators) > 0 else None
    f2 = facilitators[1] if len(facilitators) > 1 else None
    group = Group(title=title, venue=venue, room=room, status="running",
                  facilitator1_id=f1.id if f1 else None, facilitator2_id=f2.id if f2 else None)
    db.session.add(group)
    db.session.flush()
    for partner in partners:
        db.session.add(GroupPartner(group_id=group.id, partner_id=partner.id))
    db.session.flush()
    return group


def make_session(group, number: int, starts_at: datetime, *, minutes: int = 90, topic: str = "",
                 status: str = "scheduled", room: str = ""):
    from groups.models import GroupSession

    s = GroupSession(group_id=group.id, number=number, starts_at=starts_at,
                     ends_at=starts_at + timedelta(minutes=minutes), topic=topic, status=status, room=room)
    db.session.add(s)
    db.session.flush()
    return s


def make_meeting(client, starts_at: datetime, *, staff=(), contacts=(), minutes: int = 60,
                 place_kind: str = "office", place: str = "Kohtaamo, huone 3", remote_link: str = "",
                 purpose: str = "", status: str = "planned"):
    from meetings.models import Meeting, MeetingParticipant

    m = Meeting(client_id=client.id, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes),
                place_kind=place_kind, place=place, remote_link=remote_link, purpose=purpose, status=status)
    db.session.add(m)
    db.session.flush()
    db.session.add(MeetingParticipant(meeting_id=m.id, kind="client"))
    for user in staff:
        db.session.add(MeetingParticipant(meeting_id=m.id, kind="staff", user_id=user.id))
    for contact in contacts:
        db.session.add(MeetingParticipant(meeting_id=m.id, kind="partner", contact_id=contact.id))
    db.session.flush()
    return m


def subscribe(kind: str, target_id: int | None = None, label: str = "", created_by=None) -> str:
    """A committed subscription; returns the feed path with its token."""
    from calendar_export.services import create_subscription

    _sub, token = create_subscription(kind=kind, target_id=target_id, label=label, created_by=created_by)
    db.session.commit()
    return f"/calendar/{token}.ics"
