"""Clients and relatives told of every change: a moved or cancelled group session, network
meeting (and, at integration, appointment) is announced by the channels the person consented
to, in their language, through the exactly-once outbox; the unit's contact settings (phone,
opening hours) end every message.

``queue_change_notice`` is the one entry point for any kind of event: the caller gives the
recipients (``services.Recipient``: kind, id, client id, phone, e-mail, language, consent),
what the event is ("session", "meeting" or "appointment"), which row it is (target kind and
id: at most 10 characters, e.g. "appt"), its ``sequence`` (raised on every change, so each
change is told once and a repeated request tells nothing new), the old start, the new start
(None for a cancellation) and the place (a string, or a function of the language). It queues
one message per recipient and consented channel (SMS to a Finnish number, e-mail) and returns
how many were new. Nothing in a message or its subject names the client, the group or the
purpose (reminders.texts).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale, get_locale, gettext as _

from core.db import utcnow
from core.extensions import db
from core.templating import local_date

from . import queue, services, texts
from .models import Channel, RecipientKind, TargetKind, TeamSettings

# --- the unit's contact settings ---------------------------------------------------------------


def team_settings(unit_id: int | None = None) -> TeamSettings | None:
    """The contact settings of the unit ``unit_id``: its own row, else the installation's (the
    row with no unit), or None before anyone has saved either."""
    if unit_id is not None:
        own = unit_settings(unit_id)
        if own is not None:
            return own
    return unit_settings(None)


def unit_settings(unit_id: int | None) -> TeamSettings | None:
    """Exactly the row of ``unit_id`` (None: the installation's fallback row), with no fallback."""
    column = TeamSettings.unit_id
    return db.session.scalar(sa.select(TeamSettings).where(column.is_(None) if unit_id is None else column == unit_id)
                             .order_by(TeamSettings.id).limit(1))


def save_team_settings(*, contact_phone: str, opening_hours: str, user, unit_id: int | None = None) -> TeamSettings:
    """Save the contact settings of the unit ``unit_id`` (None: the installation's fallback row).
    Who may edit which is the view's rule (``reminders.views.contact_settings``)."""
    row = unit_settings(unit_id)
    if row is None:
        row = TeamSettings(unit_id=unit_id)
        db.session.add(row)
    else:
        row.version += 1
    row.contact_phone = contact_phone or ""
    row.opening_hours = opening_hours or ""
    row.updated_by_id = getattr(user, "id", None)
    db.session.flush()
    return row


def client_unit_id(client_id: int | None) -> int | None:
    from register.models import Client

    return db.session.scalar(sa.select(Client.unit_id).where(Client.id == client_id)) if client_id else None


def contact_line(language: str, unit_id: int | None = None) -> str:
    row = team_settings(unit_id)
    return texts.contact_line(row.contact_phone, row.opening_hours, language) if row is not None else ""


def with_contact(body: str, language: str, *, client_id: int | None = None) -> str:
    """The message body with the "call us" line of the client's unit at its end (once)."""
    line = contact_line(language, client_unit_id(client_id))
    if not line or body.endswith(line):
        return body
    return f"{body} {line}"


# --- change notices ----------------------------------------------------------------------------

def queue_change_notice(recipients: Iterable[services.Recipient], *, what: str, target_kind: str, target_id: int,
                        sequence: int, old_start: datetime, new_start: datetime | None,
                        place: str | Callable[[str], str], restored: bool = False) -> int:
    """Tell ``recipients`` that an event moved (``new_start``) or was cancelled (``new_start`` None),
    or that a cancellation was undone (``restored``, at ``new_start``), each in their own language
    and on each channel they consented to. Exactly once per change: the outbox's unique key holds
    the target, the recipient, the channel and a slot made of the change and ``sequence``.
    Returns how many messages were queued now."""
    change = "restore" if restored else "cancel" if new_start is None else "move"
    slot = f"notice-{change}-{sequence}"
    created = 0
    for r in recipients:
        where = place(r.language) if callable(place) else place
        subject, body = texts.change_notice_text(what, old_start, new_start, where, r.language, restored=restored)
        for channel in (Channel.SMS.value, Channel.EMAIL.value):
            address, _reason = services.channel_address(r, channel)
            if address is None:
                continue
            created += queue._insert_once(dict(
                kind="notice", target_kind=target_kind, target_id=target_id, recipient_kind=r.kind,
                recipient_id=r.id, slot=slot, channel=channel, client_id=r.client_id, address=address,
                language=r.language, subject=subject, body=body,
            ))
    if new_start is None:
        # Reminders still waiting for a cancelled event must not go out.
        queue.drop_cancelled(utcnow())
    db.session.flush()
    return created


def session_changed(session, change: str, old_start: datetime, notify: bool) -> int:
    """A group session moved, cancelled or restored: its enrolled clients are told (unless staff unticked
    "send notice" for this change). A session in the past is no news."""
    if change == "restored" and session.starts_at > utcnow():
        queue.revive_reminders(TargetKind.SESSION.value, session.id, session.starts_at)
    if not notify or change not in ("moved", "cancelled", "restored") or old_start <= utcnow():
        return 0
    new_start = None if change == "cancelled" else session.starts_at
    return queue_change_notice(services.group_recipients(session.group), what="session",
                               target_kind=TargetKind.SESSION.value, target_id=session.id,
                               sequence=session.sequence, old_start=old_start, new_start=new_start,
                               place=queue.session_place(session), restored=change == "restored")


def meeting_changed(meeting, change: str, old_start: datetime | None, notify: bool) -> int:
    """A network meeting moved, cancelled or restored (a cancellation undone): the client (when
    taking part) and the relatives invited are told. Relatives with e-mail get the calendar update
    instead (queue_invitations), so only their SMS is queued here. A restored meeting's reminders,
    stopped by the cancellation, go out after all."""
    if change == "restored" and meeting.starts_at > utcnow():
        queue.revive_reminders(TargetKind.MEETING.value, meeting.id, meeting.starts_at)
    if not notify or change not in ("moved", "cancelled", "restored") or old_start is None or old_start <= utcnow():
        return 0
    recipients = [r for r in services.meeting_recipients(meeting)
                  if r.kind == RecipientKind.CLIENT.value or not (r.email or "").strip()]
    new_start = None if change == "cancelled" else meeting.starts_at
    return queue_change_notice(recipients, what="meeting", target_kind=TargetKind.MEETING.value,
                               target_id=meeting.id, sequence=meeting.sequence, old_start=old_start,
                               new_start=new_start, place=lambda lang: queue.meeting_place(meeting, lang),
                               restored=change == "restored")


# --- relatives' invitations by SMS -------------------------------------------------------------

def relative_sms_invitations(meeting, change: str) -> int:
    """Relatives invited to a meeting who have no e-mail (so get no calendar invitation) but
    consented to SMS get the invitation as a text with the time and place, once per meeting.
    A move or a cancellation reaches them as a change notice (``meeting_changed``)."""
    if (change not in ("created", "updated") or meeting.status != "planned" or meeting.is_cancelled
            or meeting.starts_at <= utcnow()):
        return 0
    created = 0
    for r in services.meeting_recipients(meeting):
        if r.kind != RecipientKind.RELATIVE.value or (r.email or "").strip():
            continue
        address, _reason = services.channel_address(r, Channel.SMS.value)
        if address is None:
            continue
        body = texts.relative_invitation_sms(meeting.starts_at, queue.meeting_place(meeting, r.language), r.language)
        created += queue._insert_once(dict(
            kind="invitation", target_kind=TargetKind.MEETING.value, target_id=meeting.id,
            recipient_kind=r.kind, recipient_id=r.id, slot="invite-sms", channel=Channel.SMS.value,
            client_id=r.client_id, address=address, language=r.language,
            subject=texts.meeting_summary(r.language), body=body,
        ))
    db.session.flush()
    return created


# --- a cancelled group ---------------------------------------------------------------------------

def group_cancel_audience(group) -> list[tuple[str, bool]]:
    """(name, reached by a message) of each enrolled client, for the question before cancelling a
    group (registered on the app for ``groups.planning.cancel_audience``)."""
    return [(r.name, any(services.channel_address(r, c)[0] for c in (Channel.SMS.value, Channel.EMAIL.value)))
            for r in services.group_recipients(group)]


def group_cancelled(group, cancelled: list) -> int:
    """Queue a message to each enrolled client that the group is cancelled (on the groups'
    ``group_cancelled`` signal). The one place that tells clients of a cancelled group, so it can
    be pointed at a generic change notice later. Written the way reminders queue theirs: the same
    consent and opt-out rules, one row per person and channel (the outbox's unique key makes a
    second call queue nothing)."""
    if not cancelled:
        return 0
    queued = 0
    target = cancelled[0]  # the next session: the message is listed where its session is visible
    now = utcnow()
    for recipient in services.group_recipients(group):
        for channel in (Channel.SMS.value, Channel.EMAIL.value):
            address, _why = services.channel_address(recipient, channel)
            if address is None:
                continue
            with force_locale(recipient.language if recipient.language in ("fi", "sv", "en") else "fi"):
                body = _("The group “%(title)s” has been cancelled: %(reason)s The sessions from %(day)s on "
                         "will not be held.", title=group.title, reason=group.cancel_reason,
                         day=local_date(target.starts_at, locale=str(get_locale())))
                subject = _("Group cancelled")
            queued += queue._insert_once(dict(
                next_attempt_at=now, created_at=now, kind="notice", target_kind=TargetKind.SESSION.value,
                target_id=target.id, recipient_kind=recipient.kind, recipient_id=recipient.id,
                slot="group-cancelled", channel=channel, client_id=recipient.client_id, address=address,
                language=recipient.language, subject=subject, body=body))
            break  # one channel per person: SMS when possible, else email
    return queued
