"""Arranging, moving and cancelling network meetings, their participants, notes and who took part.

Services change data and flush; the request commits (core.transaction). Each change of a meeting's time, place or status
raises ``Meeting.sequence`` and writes a ``MeetingChange`` row, so calendar feeds and invitations
can tell an updated event from a new one.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from core.db import utcnow
from core.extensions import db
from core.templating import local_dt
from core.timeutil import local_to_utc, to_local
from register.models import PartnerContact

from . import signals
from .models import (
    ActionItem,
    Meeting,
    MeetingChange,
    MeetingParticipant,
    MeetingStatus,
    ParticipantKind,
    PlaceKind,
)
from .services import MeetingError, _send

# --- arranging, moving, cancelling -------------------------------------------------------------

def meeting_times(day: date, at: time, minutes: int) -> tuple[datetime, datetime]:
    starts = local_to_utc(day, at)
    return starts, starts + timedelta(minutes=minutes)


def create_meeting(*, client, purpose: str, starts_at: datetime, ends_at: datetime,
                   place_kind: str = PlaceKind.OFFICE.value, place: str = "", remote_link: str = "",
                   staff_ids=(), contact_ids=(), relative_ids=(), include_client: bool = True,
                   client_identification: str = "initials", created_by=None, previous: Meeting | None = None) -> Meeting:
    meeting = Meeting(client_id=client.id, client=client, unit_id=client.unit_id, purpose=purpose, starts_at=starts_at, ends_at=ends_at,
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
    # current_app is a LocalProxy typed as the Flask it stands for; the method is the proxy's.
    sender = current_app._get_current_object()  # type: ignore[attr-defined]
    signals.participant_removed.send(sender, meeting=meeting, participant=participant)
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
    # "restored": the calendar invitation is sent again, and those told of the cancellation by
    # SMS are told it takes place after all (reminders.notices.meeting_changed).
    _send(meeting, "restored", old_starts_at=meeting.starts_at)


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
        # current_app is a LocalProxy typed as the Flask it stands for; the method is the proxy's.
        sender = current_app._get_current_object()  # type: ignore[attr-defined]
        signals.participant_attendance_recorded.send(sender, participant=participant)
