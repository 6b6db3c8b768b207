"""What appointments hand to reminders: a change notice to the client when an appointment is
moved or cancelled (through the exactly-once outbox, in the client's language, by every channel
the client consented to).

The outbox row names no client (the text says only that the appointment moved, and when); its
unique key (target, recipient, slot, channel) with the appointment's ``sequence`` in the slot
makes a double click send one message, and a second move a second one."""
from __future__ import annotations

from datetime import UTC, time

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from core.db import utcnow
from core.extensions import db
from register.models import Client
from reminders import services as reminders
from reminders import texts
from reminders.models import Channel, MessageStatus, OutboxMessage, ReminderPolicy

from .models import Appointment, AppointmentStatus

TARGET_KIND = "appt"  # the outbox's target_kind column holds ten characters


def _text(appointment: Appointment, change: str, language: str) -> str:
    with force_locale(texts._lang(language)):
        if change == "cancelled":
            when = texts.when_text(appointment.starts_at, language)
            return _("Your appointment %(when)s is cancelled. Please call us if you need a new time.", when=when)
        when = texts.when_text(appointment.starts_at, language, None, _place(appointment))
        return _("Your appointment has been moved to %(when)s.", when=when)


def _place(appointment: Appointment) -> str:
    # A home visit's address is the client's own; an office room is useful to know.
    return appointment.place if appointment.kind.value == "office" else ""


def tell_client(appointment: Appointment, change: str) -> str | None:
    """Queue the notice; returns None when at least one message was queued, else the reason
    (translated) why the client could not be told."""
    client: Client = appointment.client
    recipient = reminders._mark_opt_outs([reminders._from_client(client)])[0]
    queued, reason = 0, None
    now = utcnow()
    for channel in (Channel.SMS.value, Channel.EMAIL.value):
        address, why = reminders.channel_address(recipient, channel)
        if address is None:
            reason = reason or why
            continue
        stop, link = reminders.new_opt_out_link(recipient, now)
        body = _text(appointment, change, client.language)
        if stop:
            with force_locale(texts._lang(client.language)):
                body += " " + _("No more reminders: %(url)s", url=stop)
        inserted = reminders._insert_once(dict(
            kind="change", target_kind=TARGET_KIND, target_id=appointment.id, recipient_kind=recipient.kind,
            recipient_id=recipient.id, slot=f"{change}-{appointment.sequence}", channel=channel,
            client_id=client.id, address=address, language=client.language,
            subject=texts.subject_for("reminder", client.language), body=body))
        if inserted and link is not None:
            db.session.add(link)
        queued += 1
    if queued:
        return None
    return {"no_consent": _("no consent to messages"), "opted_out": _("the client has turned messages off"),
            "no_phone": _("no phone number or email"), "no_email": _("no phone number or email"),
            "invalid_phone": _("the phone number is not valid"),
            "foreign_phone": _("only Finnish numbers get text messages")}.get(reason or "", _("no channel"))



# --- reminders ---------------------------------------------------------------------------------------

# An appointment's reminder, unless a policy row says otherwise: the day before at 16:00 by SMS,
# as a rebooked meeting's (reminders.services._policy_for_new_meeting).
DEFAULT_POLICY = dict(day_before=True, day_before_at=time(16, 0), same_morning=False, same_morning_at=time(8, 0),
                      by_sms=True, by_email=False)


@reminders.register_reminder_source
def queue_appointment_reminders(now) -> int:
    """Run by ``reminders.services.queue_due``: the reminders due for booked appointments, to the
    client, through the exactly-once outbox (the slot carries the start time, so a moved
    appointment is reminded again for its new time)."""
    rows = db.session.scalars(
        sa.select(Appointment).where(Appointment.status == AppointmentStatus.BOOKED, Appointment.starts_at > now,
                                     Appointment.starts_at <= now + reminders.LOOKAHEAD)
        .options(selectinload(Appointment.client))).all()
    if not rows:
        return 0
    policies = {p.target_id: p for p in db.session.scalars(sa.select(ReminderPolicy).where(
        ReminderPolicy.target_kind == TARGET_KIND, ReminderPolicy.target_id.in_([a.id for a in rows])))}
    created = 0
    for appointment in rows:
        # A default policy is only read (never added to the session).
        policy = policies.get(appointment.id) or ReminderPolicy(target_kind=TARGET_KIND, target_id=appointment.id,
                                                                 **DEFAULT_POLICY)
        recipients = reminders._mark_opt_outs([reminders._from_client(appointment.client)])
        created += reminders._queue_for(policy, TARGET_KIND, appointment.id, "meeting", appointment.starts_at,
                                        _place(appointment), recipients, now)
    return created


def drop_pending_reminders(appointment: Appointment) -> int:
    """A cancelled or moved appointment's reminders still waiting for the old time never go out."""
    keep = f"@{appointment.starts_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"
    condition = [OutboxMessage.target_kind == TARGET_KIND, OutboxMessage.target_id == appointment.id,
                 OutboxMessage.kind == "reminder", OutboxMessage.status.in_(reminders.CLAIMABLE)]
    if appointment.status == AppointmentStatus.BOOKED:
        condition.append(OutboxMessage.slot.not_like(f"%{keep}"))
    result = db.session.execute(sa.update(OutboxMessage).where(*condition).values(
        status=MessageStatus.CANCELLED.value, next_attempt_at=None, last_error="event cancelled")
        .execution_options(synchronize_session=False))
    return result.rowcount


def record_attendance(appointment: Appointment):
    """A no-show opens the follow-up task ("call and agree a new time") for the first worker, as a
    missed meeting does; marking it held closes the task."""
    if appointment.status == AppointmentStatus.NO_SHOW:
        return reminders._open_task(TARGET_KIND, appointment.id, appointment.client_id, appointment.worker1_id,
                                    appointment.starts_at)
    reminders._close_task(TARGET_KIND, appointment.id, appointment.client_id)
    return None
