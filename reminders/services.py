"""Reminder policies, recipients, queuing what is due, claiming and sending, invitations and
no-show follow-ups. Functions flush (the request commits, core.transaction); only the outbox worker
of the send-reminders command (claim_batch, send_claimed and their helpers) commits, message by message."""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

import phonenumbers
import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from core import channels
from core.db import immediate_transactions, utcnow
from core.extensions import db
from core.forms import normalise_phone
from core.registry import register, registered
from core.timeutil import local_to_utc, to_local
from groups.models import Enrolment, EnrolmentStatus, Group, GroupSession, SessionStatus
from groups.services import can_edit as can_edit_group, editable_group_ids
from meetings.models import Meeting, MeetingParticipant, MeetingStatus, ParticipantKind
from meetings.services import can_open as can_open_meeting, hash_token, openable_meeting_ids
from meetings.signals import meeting_changed
from register.models import Client, Relative

from . import texts
from .models import (
    Channel,
    FollowUpStatus,
    FollowUpTask,
    MessageStatus,
    OptOutLink,
    OutboxMessage,
    PlaceOffer,
    RecipientKind,
    ReminderOptOut,
    ReminderPolicy,
    TargetKind,
)

# How far ahead reminders are queued: a day-before reminder for an event the day after tomorrow
# is never due yet, so two days is enough.
LOOKAHEAD = timedelta(days=2)
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=2)
BACKOFF_CAP = timedelta(hours=6)
# A claim older than this belongs to a process that died mid-send; the row is retried (the
# only case where a message could go out twice, and only if the crash fell between the
# gateway's acceptance and our "sent" update).
STALE_CLAIM = timedelta(minutes=30)
CLAIMABLE = (MessageStatus.PENDING.value, MessageStatus.FAILED.value)
# last_error of a message that could not be built (not a refusal by the gateway or server).
MESSAGE_ERROR = "message: "

# What the outbox page says for a stored last_error, by its start; the technical text follows.
ERROR_REASONS = (
    ("SMTP:", _l("The e-mail server did not accept the message.")),
    ("SMS gateway:", _l("The SMS gateway did not accept the message.")),
    (MESSAGE_ERROR, _l("The message could not be made: check the address, and the place of the meeting or "
                       "session.")),
    ("interrupted while sending", _l("Sending was interrupted.")),
    ("opted out", _l("Has opted out of reminders")),
    ("event cancelled", _l("The event was cancelled.")),
    ("removed from the meeting", _l("Removed from the meeting.")),
)


def error_reason(last_error: str) -> str:
    """The readable reason for a stored last_error ("" when there is none or it is unknown)."""
    for prefix, reason in ERROR_REASONS:
        if (last_error or "").startswith(prefix):
            return str(reason)
    return ""

# --- policies ----------------------------------------------------------------------------------


def get_policy(target_kind: str, target_id: int) -> ReminderPolicy | None:
    return db.session.scalar(sa.select(ReminderPolicy).where(ReminderPolicy.target_kind == target_kind,
                                                             ReminderPolicy.target_id == target_id))


def save_policy(target_kind: str, target_id: int, *, day_before: bool, day_before_at: time, same_morning: bool,
                same_morning_at: time, by_sms: bool, by_email: bool, user=None) -> ReminderPolicy:
    policy = get_policy(target_kind, target_id)
    if policy is None:
        policy = ReminderPolicy(target_kind=target_kind, target_id=target_id)
        db.session.add(policy)
    else:
        policy.version += 1
    policy.day_before, policy.day_before_at = day_before, day_before_at
    policy.same_morning, policy.same_morning_at = same_morning, same_morning_at
    policy.by_sms, policy.by_email = by_sms, by_email
    policy.updated_by_id = getattr(user, "id", None)
    db.session.flush()
    return policy


# --- who may see what ---------------------------------------------------------------------------
# The reminders of a meeting or a group's session show its time, place and recipients (names,
# numbers): they are seen by whoever may open the meeting or see the group's participants, by the
# meetings' and groups' own rules, and by nobody else (not by staff who merely see the client).

def can_see_target(user, target_kind: str, target_id: int) -> bool:
    """Whether ``user`` may see the reminders of a group, a session or a meeting."""
    if not getattr(user, "is_authenticated", False):
        return False
    if target_kind == TargetKind.MEETING.value:
        meeting = db.session.get(Meeting, target_id)
        return meeting is not None and can_open_meeting(user, meeting)
    if (target := _targets().get(target_kind)) is not None:
        return target.can_open(user, target_id)
    if target_kind == TargetKind.SESSION.value:
        session = db.session.get(GroupSession, target_id)
        return session is not None and can_edit_group(user, session.group)
    if target_kind == TargetKind.GROUP.value:
        group = db.session.get(Group, target_id)
        return group is not None and can_edit_group(user, group)
    if target_kind == TargetKind.OFFER.value:
        offer = db.session.get(PlaceOffer, target_id)
        return offer is not None and can_edit_group(user, offer.group)
    return False


def target_visible_condition(user, kind_column, id_column):
    """``can_see_target`` as SQL over a (session | meeting, id) pair of columns, for lists."""
    meetings, groups = openable_meeting_ids(user), editable_group_ids(user)
    sessions = sa.select(GroupSession.id).where(GroupSession.group_id.in_(groups))
    offers = sa.select(PlaceOffer.id).where(PlaceOffer.group_id.in_(groups))
    return sa.or_(sa.and_(kind_column == TargetKind.MEETING.value, id_column.in_(meetings)),
                  sa.and_(kind_column == TargetKind.SESSION.value, id_column.in_(sessions)),
                  *(sa.and_(kind_column == kind, id_column.in_(target.openable_ids(user)))
                    for kind, target in _targets().items()),
                  sa.and_(kind_column == TargetKind.OFFER.value, id_column.in_(offers)))


def message_visible_condition(user):
    """A message is seen by whoever may see its target, and by the leads of its client's unit."""
    from accounts.units import led_unit_ids_select
    from register.models import Client

    to_led_clients = OutboxMessage.client_id.in_(sa.select(Client.id).where(Client.unit_id.in_(led_unit_ids_select(user))))
    return sa.or_(target_visible_condition(user, OutboxMessage.target_kind, OutboxMessage.target_id), to_led_clients)


# --- recipients --------------------------------------------------------------------------------

@dataclass
class Recipient:
    kind: str
    id: int
    client_id: int
    name: str
    phone: str
    email: str
    language: str
    consent: bool
    consent_date: date | None
    opted_out: bool = False


def _from_client(client: Client) -> Recipient:
    return Recipient(RecipientKind.CLIENT.value, client.id, client.id, client.name, client.phone, client.email,
                     client.language, client.reminder_consent, client.consent_date)


def _from_relative(relative: Relative) -> Recipient:
    return Recipient(RecipientKind.RELATIVE.value, relative.id, relative.client_id, relative.name, relative.phone,
                     relative.email, relative.language, relative.reminder_consent, relative.consent_date)


def _mark_opt_outs(recipients: list[Recipient]) -> list[Recipient]:
    if not recipients:
        return recipients
    rows = db.session.execute(
        sa.select(ReminderOptOut.recipient_kind, ReminderOptOut.recipient_id)
        .where(ReminderOptOut.recipient_id.in_({r.id for r in recipients}))
    ).all()
    opted = {(k, i) for k, i in rows}
    for r in recipients:
        r.opted_out = (r.kind, r.id) in opted
    return recipients


def group_recipients(group: Group) -> list[Recipient]:
    clients = db.session.scalars(
        sa.select(Client).join(Enrolment, Enrolment.client_id == Client.id)
        .where(Enrolment.group_id == group.id, Enrolment.status == EnrolmentStatus.ENROLLED.value,
               Client.active.is_(True)).order_by(Client.name)
    ).all()
    return _mark_opt_outs([_from_client(c) for c in clients])


def appointment_recipients(appointment) -> list[Recipient]:
    """An appointment's client (its reminders and change notices go to the client only). The
    appointment comes from the appointments feature above this one (``ReminderTarget``)."""
    return _mark_opt_outs([_from_client(appointment.client)])


def meeting_recipients(meeting: Meeting) -> list[Recipient]:
    """The meeting's client, when the client takes part (a meeting of the network without the
    client is no appointment of theirs), and the relatives invited to it."""
    participants = db.session.scalars(
        sa.select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)
        .options(selectinload(MeetingParticipant.relative)).order_by(MeetingParticipant.id)
    ).all()
    client_takes_part = any(p.kind == ParticipantKind.CLIENT.value for p in participants)
    result = [_from_client(meeting.client)] if client_takes_part and meeting.client and meeting.client.active else []
    for p in participants:
        if p.kind == ParticipantKind.RELATIVE.value and p.relative is not None:
            result.append(_from_relative(p.relative))
    return _mark_opt_outs(result)


REASONS = {
    "no_consent": _l("No consent to reminders"),
    "opted_out": _l("Has opted out of reminders"),
    "no_phone": _l("No phone number"),
    "invalid_phone": _l("Invalid phone number"),
    "foreign_phone": _l("Foreign phone number: SMS is sent to Finnish numbers only"),
    "no_email": _l("No e-mail address"),
}


def sms_address(phone: str) -> tuple[str | None, str | None]:
    """(E.164 number, None) or (None, reason key). Only Finnish numbers: the gateway contract and
    the consent cover Finnish subscriptions."""
    if not (phone or "").strip():
        return None, "no_phone"
    try:
        number = normalise_phone(phone)
    except ValueError:
        return None, "invalid_phone"
    if phonenumbers.region_code_for_number(phonenumbers.parse(number)) != "FI":
        return None, "foreign_phone"
    return number, None


def channel_address(recipient: Recipient, channel: str) -> tuple[str | None, str | None]:
    """Where a reminder to ``recipient`` goes on ``channel``, or why it is not sent."""
    if not recipient.consent:
        return None, "no_consent"
    if recipient.opted_out:
        return None, "opted_out"
    if channel == Channel.SMS.value:
        return sms_address(recipient.phone)
    email = (recipient.email or "").strip()
    return (email, None) if email else (None, "no_email")


def policy_channels(policy: ReminderPolicy) -> list[str]:
    return [c for c, on in ((Channel.SMS.value, policy.by_sms), (Channel.EMAIL.value, policy.by_email)) if on]


# --- opt-out links -----------------------------------------------------------------------------
# A random token per message, kept only as its hash (meetings.services.hash_token, as partner
# links are): the URL names nobody, and it stops working when it expires or when the person's
# consent is not the one it was sent under. Links signed the earlier way (they carried the
# recipient's id) are no longer accepted.

OPT_OUT_LINK_VALID = timedelta(days=90)


def new_opt_out_link(recipient: Recipient, now: datetime) -> tuple[str, OptOutLink | None]:
    """(the absolute link, its row to add once the message carrying it is stored), or ("", None)
    when BASE_URL is not set (a relative link in an SMS would be useless; staff can still turn
    reminders off on the settings page)."""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if not base:
        return "", None
    token = secrets.token_urlsafe(16)   # 128 random bits, 22 characters: short enough for an SMS
    link = OptOutLink(token_hash=hash_token(token), recipient_kind=recipient.kind, recipient_id=recipient.id,
                      client_id=recipient.client_id, consent_date=recipient.consent_date, created_at=now,
                      expires_at=now + OPT_OUT_LINK_VALID)
    # Built by hand: the command runs outside any request, where url_for cannot build URLs.
    return f"{base}/reminders/stop/{token}", link


def opt_out_link_for_token(token: str, now: datetime) -> tuple[OptOutLink, Client | Relative] | None:
    """The link and its person, or None when the token is unknown (mistyped, tampered, or signed
    the earlier way), expired, or no longer matches the person's consent."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(sa.select(OptOutLink).where(OptOutLink.token_hash == hash_token(token)))
    if link is None or link.expires_at <= now:
        return None
    model = Client if link.recipient_kind == RecipientKind.CLIENT.value else Relative
    person = db.session.get(model, link.recipient_id)
    if person is None or not person.reminder_consent or person.consent_date != link.consent_date:
        return None
    return link, person


_STOP_LINK = re.compile(r"(/reminders/(?:stop|offer)/)[A-Za-z0-9_.-]+")


def mask_opt_out_link(body: str) -> str:
    """The stored copy of a message once it has gone out: its opt-out (or offer) token is no
    longer needed in clear (only the recipient's copy works as a link)."""
    return _STOP_LINK.sub(r"\1…", body)


def prune_opt_out_links(now: datetime) -> None:
    db.session.execute(sa.delete(OptOutLink).where(OptOutLink.expires_at <= now)
                       .execution_options(synchronize_session=False))


def set_opt_out(kind: str, recipient_id: int, opted_out: bool, source: str = "link") -> None:
    row = db.session.scalar(sa.select(ReminderOptOut).where(ReminderOptOut.recipient_kind == kind,
                                                            ReminderOptOut.recipient_id == recipient_id))
    if opted_out and row is None:
        db.session.add(ReminderOptOut(recipient_kind=kind, recipient_id=recipient_id, source=source))
    elif not opted_out and row is not None:
        db.session.delete(row)
    if opted_out:
        # Nothing already queued for them goes out either.
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.recipient_kind == kind, OutboxMessage.recipient_id == recipient_id,
                   OutboxMessage.kind == "reminder", OutboxMessage.status.in_(CLAIMABLE))
            .values(status=MessageStatus.CANCELLED.value, next_attempt_at=None, last_error="opted out")
        )
    db.session.flush()


# --- queuing -----------------------------------------------------------------------------------

def _insert_once(values: dict) -> bool:
    """INSERT that does nothing when the (target, recipient, slot, channel) row exists: a
    concurrent process that got there first wins and nothing is duplicated."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    from .notices import with_contact

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
    return result.rowcount


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
    return result.rowcount


def recover_stale_claims(now: datetime) -> int:
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.SENDING.value, OutboxMessage.claimed_at < now - STALE_CLAIM)
        .values(status=MessageStatus.FAILED.value, claim_token=None, next_attempt_at=now,
                last_error="interrupted while sending")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def due_channels(now: datetime) -> set[str]:
    rows = db.session.scalars(
        sa.select(OutboxMessage.channel).distinct()
        .where(OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now)
    ).all()
    return set(rows)


# --- claiming and sending ----------------------------------------------------------------------

def claim_batch(now: datetime, limit: int = 20) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due messages for this process and commit the claim.

    The UPDATE repeats the status condition: when two processes picked the same ids, the one
    that writes second finds the rows no longer pending (PostgreSQL re-checks the WHERE after
    waiting for the row lock; on SQLite the write lock is taken at BEGIN, so the processes queue)
    and claims nothing. Only rows carrying this process's token are sent by it.
    """
    token = secrets.token_hex(16)
    db.session.commit()  # own commit: the reminder worker (CLI) ends any read before claiming
    with immediate_transactions():
        ids = db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
        ).all()
        claimed = 0
        if ids:
            result = db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(CLAIMABLE),
                       OutboxMessage.next_attempt_at <= now)
                .values(status=MessageStatus.SENDING.value, claim_token=token, claimed_at=now,
                        attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            claimed = result.rowcount
        db.session.commit()  # own commit: the worker's claim is stored before anything is sent
    if not claimed:
        return token, []
    mine = db.session.scalars(sa.select(OutboxMessage.id).where(OutboxMessage.claim_token == token,
                                                                OutboxMessage.status == MessageStatus.SENDING.value)
                              .order_by(OutboxMessage.id)).all()
    db.session.commit()  # own commit: the worker holds no transaction while sending
    return token, list(mine)


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


def _finish(message_id: int, token: str, values: dict) -> None:
    # End any read transaction first: on SQLite a deferred read that turns into a write fails
    # with "database is locked" when another process wrote meanwhile.
    db.session.commit()  # own commit: the worker ends any read before marking a message
    with immediate_transactions():
        db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
            .values(**values).execution_options(synchronize_session=False)
        )
        db.session.commit()  # own commit: the worker stores each message's outcome at once


def deliver(message: OutboxMessage, config, now: datetime | None = None) -> str:
    if message.channel == Channel.EMAIL.value:
        ics = message.ics
        if message.event:
            # Built now: the ORGANIZER and DTSTAMP of the send, from the settings now in force.
            ics = event_ics(json.loads(message.event), message.ics_method or "REQUEST", organizer_of(config),
                            now or utcnow())
        return channels.send_email(config, to=message.address, subject=message.subject, body=message.body,
                                   ics=ics, ics_method=message.ics_method)
    return channels.sms_backend(config).send(message.address, message.body)


def _failed(message_id: int, token: str, attempts: int, now: datetime, error: str) -> None:
    give_up = attempts >= MAX_ATTEMPTS
    _finish(message_id, token, dict(status=MessageStatus.FAILED.value, claim_token=None, last_error=error[:500],
                                    next_attempt_at=None if give_up else now + backoff(attempts)))


def release_claims(token: str, ids: list[int]) -> None:
    """Give back claimed messages this process will not try (it is stopping): they are due again
    at once, for the next run, without counting an attempt."""
    if not ids:
        return
    db.session.rollback()
    with immediate_transactions():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.claim_token == token,
                   OutboxMessage.status == MessageStatus.SENDING.value)
            .values(status=MessageStatus.PENDING.value, claim_token=None, claimed_at=None,
                    attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False))
        db.session.commit()  # own commit: the worker gives back unsent claims at once


def send_claimed(token: str, ids: list[int], config, now: datetime) -> dict[str, int]:
    """Send the claimed messages one by one. Whatever goes wrong with one message (the gateway or
    the mail server refuses it, or the message itself cannot be built: a header the e-mail
    library refuses, a calendar that does not build) is that message's failure: it is marked
    failed with the reason, retried with backoff, and the next message is sent. Only a stop of
    the process itself ends the batch, and then the messages not yet tried are given back."""
    counts = {"sent": 0, "manual": 0, "failed": 0}
    for index, message_id in enumerate(ids):
        try:
            message = db.session.get(OutboxMessage, message_id)
            attempts = message.attempts
            # A detached copy: no transaction stays open (or reopens) while talking to the network.
            db.session.expunge(message)
            db.session.commit()  # own commit: the worker holds no transaction while sending
        except BaseException:
            release_claims(token, ids[index:])
            raise
        try:
            outcome = deliver(message, config, now)
        except channels.SendError as exc:
            _failed(message_id, token, attempts, now, str(exc))
            counts["failed"] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - one message's fault must not stop the batch
            # Logged without the message's text or address; the outbox page shows the reason.
            current_app.logger.warning("send-reminders: message %s could not be sent: %s", message_id,
                                       type(exc).__name__)
            _failed(message_id, token, attempts, now, f"{MESSAGE_ERROR}{type(exc).__name__}: {exc}")
            counts["failed"] += 1
            continue
        except BaseException:
            # Stopped mid-send: this message stays claimed (the stale-claim recovery retries it:
            # it may have gone out), the rest are given back.
            release_claims(token, ids[index + 1:])
            raise
        if outcome == channels.MANUAL:
            _finish(message_id, token, dict(status=MessageStatus.MANUAL.value, claim_token=None, next_attempt_at=None,
                                            last_error=""))
            counts["manual"] += 1
        else:
            _finish(message_id, token, dict(status=MessageStatus.SENT.value, claim_token=None, sent_at=utcnow(),
                                            next_attempt_at=None, last_error="",
                                            body=mask_opt_out_link(message.body)))
            counts["sent"] += 1
    return counts


def mark_sent_by_hand(message: OutboxMessage, user) -> None:
    message.status = MessageStatus.SENT.value
    message.sent_at = utcnow()
    message.sent_by_id = user.id
    message.body = mask_opt_out_link(message.body)
    db.session.flush()


def retry_now(message: OutboxMessage) -> None:
    message.status = MessageStatus.PENDING.value
    message.next_attempt_at = utcnow()
    db.session.flush()


# --- invitations -------------------------------------------------------------------------------

def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.id}@kohtaamo"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


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


# --- no-show follow-ups ------------------------------------------------------------------------

# The target and source kind of appointments (appointments.notices.TARGET_KIND): ten characters at most.
APPOINTMENT = "appt"


class ReminderTarget(Protocol):
    """A kind of event of a feature above this one (appointments) that has reminders, notices and
    no-show follow-ups here, registered on the app with ``register_reminder_target`` (core.registry)
    so that this feature need not import it."""

    kind: str  # the outbox's target_kind and a follow-up's source_kind (ten characters at most)

    def can_open(self, user, target_id: int) -> bool: ...

    def openable_ids(self, user) -> sa.Select: ...

    def load(self, target_id: int): ...

    def book(self, **kwargs): ...


def register_reminder_target(app: Flask, target: ReminderTarget) -> ReminderTarget:
    return register(app, "reminder_targets", target)


def _targets() -> dict[str, ReminderTarget]:
    return {target.kind: target for target in registered("reminder_targets")}


def reminder_target(kind: str) -> ReminderTarget:
    """The registered target of ``kind`` (e.g. APPOINTMENT)."""
    return _targets()[kind]

def _open_task(source_kind: str, source_id: int, client_id: int, assigned_to_id: int | None, missed_at: datetime):
    task = db.session.scalar(sa.select(FollowUpTask).where(
        FollowUpTask.source_kind == source_kind, FollowUpTask.source_id == source_id,
        FollowUpTask.client_id == client_id))
    if task is None:
        task = FollowUpTask(source_kind=source_kind, source_id=source_id, client_id=client_id,
                            assigned_to_id=assigned_to_id, missed_at=missed_at,
                            due_on=to_local(max(missed_at, utcnow())).date() + timedelta(days=1))
        db.session.add(task)
    elif task.status == FollowUpStatus.CLOSED.value:
        task.status = FollowUpStatus.OPEN.value
        task.version += 1
    db.session.flush()
    return task


def _close_task(source_kind: str, source_id: int, client_id: int) -> None:
    task = db.session.scalar(sa.select(FollowUpTask).where(
        FollowUpTask.source_kind == source_kind, FollowUpTask.source_id == source_id,
        FollowUpTask.client_id == client_id, FollowUpTask.status == FollowUpStatus.OPEN.value))
    if task is not None:
        task.status = FollowUpStatus.CLOSED.value
        task.version += 1
        db.session.flush()


def record_session_attendance(attendance) -> FollowUpTask | None:
    """An absence at a group session creates a task for the group's first facilitator (one
    call, not two; the other facilitator sees the task too and can take it)."""
    session = attendance.session
    client_id = attendance.enrolment.client_id
    if attendance.status != "absent":
        _close_task(TargetKind.SESSION.value, session.id, client_id)
        return None
    group = session.group
    assignee = group.facilitator1_id or group.facilitator2_id
    return _open_task(TargetKind.SESSION.value, session.id, client_id, assignee, session.starts_at)


def record_participant_attendance(participant) -> FollowUpTask | None:
    if participant.kind != ParticipantKind.CLIENT.value or participant.attended is None:
        return None
    meeting = participant.meeting
    if participant.attended:
        _close_task(TargetKind.MEETING.value, meeting.id, meeting.client_id)
        return None
    staff = [p.user_id for p in meeting.participants if p.kind == ParticipantKind.STAFF.value and p.user_id]
    assignee = staff[0] if staff else meeting.created_by_id
    return _open_task(TargetKind.MEETING.value, meeting.id, meeting.client_id, assignee, meeting.starts_at)


def can_see_task(user, task: FollowUpTask) -> bool:
    """The one it is assigned to, and whoever may see the missed session's group or meeting."""
    return task.assigned_to_id == user.id or can_see_target(user, task.source_kind, task.source_id)


def task_visible_condition(user):
    """SQL condition for the tasks ``user`` sees (``can_see_task`` as SQL)."""
    return sa.or_(FollowUpTask.assigned_to_id == user.id,
                  target_visible_condition(user, FollowUpTask.source_kind, FollowUpTask.source_id))


def task_source(task: FollowUpTask):
    if (target := _targets().get(task.source_kind)) is not None:
        return target.load(task.source_id)
    if task.source_kind == TargetKind.SESSION.value:
        return db.session.get(GroupSession, task.source_id)
    if task.source_kind == TargetKind.OFFER.value:
        return db.session.get(PlaceOffer, task.source_id)
    return db.session.get(Meeting, task.source_id)


def _policy_for_new_meeting(task: FollowUpTask, meeting) -> ReminderPolicy:
    """The new time is reminded as the missed one was (or the day before at 16:00 by SMS)."""
    if task.source_kind == TargetKind.SESSION.value:
        session = db.session.get(GroupSession, task.source_id)
        source = get_policy(TargetKind.GROUP.value, session.group_id) if session else None
    else:
        source = get_policy(task.source_kind, task.source_id)
    if source is None:
        return save_policy(APPOINTMENT, meeting.id, day_before=True, day_before_at=time(16, 0),
                           same_morning=False, same_morning_at=time(8, 0), by_sms=True, by_email=False)
    return save_policy(APPOINTMENT, meeting.id, day_before=source.day_before,
                       day_before_at=source.day_before_at, same_morning=source.same_morning,
                       same_morning_at=source.same_morning_at, by_sms=source.by_sms, by_email=source.by_email)


def book_new_time(task: FollowUpTask, user, *, reached: bool, starts_at: datetime, minutes: int, place: str,
                  purpose: str = "") -> tuple[object, str | None]:
    """Book the new time as a one-to-one appointment of the client with the staff member (at the
    office, in ``place``), with its reminder policy. Not reached: the new time also goes to the
    client by SMS now (returns the reason when it cannot: no consent, no or foreign number).
    ``purpose`` is no longer stored (an appointment has none); kept for callers."""
    client = db.session.get(Client, task.client_id)
    appointments = _targets()[APPOINTMENT]
    previous = appointments.load(task.source_id) if task.source_kind == APPOINTMENT else None
    appointment = appointments.book(client=client, kind="office", starts_at=starts_at,
                                   ends_at=starts_at + timedelta(minutes=minutes), worker_ids=[user.id], place=place,
                                   created_by=user, previous=previous)
    _policy_for_new_meeting(task, appointment)
    reason = None
    if not reached:
        recipient = _mark_opt_outs([_from_client(client)])[0]
        address, reason = channel_address(recipient, Channel.SMS.value)
        if address is not None:
            stop, link = new_opt_out_link(recipient, utcnow())
            inserted = _insert_once(dict(
                kind="new_time", target_kind=APPOINTMENT, target_id=appointment.id,
                recipient_kind=recipient.kind, recipient_id=recipient.id, slot="new-time",
                channel=Channel.SMS.value, client_id=client.id, address=address, language=client.language,
                subject=texts.subject_for("new_time", client.language),
                body=texts.new_time_text(starts_at, place, client.language, stop),
            ))
            if inserted and link is not None:
                db.session.add(link)
    task.status = FollowUpStatus.REACHED.value if reached else FollowUpStatus.NOT_REACHED.value
    task.new_appointment_id = appointment.id
    task.done_by_id = user.id
    task.done_at = utcnow()
    task.version += 1
    db.session.flush()
    return appointment, reason


def _announce_meeting(meeting: Meeting) -> None:
    """Tell the other features (calendar feeds) that a meeting was created."""
    meeting_changed.send(current_app._get_current_object(), meeting=meeting, change="created")
