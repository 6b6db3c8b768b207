"""Calendar invitations (iCalendar REQUEST/CANCEL) to a network meeting's participants, queued in the
outbox when the meeting is planned, changes or a participant is removed. Functions flush."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import overload

import sqlalchemy as sa
from flask import current_app

from core.db import utcnow
from core.extensions import db
from meetings.models import Meeting, MeetingParticipant, MeetingStatus, ParticipantKind

from . import texts
from .models import (
    Channel,
    MessageStatus,
    OutboxMessage,
    RecipientKind,
    TargetKind,
)
from .queue import _insert_once, drop_cancelled, meeting_place
from .services import CLAIMABLE

# --- invitations -------------------------------------------------------------------------------

def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}@kohtaamo"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


@overload
def _when(value: str) -> datetime: ...


@overload
def _when(value: None) -> None: ...


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def invitation_event(meeting: Meeting, method: str, attendee: tuple[str, str], language: str, *,
                     starts_at: datetime | None = None, ends_at: datetime | None = None,
                     location: str | None = None) -> dict:
    """What an invitation's calendar says, as it is when the invitation is queued (stored with the
    message as JSON): same UID for the life of the meeting, SEQUENCE from the meeting. The time
    and place may be given (a cancellation names the ones the person was invited to)."""
    return {
        "uid": meeting_uid(meeting), "summary": texts.meeting_summary(language),
        "starts_at": _iso(starts_at or meeting.starts_at), "ends_at": _iso(ends_at or meeting.ends_at),
        "updated_at": _iso(meeting.updated_at or utcnow()), "created_at": _iso(meeting.created_at),
        "sequence": meeting.sequence, "cancelled": meeting.is_cancelled or method == "CANCEL",
        "location": meeting_place(meeting, language) if location is None else location,
        "attendee": list(attendee), "language": language,
    }


def event_ics(event: dict, method: str, organizer: tuple[str, str], stamp: datetime) -> str:
    """The invitation's calendar from its stored event, with the ORGANIZER and DTSTAMP of the
    moment it is built (the send time: the settings then in force, and the time the calendar
    object was made, as RFC 5546 asks of DTSTAMP in a REQUEST or CANCEL)."""
    from calendar_export.ical import EventRecord, build_event_ics

    record = EventRecord(
        uid=event["uid"], summary=event["summary"], starts_at=_when(event["starts_at"]),
        ends_at=_when(event["ends_at"]), updated_at=_when(event["updated_at"]), sequence=int(event["sequence"]),
        cancelled=bool(event["cancelled"]), location=event["location"], created_at=_when(event.get("created_at")),
        organizer=organizer, attendees=(tuple(event["attendee"]),),
    )
    from flask_babel import force_locale

    from calendar_export.installation import cancelled_label, uid_policy

    with force_locale(texts._lang(event.get("language"))):
        cancelled = cancelled_label()
    return build_event_ics(record, method=method, uids=uid_policy(), cancelled_label=cancelled,
                           stamp=stamp).decode("utf-8")


def invitation_ics(meeting: Meeting, method: str, attendee: tuple[str, str], organizer: tuple[str, str],
                   language: str) -> str:
    """The calendar of an invitation as it would be built now (kept with the queued message as
    a record of what was queued; the message is sent with ``event_ics`` of its stored event)."""
    return event_ics(invitation_event(meeting, method, attendee, language), method, organizer, utcnow())


def queue_invitations(meeting: Meeting, change: str) -> int:
    """Queue an invitation (created), update (moved/updated) or cancellation for the partner
    contacts and relatives of a meeting. The slot carries the SEQUENCE, so an "updated" signal
    that changed nothing calendar-relevant (same sequence) queues nothing new."""
    if change == "cancelled" or meeting.is_cancelled:
        method, slot = "CANCEL", f"cancel-{meeting.sequence}"
    elif meeting.status != MeetingStatus.PLANNED.value or meeting.starts_at <= utcnow():
        # Marking a meeting held (or notes on a past one) is no news for anyone's calendar.
        return 0
    else:
        method, slot = "REQUEST", f"invite-{meeting.sequence}"
    organizer = organizer_of(current_app.config)
    created = 0
    for p in meeting.participants:
        invitee = _invitee(p)
        if invitee is None:
            continue
        kind, rid, name, email, lang = invitee
        if not email:
            continue
        if method == "CANCEL" and not _was_invited(meeting.id, kind, rid):
            continue
        subject, body = texts.invitation_texts(method, change, meeting.starts_at, meeting_place(meeting, lang), lang)
        event = invitation_event(meeting, method, (name, email), lang)
        created += _insert_once(dict(
            kind="invitation", target_kind=TargetKind.MEETING.value, target_id=meeting.id, recipient_kind=kind,
            recipient_id=rid, slot=slot, channel=Channel.EMAIL.value, client_id=meeting.client_id, address=email,
            language=lang, subject=subject, body=body, ics_method=method, event=json.dumps(event),
            ics=event_ics(event, method, organizer, utcnow()),
        ))
    # Reminders queued for the old time or for a cancelled meeting must not go out.
    if method == "CANCEL":
        drop_cancelled(utcnow())
    db.session.flush()
    return created


def organizer_of(config) -> tuple[str, str]:
    """The invitations' ORGANIZER: the address they are sent from (MAIL_FROM)."""
    return "Kohtaamo", config.get("MAIL_FROM") or "kohtaamo@localhost"


def _invitee(p: MeetingParticipant) -> tuple[str, int, str, str, str] | None:
    """(recipient kind, id, name, email, language) of a participant who is sent invitations:
    partner contacts and relatives (staff see meetings in their own calendar feeds)."""
    if p.kind == ParticipantKind.PARTNER.value and p.contact is not None:
        c = p.contact
        return RecipientKind.CONTACT.value, c.id, c.name, (c.email or "").strip(), c.language
    if p.kind == ParticipantKind.RELATIVE.value and p.relative is not None:
        r = p.relative
        return RecipientKind.RELATIVE.value, r.id, r.name, (r.email or "").strip(), r.language
    return None


def _invited_to(meeting: Meeting, kind: str, recipient_id: int, language: str) -> tuple[datetime, datetime, str]:
    """The time and place of the last invitation to the meeting that the recipient has (not
    called off): when the meeting was moved and they were taken off before the update reached
    them, that is the old time and place, the ones in their calendar."""
    row = db.session.execute(
        sa.select(OutboxMessage.event, OutboxMessage.ics).where(
            OutboxMessage.kind == "invitation", OutboxMessage.target_kind == TargetKind.MEETING.value,
            OutboxMessage.target_id == meeting.id, OutboxMessage.recipient_kind == kind,
            OutboxMessage.recipient_id == recipient_id, OutboxMessage.ics_method == "REQUEST",
            OutboxMessage.status != MessageStatus.CANCELLED.value)
        .order_by(OutboxMessage.id.desc()).limit(1)).first()
    current = (meeting.starts_at, meeting.ends_at, meeting_place(meeting, language))
    if row is None:
        return current
    if row.event:
        event = json.loads(row.event)
        return _when(event["starts_at"]), _when(event["ends_at"]), event["location"]
    try:
        # Queued before events were stored: read the calendar it was queued with.
        from icalendar import Calendar

        [vevent] = Calendar.from_ical(row.ics).walk("VEVENT")
        return (vevent.decoded("DTSTART").astimezone(UTC), vevent.decoded("DTEND").astimezone(UTC),
                str(vevent.get("LOCATION", "")))
    except (ValueError, KeyError, TypeError, AttributeError):
        return current


def participant_removed(meeting: Meeting, participant: MeetingParticipant) -> int:
    """Someone taken off a meeting gets nothing more about it: their messages still waiting
    (reminders, an unsent invitation or update) are cancelled, and if an invitation already went
    out, a cancellation follows it (while the meeting is ahead) so it leaves their calendar; it
    names the time and place of the invitation they have. Returns how many were queued."""
    invitee = _invitee(participant)
    if invitee is None:
        return 0
    kind, rid, name, email, lang = invitee
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.target_kind == TargetKind.MEETING.value, OutboxMessage.target_id == meeting.id,
               OutboxMessage.recipient_kind == kind, OutboxMessage.recipient_id == rid,
               OutboxMessage.status.in_(CLAIMABLE + (MessageStatus.MANUAL.value,)))
        .values(status=MessageStatus.CANCELLED.value, next_attempt_at=None, last_error="removed from the meeting")
        .execution_options(synchronize_session=False))
    # Their unsent invitation was cancelled just above: what is left went out (or is going).
    if not (email and _was_invited(meeting.id, kind, rid)) or meeting.is_cancelled or meeting.starts_at <= utcnow():
        return 0
    starts_at, ends_at, place = _invited_to(meeting, kind, rid, lang)
    subject, body = texts.invitation_texts("CANCEL", "removed", starts_at, place, lang)
    event = invitation_event(meeting, "CANCEL", (name, email), lang, starts_at=starts_at, ends_at=ends_at,
                             location=place)
    created = _insert_once(dict(
        kind="invitation", target_kind=TargetKind.MEETING.value, target_id=meeting.id, recipient_kind=kind,
        recipient_id=rid, slot=f"removed-{meeting.sequence}", channel=Channel.EMAIL.value, client_id=meeting.client_id,
        address=email, language=lang, subject=subject, body=body, ics_method="CANCEL", event=json.dumps(event),
        ics=event_ics(event, "CANCEL", organizer_of(current_app.config), utcnow()),
    ))
    db.session.flush()
    return int(created)


def _was_invited(meeting_id: int, kind: str, recipient_id: int) -> bool:
    """Whether an invitation to the meeting exists for the recipient that was not called off
    (a cancelled one never reached them, so nothing needs cancelling)."""
    return db.session.scalar(sa.select(sa.exists().where(
        OutboxMessage.kind == "invitation", OutboxMessage.target_kind == TargetKind.MEETING.value,
        OutboxMessage.target_id == meeting_id, OutboxMessage.recipient_kind == kind,
        OutboxMessage.recipient_id == recipient_id, OutboxMessage.status != MessageStatus.CANCELLED.value))) or False
