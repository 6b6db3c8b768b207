"""Queuing what is due: the reminders of the sessions, meetings and registered sources whose time has
come go into the outbox once (an INSERT that does nothing when the row exists). Functions flush."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import selectinload

from core.db import rowcount, utcnow
from core.extensions import db
from core.registry import register, registered
from core.timeutil import local_to_utc, to_local
from groups.models import GroupSession, SessionStatus
from meetings.models import Meeting, MeetingParticipant, MeetingStatus

from . import texts
from .models import (
    MessageStatus,
    OutboxMessage,
    ReminderPolicy,
    TargetKind,
)
from .services import (
    CLAIMABLE,
    Recipient,
    channel_address,
    group_recipients,
    meeting_recipients,
    new_opt_out_link,
    policy_channels,
    prune_opt_out_links,
)

# How far ahead reminders are queued: a day-before reminder for an event the day after tomorrow
# is never due yet, so two days is enough.
LOOKAHEAD = timedelta(days=2)

# --- queuing -----------------------------------------------------------------------------------

def _insert_once(values: dict) -> bool:
    """INSERT that does nothing when the (target, recipient, slot, channel) row exists: a
    concurrent process that got there first wins and nothing is duplicated."""
    from sqlalchemy.dialects import postgresql, sqlite

    from .notices import with_contact

    # Both dialects' INSERT has ON CONFLICT DO NOTHING.
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert

    # Every message ends with the unit's "call us" line (its phone number and opening hours).
    values["body"] = with_contact(values["body"], values.get("language") or "fi", client_id=values.get("client_id"))
    values.setdefault("status", MessageStatus.PENDING.value)
    values.setdefault("next_attempt_at", utcnow())
    values.setdefault("created_at", utcnow())
    # RETURNING tells reliably whether a row went in (rowcount is not, through the ORM on psycopg).
    stmt = insert(OutboxMessage).values(**values).on_conflict_do_nothing().returning(OutboxMessage.id)
    return db.session.execute(stmt).first() is not None


def due_slots(policy: ReminderPolicy, starts_at: datetime, now: datetime) -> list[str]:
    """Slots whose send time has come and whose event has not started. When a run comes late
    and both slots are due, only the latest one is sent (one reminder is enough)."""
    if starts_at <= now:
        return []
    day = to_local(starts_at).date()
    candidates = []
    if policy.day_before:
        candidates.append(("day_before", local_to_utc(day - timedelta(days=1), policy.day_before_at)))
    if policy.same_morning:
        send_at = local_to_utc(day, policy.same_morning_at)
        # A "morning" time after the event would never be useful.
        if send_at < starts_at:
            candidates.append(("same_morning", send_at))
    due = [(name, at) for name, at in candidates if at <= now]
    if not due:
        return []
    name, _at = max(due, key=lambda item: item[1])
    # The slot carries the start time, so a moved event is reminded again for its new time.
    return [f"{name}@{starts_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"]


def _queue_for(policy, target_kind, target_id, what, starts_at, place, recipients, now) -> int:
    created = 0
    slots = due_slots(policy, starts_at, now)
    if not slots:
        return 0
    today = to_local(now).date()
    for slot in slots:
        for r in recipients:
            for channel in policy_channels(policy):
                address, _reason = channel_address(r, channel)
                if address is None:
                    continue
                stop, link = new_opt_out_link(r, now)
                where = place(r.language) if callable(place) else place
                body = texts.reminder_text(what, starts_at, where, r.language, today, stop)
                # Due from the run's own "now", so the run that queues it also sends it.
                inserted = _insert_once(dict(
                    next_attempt_at=now, created_at=now,
                    kind="reminder", target_kind=target_kind, target_id=target_id, recipient_kind=r.kind,
                    recipient_id=r.id, slot=slot, channel=channel, client_id=r.client_id, address=address,
                    language=r.language, subject=texts.subject_for("reminder", r.language), body=body,
                ))
                # A link is stored only with the message that carries it (a run that finds the
                # message already queued stores nothing).
                if inserted and link is not None:
                    db.session.add(link)
                created += inserted
    return created


def session_place(session: GroupSession) -> str:
    group = session.group
    parts = [p for p in (group.venue, session.room or group.room) if p]
    return ", ".join(parts)


def meeting_place(meeting: Meeting, language: str = "fi") -> str:
    from flask_babel import force_locale, gettext as _

    if meeting.place_kind == "remote":
        with force_locale(language):
            return _("remote meeting")
    if meeting.place_kind == "home_visit":
        # The client's home address never goes into a message.
        with force_locale(language):
            return _("home visit")
    return meeting.place


# Features after this one in the layer order (appointments) queue their own reminders through
# ``_queue_for`` when ``queue_due`` runs: a function of ``now`` returning how many rows were new,
# registered on the app (``core.registry``) when their blueprint is.
def register_reminder_source(app: Flask, source):
    return register(app, "reminder_sources", source)


def queue_due(now: datetime) -> int:
    """Create the outbox rows for every reminder due at ``now``; returns how many were new."""
    created = sum(source(now) for source in registered("reminder_sources"))
    prune_opt_out_links(now)
    policies = db.session.scalars(sa.select(ReminderPolicy)).all()
    group_policies = {p.target_id: p for p in policies if p.target_kind == TargetKind.GROUP.value}
    meeting_policies = {p.target_id: p for p in policies if p.target_kind == TargetKind.MEETING.value}
    if group_policies:
        sessions = db.session.scalars(
            sa.select(GroupSession)
            .where(GroupSession.group_id.in_(group_policies), GroupSession.status == SessionStatus.SCHEDULED.value,
                   GroupSession.starts_at > now, GroupSession.starts_at <= now + LOOKAHEAD)
            .options(selectinload(GroupSession.group))
        ).all()
        recipients_by_group: dict[int, list[Recipient]] = {}
        for session in sessions:
            if session.group_id not in recipients_by_group:
                recipients_by_group[session.group_id] = group_recipients(session.group)
            created += _queue_for(group_policies[session.group_id], TargetKind.SESSION.value, session.id, "session",
                                  session.starts_at, session_place(session), recipients_by_group[session.group_id],
                                  now)
    if meeting_policies:
        meetings = db.session.scalars(
            sa.select(Meeting)
            .where(Meeting.id.in_(meeting_policies), Meeting.status == MeetingStatus.PLANNED.value,
                   Meeting.starts_at > now, Meeting.starts_at <= now + LOOKAHEAD)
            .options(selectinload(Meeting.client), selectinload(Meeting.participants)
                     .selectinload(MeetingParticipant.relative))
        ).all()
        for meeting in meetings:
            recipients = meeting_recipients(meeting)
            created += _queue_for(meeting_policies[meeting.id], TargetKind.MEETING.value, meeting.id, "network",
                                  meeting.starts_at, lambda lang, m=meeting: meeting_place(m, lang), recipients, now)
    db.session.flush()
    return created


def _cancelled_targets_condition():
    """Rows whose session or meeting was cancelled after the reminder was queued."""
    cancelled_sessions = sa.select(GroupSession.id).where(GroupSession.status == SessionStatus.CANCELLED.value)
    cancelled_meetings = sa.select(Meeting.id).where(Meeting.status == MeetingStatus.CANCELLED.value)
    return sa.and_(
        OutboxMessage.kind == "reminder",
        sa.or_(sa.and_(OutboxMessage.target_kind == TargetKind.SESSION.value,
                       OutboxMessage.target_id.in_(cancelled_sessions)),
               sa.and_(OutboxMessage.target_kind == TargetKind.MEETING.value,
                       OutboxMessage.target_id.in_(cancelled_meetings))),
    )


def drop_cancelled(now: datetime) -> int:
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status.in_(CLAIMABLE), _cancelled_targets_condition())
        .values(status=MessageStatus.CANCELLED.value, next_attempt_at=None, last_error="event cancelled")
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def revive_reminders(target_kind: str, target_id: int, starts_at: datetime) -> int:
    """A cancellation undone before the event: the reminders ``drop_cancelled`` stopped for its
    current time go out after all (a new queue_due run cannot queue them again: their slot is
    taken by the stopped row). Reminders stopped for an earlier time, or by an opt-out, stay."""
    slot_suffix = "@" + starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.kind == "reminder", OutboxMessage.target_kind == target_kind,
               OutboxMessage.target_id == target_id, OutboxMessage.status == MessageStatus.CANCELLED.value,
               OutboxMessage.last_error == "event cancelled", OutboxMessage.slot.endswith(slot_suffix))
        .values(status=MessageStatus.PENDING.value, next_attempt_at=utcnow(), last_error="")
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
