"""One field check per home visit or outreach visit: when the pair arrived and when they were
done, the agreed margin, the contact person and the alert. No client id, address or name: the
home visit's address stays on the appointment's page."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, str_enum, utcnow
from core.extensions import db


class CheckKind(enum.StrEnum):
    HOME_VISIT = "home_visit"
    OUTREACH = "outreach"


class FieldCheck(db.Model):
    __tablename__ = "safety_check"
    __table_args__ = (
        # Exactly one visit: one real foreign key per kind, one of them set.
        sa.CheckConstraint("(appointment_id IS NULL) <> (outreach_visit_id IS NULL)", name="one_visit"),
        sa.CheckConstraint("margin_minutes > 0", name="margin_positive"),
        # The start page reads the open checks (not done, not resolved) on every load.
        sa.Index("ix_safety_check_open", "done_at", "resolved_at", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(str_enum(CheckKind, "kind", 12))
    appointment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("appointment.id", ondelete="CASCADE"),
                                                       nullable=True, unique=True)
    outreach_visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outreach_visit.id", ondelete="CASCADE"),
                                                          nullable=True, unique=True)
    # Minutes after the planned end before a missing "we are done" alerts.
    margin_minutes: Mapped[int] = mapped_column(default=30)
    # Who is told besides the unit's lead (default: the unit's lead).
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arrived_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    # The overdue e-mail: when a run claimed it (cleared again if every message failed), and when
    # it went out (safety.worker: a claim never marked sent is taken over after ALERT_LEASE).
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    alert_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When someone reached the pair.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    appointment = relationship("Appointment")
    outreach_visit = relationship("OutreachVisit")
    contact = relationship("User", foreign_keys=[contact_id])
    arrived_by = relationship("User", foreign_keys=[arrived_by_id])
    done_by = relationship("User", foreign_keys=[done_by_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])

    @property
    def visit(self):
        return self.appointment if self.kind == CheckKind.HOME_VISIT else self.outreach_visit
