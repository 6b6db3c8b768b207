"""An appointment of one client with one or two workers."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, utcnow
from core.extensions import db


class AppointmentKind(enum.StrEnum):
    OFFICE = "office"
    HOME_VISIT = "home_visit"
    PHONE = "phone"
    VIDEO = "video"


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    HELD = "held"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


def _enum(cls, name: str) -> sa.Enum:
    # Both databases refuse a value outside the enum (a CHECK constraint, not a native type).
    return sa.Enum(cls, name=name, native_enum=False, validate_strings=True, create_constraint=True, length=20,
                   values_callable=lambda e: [m.value for m in e])


class Appointment(db.Model):
    __tablename__ = "appointment"
    __table_args__ = (
        sa.Index("ix_appointment_starts_at", "starts_at"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_appointment_ends_after_start"),
        sa.CheckConstraint("worker2_id IS NULL OR worker2_id <> worker1_id", name="ck_appointment_two_workers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    worker1_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="RESTRICT"), index=True)
    worker2_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True,
                                                   index=True)
    kind: Mapped[AppointmentKind] = mapped_column(_enum(AppointmentKind, "appointment_kind"),
                                                  default=AppointmentKind.OFFICE)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A room at the office or the address of a home visit; never shown outside staff pages.
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    interpreter: Mapped[bool] = mapped_column(default=False)
    interpreter_language: Mapped[str] = mapped_column(sa.String(60), default="")
    status: Mapped[AppointmentStatus] = mapped_column(_enum(AppointmentStatus, "appointment_status"),
                                                      default=AppointmentStatus.BOOKED, index=True)
    # The appointment this one follows (a rebooked no-show, "book the next time").
    previous_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appointment.id", ondelete="SET NULL"),
                                                    nullable=True, index=True)
    # Raised on every change of time, place or status (calendar feeds).
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    client = relationship("Client")
    worker1 = relationship("User", foreign_keys=[worker1_id])
    worker2 = relationship("User", foreign_keys=[worker2_id])
    previous = relationship("Appointment", remote_side=[id])

    @property
    def worker_ids(self) -> set[int]:
        return {i for i in (self.worker1_id, self.worker2_id) if i}

    @property
    def workers(self) -> list:
        return [w for w in (self.worker1, self.worker2) if w is not None]

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_open(self) -> bool:
        return self.status == AppointmentStatus.BOOKED

    @property
    def alone_on_home_visit(self) -> bool:
        """Work safety (seed 003): a home visit is made in pairs; alone is allowed but shown."""
        return self.kind == AppointmentKind.HOME_VISIT and self.worker2_id is None


# An appointment's reminder policy, messages and follow-ups go with it (reminders.links).
from reminders.links import event_links, remove_with  # noqa: E402  (after the model it names)
from reminders.models import TargetKind  # noqa: E402

remove_with(Appointment, event_links(TargetKind.APPOINTMENT))
