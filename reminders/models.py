"""Reminder policies, the outbox of messages, opt-outs and no-show follow-up tasks."""
from __future__ import annotations

import enum
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, str_enum, utcnow
from core.extensions import db


class TargetKind(enum.StrEnum):
    GROUP = "group"        # policy target; outbox target is then the session
    SESSION = "session"
    MEETING = "meeting"
    OFFER = "offer"        # a waiting-list place offered by message (PlaceOffer)
    APPOINTMENT = "appt"   # an appointment (reminders.services.APPOINTMENT; the column holds ten characters)


class RecipientKind(enum.StrEnum):
    CLIENT = "client"
    RELATIVE = "relative"
    CONTACT = "contact"    # partner contact (invitations only)


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class MessageKind(enum.StrEnum):
    REMINDER = "reminder"
    INVITATION = "invitation"
    NEW_TIME = "new_time"    # a missed appointment's new time
    NOTICE = "notice"        # a change or cancellation of a session, meeting or appointment
    OFFER = "offer"          # a free place in a group offered


class OptOutSource(enum.StrEnum):
    LINK = "link"
    STAFF = "staff"


class MessageStatus(enum.StrEnum):
    PENDING = "pending"    # waiting to be sent (or to be retried at next_attempt_at)
    SENDING = "sending"    # claimed by one send-reminders process
    SENT = "sent"
    FAILED = "failed"      # last attempt failed; retried at next_attempt_at unless given up
    MANUAL = "manual"      # SMS outbox backend: staff send it by hand and mark it sent
    CANCELLED = "cancelled"  # not sent: the event was cancelled or the recipient opted out


class ReminderPolicy(db.Model):
    """When and how one group's sessions or one network meeting are reminded."""

    __tablename__ = "reminder_policy"
    __table_args__ = (sa.UniqueConstraint("target_kind", "target_id", name="uq_reminder_policy_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(str_enum(TargetKind, "target_kind", 10))   # group | meeting | appt
    target_id: Mapped[int] = mapped_column()
    day_before: Mapped[bool] = mapped_column(default=True)
    day_before_at: Mapped[time] = mapped_column(sa.Time, default=time(16, 0))
    same_morning: Mapped[bool] = mapped_column(default=False)
    same_morning_at: Mapped[time] = mapped_column(sa.Time, default=time(8, 0))
    by_sms: Mapped[bool] = mapped_column(default=True)
    by_email: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>


class OutboxMessage(db.Model):
    """One message to one recipient over one channel. The unique key makes "exactly once" a
    property of the database: two send-reminders processes cannot both create the same
    reminder, and a row is sent only by the process whose claim token is on it."""

    __tablename__ = "reminder_outbox"
    __table_args__ = (
        sa.UniqueConstraint("target_kind", "target_id", "recipient_kind", "recipient_id", "slot", "channel",
                            name="uq_reminder_outbox_once"),
        sa.Index("ix_reminder_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(str_enum(MessageKind, "kind", 20))
    target_kind: Mapped[str] = mapped_column(str_enum(TargetKind, "target_kind", 10))   # session | meeting | appt | offer
    target_id: Mapped[int] = mapped_column()
    recipient_kind: Mapped[str] = mapped_column(str_enum(RecipientKind, "recipient_kind", 10))
    recipient_id: Mapped[int] = mapped_column()
    # e.g. "day_before@2026-12-03T08:00" (a moved event gets a new slot), "invite-2", "cancel-3"
    slot: Mapped[str] = mapped_column(sa.String(60))
    channel: Mapped[str] = mapped_column(str_enum(Channel, "channel", 10))
    # The client the message concerns: access control and the access log go through it.
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(sa.String(254))
    language: Mapped[str] = mapped_column(sa.String(2), default="fi")
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    # An invitation's event as it was when queued (JSON: time, place, sequence, attendee...): the
    # calendar is built from it when the message is sent, with the ORGANIZER and DTSTAMP of that
    # moment. ``ics`` keeps the calendar as it was at queueing (older rows have only that).
    event: Mapped[str] = mapped_column(sa.Text, default="")
    ics: Mapped[str] = mapped_column(sa.Text, default="")
    ics_method: Mapped[str] = mapped_column(sa.String(10), default="")
    status: Mapped[str] = mapped_column(str_enum(MessageStatus, "status", 10), default=MessageStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.String(500), default="")
    claim_token: Mapped[str | None] = mapped_column(sa.String(40), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client = relationship("Client")


class ReminderOptOut(db.Model):
    """A client or relative who asked for no more reminders (by link or through staff)."""

    __tablename__ = "reminder_opt_out"
    __table_args__ = (sa.UniqueConstraint("recipient_kind", "recipient_id", name="uq_reminder_opt_out"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(str_enum(RecipientKind, "recipient_kind", 10))
    recipient_id: Mapped[int] = mapped_column()
    source: Mapped[str] = mapped_column(str_enum(OptOutSource, "source", 10), default=OptOutSource.LINK.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OptOutLink(db.Model):
    """The opt-out link sent in one message. Only a hash of its random token is kept (like a
    partner's personal link), so the URL says nothing about who it belongs to and cannot be
    rebuilt from the database. It works until ``expires_at``, and only while the recipient's
    consent is the one it was sent under (``consent_date``): consent withdrawn or given anew on
    another day ends the links sent before."""

    __tablename__ = "reminder_opt_out_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    recipient_kind: Mapped[str] = mapped_column(str_enum(RecipientKind, "recipient_kind", 10))
    recipient_id: Mapped[int] = mapped_column()
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    consent_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    REACHED = "reached"          # called, new time agreed
    NOT_REACHED = "not_reached"  # new time sent by SMS and letter
    CLOSED = "closed"            # not needed any more (attendance corrected)


class FollowUpTask(db.Model):
    """"Call and agree a new time" after a client missed a session or a network meeting."""

    __tablename__ = "reminder_follow_up"
    __table_args__ = (sa.UniqueConstraint("source_kind", "source_id", "client_id", name="uq_follow_up_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_kind: Mapped[str] = mapped_column(str_enum(TargetKind, "source_kind", 10))   # session | meeting | appt | offer
    source_id: Mapped[int] = mapped_column()
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True,
                                                       index=True)
    missed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(str_enum(FollowUpStatus, "status", 12), default=FollowUpStatus.OPEN.value, index=True)
    new_meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting.id", ondelete="SET NULL"), nullable=True,
        index=True)
    # The appointment booked as the new time (appointments.models.Appointment); older tasks
    # have a network meeting in new_meeting_id instead.
    new_appointment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appointment.id", ondelete="SET NULL"),
                                                           nullable=True, index=True)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    client = relationship("Client")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    new_meeting = relationship("Meeting", foreign_keys=[new_meeting_id])
    new_appointment = relationship("Appointment", foreign_keys=[new_appointment_id])

    @property
    def new_booking(self):
        """The new time: an appointment (or, on older tasks, a network meeting)."""
        return self.new_appointment or self.new_meeting


class TeamSettings(db.Model):
    """A unit's contact details shown in every message and letter ("call us" gets the number) and
    on the outreach poster: one row per unit that has saved its own, and the installation's row
    (``unit_id`` None) that a unit without one falls back to (``notices.team_settings``)."""

    __tablename__ = "team_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), nullable=True,
                                                unique=True)
    contact_phone: Mapped[str] = mapped_column(sa.String(32), default="")
    opening_hours: Mapped[str] = mapped_column(sa.String(120), default="")
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>


class OfferStatus(enum.StrEnum):
    OPEN = "open"            # sent (or given to a worker to call), waiting for the answer
    ACCEPTED = "accepted"    # the client accepted through the link
    DECLINED = "declined"    # the client declined through the link
    EXPIRED = "expired"      # no answer by the deadline: withdrawn, the next in line was asked
    SETTLED = "settled"      # staff confirmed or withdrew the place by hand


class PlaceOffer(db.Model):
    """A free place in a group offered to one waiting client, with the deadline the facilitator
    set. The answer comes through a link whose random token is kept only as a hash (like an
    opt-out link); it works once, while the offer is open and before the deadline."""

    __tablename__ = "reminder_place_offer"
    __table_args__ = (sa.Index("ix_reminder_place_offer_due", "status", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True, nullable=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    # How long the client had to answer: the next in line gets as long when this one lapses.
    answer_minutes: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(str_enum(OfferStatus, "status", 10), default=OfferStatus.OPEN.value)
    by_message: Mapped[bool] = mapped_column(default=True)   # False: a worker calls (no consented channel)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    enrolment = relationship("Enrolment")
    client = relationship("Client")
    group = relationship("Group")
from . import links as _links  # noqa: E402,F401  (removes (kind, id) links with their record)
