"""Business rules of network meetings: who may open a meeting, reading meetings for pages and
lists, and who is busy when.

The rest is in modules named for their part: ``arranging`` (arranging, moving and cancelling,
participants and notes), ``plan`` (the plan's action items, carrying open items forward to the
next meeting, each worker's open tasks) and ``partner_links`` (partners' personal links).
Services change data and flush; the request commits (core.transaction).
"""
from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Load, QueryableAttribute, aliased, joinedload, load_only, noload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from accounts.units import leads_unit, led_unit_ids_select
from core.conflicts import BUSY_PARAMS, LONGEST_BOOKING, Conflict, find_conflicts
from core.db import exists_per_row, utcnow
from core.extensions import db
from register.models import Client, PartnerContact

from . import signals
from .models import (
    Meeting,
    MeetingParticipant,
    MeetingStatus,
    ParticipantKind,
    PlaceKind,
)


class MeetingError(Exception):
    """A rule refused the change; the message is translated and shown to the user, at the form
    field ``field`` names when it concerns one."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def _meeting_staff_rule(user_id: int) -> sa.Select:
    # Staff participants of a client's meetings have a reason to open the client's record.
    return (sa.select(Meeting.client_id)
            .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
            .where(MeetingParticipant.kind == ParticipantKind.STAFF.value, MeetingParticipant.user_id == user_id))


def _send(meeting: Meeting, change: str, **extra) -> None:
    # current_app is a LocalProxy typed as the Flask it stands for; the method is the proxy's.
    sender = current_app._get_current_object()  # type: ignore[attr-defined]
    signals.meeting_changed.send(sender, meeting=meeting, change=change, **extra)


# --- reading -----------------------------------------------------------------------------------

def staff_user_ids(meeting: Meeting) -> set[int]:
    return {p.user_id for p in meeting.participants if p.kind == ParticipantKind.STAFF.value and p.user_id}


def can_open(user, meeting: Meeting) -> bool:
    """Only the meeting's staff participants (whatever the unit: they were invited) and the leads
    of the unit of the meeting's client."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.id in staff_user_ids(meeting) or leads_unit(user, meeting.client.unit_id)


@functools.cache
def _other_meeting():
    """Made once per process: an alias adapts each column the first time it is used."""
    return aliased(Meeting)


def openable_condition(user, meeting_id: sa.ColumnElement[int] | QueryableAttribute[int]) -> sa.ColumnElement[bool]:
    """``can_open`` as SQL, checked per row of whatever carries ``meeting_id`` (a meeting, a
    reminder's target): the meeting's staff participant by the participant index, or a lead of
    the meeting's unit (its client's). Per row, so that a list walks its own index (the meetings
    by time, the failed messages) and stops at its limit: a SELECT of every meeting a lead may
    open (a UNION) was materialised whole first, every meeting of the unit's five years, on
    every list and start page (bench/RESULTS.md)."""
    own = exists_per_row(MeetingParticipant.meeting_id == meeting_id,
                         MeetingParticipant.kind == ParticipantKind.STAFF.value,
                         MeetingParticipant.user_id == user.id)
    if not user.is_lead:
        return own
    units = led_unit_ids_select(user)
    if meeting_id is Meeting.id:  # the row is the meeting
        return sa.or_(Meeting.unit_id.in_(units), own)
    meeting = _other_meeting()
    return sa.or_(exists_per_row(meeting.id == meeting_id, meeting.unit_id.in_(units)), own)


def openable_among(user, meeting_ids) -> set[int]:
    """``can_open``'s rule for many meetings in one query: which of ``meeting_ids`` the user may
    open. For pages that mention other meetings (a colleague's clashing booking) and show of them
    only what their rule allows."""
    ids = {int(i) for i in meeting_ids}
    if not ids or not getattr(user, "is_authenticated", False):
        return set()
    return set(db.session.scalars(sa.select(Meeting.id).where(Meeting.id.in_(sorted(ids)),
                                                              openable_condition(user, Meeting.id))))


def is_single_worker(meeting: Meeting) -> bool:
    """Pair work is the norm: fewer than two staff is flagged."""
    return len(staff_user_ids(meeting)) < 2


def staff_counts(meeting_ids) -> dict[int, int]:
    """Distinct staff members per meeting, in one query (for the single-worker flag of lists)."""
    ids = sorted(set(meeting_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(MeetingParticipant.meeting_id, sa.func.count(sa.distinct(MeetingParticipant.user_id)))
        .where(MeetingParticipant.meeting_id.in_(ids), MeetingParticipant.kind == ParticipantKind.STAFF.value,
               MeetingParticipant.user_id.is_not(None))
        .group_by(MeetingParticipant.meeting_id))
    return {meeting_id: count for meeting_id, count in rows}


def _participant_options():
    return (selectinload(Meeting.participants).selectinload(MeetingParticipant.user),
            selectinload(Meeting.participants).selectinload(MeetingParticipant.contact),
            selectinload(Meeting.participants).selectinload(MeetingParticipant.relative),
            selectinload(Meeting.client))


def _people_of(participant):
    """Join in the person a participant loader's rows point to (display_name's needs)."""
    return (participant.joinedload(MeetingParticipant.user),
            participant.joinedload(MeetingParticipant.contact).joinedload(PartnerContact.organisation),
            participant.joinedload(MeetingParticipant.relative))


def _meeting_page_joins():
    # An item's responsible participant is one of the meeting's own participants, loaded with
    # them, so it comes from the identity map without a query.
    return (joinedload(Meeting.items),
            joinedload(Meeting.changes),
            joinedload(Meeting.client),
            joinedload(Meeting.previous_meeting),
            joinedload(Meeting.follow_ups))


@functools.cache
def _meeting_page_statements() -> tuple[sa.Select, sa.Select]:
    """The meeting page's two statements, built once: the meeting with what is joined to it, and
    its participants with their people and partner contacts' personal links. (A selectinload of
    the participants would build their select afresh for every page.) Two statements, as each
    is a round trip on PostgreSQL; the first has one row per item and change: a meeting has
    some items and rarely more than a few changes."""
    meeting = (sa.select(Meeting).where(Meeting.id == sa.bindparam("meeting_id"))
               .options(noload(Meeting.participants), *_meeting_page_joins()))
    participants = (sa.select(MeetingParticipant).where(MeetingParticipant.meeting_id == sa.bindparam("meeting_id"))
                    .options(*_people_of(Load(MeetingParticipant)), joinedload(MeetingParticipant.contact_links))
                    .order_by(MeetingParticipant.id))
    return meeting, participants


def load_meeting_page(meeting_id: int) -> Meeting | None:
    """One meeting with everything its pages show, in two statements however many participants
    and items it has."""
    meeting_statement, participants_statement = _meeting_page_statements()
    meeting = db.session.execute(meeting_statement, {"meeting_id": meeting_id}).unique().scalar_one_or_none()
    if meeting is None:
        return None
    participants = db.session.scalars(participants_statement, {"meeting_id": meeting_id}).unique().all()
    set_committed_value(meeting, "participants", list(participants))
    return meeting


def meetings_for_user(user_id: int, start_utc: datetime, end_utc: datetime, *,
                      include_cancelled: bool = True) -> list[Meeting]:
    """Meetings overlapping [start_utc, end_utc) in which the user is a staff participant.

    Cancelled meetings are included by default because calendar feeds keep them for a while with
    STATUS:CANCELLED; pass ``include_cancelled=False`` for work lists.
    """
    stmt = (sa.select(Meeting)
            .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
            .where(MeetingParticipant.kind == ParticipantKind.STAFF.value, MeetingParticipant.user_id == user_id,
                   Meeting.starts_at < end_utc, Meeting.ends_at > start_utc)
            .options(*_participant_options())
            .order_by(Meeting.starts_at)
            .distinct())
    if not include_cancelled:
        stmt = stmt.where(Meeting.status != MeetingStatus.CANCELLED.value)
    return list(db.session.scalars(stmt).unique())




def _list_filters(stmt, *, upcoming: bool, search: str, client_id: int | None, now: datetime):

    if client_id:
        stmt = stmt.where(Meeting.client_id == client_id)
    if search:
        by_client = sa.select(Client.id).where(Client.name.icontains(search, autoescape=True))
        stmt = stmt.where(sa.or_(Meeting.client_id.in_(by_client), Meeting.purpose.icontains(search, autoescape=True)))
    # The starts_at bounds are implied by the ends_at ones (a meeting lasts at most a few
    # hours) and let the database walk the starts_at index from now instead of from five
    # years back.
    if upcoming:
        return stmt.where(Meeting.ends_at >= now, Meeting.starts_at >= now - LONGEST_BOOKING)
    return stmt.where(Meeting.ends_at < now, Meeting.starts_at < now)


def _list_order(upcoming: bool) -> tuple:
    # The id breaks ties so that pages neither repeat nor skip a meeting.
    return (Meeting.starts_at, Meeting.id) if upcoming else (Meeting.starts_at.desc(), Meeting.id.desc())


def meetings_statement(user, *, upcoming: bool, search: str = "", client_id: int | None = None,
                       first: int | None = None) -> sa.Select:
    """Upcoming (not yet ended, soonest first) or past (latest first) meetings the user may open
    (``can_open``). ``search`` narrows to meetings whose client's name or purpose contains it,
    ``client_id`` to one client's. ``first``: no more than this many rows are read (the pages up
    to the one shown). The list pages the statement, counting with ``meetings_count_statement``.

    Only the meetings and their clients are loaded: a list needs the number of staff per
    meeting (``staff_counts``), not every participant with their person."""

    # Only what the list shows: a meeting row also carries its notes (worries, summary).
    stmt = sa.select(Meeting).options(
        load_only(Meeting.client_id, Meeting.purpose, Meeting.starts_at, Meeting.ends_at, Meeting.place_kind,
                  Meeting.place, Meeting.status),
        selectinload(Meeting.client).load_only(Client.name))
    now = utcnow()
    if first is not None and client_id is None:
        # The rule branch by branch, each filtered and cut at its first rows: the rule per row
        # walked the county's meetings by time and asked of each; at ten units it read ten times
        # the rows for a page of the lead's (bench/RESULTS.md), and a worker's, a few among the
        # county's thousands, many times more.
        ids = sa.union_all(*_openable_branches(user, upcoming=upcoming, search=search, client_id=None, now=now,
                                               first=first))
        stmt = stmt.where(Meeting.id.in_(ids))
    else:
        # The rule per row: one client's meetings are few, found by the client's index.
        stmt = _list_filters(stmt.where(openable_condition(user, Meeting.id)), upcoming=upcoming, search=search,
                             client_id=client_id, now=now)
    return stmt.order_by(*_list_order(upcoming))


def _openable_branches(user, *, upcoming: bool, search: str, client_id: int | None, now: datetime,
                       first: int | None = None) -> list[sa.Select]:
    """``can_open`` as the ids of one branch per way in, each filtered as the list is and read by
    its own index: the lead's units' meetings by (unit_id, starts_at), the user's own by the
    participant index. With ``first``, each branch stops at its first ``first`` rows in the
    list's order, among which are the list's first ``first``."""
    def branch(stmt: sa.Select) -> sa.Select:
        stmt = _list_filters(stmt, upcoming=upcoming, search=search, client_id=client_id, now=now)
        if first is None:
            return stmt
        rows = stmt.order_by(*_list_order(upcoming)).limit(first).subquery()
        return sa.select(rows.c.id)

    # DISTINCT: nothing stops a staff member being listed twice in one meeting, and a branch cut
    # at its first rows must not spend them on one meeting.
    own = branch(sa.select(Meeting.id, Meeting.starts_at).distinct()
                 .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
                 .where(MeetingParticipant.kind == ParticipantKind.STAFF.value, MeetingParticipant.user_id == user.id))
    if not user.is_lead:
        return [own]
    return [branch(sa.select(Meeting.id, Meeting.starts_at).where(Meeting.unit_id.in_(led_unit_ids_select(user)))),
            own]


def meetings_count_statement(user, *, upcoming: bool, search: str = "", client_id: int | None = None) -> sa.Select:
    """How many rows ``meetings_statement`` has: the meetings the user may open in the range,
    found and filtered branch by branch (``_openable_branches``), counted once each. Counting
    with the per-row rule read every unit's meetings of the range; the branches' ids filtered
    afterwards were hash-joined by PostgreSQL to the county's coming meetings (10,700 rows at
    ten units for a lead's 917), a cost that grew with the county."""
    ids = sa.union(*_openable_branches(user, upcoming=upcoming, search=search, client_id=client_id,
                                       now=utcnow())).subquery()
    return sa.select(sa.func.count()).select_from(ids)


def client_meetings(client_id: int, user, *, upcoming_limit: int, past_limit: int):
    """A client's upcoming meetings (soonest first) and latest past ones, of those the user may
    open (a lead: all; others: those they take part in as staff), for the client's page; and
    whether there are more of either than the limits."""
    def of_client(upcoming: bool, limit: int) -> tuple[list[Meeting], bool]:
        stmt = meetings_statement(user, upcoming=upcoming, client_id=client_id).limit(limit + 1)
        rows = list(db.session.scalars(stmt))
        return rows[:limit], len(rows) > limit

    (upcoming, more_upcoming), (past, more_past) = of_client(True, upcoming_limit), of_client(False, past_limit)
    return upcoming, past, more_upcoming or more_past


class MeetingBusy:
    """Network meetings as a busy source of the one conflict check (``core.conflicts``): their
    staff participants, and the room of an office meeting. The purpose is shown only to those
    who may open the meeting (``openable_among``)."""

    kind = "meeting"

    def busy(self, people, room):
        live = sa.and_(Meeting.status != MeetingStatus.CANCELLED.value, Meeting.starts_at < BUSY_PARAMS.hi,
                       Meeting.ends_at > BUSY_PARAMS.lo,
                       # Implied by the line above (no booking lasts a day); lets the database use
                       # the starts_at index instead of every meeting the staff ever had.
                       Meeting.starts_at > BUSY_PARAMS.earliest_start)
        parts = []
        if people:
            parts.append(sa.select(Meeting.id, MeetingParticipant.user_id, Meeting.place, Meeting.purpose,
                                   Meeting.starts_at, Meeting.ends_at)
                         .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
                         .where(live, MeetingParticipant.kind == ParticipantKind.STAFF.value,
                                MeetingParticipant.user_id.in_(BUSY_PARAMS.user_ids)))
        if room:
            parts.append(sa.select(Meeting.id, sa.cast(sa.null(), sa.Integer), Meeting.place, Meeting.purpose,
                                   Meeting.starts_at, Meeting.ends_at)
                         .where(live, Meeting.place_kind == PlaceKind.OFFICE.value,
                                sa.func.lower(sa.func.trim(Meeting.place)) == BUSY_PARAMS.room))
        return parts

    def openable(self, viewer, record_ids):
        return openable_among(viewer, record_ids)

    def describe(self, c: Conflict) -> str:
        from flask_babel import gettext as _

        if c.is_room:
            return _("%(when)s: the room %(room)s is booked for a network meeting.", when=c.when, room=c.room)
        if c.title:  # only for those who may open that meeting
            return _("%(when)s: %(name)s has a network meeting (%(purpose)s) at the same time.", when=c.when,
                     name=c.user_name, purpose=c.title)
        return _("%(when)s: %(name)s has a network meeting at the same time.", when=c.when, name=c.user_name)


BUSY = MeetingBusy()  # registered on the app by views.py


def staff_conflicts(user_ids, starts_at: datetime, ends_at: datetime, *, viewer,
                    exclude_meeting_id: int | None = None, room: str = "") -> list[Conflict]:
    """Other bookings of these staff members (or of the room) overlapping the time: the one
    conflict check (``core.conflicts.find_conflicts``) over every kind of booking. Cancelled ones
    do not count; a clashing meeting's purpose is shown only if ``viewer`` may open it."""
    exclude = [("meeting", exclude_meeting_id)] if exclude_meeting_id else []
    return find_conflicts([(starts_at, ends_at)], user_ids=user_ids, room=room, viewer=viewer, exclude=exclude)


def meeting_conflicts(meeting: Meeting, *, viewer) -> list[Conflict]:
    if meeting.is_cancelled:
        return []
    room = meeting.place if meeting.place_kind == PlaceKind.OFFICE.value else ""
    return staff_conflicts(staff_user_ids(meeting), meeting.starts_at, meeting.ends_at, viewer=viewer,
                           exclude_meeting_id=meeting.id, room=room)
