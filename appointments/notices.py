"""What appointments hand to reminders: a change notice to the client when an appointment is
moved or cancelled (reminders.notices.queue_change_notice, the one way every kind of event is
announced: exactly once per change, in the client's language, by every consented channel), the
appointment reminders, and the no-show follow-up."""
from __future__ import annotations

import functools
from datetime import UTC, time

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, selectinload

from core.db import exists_per_row, rowcount
from core.extensions import db
from reminders import follow_ups, notices as change_notices, queue, services as reminders
from reminders.models import Channel, MessageStatus, OutboxMessage, ReminderPolicy

from . import services
from .models import Appointment, AppointmentStatus

TARGET_KIND = "appt"  # the outbox's target_kind column holds ten characters


def _place(appointment: Appointment) -> str:
    # A home visit's address is the client's own; an office room is useful to know.
    return appointment.place if appointment.kind.value == "office" else ""


def tell_client(appointment: Appointment, change: str, old_start) -> str | None:
    """Queue the notice through the one change-notice function (reminders.notices); returns None
    when at least one message was queued, else the reason (translated) why the client could not
    be told."""
    recipient = reminders.appointment_recipients(appointment)[0]
    queued = change_notices.queue_change_notice(
        [recipient], what="appointment", target_kind=TARGET_KIND, target_id=appointment.id,
        sequence=appointment.sequence, old_start=old_start,
        new_start=None if change == "cancelled" else appointment.starts_at, place=_place(appointment))
    if queued:
        return None
    reason = None
    for channel in (Channel.SMS.value, Channel.EMAIL.value):
        address, why = reminders.channel_address(recipient, channel)
        if address is not None:
            return None  # told already for this change (a repeated request)
        reason = reason or why
    return {"no_consent": _("no consent to messages"), "opted_out": _("the client has turned messages off"),
            "no_phone": _("no phone number or email"), "no_email": _("no phone number or email"),
            "invalid_phone": _("the phone number is not valid"),
            "foreign_phone": _("only Finnish numbers get text messages")}.get(reason or "", _("no channel"))


@functools.cache
def _appointment_alias():
    """Made once per process: an alias adapts each column the first time it is used."""
    return aliased(Appointment)


class AppointmentTarget:
    """Appointments as a kind of reminder target (``reminders.services.ReminderTarget``): who may
    see their messages and follow-ups, and how a no-show's new time is booked."""

    kind = TARGET_KIND

    def can_open(self, user, target_id: int) -> bool:
        appointment = db.session.get(Appointment, target_id)
        return appointment is not None and services.can_open(user, appointment)

    def openable_condition(self, user, id_column) -> sa.ColumnElement[bool]:
        appointment = _appointment_alias()
        return exists_per_row(appointment.id == id_column, services.open_rule(user, appointment))

    def load(self, target_id: int) -> Appointment | None:
        return db.session.get(Appointment, target_id)

    def book(self, **kwargs) -> Appointment:
        return services.book(**kwargs)


TARGET = AppointmentTarget()


# --- reminders ---------------------------------------------------------------------------------------

# An appointment's reminder, unless a policy row says otherwise: the day before at 16:00 by SMS,
# as a rebooked meeting's (reminders.follow_ups._policy_for_new_meeting).
DEFAULT_POLICY = dict(day_before=True, day_before_at=time(16, 0), same_morning=False, same_morning_at=time(8, 0),
                      by_sms=True, by_email=False)


def queue_appointment_reminders(now) -> int:
    """Run by ``reminders.queue.queue_due``: the reminders due for booked appointments, to the
    client, through the exactly-once outbox (the slot carries the start time, so a moved
    appointment is reminded again for its new time)."""
    rows = db.session.scalars(
        sa.select(Appointment).where(Appointment.status == AppointmentStatus.BOOKED, Appointment.starts_at > now,
                                     Appointment.starts_at <= now + queue.LOOKAHEAD)
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
        recipients = reminders.appointment_recipients(appointment)
        created += queue._queue_for(policy, TARGET_KIND, appointment.id, "meeting", appointment.starts_at,
                                        _place(appointment), recipients, now)
    return created


def drop_pending_reminders(appointment: Appointment) -> int:
    """A cancelled or moved appointment's reminders still waiting for the old time never go out."""
    keep = f"@{appointment.starts_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%MZ')}"
    condition = [OutboxMessage.target_kind == TARGET_KIND, OutboxMessage.target_id == appointment.id,
                 OutboxMessage.kind == "reminder", OutboxMessage.status.in_(reminders.CLAIMABLE)]
    if appointment.status == AppointmentStatus.BOOKED:
        condition.append(OutboxMessage.slot.not_like(f"%{keep}"))
    return rowcount(db.session.execute(sa.update(OutboxMessage).where(*condition).values(
        status=MessageStatus.CANCELLED.value, next_attempt_at=None, last_error="event cancelled")
        .execution_options(synchronize_session=False)))


def record_attendance(appointment: Appointment):
    """A no-show opens the follow-up task ("call and agree a new time") for the first worker, as a
    missed meeting does; marking it held closes the task."""
    if appointment.status == AppointmentStatus.NO_SHOW:
        return follow_ups._open_task(TARGET_KIND, appointment.id, appointment.client_id, appointment.worker1_id,
                                    appointment.starts_at)
    follow_ups._close_task(TARGET_KIND, appointment.id, appointment.client_id)
    return None
