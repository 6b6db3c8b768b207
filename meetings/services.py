"""Business rules of network meetings: arranging, moving and cancelling, the plan's action items,
carrying open items forward to the next meeting, and partners' personal links.

Services change data and flush; the view commits. Each change of a meeting's time, place or status
raises ``Meeting.sequence`` and writes a ``MeetingChange`` row, so calendar feeds and invitations
can tell an updated event from a new one.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Load, aliased, joinedload, load_only, noload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from accounts.units import leads_unit, led_unit_ids_select
from core.conflicts import LONGEST_BOOKING, Conflict, find_conflicts
from core.db import utcnow
from core.extensions import db
from core.templating import local_dt
from core.timeutil import local_to_utc, local_today, to_local
from register.models import Client, PartnerContact

from . import signals
from .models import (
    ActionItem,
    InvitationStatus,
    ItemStatus,
    ItemStatusChange,
    Meeting,
    MeetingChange,
    MeetingParticipant,
    MeetingStatus,
    ParticipantKind,
    PartnerLink,
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
    signals.meeting_changed.send(current_app._get_current_object(), meeting=meeting, change=change, **extra)


# --- reading -----------------------------------------------------------------------------------

def staff_user_ids(meeting: Meeting) -> set[int]:
    return {p.user_id for p in meeting.participants if p.kind == ParticipantKind.STAFF.value and p.user_id}


def can_open(user, meeting: Meeting) -> bool:
    """Only the meeting's staff participants (whatever the unit: they were invited) and the leads
    of the unit of the meeting's client."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.id in staff_user_ids(meeting) or leads_unit(user, meeting.client.unit_id)


def openable_meeting_ids(user) -> sa.Select:
    """``can_open`` as SQL for lists: a SELECT of the ids of the meetings ``user`` may open, or
    never None: a lead's are those of the clients of the units they lead."""
    own = sa.select(MeetingParticipant.meeting_id).where(
        MeetingParticipant.kind == ParticipantKind.STAFF.value, MeetingParticipant.user_id == user.id)
    if not user.is_lead:
        return own
    led = (sa.select(Meeting.id).join(Client, Client.id == Meeting.client_id)
           .where(Client.unit_id.in_(led_unit_ids_select(user))))
    return sa.union(own, led)


def openable_among(user, meeting_ids) -> set[int]:
    """``can_open``'s rule for many meetings in one query: which of ``meeting_ids`` the user may
    open. For pages that mention other meetings (a colleague's clashing booking) and show of them
    only what their rule allows."""
    ids = {int(i) for i in meeting_ids}
    if not ids or not getattr(user, "is_authenticated", False):
        return set()
    rule = openable_meeting_ids(user).subquery()
    return set(db.session.scalars(sa.select(rule.c[0]).where(rule.c[0].in_(sorted(ids)))))


def is_single_worker(meeting: Meeting) -> bool:
    """Pair work is the norm: fewer than two staff is flagged."""
    return len(staff_user_ids(meeting)) < 2


def staff_counts(meeting_ids) -> dict[int, int]:
    """Distinct staff members per meeting, in one query (for the single-worker flag of lists)."""
    ids = sorted(set(meeting_ids))
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(MeetingParticipant.meeting_id, sa.func.count(sa.distinct(MeetingParticipant.user_id)))
        .where(MeetingParticipant.meeting_id.in_(ids), MeetingParticipant.kind == ParticipantKind.STAFF.value,
               MeetingParticipant.user_id.is_not(None))
        .group_by(MeetingParticipant.meeting_id)).all())


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




def meetings_statement(user, *, upcoming: bool, search: str = "", client_id: int | None = None) -> sa.Select:
    """Upcoming (not yet ended, soonest first) or past (latest first) meetings the user takes
    part in as staff; leads see all. ``search`` narrows to meetings whose client's name or
    purpose contains it, ``client_id`` to one client's. The list pages the statement.

    Only the meetings and their clients are loaded: a list needs the number of staff per
    meeting (``staff_counts``), not every participant with their person."""
    now = utcnow()
    from register.models import Client

    # Only what the list shows: a meeting row also carries its notes (worries, summary).
    stmt = sa.select(Meeting).options(
        load_only(Meeting.client_id, Meeting.purpose, Meeting.starts_at, Meeting.ends_at, Meeting.place_kind,
                  Meeting.place, Meeting.status),
        selectinload(Meeting.client).load_only(Client.name))
    mine = openable_meeting_ids(user)
    if mine is not None:
        stmt = stmt.where(Meeting.id.in_(mine))
    if client_id:
        stmt = stmt.where(Meeting.client_id == client_id)
    if search:
        by_client = sa.select(Client.id).where(Client.name.icontains(search, autoescape=True))
        stmt = stmt.where(sa.or_(Meeting.client_id.in_(by_client), Meeting.purpose.icontains(search, autoescape=True)))
    # The starts_at bounds are implied by the ends_at ones (a meeting lasts at most a few
    # hours) and let the database walk the starts_at index from now instead of from five
    # years back. The id breaks ties so that pages neither repeat nor skip a meeting.
    if upcoming:
        return (stmt.where(Meeting.ends_at >= now, Meeting.starts_at >= now - LONGEST_BOOKING)
                .order_by(Meeting.starts_at, Meeting.id))
    return stmt.where(Meeting.ends_at < now, Meeting.starts_at < now).order_by(Meeting.starts_at.desc(),
                                                                                 Meeting.id.desc())


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

    def busy(self, user_ids, room, lo, hi):
        live = sa.and_(Meeting.status != MeetingStatus.CANCELLED.value, Meeting.starts_at < hi, Meeting.ends_at > lo,
                       # Implied by the line above (no booking lasts a day); lets the database use
                       # the starts_at index instead of every meeting the staff ever had.
                       Meeting.starts_at > lo - LONGEST_BOOKING)
        parts = []
        if user_ids:
            parts.append(sa.select(Meeting.id, MeetingParticipant.user_id, Meeting.place, Meeting.purpose,
                                   Meeting.starts_at, Meeting.ends_at)
                         .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
                         .where(live, MeetingParticipant.kind == ParticipantKind.STAFF.value,
                                MeetingParticipant.user_id.in_(user_ids)))
        if room:
            parts.append(sa.select(Meeting.id, sa.cast(sa.null(), sa.Integer), Meeting.place, Meeting.purpose,
                                   Meeting.starts_at, Meeting.ends_at)
                         .where(live, Meeting.place_kind == PlaceKind.OFFICE.value,
                                sa.func.lower(sa.func.trim(Meeting.place)) == room))
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


# --- arranging, moving, cancelling -------------------------------------------------------------

def meeting_times(day: date, at: time, minutes: int) -> tuple[datetime, datetime]:
    starts = local_to_utc(day, at)
    return starts, starts + timedelta(minutes=minutes)


def create_meeting(*, client, purpose: str, starts_at: datetime, ends_at: datetime,
                   place_kind: str = PlaceKind.OFFICE.value, place: str = "", remote_link: str = "",
                   staff_ids=(), contact_ids=(), relative_ids=(), include_client: bool = True,
                   client_identification: str = "initials", created_by=None, previous: Meeting | None = None) -> Meeting:
    meeting = Meeting(client_id=client.id, client=client, purpose=purpose, starts_at=starts_at, ends_at=ends_at,
                      place_kind=place_kind, place=place, remote_link=remote_link,
                      client_identification=client_identification,
                      created_by_id=getattr(created_by, "id", None),
                      previous_meeting_id=previous.id if previous else None)
    db.session.add(meeting)
    for uid in dict.fromkeys(staff_ids):
        meeting.participants.append(MeetingParticipant(kind=ParticipantKind.STAFF.value, user_id=uid))
    for cid in dict.fromkeys(contact_ids):
        meeting.participants.append(MeetingParticipant(kind=ParticipantKind.PARTNER.value, contact_id=cid))
    for rid in dict.fromkeys(relative_ids):
        meeting.participants.append(MeetingParticipant(kind=ParticipantKind.RELATIVE.value, relative_id=rid))
    if include_client:
        meeting.participants.append(MeetingParticipant(kind=ParticipantKind.CLIENT.value))
    db.session.flush()
    _send(meeting, "created")
    return meeting


def add_participant(meeting: Meeting, *, kind: str, person_id: int | None = None) -> MeetingParticipant:
    """Invite one more person: a staff member, a partner contact, one of the client's relatives or
    the client. Someone already invited, or a relative of another client, is refused."""
    from accounts.models import User
    from register.models import Relative

    _refuse_if_cancelled(meeting)
    participant = MeetingParticipant(kind=kind)
    if kind == ParticipantKind.STAFF.value:
        user = db.session.get(User, person_id) if person_id else None
        if user is None or not user.active:
            raise MeetingError(_l("Choose only from the list."))
        participant.user_id = user.id
    elif kind == ParticipantKind.PARTNER.value:
        contact = db.session.get(PartnerContact, person_id) if person_id else None
        if contact is None or not contact.active:
            raise MeetingError(_l("Choose only from the list."))
        participant.contact_id = contact.id
    elif kind == ParticipantKind.RELATIVE.value:
        relative = db.session.get(Relative, person_id) if person_id else None
        if relative is None or relative.client_id != meeting.client_id:
            raise MeetingError(_l("Choose only from the list."))
        participant.relative_id = relative.id
    elif kind != ParticipantKind.CLIENT.value:
        raise MeetingError(_l("Choose only from the list."))
    if any(p.same_person(participant) for p in meeting.participants):
        raise MeetingError(_l("This person is already a participant."))
    meeting.participants.append(participant)
    db.session.flush()
    _send(meeting, "updated")
    return participant


def remove_participant(meeting: Meeting, participant: MeetingParticipant, *, user) -> None:
    """Take someone off the meeting (invited by mistake, or no longer part of the network). Their
    tasks in the plan must go to someone else first, and one staff member always stays. The
    removal is in the change history; someone who was sent an invitation is sent a cancellation
    (``signals.participant_removed``). SEQUENCE goes up, as the event's attendees changed: a
    later invitation to the same person is then a new one."""
    _refuse_if_cancelled(meeting)
    if db.session.scalar(sa.select(sa.exists().where(ActionItem.responsible_id == participant.id))):
        raise MeetingError(_l("%(name)s is responsible for items of the plan. Give the items to someone else "
                              "first.", name=participant.display_name))
    staff = [p for p in meeting.participants if p.kind == ParticipantKind.STAFF.value]
    if participant.kind == ParticipantKind.STAFF.value and len(staff) == 1:
        raise MeetingError(_l("A meeting needs at least one staff member."))
    # Raised first: the cancellation sent to the removed person must carry a SEQUENCE above that
    # of the invitation they have.
    meeting.sequence += 1
    meeting.version += 1
    signals.participant_removed.send(current_app._get_current_object(), meeting=meeting, participant=participant)
    _record_change(meeting, "participant", participant.display_name, "", user)
    meeting.participants.remove(participant)
    db.session.flush()


def _refuse_if_cancelled(meeting: Meeting) -> None:
    if meeting.is_cancelled:
        raise MeetingError(_l("This meeting has been cancelled and can no longer be changed."))


def _record_change(meeting: Meeting, field_name: str, old: str, new: str, user) -> None:
    meeting.changes.append(MeetingChange(field=field_name, old_value=old[:300], new_value=new[:300],
                                         changed_by_id=getattr(user, "id", None), changed_at=utcnow()))


def _fmt_time(starts: datetime, ends: datetime) -> str:
    # Stored language-neutral; shown in the reader's language (core.formatting.recorded).
    s, e = to_local(starts), to_local(ends)
    return f"{s:%Y-%m-%d %H:%M}–{e:%H:%M}"


def _fmt_place(kind: str, place: str, link: str) -> str:
    return " ".join(x for x in (kind, place, link) if x)


def update_meeting(meeting: Meeting, *, user, purpose: str, starts_at: datetime, ends_at: datetime,
                   place_kind: str, place: str, remote_link: str, client_identification: str,
                   notify: bool = True) -> str:
    """Edit the meeting's details; returns the change sent ("moved" when the time changed). A new
    time or place is told to the client (the signal's ``notify``) unless staff unticked it."""
    _refuse_if_cancelled(meeting)
    old_starts_at = meeting.starts_at
    raised = place_changed = False
    change = "updated"
    if (starts_at, ends_at) != (meeting.starts_at, meeting.ends_at):
        _record_change(meeting, "time", _fmt_time(meeting.starts_at, meeting.ends_at), _fmt_time(starts_at, ends_at), user)
        meeting.starts_at, meeting.ends_at = starts_at, ends_at
        raised = True
        change = "moved"
    if (place_kind, place, remote_link) != (meeting.place_kind, meeting.place, meeting.remote_link):
        _record_change(meeting, "place", _fmt_place(meeting.place_kind, meeting.place, meeting.remote_link),
                       _fmt_place(place_kind, place, remote_link), user)
        meeting.place_kind, meeting.place, meeting.remote_link = place_kind, place, remote_link
        raised = True
        place_changed = True
    meeting.purpose = purpose
    meeting.client_identification = client_identification
    if raised:
        meeting.sequence += 1
    meeting.version += 1
    db.session.flush()
    _send(meeting, change, old_starts_at=old_starts_at, place_changed=place_changed, notify=notify)
    return change


def _set_status(meeting: Meeting, status: str, user) -> None:
    if meeting.status == status:
        return
    _record_change(meeting, "status", meeting.status, status, user)
    meeting.status = status
    meeting.sequence += 1
    meeting.version += 1


def cancel_meeting(meeting: Meeting, *, user, notify: bool = True) -> None:
    _refuse_if_cancelled(meeting)
    _set_status(meeting, MeetingStatus.CANCELLED.value, user)
    db.session.flush()
    _send(meeting, "cancelled", old_starts_at=meeting.starts_at, notify=notify)


def can_restore(meeting: Meeting) -> bool:
    """A cancelled meeting can be brought back until its time (an undo for a wrong press)."""
    return meeting.is_cancelled and meeting.starts_at > utcnow()


def restore_meeting(meeting: Meeting, *, user) -> None:
    """Undo a cancellation before the meeting's time: planned again, SEQUENCE raised so the
    invitation queued now replaces the cancellation in people's calendars."""
    if not can_restore(meeting):
        raise MeetingError(_l("A cancelled meeting can be restored only before its time."))
    _set_status(meeting, MeetingStatus.PLANNED.value, user)
    db.session.flush()
    _send(meeting, "updated")


def held_refusal(meeting: Meeting) -> str | None:
    """Time sense: a meeting cannot have been held before it has begun."""
    if meeting.starts_at > utcnow():
        return str(_l("The meeting can be marked held once it has begun (%(when)s).", when=local_dt(meeting.starts_at)))
    return None


def save_notes(meeting: Meeting, *, user, worries: str, summary: str, held: bool) -> None:
    _refuse_if_cancelled(meeting)
    if held and meeting.status != MeetingStatus.HELD.value and (reason := held_refusal(meeting)):
        raise MeetingError(reason, "held")
    meeting.worries = worries
    meeting.summary = summary
    meeting.version += 1
    if held:
        _set_status(meeting, MeetingStatus.HELD.value, user)
    db.session.flush()
    _send(meeting, "updated")


def participant_of(meeting: Meeting, participant_id) -> MeetingParticipant | None:
    try:
        pid = int(participant_id)
    except (TypeError, ValueError):
        return None
    return next((p for p in meeting.participants if p.id == pid), None)


def record_participation(meeting: Meeting, participant: MeetingParticipant, *, invitation_status: str,
                         attended: bool | None) -> None:
    _refuse_if_cancelled(meeting)
    participant.invitation_status = invitation_status
    attendance_changed = participant.attended != attended
    participant.attended = attended
    db.session.flush()
    if attendance_changed and attended is not None:
        signals.participant_attendance_recorded.send(current_app._get_current_object(), participant=participant)


# --- the plan ----------------------------------------------------------------------------------

@dataclass
class ItemResult:
    item: ActionItem
    warnings: list = field(default_factory=list)


def add_item(meeting: Meeting, *, responsible_id, what: str, with_whom: str = "", due_date: date | None = None) -> ItemResult:
    """One responsible participant of this meeting per item; a due date before the meeting is
    saved with a warning (it may be a task already under way)."""
    _refuse_if_cancelled(meeting)
    responsible = participant_of(meeting, responsible_id)
    if responsible is None:
        raise MeetingError(_l("Choose the responsible person from this meeting's participants."))
    item = ActionItem(what=what, with_whom=with_whom, due_date=due_date, responsible=responsible,
                      responsible_id=responsible.id)
    meeting.items.append(item)
    db.session.flush()
    result = ItemResult(item)
    if due_date is not None and due_date < to_local(meeting.starts_at).date():
        result.warnings.append(_l("The due date is before the meeting. The item was saved; check the date."))
    return result


def _fmt_item(what: str, responsible: str, with_whom: str, due_date: date | None) -> str:
    # The due date is stored ISO and shown in the reader's language (core.formatting.recorded).
    return " · ".join(x for x in (what, responsible, with_whom, due_date.isoformat() if due_date else "") if x)


def update_item(meeting: Meeting, item: ActionItem, *, user, responsible_id, what: str, with_whom: str = "",
                due_date: date | None = None) -> ItemResult:
    """Correct an item: its text, partner, date or responsible person (one of this meeting's
    participants). The change goes into the meeting's change history, since the plan is shared:
    a partner's tasks should not change without a trace. A carried-forward item is changed in the
    later meeting, where it continues."""
    _refuse_if_cancelled(meeting)
    if item.status == ItemStatus.CARRIED.value:
        raise MeetingError(_l("This item was carried forward; change it in the later meeting."))
    responsible = participant_of(meeting, responsible_id)
    if responsible is None:
        raise MeetingError(_l("Choose the responsible person from this meeting's participants."))
    old = _fmt_item(item.what, item.responsible.display_name, item.with_whom, item.due_date)
    new = _fmt_item(what, responsible.display_name, with_whom, due_date)
    result = ItemResult(item)
    if (what, responsible.id, with_whom, due_date) == (item.what, item.responsible_id, item.with_whom, item.due_date):
        return result
    _record_change(meeting, "item", old, new, user)
    item.what, item.with_whom, item.due_date = what, with_whom, due_date
    item.responsible, item.responsible_id = responsible, responsible.id
    item.version += 1
    db.session.flush()
    if due_date is not None and due_date < to_local(meeting.starts_at).date():
        result.warnings.append(_l("The due date is before the meeting. The item was saved; check the date."))
    return result


def duplicate_item(meeting: Meeting, *, responsible_id, what: str, due_date: date | None) -> ActionItem | None:
    """An open item of the meeting identical to the one about to be added (same person, same
    words ignoring case and spacing, same date): most likely a double press or a retyped item."""
    key = " ".join((what or "").split()).casefold()
    for item in meeting.items:
        if (item.status == ItemStatus.OPEN.value and str(item.responsible_id) == str(responsible_id)
                and item.due_date == due_date and " ".join(item.what.split()).casefold() == key):
            return item
    return None


def _change_item_status(item: ActionItem, status: str, *, by_name: str, by_user=None) -> None:
    """Every status change is kept (who, when, from, to); the item's own columns say the last."""
    now = utcnow()
    db.session.add(ItemStatusChange(item_id=item.id, meeting_id=item.meeting_id, old_status=item.status,
                                    new_status=status, changed_by_id=getattr(by_user, "id", None),
                                    changed_by_name=by_name[:160], changed_at=now))
    item.status = status
    item.status_changed_by = by_name[:160]
    item.status_changed_at = now
    item.version += 1


def set_item_status(item: ActionItem, status: str, *, by_name: str, by_user=None) -> None:
    if status not in (ItemStatus.OPEN.value, ItemStatus.DONE.value, ItemStatus.DROPPED.value):
        raise MeetingError(_l("Choose a valid status."))
    if item.status == status:
        return
    _change_item_status(item, status, by_name=by_name, by_user=by_user)
    db.session.flush()


def status_history(meeting: Meeting) -> list[ItemStatusChange]:
    """Every status change of the meeting's plan items, oldest first, in one query."""
    return list(db.session.scalars(
        sa.select(ItemStatusChange).where(ItemStatusChange.meeting_id == meeting.id)
        .order_by(ItemStatusChange.changed_at, ItemStatusChange.id)))


def is_overdue(item: ActionItem, today: date | None = None) -> bool:
    today = today or local_today()
    return item.status == ItemStatus.OPEN.value and item.due_date is not None and item.due_date < today


@functools.cache
def _history_statement() -> sa.Select:
    """The items a chain of carried items continues, from the ids it starts at (bind "starts");
    built once, see _meeting_page_statements()."""
    chain = sa.select(ActionItem.id, ActionItem.carried_from_id) \
        .where(ActionItem.id.in_(sa.bindparam("starts", expanding=True))).cte("chain", recursive=True)
    earlier = aliased(ActionItem)
    chain = chain.union(sa.select(earlier.id, earlier.carried_from_id).join(chain, earlier.id == chain.c.carried_from_id))
    return sa.select(ActionItem).where(ActionItem.id.in_(sa.select(chain.c.id))).options(selectinload(ActionItem.meeting))


def item_histories(items) -> dict[int, list[ActionItem]]:
    """For each item, the earlier items it continues (oldest first), in one query however long
    the chains are: a recursive CTE follows carried_from_id back through the meetings."""
    by_id: dict[int, ActionItem] = {i.id: i for i in items}
    starts = sorted({i.carried_from_id for i in items if i.carried_from_id} - set(by_id))
    if starts:
        found = db.session.scalars(_history_statement(), {"starts": starts}).all()
        for f in found:
            by_id[f.id] = f
    result = {}
    for item in items:
        chain = []
        prev = by_id.get(item.carried_from_id) if item.carried_from_id else None
        while prev is not None and len(chain) < 50:
            chain.append(prev)
            prev = by_id.get(prev.carried_from_id) if prev.carried_from_id else None
        result[item.id] = list(reversed(chain))
    return result


@functools.cache
def _carried_to_statement() -> sa.Select:
    return (sa.select(ActionItem).where(ActionItem.carried_from_id.in_(sa.bindparam("ids", expanding=True)))
            .options(selectinload(ActionItem.meeting)))


def carried_to(items) -> dict[int, ActionItem]:
    """For carried items, the item that continues them in a later meeting (one query)."""
    ids = [i.id for i in items if i.status == ItemStatus.CARRIED.value]
    if not ids:
        return {}
    later = db.session.scalars(_carried_to_statement(), {"ids": ids}).all()
    return {i.carried_from_id: i for i in later}


# --- follow-up and review ----------------------------------------------------------------------

def schedule_follow_up(meeting: Meeting, *, user, starts_at: datetime, ends_at: datetime, purpose: str | None = None) -> Meeting:
    """The next meeting, with the same participants (invitations start afresh)."""
    new = create_meeting(
        client=meeting.client, purpose=purpose or meeting.purpose, starts_at=starts_at, ends_at=ends_at,
        place_kind=meeting.place_kind, place=meeting.place, remote_link=meeting.remote_link,
        staff_ids=[p.user_id for p in meeting.participants if p.kind == ParticipantKind.STAFF.value and p.user_id],
        contact_ids=[p.contact_id for p in meeting.participants if p.kind == ParticipantKind.PARTNER.value and p.contact_id],
        relative_ids=[p.relative_id for p in meeting.participants if p.kind == ParticipantKind.RELATIVE.value and p.relative_id],
        include_client=any(p.kind == ParticipantKind.CLIENT.value for p in meeting.participants),
        client_identification=meeting.client_identification, created_by=user, previous=meeting,
    )
    return new


def items_for_review(meeting: Meeting) -> list[ActionItem]:
    """The previous meeting's items still open: this meeting reviews them."""
    if meeting.previous_meeting_id is None:
        return []
    return list(db.session.scalars(_review_statement(), {"meeting_id": meeting.previous_meeting_id}))


@functools.cache
def _review_statement() -> sa.Select:
    """Open items of a meeting (bind "meeting_id") with who is responsible, in one statement."""
    return (sa.select(ActionItem).where(ActionItem.meeting_id == sa.bindparam("meeting_id"),
                                        ActionItem.status == ItemStatus.OPEN.value)
            .options(*_people_of(joinedload(ActionItem.responsible)))
            .order_by(ActionItem.id))


def _matching_participant(meeting: Meeting, other: MeetingParticipant) -> MeetingParticipant:
    for p in meeting.participants:
        if p.same_person(other):
            return p
    # The responsible person was left out of this meeting: they stay responsible, so they are
    # added (as invited) rather than the item losing its owner.
    copy = MeetingParticipant(kind=other.kind, user_id=other.user_id, contact_id=other.contact_id,
                              relative_id=other.relative_id, invitation_status=InvitationStatus.INVITED.value)
    meeting.participants.append(copy)
    db.session.flush()
    return copy


def review_item(meeting: Meeting, item: ActionItem, action: str, *, by_name: str,
                due_date: date | None = None, by_user=None) -> ActionItem | None:
    """Done, dropped, or carried forward as a new item of this meeting (linked by carried_from)."""
    _refuse_if_cancelled(meeting)
    if item.meeting_id != meeting.previous_meeting_id or item.status != ItemStatus.OPEN.value:
        raise MeetingError(_l("This item is not open for review in this meeting."))
    if action in (ItemStatus.DONE.value, ItemStatus.DROPPED.value):
        set_item_status(item, action, by_name=by_name, by_user=by_user)
        return None
    if action != "carry":
        raise MeetingError(_l("Choose a valid status."))
    responsible = _matching_participant(meeting, item.responsible)
    new = ActionItem(what=item.what, with_whom=item.with_whom, due_date=due_date or item.due_date,
                     responsible=responsible, responsible_id=responsible.id, carried_from_id=item.id)
    meeting.items.append(new)
    _change_item_status(item, ItemStatus.CARRIED.value, by_name=by_name, by_user=by_user)
    db.session.flush()
    return new


# --- my tasks ----------------------------------------------------------------------------------

@functools.cache
def _open_items_statement() -> sa.Select:
    """A staff member's open items (bind "user_id") as plain rows with what the task lists show
    of their meetings and clients: no ORM objects, which cost more to build than the query
    takes when the list is long. Built once."""
    from register.models import Client

    return (
        sa.select(ActionItem.id, ActionItem.meeting_id, ActionItem.what, ActionItem.with_whom, ActionItem.due_date,
                  ActionItem.status, Meeting.starts_at, Meeting.purpose, Meeting.client_id,
                  Client.name.label("client_name"))
        .join(MeetingParticipant, ActionItem.responsible_id == MeetingParticipant.id)
        .join(Meeting, ActionItem.meeting_id == Meeting.id)
        .join(Client, Meeting.client_id == Client.id)
        .where(MeetingParticipant.kind == ParticipantKind.STAFF.value,
               MeetingParticipant.user_id == sa.bindparam("user_id"),
               ActionItem.status == ItemStatus.OPEN.value, Meeting.status != MeetingStatus.CANCELLED.value)
        # Overdue items have the earliest due dates, so due-date order puts them first; items
        # without a due date come last.
        .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
    )


def open_items_for_user(user_id: int) -> list[sa.Row]:
    """The staff member's open items across meetings, overdue first, then by due date: rows with
    id, meeting_id, what, with_whom, due_date, status, starts_at, purpose, client_id and
    client_name (is_overdue() takes them as it takes items)."""
    return list(db.session.execute(_open_items_statement(), {"user_id": user_id}))


@functools.cache
def _first_open_items_statement() -> sa.Select:
    return _open_items_statement().add_columns(sa.func.count().over().label("total")).limit(sa.bindparam("limit"))


def first_open_items(user_id: int, limit: int) -> tuple[list[sa.Row], int]:
    """The first ``limit`` of ``open_items_for_user`` and how many there are in all, in one
    query (a window count) however many tasks the user has."""
    rows = db.session.execute(_first_open_items_statement(), {"user_id": user_id, "limit": limit}).all()
    return rows, (rows[0].total if rows else 0)


# --- partner links -----------------------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_partner_link(contact, *, user) -> tuple[PartnerLink, str]:
    """A new personal link; the token is returned once and only its hash is kept."""
    token = secrets.token_urlsafe(32)
    link = PartnerLink(contact_id=contact.id, token_hash=hash_token(token), created_by_id=getattr(user, "id", None))
    db.session.add(link)
    db.session.flush()
    return link, token


def revoke_partner_link(link: PartnerLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.flush()


def link_for_token(token: str) -> PartnerLink | None:
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(sa.select(PartnerLink).where(PartnerLink.token_hash == hash_token(token)))
    if link is None or link.revoked_at is not None or link.contact is None or not link.contact.active:
        return None
    return link


def partner_open_items(contact_id: int) -> list[ActionItem]:
    return list(db.session.scalars(
        sa.select(ActionItem)
        .join(MeetingParticipant, ActionItem.responsible_id == MeetingParticipant.id)
        .join(Meeting, ActionItem.meeting_id == Meeting.id)
        .where(MeetingParticipant.kind == ParticipantKind.PARTNER.value, MeetingParticipant.contact_id == contact_id,
               ActionItem.status == ItemStatus.OPEN.value, Meeting.status != MeetingStatus.CANCELLED.value)
        .options(selectinload(ActionItem.meeting).selectinload(Meeting.client))
        .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
    ))


def partner_next_meetings(contact_id: int) -> dict[int, Meeting]:
    """The next upcoming meeting per client that the contact is invited to."""
    rows = db.session.scalars(
        sa.select(Meeting)
        .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
        .where(MeetingParticipant.kind == ParticipantKind.PARTNER.value, MeetingParticipant.contact_id == contact_id,
               Meeting.status == MeetingStatus.PLANNED.value, Meeting.starts_at >= utcnow())
        .options(selectinload(Meeting.client))
        .order_by(Meeting.starts_at)
    ).all()
    result: dict[int, Meeting] = {}
    for m in rows:
        result.setdefault(m.client_id, m)
    return result


def client_label(meeting: Meeting) -> str:
    """How a partner link names the client: as the meeting's staff chose, initials by default."""
    kind = meeting.client_identification
    if kind == "name":
        return meeting.client.name.split()[0] if meeting.client.name.split() else meeting.client.initials
    if kind == "none":
        return ""
    return meeting.client.initials


# From the strictest: a partner's page shows a client no more than every meeting shown allows.
_IDENTIFICATION_ORDER = ("none", "initials", "name")


def client_label_of(meetings) -> str:
    """The label of one client's section of a partner's page, which shows several meetings: as
    the strictest of their settings says (an unknown setting counts as "not at all")."""
    def rank(m: Meeting) -> int:
        kind = m.client_identification
        return _IDENTIFICATION_ORDER.index(kind) if kind in _IDENTIFICATION_ORDER else 0

    return client_label(min(meetings, key=rank)) if meetings else ""


# A partner's "mark done" can be taken back for a day (a press on the wrong task).
PARTNER_UNDO_WINDOW = timedelta(hours=24)


def partner_actor_name(link: PartnerLink) -> str:
    contact = link.contact
    return f"{contact.name} ({contact.organisation.name})"[:160]


def partner_recently_done(link: PartnerLink) -> list[ActionItem]:
    """The contact's items this partner marked done within the undo window, newest first."""
    return list(db.session.scalars(
        sa.select(ActionItem)
        .join(MeetingParticipant, ActionItem.responsible_id == MeetingParticipant.id)
        .join(Meeting, ActionItem.meeting_id == Meeting.id)
        .where(MeetingParticipant.kind == ParticipantKind.PARTNER.value,
               MeetingParticipant.contact_id == link.contact_id,
               ActionItem.status == ItemStatus.DONE.value, ActionItem.status_changed_by == partner_actor_name(link),
               ActionItem.status_changed_at >= utcnow() - PARTNER_UNDO_WINDOW,
               Meeting.status != MeetingStatus.CANCELLED.value)
        .order_by(ActionItem.status_changed_at.desc(), ActionItem.id)
    ))


def partner_undo_done(link: PartnerLink, item_id) -> ActionItem:
    """Open again an item this partner marked done within the window; anything else is not found."""
    try:
        key = int(item_id)
    except (TypeError, ValueError):
        raise LookupError(item_id) from None
    item = next((i for i in partner_recently_done(link) if i.id == key), None)
    if item is None:
        raise LookupError(item_id)
    set_item_status(item, ItemStatus.OPEN.value, by_name=partner_actor_name(link))
    return item


def partner_mark_done(link: PartnerLink, item_id) -> ActionItem:
    """A partner may close only their own open items; anything else is refused as not found."""
    try:
        key = int(item_id)
    except (TypeError, ValueError):
        raise LookupError(item_id) from None
    item = db.session.get(ActionItem, key) if 0 < key < 2**63 else None
    if (item is None or item.status != ItemStatus.OPEN.value or item.responsible.kind != ParticipantKind.PARTNER.value
            or item.responsible.contact_id != link.contact_id or item.meeting.is_cancelled):
        raise LookupError(item_id)
    set_item_status(item, ItemStatus.DONE.value, by_name=partner_actor_name(link))
    return item
