"""A group's sessions: the schedule generated from the first date, weekday and break weeks, session
changes and cancellations, topics, conflicts with other bookings and holidays, and copying a round.

Functions take and return models and flush; rule violations raise ``GroupError``."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l

from core.conflicts import BUSY_PARAMS, Conflict, find_conflicts as core_find_conflicts
from core.db import utcnow
from core.extensions import db
from core.forms import date_in_range, date_range_message
from core.timeutil import holiday_label, local_to_utc, to_local

from .models import (
    Group,
    GroupPartner,
    GroupSession,
    GroupStatus,
    SessionChange,
    SessionStatus,
)
from .services import MAX_WEEKS, GroupError, scheduled_sessions

# --- schedule -----------------------------------------------------------------------------------

def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_break_weeks(raw: str) -> list[date]:
    """Mondays of the listed break weeks; any day of the week may be given (d.m.yyyy or ISO)."""
    mondays = set()
    for part in (raw or "").replace(";", ",").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        day = None
        for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
            try:
                day = datetime.strptime(part, fmt).date()
                break
            except ValueError:
                continue
        if day is None:
            raise GroupError(_("“%(value)s” is not a date. Write dates like 23.12.2026, separated by commas.",
                               value=part), "break_weeks")
        if not date_in_range(day):  # year 1 or 9999 would be stored, and overflow week arithmetic
            raise GroupError(date_range_message(), "break_weeks")
        mondays.add(monday_of(day))
    return sorted(mondays)


def format_break_weeks(group: Group) -> str:
    return ", ".join(f"{d.day}.{d.month}.{d.year}" for d in group_break_weeks(group))


def group_break_weeks(group: Group) -> list[date]:
    return [date.fromisoformat(v) for v in (group.break_weeks or "").split(",") if v]


@dataclass
class PlannedSession:
    number: int
    day: date
    starts_at: datetime
    ends_at: datetime
    skipped: list[tuple[date, str]] = field(default_factory=list)   # (day, why) skipped before this one




def plan_dates(*, first_date: date, weekday: int, start: time, minutes: int, weeks: int,
               break_weeks: Sequence[date] = ()) -> list[PlannedSession]:
    """The weekly series: the first ``weekday`` on or after ``first_date``, then every week.
    A public holiday or a break week is skipped and the series moves on a week, so the group
    still gets ``weeks`` sessions. Local wall time stays the same across DST changes."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise GroupError(_("Choose between 1 and %(max)s weeks.", max=MAX_WEEKS), "weeks")
    if not 15 <= minutes <= 480:
        raise GroupError(_("A session lasts between 15 minutes and 8 hours."), "minutes")
    if not 0 <= weekday <= 6:
        raise GroupError(_("Choose a weekday."), "weekday")
    if not date_in_range(first_date):  # the weeks after 31.12.9999 do not exist
        raise GroupError(date_range_message(), "first_date")
    breaks = set(break_weeks)
    day = first_date + timedelta(days=(weekday - first_date.weekday()) % 7)
    result: list[PlannedSession] = []
    skipped: list[tuple[date, str]] = []
    # A hard stop: even a year of holidays cannot make this loop run away.
    for _i in range(weeks + 104):
        if len(result) == weeks:
            break
        holiday = holiday_label(day)
        if holiday:
            skipped.append((day, holiday))
        elif monday_of(day) in breaks:
            skipped.append((day, _l("break week")))
        else:
            starts = local_to_utc(day, start)
            ends = local_to_utc(day, start) + timedelta(minutes=minutes)
            result.append(PlannedSession(len(result) + 1, day, starts, ends, skipped))
            skipped = []
        day += timedelta(days=7)
    return result


def generate_schedule(group: Group, planned: list[PlannedSession], *, topics: list[str] | None = None,
                      minutes: int | None = None, break_weeks: list[date] | None = None) -> list[GroupSession]:
    """Replace the group's sessions with the planned series (only while nobody attended yet)."""
    if group.status not in (GroupStatus.IDEA.value, GroupStatus.PLANNING.value):
        raise GroupError(_("The schedule can be generated only while the group is being planned. "
                           "Move single sessions instead."))
    if any(s.attendance for s in group.sessions):
        raise GroupError(_("Attendance has been recorded; the schedule can no longer be replaced."))
    old_topics = [s.topic for s in sorted(group.sessions, key=lambda s: s.number)]
    topics = topics if topics is not None else old_topics
    for old in list(group.sessions):
        group.sessions.remove(old)
    db.session.flush()
    created = []
    for p in planned:
        topic = topics[p.number - 1] if p.number - 1 < len(topics) else ""
        s = GroupSession(number=p.number, starts_at=p.starts_at, ends_at=p.ends_at, topic=topic, room=group.room)
        group.sessions.append(s)
        created.append(s)
    if minutes:
        group.session_minutes = minutes
    if break_weeks is not None:
        group.break_weeks = ",".join(d.isoformat() for d in break_weeks)
    group.version += 1
    db.session.flush()
    return created


def _fmt_local(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def update_session(session: GroupSession, *, starts_at: datetime, ends_at: datetime, topic: str, room: str,
                   plan_notes: str, user=None, notify: bool = True) -> GroupSession:
    """Move, re-room or re-topic one session. Each change is recorded and raises the sequence
    (calendar clients apply an update only when SEQUENCE grows). A new time or room is told to
    the participants (``signals.session_changed``) unless ``notify`` is False."""
    if ends_at <= starts_at:
        raise GroupError(_("The end must be after the start."), "end_time")
    old_starts_at, old_room = session.starts_at, session.room
    changes = []
    if starts_at != session.starts_at or ends_at != session.ends_at:
        changes.append(("time", f"{_fmt_local(session.starts_at)}–{to_local(session.ends_at):%H:%M}",
                        f"{_fmt_local(starts_at)}–{to_local(ends_at):%H:%M}"))
        session.starts_at, session.ends_at = starts_at, ends_at
    if room != session.room:
        changes.append(("room", session.room, room))
        session.room = room
    if topic != session.topic:
        changes.append(("topic", session.topic, topic))
        session.topic = topic
    session.plan_notes = plan_notes
    _record(session, changes, user)
    session.version += 1
    db.session.flush()
    if (old_starts_at, old_room) != (session.starts_at, session.room) and not session.is_cancelled:
        _session_signal(session, "moved", old_starts_at, notify)
    return session


def _session_signal(session: GroupSession, change: str, old_starts_at: datetime, notify: bool) -> None:
    from flask import current_app

    from .signals import session_changed

    # current_app is a LocalProxy typed as the Flask it stands for; the method is the proxy's.
    sender = current_app._get_current_object()  # type: ignore[attr-defined]
    session_changed.send(sender, session=session, change=change,
                         old_starts_at=old_starts_at, notify=notify)


def set_topics(group: Group, topics: dict[int, str], user=None) -> int:
    """Set the topics of several sessions at once; each change is recorded as update_session's."""
    changed = 0
    for session in group.sessions:
        topic = topics.get(session.id)
        if topic is None or topic == session.topic:
            continue
        _record(session, [("topic", session.topic, topic)], user)
        session.topic = topic
        session.version += 1
        changed += 1
    db.session.flush()
    return changed


def can_restore_session(session: GroupSession) -> bool:
    """A cancelled session can be brought back until its time (an undo, as for meetings)."""
    return session.is_cancelled and session.starts_at > utcnow()


def set_session_status(session: GroupSession, status: str, user=None, notify: bool = True) -> GroupSession:
    """Cancel a session, or undo its cancellation before its time; either way the enrolled
    clients are told (unless ``notify`` is off), through reminders' one change-notice function."""
    if status not in (SessionStatus.SCHEDULED.value, SessionStatus.CANCELLED.value):
        raise GroupError(_("Unknown status."))
    if status != session.status:
        if status == SessionStatus.SCHEDULED.value and not can_restore_session(session):
            raise GroupError(_("A cancelled session can be restored only before its time."))
        _record(session, [("status", session.status, status)], user)
        session.status = status
        session.version += 1
        db.session.flush()
        _session_signal(session, "cancelled" if status == SessionStatus.CANCELLED.value else "restored",
                        session.starts_at, notify)
    return session


def _record(session: GroupSession, changes: list[tuple[str, str, str]], user) -> None:
    for name, old, new in changes:
        session.changes.append(SessionChange(field=name, old_value=(old or "")[:300], new_value=(new or "")[:300],
                                             changed_by_id=getattr(user, "id", None)))
    if changes:
        session.sequence += 1
        # onupdate fires only when a column of the row changes; make the stamp explicit anyway.
        session.updated_at = utcnow()


# --- conflicts ----------------------------------------------------------------------------------

class GroupBusy:
    """Group sessions as a busy source of the one conflict check (``core.conflicts``): their
    facilitators, and the session's room (or the group's). A group's title is no one's secret."""

    kind = "group"

    def busy(self, people, room):
        live = sa.and_(GroupSession.status != SessionStatus.CANCELLED.value, GroupSession.starts_at < BUSY_PARAMS.hi,
                       GroupSession.ends_at > BUSY_PARAMS.lo, GroupSession.starts_at > BUSY_PARAMS.earliest_start)
        session_room = sa.func.coalesce(sa.func.nullif(GroupSession.room, ""), Group.room, "")
        parts = []
        for column in (Group.facilitator1_id, Group.facilitator2_id):
            if people:
                parts.append(sa.select(GroupSession.id, column, session_room, Group.title, GroupSession.starts_at,
                                       GroupSession.ends_at)
                             .join(Group, Group.id == GroupSession.group_id).where(live, column.in_(BUSY_PARAMS.user_ids)))
        if room:
            parts.append(sa.select(GroupSession.id, sa.cast(sa.null(), sa.Integer), session_room, Group.title,
                                   GroupSession.starts_at, GroupSession.ends_at)
                         .join(Group, Group.id == GroupSession.group_id)
                         .where(live, sa.func.lower(sa.func.trim(session_room)) == BUSY_PARAMS.room))
        return parts

    def openable(self, viewer, record_ids):
        return set(record_ids)

    def describe(self, c: Conflict) -> str:
        if c.is_room:
            return _("%(when)s: the room %(room)s is booked for “%(group)s”.", when=c.when, room=c.room, group=c.title)
        return _("%(when)s: %(name)s is facilitating “%(group)s” at the same time.", when=c.when, name=c.user_name,
                 group=c.title)


BUSY = GroupBusy()  # registered on the app by views.py


def find_conflicts(group: Group, slots: list[tuple[datetime, datetime]], *, room: str | None = None,
                   exclude_session_ids: Collection[int] = frozenset()) -> list[Conflict]:
    """Facilitators or the room already booked at one of ``slots``, by anything (the one conflict
    check, ``core.conflicts``): another group's session, a network meeting, an appointment, an
    outreach visit. The group's own sessions are what is being planned, so they do not count.
    Cancelled bookings do not count."""
    own = [("group", s.id) for s in group.sessions] + [("group", i) for i in exclude_session_ids]
    return core_find_conflicts(slots, user_ids=group.facilitator_ids,
                               room=room if room is not None else group.room or "", exclude=own)


def upcoming_conflicts(group: Group) -> list[Conflict]:
    """Clashes of the group's coming, not cancelled sessions with its current facilitators and room."""
    now = utcnow()
    sessions = [s for s in group.sessions if s.starts_at >= now and s.status != SessionStatus.CANCELLED.value]
    by_room: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for sess in sessions:
        by_room[sess.room or group.room or ""].append((sess.starts_at, sess.ends_at))
    conflicts: list[Conflict] = []
    for room, slots in by_room.items():
        conflicts += find_conflicts(group, slots, room=room)
    return sorted(conflicts, key=lambda c: c.starts_at)


def _user_names(ids) -> dict[int, str]:
    from accounts.models import User

    if not ids:
        return {}
    return {uid: name for uid, name in db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids)))}


def holiday_warnings(slots: list[tuple[datetime, datetime]]) -> list[str]:
    warnings = []
    for start, _end in slots:
        day = to_local(start).date()
        name = holiday_label(day)
        if name:
            warnings.append(_("%(day)s is a public holiday (%(name)s).", day=f"{day.day}.{day.month}.{day.year}",
                              name=name))
    return warnings


# --- copying a round ----------------------------------------------------------------------------

def copy_round(group: Group, *, title: str, first_date: date, user) -> Group:
    """A new round: same settings, facilitators, partners and session topics, new dates on the
    same weekday and local time as the original's first session."""
    new = Group(title=title, theme=group.theme, description=group.description, target_clients=group.target_clients,
                venue=group.venue, room=group.room, capacity=group.capacity, language=group.language,
                planning_notes=group.planning_notes, facilitator1_id=group.facilitator1_id,
                facilitator2_id=group.facilitator2_id, previous_round_id=group.id, session_minutes=group.session_minutes,
                status=GroupStatus.PLANNING.value, created_by_id=getattr(user, "id", None), unit_id=group.unit_id)
    new.partners = [GroupPartner(partner_id=p.partner_id) for p in group.partners]
    db.session.add(new)
    db.session.flush()
    kept = sorted(scheduled_sessions(group), key=lambda s: s.number)
    if kept:
        first_local = to_local(kept[0].starts_at)
        minutes = int((kept[0].ends_at - kept[0].starts_at).total_seconds() // 60)
        planned = plan_dates(first_date=first_date, weekday=first_local.weekday(), start=first_local.time(),
                             minutes=minutes, weeks=len(kept))
        generate_schedule(new, planned, topics=[s.topic for s in kept], minutes=minutes)
    return new
