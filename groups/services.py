"""Business rules for groups: ideas, planning, the lifecycle, schedule generation, session changes,
conflicts, copying a round, enrolment with a waiting list, attendance and evaluation.

Functions take and return models and flush; they never commit (the view does, once).
Rule violations raise ``GroupError`` with a translated message and, where it belongs to one
form field, that field's name.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy.orm import contains_eager, selectinload

from accounts.units import (
    UnitChoiceError,
    leads_unit,
    led_unit_ids_select,
    member_unit_ids,
    member_unit_ids_select,
    unit_for_new_record,
)
from core.conflicts import LONGEST_BOOKING, Conflict, find_conflicts as core_find_conflicts
from core.db import aware_utc, utcnow
from core.extensions import db
from core.forms import date_in_range, date_range_message
from core.registry import registered
from core.templating import local_date
from core.timeutil import holiday_label, local_to_utc, local_today, to_local

from .models import (
    Attendance,
    AttendanceStatus,
    Enrolment,
    EnrolmentStatus,
    Group,
    GroupEvaluation,
    GroupIdea,
    GroupPartner,
    GroupSession,
    GroupStatus,
    Referral,
    ReferralStatus,
    SessionChange,
    SessionStatus,
)
from .signals import attendance_recorded, group_cancelled

MAX_WEEKS = 52
ACTIVE_ENROLMENT = (EnrolmentStatus.ENROLLED.value, EnrolmentStatus.OFFERED.value)

STATUS_LABELS = {
    GroupStatus.IDEA.value: _l("Idea"),
    GroupStatus.PLANNING.value: _l("Planning"),
    GroupStatus.ENROLLING.value: _l("Enrolling"),
    GroupStatus.RUNNING.value: _l("Running"),
    GroupStatus.FINISHED.value: _l("Finished"),
    GroupStatus.EVALUATED.value: _l("Evaluated"),
    GroupStatus.CANCELLED.value: _l("Cancelled"),
}

# Which status may follow which. Going back one step is allowed where it is harmless
# (re-open planning while enrolling, e.g. when the schedule must change).
TRANSITIONS = {
    GroupStatus.IDEA.value: {GroupStatus.PLANNING.value},
    GroupStatus.PLANNING.value: {GroupStatus.ENROLLING.value},
    GroupStatus.ENROLLING.value: {GroupStatus.RUNNING.value, GroupStatus.PLANNING.value},
    GroupStatus.RUNNING.value: {GroupStatus.FINISHED.value},
    GroupStatus.FINISHED.value: {GroupStatus.EVALUATED.value},
    GroupStatus.EVALUATED.value: set(),
    GroupStatus.CANCELLED.value: set(),  # only through cancel_group, with a reason
}


class GroupError(Exception):
    """A refused change; ``message`` is translated, ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- access -------------------------------------------------------------------------------------

def can_edit(user, group: Group) -> bool:
    """Facilitators of the group (whatever its unit: they were named to it) and the leads of the
    group's unit may change it and see its participants."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.id in group.facilitator_ids or leads_unit(user, group.unit_id)


can_see_names = can_edit


def can_see_group(user, group: Group) -> bool:
    """Who may open the group's page (its title, times and place; not its participants): the
    staff of the group's unit and its facilitators. Anyone else gets 404. A county administrator
    sees no group by that role."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.id in group.facilitator_ids:
        return True
    return not user.is_county_admin and group.unit_id in member_unit_ids(user)


def visible_group_ids(user) -> sa.Select:
    """``can_see_group`` as SQL for lists."""
    branches = _facilitated(user)
    if not user.is_county_admin:
        branches.append(sa.select(Group.id).where(Group.unit_id.in_(member_unit_ids_select(user.id))))
    return sa.union(*branches)


def editable_group_ids(user) -> sa.Select:
    """``can_edit`` as SQL for lists: a SELECT of the ids of the groups ``user`` may change and
    see the participants of (never None: a lead sees the groups of the units they lead)."""
    branches = _facilitated(user)
    if user.is_lead:
        branches.append(sa.select(Group.id).where(Group.unit_id.in_(led_unit_ids_select(user))))
    return sa.union(*branches)


def _facilitated(user) -> list[sa.Select]:
    """The groups ``user`` facilitates, as one SELECT per facilitator column: a UNION of these
    (and of the unit's groups) lets each branch use its own index, where one OR with a subquery
    in it makes PostgreSQL read the whole group table."""
    return [sa.select(Group.id).where(Group.facilitator1_id == user.id),
            sa.select(Group.id).where(Group.facilitator2_id == user.id)]


def _facilitator_rule(user_id: int) -> sa.Select:
    # A group's facilitators may open the records of the clients enrolled in their groups.
    return (
        sa.select(Enrolment.client_id)
        .join(Group, Group.id == Enrolment.group_id)
        .where(Enrolment.status != EnrolmentStatus.WITHDRAWN.value)
        .where(sa.or_(Group.facilitator1_id == user_id, Group.facilitator2_id == user_id))
    )


# --- ideas --------------------------------------------------------------------------------------

def create_idea(*, theme: str, description: str = "", suggested_by: str = "", source: str = "team_meeting",
                target_clients: str = "", created_by=None) -> GroupIdea:
    idea = GroupIdea(theme=theme, description=description, suggested_by=suggested_by, source=source,
                     target_clients=target_clients, created_by_id=getattr(created_by, "id", None))
    db.session.add(idea)
    db.session.flush()
    return idea


def group_from_idea(idea: GroupIdea, user) -> Group:
    """Start planning a group from an idea; the one who does it becomes its first facilitator."""
    if idea.group_id is not None:
        raise GroupError(_("This idea has already been turned into a group."))
    group = Group(title=idea.theme, theme=idea.theme, description=idea.description,
                  target_clients=idea.target_clients, status=GroupStatus.PLANNING.value,
                  facilitator1_id=user.id, created_by_id=user.id, unit_id=unit_for_new_record(user))
    db.session.add(group)
    db.session.flush()
    idea.group_id = group.id
    # The theme's referrals wait for the new group's facilitators.
    db.session.execute(sa.update(Referral).where(Referral.idea_id == idea.id, Referral.group_id.is_(None))
                       .values(group_id=group.id))
    db.session.flush()
    return group


# --- planning -----------------------------------------------------------------------------------

def _check_facilitators(f1: int | None, f2: int | None) -> None:
    if f1 is not None and f1 == f2:
        raise GroupError(_("Choose two different people: the same person cannot be both facilitators."),
                         "facilitator2_id")


# Once enrolment is open, clients have been promised a group with two workers (seed 000: the
# pair covers for each other's absences and home-visit safety), so it may never drop to one.
TWO_FACILITATORS_FROM = (GroupStatus.ENROLLING.value, GroupStatus.RUNNING.value)


def save_group(group: Group | None, *, title: str, theme: str = "", description: str = "", target_clients: str = "",
               venue: str = "", room: str = "", capacity: int = 8, language: str = "fi", planning_notes: str = "",
               facilitator1_id: int | None = None, facilitator2_id: int | None = None,
               partner_ids: list[int] | None = None, created_by=None, unit_id=None) -> Group:
    _check_facilitators(facilitator1_id, facilitator2_id)
    if group is None:
        try:
            unit_id = unit_for_new_record(created_by, unit_id)
        except UnitChoiceError:
            raise GroupError(_("Choose one of your units."), "unit_id") from None
    if group is not None and group.status in TWO_FACILITATORS_FROM:
        # The rule is on the result of the save: a facilitator may be replaced by naming the
        # successor in the same save, never left empty.
        for name, value in (("facilitator1_id", facilitator1_id), ("facilitator2_id", facilitator2_id)):
            if value is None:
                raise GroupError(_("Enrolment is open, so the group must keep two facilitators. "
                                   "Name who takes over before removing a facilitator."), name)
    if capacity < 1:
        raise GroupError(_("The capacity must be at least 1."), "capacity")
    if group is not None:
        enrolled = count_enrolled(group)
        if capacity < enrolled:
            raise GroupError(_("%(n)s participants are already enrolled: the capacity cannot be lower than that.",
                               n=enrolled), "capacity")
    if group is None:
        group = Group(status=GroupStatus.PLANNING.value, created_by_id=getattr(created_by, "id", None),
                      unit_id=unit_id)
        db.session.add(group)
    else:
        group.version += 1
        _move_future_sessions(group, venue=venue, room=room, user=created_by)
    group.title = title
    group.theme = theme
    group.description = description
    group.target_clients = target_clients
    group.venue = venue
    group.room = room
    group.capacity = capacity
    group.language = language
    group.planning_notes = planning_notes
    group.facilitator1_id = facilitator1_id
    group.facilitator2_id = facilitator2_id
    if partner_ids is not None:
        wanted = set(partner_ids)
        for link in list(group.partners):
            if link.partner_id not in wanted:
                group.partners.remove(link)
        have = {link.partner_id for link in group.partners}
        for pid in sorted(wanted - have):
            group.partners.append(GroupPartner(partner_id=pid))
    db.session.flush()
    return group


def offer_free_places(group: Group) -> list[Enrolment]:
    """Offer every free place (after a withdrawal or a larger capacity) to the waiting list in
    order; staff then confirm each offer. Returns the enrolments offered now."""
    free = group.capacity - count_enrolled(group)
    if free <= 0:
        return []
    offered = waiting_list(group)[:free]
    for enrolment in offered:
        enrolment.status = EnrolmentStatus.OFFERED.value
    db.session.flush()
    return offered


def _move_future_sessions(group: Group, *, venue: str, room: str, user) -> None:
    """A new venue or room applies to the sessions still ahead that used the group's old one;
    each such session records the change and raises its sequence, so calendars update."""
    now = utcnow()
    for session in group.sessions:
        if session.starts_at <= now or session.is_cancelled:
            continue
        changes = []
        if venue != group.venue:
            changes.append(("venue", group.venue, venue))
        if room != group.room and session.room == group.room:
            changes.append(("room", session.room, room))
            session.room = room
        if changes:
            _record(session, changes, user)
            session.version += 1


def count_enrolled(group: Group) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Enrolment.id)).where(Enrolment.group_id == group.id, Enrolment.status.in_(ACTIVE_ENROLMENT))
    ) or 0


def scheduled_sessions(group: Group) -> list[GroupSession]:
    return [s for s in group.sessions if not s.is_cancelled]


def transition_refusal(group: Group, target: str) -> str | None:
    """Why ``group`` cannot move to ``target`` now, or None when it can."""
    if target not in TRANSITIONS:
        return _("Unknown status.")
    if target not in TRANSITIONS.get(group.status, set()):
        return _("A group cannot go from “%(old)s” to “%(new)s”.",
                 old=STATUS_LABELS[group.status], new=STATUS_LABELS[target])
    if target == GroupStatus.ENROLLING.value:
        if len(group.facilitator_ids) != 2:
            return _("Enrolment can open only when the group has two facilitators.")
        if not scheduled_sessions(group):
            return _("Enrolment can open only when the group has a schedule.")
    if target == GroupStatus.EVALUATED.value and group.evaluation is None:
        return _("Record the evaluation first.")
    # Time sense: a group is not running before its first session, nor finished before its last.
    sessions = scheduled_sessions(group)
    today = local_today()
    if target == GroupStatus.RUNNING.value and sessions and to_local(sessions[0].starts_at).date() > today:
        return _("The group can be marked running from its first session on (%(day)s).",
                 day=local_date(sessions[0].starts_at))
    if target == GroupStatus.FINISHED.value and sessions and to_local(sessions[-1].starts_at).date() > today:
        return _("The group can be marked finished from its last session on (%(day)s).",
                 day=local_date(sessions[-1].starts_at))
    return None


def roll_call_refusal(session: GroupSession) -> str | None:
    """Why the roll call of ``session`` cannot be taken now (time sense), or None."""
    if session.is_cancelled:
        return _("This session has been cancelled; restore it before taking the roll call.")
    day = to_local(session.starts_at).date()
    if day > local_today():
        return _("The roll call can be taken from the day of the session on (%(day)s).", day=local_date(day))
    return None


CANCELLABLE = (GroupStatus.ENROLLING.value, GroupStatus.RUNNING.value)


def cancel_refusal(group: Group) -> str | None:
    if group.status not in CANCELLABLE:
        if group.status in (GroupStatus.IDEA.value, GroupStatus.PLANNING.value):
            return _("A group still being planned is deleted, not cancelled.")
        return _("Only a group that is enrolling or running can be cancelled.")
    return None


def sessions_to_cancel(group: Group) -> list[GroupSession]:
    """The sessions a cancellation calls off: those still to come (held ones stay as they were)."""
    now = utcnow()
    return [s for s in scheduled_sessions(group) if s.starts_at > now]


def cancel_group(group: Group, *, reason: str, user) -> list[GroupSession]:
    """Cancel a group past planning: its coming sessions are cancelled (recorded, so calendars
    see it), the reason is kept, and the enrolled clients are told (the ``group_cancelled`` signal:
reminders queues the message, ``reminders.notices.group_cancelled``)."""
    if (refusal := cancel_refusal(group)) is not None:
        raise GroupError(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise GroupError(_("Write the reason: it is sent to the participants."), "reason")
    cancelled = sessions_to_cancel(group)
    for session in cancelled:
        # One message for the whole group (the group_cancelled signal), not one per session.
        set_session_status(session, SessionStatus.CANCELLED.value, user, notify=False)
    group.status = GroupStatus.CANCELLED.value
    group.cancel_reason = reason
    group.version += 1
    db.session.flush()
    group_cancelled.send(current_app._get_current_object(), group=group, cancelled=cancelled)
    return cancelled


def cancel_audience(group: Group) -> list[tuple[str, bool]]:
    """(name, reached by a message) of each enrolled client, for the question before cancelling:
    from the features that message clients (reminders registers ``group_cancel_audience`` on the
    app; core.registry), since groups do not know the outbox."""
    return [row for audience in registered("group_cancel_audience") for row in audience(group)]


def delete_refusal(group: Group) -> str | None:
    """Why ``group`` cannot be deleted (undo of a mistake), or None: only an idea or a plan with
    nobody enrolled and nothing recorded goes; a group past planning is cancelled instead."""
    if group.status not in (GroupStatus.IDEA.value, GroupStatus.PLANNING.value):
        return _("Only a group still being planned can be deleted.")
    if db.session.scalar(sa.select(sa.exists().where(Enrolment.group_id == group.id))):
        return _("Clients are on the list of this group, so it cannot be deleted.")
    return None


def delete_group(group: Group) -> None:
    """Delete a group planned by mistake with its sessions; an idea it came from is open again."""
    if (reason := delete_refusal(group)) is not None:
        raise GroupError(reason)
    db.session.execute(sa.update(GroupIdea).where(GroupIdea.group_id == group.id).values(group_id=None))
    db.session.delete(group)
    db.session.flush()


def change_status(group: Group, target: str) -> Group:
    reason = transition_refusal(group, target)
    if reason:
        raise GroupError(reason)
    group.status = target
    group.version += 1
    db.session.flush()
    return group


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
               break_weeks: list[date] = ()) -> list[PlannedSession]:
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

    session_changed.send(current_app._get_current_object(), session=session, change=change,
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

    def busy(self, user_ids, room, lo, hi):
        live = sa.and_(GroupSession.status != SessionStatus.CANCELLED.value, GroupSession.starts_at < hi,
                       GroupSession.ends_at > lo, GroupSession.starts_at > lo - LONGEST_BOOKING)
        session_room = sa.func.coalesce(sa.func.nullif(GroupSession.room, ""), Group.room, "")
        parts = []
        for column in (Group.facilitator1_id, Group.facilitator2_id):
            if user_ids:
                parts.append(sa.select(GroupSession.id, column, session_room, Group.title, GroupSession.starts_at,
                                       GroupSession.ends_at)
                             .join(Group, Group.id == GroupSession.group_id).where(live, column.in_(user_ids)))
        if room:
            parts.append(sa.select(GroupSession.id, sa.cast(sa.null(), sa.Integer), session_room, Group.title,
                                   GroupSession.starts_at, GroupSession.ends_at)
                         .join(Group, Group.id == GroupSession.group_id)
                         .where(live, sa.func.lower(sa.func.trim(session_room)) == room))
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
                   exclude_session_ids: set[int] = frozenset()) -> list[Conflict]:
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
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


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


# --- enrolment ----------------------------------------------------------------------------------

def enrol(group: Group, client_id: int) -> Enrolment:
    """Enrol up to capacity; after that the client goes on the waiting list."""
    if group.status not in (GroupStatus.ENROLLING.value, GroupStatus.RUNNING.value):
        raise GroupError(_("Participants can be enrolled only while the group is enrolling or running."))
    existing = db.session.scalar(sa.select(Enrolment).where(Enrolment.group_id == group.id,
                                                             Enrolment.client_id == client_id))
    if existing is not None and existing.status != EnrolmentStatus.WITHDRAWN.value:
        raise GroupError(_("This client is already on the list of this group."), "client_id")
    full = count_enrolled(group) >= group.capacity
    status = EnrolmentStatus.WAITING.value if full else EnrolmentStatus.ENROLLED.value
    if existing is not None:
        # Coming back after withdrawing: re-use the row (one per client and group), at the end of the queue.
        existing.status = status
        existing.created_at = utcnow()
        enrolment = existing
    else:
        enrolment = Enrolment(group_id=group.id, client_id=client_id, status=status)
        db.session.add(enrolment)
    db.session.flush()
    return enrolment


def waiting_list(group: Group) -> list[Enrolment]:
    return db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id, Enrolment.status == EnrolmentStatus.WAITING.value)
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()


def withdraw(enrolment: Enrolment) -> Enrolment | None:
    """Withdraw; if that frees a place, offer it to the first on the waiting list (returned)."""
    if enrolment.status == EnrolmentStatus.WITHDRAWN.value:
        raise GroupError(_("This participant has already withdrawn."))
    freed = enrolment.status in ACTIVE_ENROLMENT
    enrolment.status = EnrolmentStatus.WITHDRAWN.value
    db.session.flush()
    if freed:
        offered = offer_free_places(enrolment.group)
        return offered[0] if offered else None
    return None


def confirm_offer(enrolment: Enrolment) -> Enrolment:
    if enrolment.status != EnrolmentStatus.OFFERED.value:
        raise GroupError(_("There is no open offer for this participant."))
    enrolment.status = EnrolmentStatus.ENROLLED.value
    db.session.flush()
    return enrolment


# --- attendance ---------------------------------------------------------------------------------

ATTENDANCE_VALUES = tuple(a.value for a in AttendanceStatus)


def roll_call_enrolments(group: Group) -> list[Enrolment]:
    return db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id, Enrolment.status == EnrolmentStatus.ENROLLED.value)
        .options(selectinload(Enrolment.client)).order_by(Enrolment.id)
    ).all()


def record_attendance(session: GroupSession, statuses: dict[int, str], user=None) -> list[Attendance]:
    """Set each enrolment's attendance at ``session`` and tell listeners (no-show follow-ups)."""
    if (reason := roll_call_refusal(session)) is not None:
        raise GroupError(reason)
    existing = {a.enrolment_id: a for a in session.attendance}
    allowed = {e.id for e in session.group.enrolments if e.status == EnrolmentStatus.ENROLLED.value}
    changed = []
    for enrolment_id, status in statuses.items():
        if status not in ATTENDANCE_VALUES:
            raise GroupError(_("Choose present, absent or excused."))
        if enrolment_id not in allowed:
            raise GroupError(_("That person is not enrolled in this group."))
        row = existing.get(enrolment_id)
        if row is None:
            row = Attendance(enrolment_id=enrolment_id, status=status, recorded_by_id=getattr(user, "id", None))
            session.attendance.append(row)
        elif row.status == status:
            continue
        else:
            row.status = status
            row.recorded_by_id = getattr(user, "id", None)
        changed.append(row)
    db.session.flush()
    app = current_app._get_current_object()
    for row in changed:
        attendance_recorded.send(app, attendance=row)
    return changed


@dataclass
class AttendanceFigures:
    per_session: list[tuple[GroupSession, dict[str, int]]]
    per_participant: list[tuple[Enrolment, dict[str, int]]]
    total: dict[str, int]

    @property
    def rate(self) -> int | None:
        counted = sum(self.total.values())
        return round(100 * self.total.get("present", 0) / counted) if counted else None


def attendance_figures(group: Group) -> AttendanceFigures:
    """Counts of present/absent/excused per session and per participant, in two queries."""
    rows = db.session.execute(
        sa.select(Attendance.session_id, Attendance.enrolment_id, Attendance.status)
        .join(GroupSession, GroupSession.id == Attendance.session_id).where(GroupSession.group_id == group.id)
    ).all()
    by_session: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ATTENDANCE_VALUES, 0))
    by_enrolment: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ATTENDANCE_VALUES, 0))
    total = dict.fromkeys(ATTENDANCE_VALUES, 0)
    for session_id, enrolment_id, status in rows:
        by_session[session_id][status] += 1
        by_enrolment[enrolment_id][status] += 1
        total[status] += 1
    enrolments = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id,
                                   sa.or_(Enrolment.status == EnrolmentStatus.ENROLLED.value,
                                          Enrolment.id.in_(list(by_enrolment) or [0])))
        .options(selectinload(Enrolment.client)).order_by(Enrolment.id)
    ).all()
    return AttendanceFigures(
        per_session=[(s, by_session[s.id]) for s in sorted(group.sessions, key=lambda s: s.number)],
        per_participant=[(e, by_enrolment[e.id]) for e in enrolments],
        total=total,
    )


# --- evaluation ---------------------------------------------------------------------------------

def save_evaluation(group: Group, *, interesting: str, continue_decision: str, what_worked: str, improvements: str,
                    user=None) -> GroupEvaluation:
    if group.status not in (GroupStatus.FINISHED.value, GroupStatus.EVALUATED.value):
        raise GroupError(_("A group can be evaluated once it has finished."))
    evaluation = group.evaluation or GroupEvaluation()
    evaluation.interesting = interesting
    evaluation.continue_decision = continue_decision
    evaluation.what_worked = what_worked
    evaluation.improvements = improvements
    evaluation.recorded_by_id = getattr(user, "id", None)
    group.evaluation = evaluation
    group.status = GroupStatus.EVALUATED.value
    group.version += 1
    db.session.flush()
    return evaluation


# --- finding sessions ---------------------------------------------------------------------------

def sessions_for_user(user_id: int, start_utc: datetime, end_utc: datetime) -> list[GroupSession]:
    """Sessions (cancelled ones included, marked) that ``user_id`` facilitates between the two instants.

    Lists show "3/6", so each group's number of sessions is loaded as ``session_spans`` (one
    aggregate query), not by loading every session of every group."""
    return db.session.scalars(
        sa.select(GroupSession).join(Group, Group.id == GroupSession.group_id)
        .where(sa.or_(Group.facilitator1_id == user_id, Group.facilitator2_id == user_id),
               GroupSession.starts_at < end_utc, GroupSession.ends_at > start_utc)
        .options(contains_eager(GroupSession.group))
        .order_by(GroupSession.starts_at)
    ).all()


@dataclass(frozen=True)
class SessionSpan:
    first: datetime
    last: datetime
    count: int


# One client's enrolment, as the client's page says it (the participants page has headings).
ENROLMENT_LABELS = {
    EnrolmentStatus.ENROLLED.value: _l("In the group"),
    EnrolmentStatus.OFFERED.value: _l("Offered a place"),
    EnrolmentStatus.WAITING.value: _l("On the waiting list"),
    EnrolmentStatus.WITHDRAWN.value: _l("Withdrew"),
}


def client_groups(client_id: int, limit: int) -> tuple[list[sa.Row], bool]:
    """The groups a client is or was enrolled in (waiting, offered and withdrawn too), newest
    group first, as rows of group id, title, group status and enrolment status; and whether there
    are more than ``limit``. For the client's page, which has checked the client's access."""
    rows = db.session.execute(
        sa.select(Group.id, Group.title, Group.status, Enrolment.status.label("enrolment"))
        .join(Enrolment, Enrolment.group_id == Group.id)
        .where(Enrolment.client_id == client_id)
        .order_by(Group.created_at.desc(), Group.id.desc())
        .limit(limit + 1)).all()
    return rows[:limit], len(rows) > limit


def session_spans(group_ids) -> dict[int, SessionSpan]:
    """First and last session start and the number of sessions per group, in one query (lists
    of groups show these without loading every session)."""
    ids = sorted(set(group_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(GroupSession.group_id, sa.func.min(GroupSession.starts_at), sa.func.max(GroupSession.starts_at),
                  sa.func.count(GroupSession.id))
        .where(GroupSession.group_id.in_(ids)).group_by(GroupSession.group_id)
    ).all()
    # Aggregates bypass the column type on SQLite, so the instants are made aware here.
    return {gid: SessionSpan(aware_utc(first), aware_utc(last), count) for gid, first, last, count in rows}


def group_choice_labels(groups) -> dict[int, str]:
    """Labels for drop-downs that tell apart groups of the same title (two rounds of
    "Raharyhmä"): "Raharyhmä, 4.1.2027–8.2.2027", or "Raharyhmä, no schedule yet"."""
    spans = session_spans([g.id for g in groups])
    labels = {}
    for g in groups:
        span = spans.get(g.id)
        if span is None:
            labels[g.id] = _("%(title)s, no schedule yet", title=g.title)
        else:
            labels[g.id] = _("%(title)s, %(first)s–%(last)s", title=g.title, first=local_date(span.first),
                             last=local_date(span.last))
    return labels


def local_time_of(value: datetime) -> time:
    return to_local(value).time().replace(tzinfo=None)


# --- referrals ----------------------------------------------------------------------------------

REFERRABLE = (GroupStatus.PLANNING.value, GroupStatus.ENROLLING.value)


def referral_targets() -> tuple[list[Group], list[GroupIdea]]:
    """Groups in planning or enrolling, and ideas not yet turned into a group."""
    groups = db.session.scalars(sa.select(Group).where(Group.status.in_(REFERRABLE))
                                .order_by(Group.title, Group.id)).all()
    ideas = db.session.scalars(sa.select(GroupIdea).where(GroupIdea.group_id.is_(None))
                               .order_by(GroupIdea.theme, GroupIdea.id)).all()
    return list(groups), list(ideas)


def refer(client_id: int, *, target: str, reason: str, user) -> Referral:
    """``target`` is "group:<id>" or "idea:<id>" from the form's choices (which the caller built
    from referral_targets); the view has checked that the user may see the client."""
    kind, _sep, raw = target.partition(":")
    key = int(raw) if raw.isdigit() and int(raw) < 2**63 else 0
    referral = Referral(client_id=client_id, reason=reason, referred_by_id=user.id)
    if kind == "group" and (group := db.session.get(Group, key)) is not None and group.status in REFERRABLE:
        open_enrolment = db.session.scalar(sa.select(Enrolment.id).where(
            Enrolment.group_id == group.id, Enrolment.client_id == client_id,
            Enrolment.status != EnrolmentStatus.WITHDRAWN.value))
        if open_enrolment is not None:
            raise GroupError(_("The client is already in this group or on its waiting list."), "target")
        referral.group_id = group.id
    elif kind == "idea" and (idea := db.session.get(GroupIdea, key)) is not None:
        referral.idea_id = idea.id
        referral.group_id = idea.group_id
    else:
        raise GroupError(_("Choose a group or a theme from the list."), "target")
    waiting = db.session.scalar(sa.select(Referral.id).where(
        Referral.client_id == client_id, Referral.status == ReferralStatus.PENDING.value,
        Referral.group_id == referral.group_id if referral.idea_id is None else Referral.idea_id == referral.idea_id))
    if waiting is not None:
        raise GroupError(_("The client has already been suggested for this and waits for an answer."), "target")
    db.session.add(referral)
    db.session.flush()
    return referral


def pending_referrals(group: Group) -> list[Referral]:
    return list(db.session.scalars(
        sa.select(Referral).where(Referral.group_id == group.id, Referral.status == ReferralStatus.PENDING.value)
        .options(selectinload(Referral.client), selectinload(Referral.referred_by))
        .order_by(Referral.created_at, Referral.id)))


def take_referral(referral: Referral, user) -> Enrolment:
    """Into the group, or onto its waiting list when it is full (as enrolment decides)."""
    if referral.status != ReferralStatus.PENDING.value:
        raise GroupError(_("This referral has already been handled."))
    enrolment = enrol(referral.group, referral.client_id)
    referral.status = (ReferralStatus.ENROLLED.value if enrolment.status == EnrolmentStatus.ENROLLED.value
                       else ReferralStatus.WAITING.value)
    referral.decided_by_id, referral.decided_at = user.id, utcnow()
    db.session.flush()
    return enrolment


def decline_referral(referral: Referral, reason: str, user) -> Referral:
    if referral.status != ReferralStatus.PENDING.value:
        raise GroupError(_("This referral has already been handled."))
    referral.status = ReferralStatus.DECLINED.value
    referral.decline_reason = reason
    referral.decided_by_id, referral.decided_at = user.id, utcnow()
    db.session.flush()
    return referral


def client_referrals(client_id: int) -> list[Referral]:
    return list(db.session.scalars(
        sa.select(Referral).where(Referral.client_id == client_id)
        .options(selectinload(Referral.group), selectinload(Referral.idea), selectinload(Referral.referred_by))
        .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(20)))


def referral_counts_by_idea() -> dict[int, int]:
    """Clients referred per idea (the demand signal of the backlog): distinct clients, one query."""
    return dict(db.session.execute(
        sa.select(Referral.idea_id, sa.func.count(sa.distinct(Referral.client_id)))
        .where(Referral.idea_id.is_not(None)).group_by(Referral.idea_id)).all())
