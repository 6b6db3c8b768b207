"""Groups, their weekly sessions, enrolment, attendance and evaluation."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import first_unit_default
from core.db import UTCDateTime, copied_from, keep_copies, str_enum, utcnow
from core.extensions import db


class GroupStatus(enum.StrEnum):
    IDEA = "idea"
    PLANNING = "planning"
    ENROLLING = "enrolling"
    RUNNING = "running"
    FINISHED = "finished"
    EVALUATED = "evaluated"
    CANCELLED = "cancelled"  # called off after planning, with a reason (groups.planning.cancel_group)


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class EnrolmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITING = "waiting"
    OFFERED = "offered"      # a place freed up and was offered to the first on the waiting list
    WITHDRAWN = "withdrawn"


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"


class GroupIdea(db.Model):
    """A backlog entry from a team meeting, a coffee break or a client meeting."""

    __tablename__ = "group_idea"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    suggested_by: Mapped[str] = mapped_column(sa.String(120), default="")
    source: Mapped[str] = mapped_column(sa.String(40), default="team_meeting")
    target_clients: Mapped[str] = mapped_column(sa.String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the idea was turned into a group.
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("client_group.id", ondelete="SET NULL"), nullable=True,
                                                 index=True)


class Group(db.Model):
    # "group" is an SQL keyword; the table is client_group.
    __tablename__ = "client_group"
    __table_args__ = (
        sa.CheckConstraint(
            "facilitator1_id IS NULL OR facilitator2_id IS NULL OR facilitator1_id <> facilitator2_id",
            name="distinct_facilitators",
        ),
        # The group list shows the newest first, a page at a time: read from the index, not
        # sorted from every group of five years.
        sa.Index("ix_client_group_created_at", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    theme: Mapped[str] = mapped_column(sa.String(120), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    target_clients: Mapped[str] = mapped_column(sa.String(300), default="")
    venue: Mapped[str] = mapped_column(sa.String(200), default="")
    room: Mapped[str] = mapped_column(sa.String(120), default="")
    capacity: Mapped[int] = mapped_column(default=8)
    language: Mapped[str] = mapped_column(sa.String(2), default="fi")
    planning_notes: Mapped[str] = mapped_column(sa.Text, default="")
    # Weeks without a session (the Monday of each, ISO dates, comma-separated); the schedule
    # generator skips them and the series moves on a week.
    break_weeks: Mapped[str] = mapped_column(sa.String(600), default="")
    # Length of one session in minutes, remembered for the next schedule and for new rounds.
    session_minutes: Mapped[int] = mapped_column(default=90)
    status: Mapped[str] = mapped_column(str_enum(GroupStatus, "status", 20), default=GroupStatus.PLANNING.value, index=True)
    # The unit whose group this is: its leads see the group and its participants.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"), index=True,
                                         default=first_unit_default())
    # Why the group was cancelled (sent to the enrolled clients); empty unless cancelled.
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # Exactly two facilitators: two columns make "a third" impossible by construction.
    facilitator1_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True)
    facilitator2_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True)
    previous_round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("client_group.id", ondelete="SET NULL"), nullable=True,
        index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    facilitator1 = relationship("User", foreign_keys=[facilitator1_id])
    facilitator2 = relationship("User", foreign_keys=[facilitator2_id])
    sessions: Mapped[list[GroupSession]] = relationship(back_populates="group", cascade="all, delete-orphan",
                                                        order_by="GroupSession.starts_at")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="group", cascade="all, delete-orphan",
                                                       order_by="Enrolment.id")
    partners: Mapped[list[GroupPartner]] = relationship(back_populates="group", cascade="all, delete-orphan")
    evaluation: Mapped[GroupEvaluation | None] = relationship(back_populates="group", cascade="all, delete-orphan",
                                                              uselist=False)
    previous_round = relationship("Group", remote_side=[id], foreign_keys=[previous_round_id])

    @property
    def facilitator_ids(self) -> set[int]:
        return {i for i in (self.facilitator1_id, self.facilitator2_id) if i is not None}


class GroupPartner(db.Model):
    """A partner organisation co-hosting a group (its calendar feed shows the group's sessions)."""

    __tablename__ = "group_partner"
    __table_args__ = (sa.UniqueConstraint("group_id", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_organisation.id", ondelete="CASCADE"), index=True)

    group: Mapped[Group] = relationship(back_populates="partners")
    partner = relationship("PartnerOrganisation")


class GroupSession(db.Model):
    """One weekly meeting of a group. Calendar feeds read starts_at/ends_at (UTC), room/venue,
    status, sequence (raised on every change of time, place or status) and updated_at."""

    __tablename__ = "group_session"
    # (group_id, starts_at): a group's sessions, and its recent ones (the lead's overview reads
    # the unit staff's groups, then each one's last 90 days).
    # (unit_id, starts_at): a lead's report reads the units' sessions of a period.
    __table_args__ = (sa.Index("ix_group_session_starts_at", "starts_at"),
                      sa.Index("ix_group_session_group_id_starts_at", "group_id", "starts_at"),
                      sa.Index("ix_group_session_unit_id_starts_at", "unit_id", "starts_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"))
    # The group's unit, copied (a group keeps its unit, core.db.keep_copies follows if it ever
    # does not, and a session keeps its group): a lead's report reads the units' sessions of a
    # period in one index, instead of the county's sessions of the period (ten times the rows at
    # ten units) joined to their groups.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"),
                                         default=copied_from("client_group", "group_id"))
    number: Mapped[int] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    topic: Mapped[str] = mapped_column(sa.String(200), default="")
    room: Mapped[str] = mapped_column(sa.String(120), default="")
    plan_notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(str_enum(SessionStatus, "status", 20), default=SessionStatus.SCHEDULED.value)
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    group: Mapped[Group] = relationship(back_populates="sessions")
    changes: Mapped[list[SessionChange]] = relationship(back_populates="session", cascade="all, delete-orphan",
                                                        order_by="SessionChange.changed_at")
    attendance: Mapped[list[Attendance]] = relationship(back_populates="session", cascade="all, delete-orphan")

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED.value


class SessionChange(db.Model):
    """What changed in a session (time, place, status, topic), so feeds and people can see it."""

    __tablename__ = "group_session_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("group_session.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(sa.String(20))
    old_value: Mapped[str] = mapped_column(sa.String(300), default="")
    new_value: Mapped[str] = mapped_column(sa.String(300), default="")
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[GroupSession] = relationship(back_populates="changes")


class Enrolment(db.Model):
    __tablename__ = "enrolment"
    __table_args__ = (sa.UniqueConstraint("group_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(str_enum(EnrolmentStatus, "status", 20), default=EnrolmentStatus.ENROLLED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    group: Mapped[Group] = relationship(back_populates="enrolments")
    client = relationship("Client")


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "enrolment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("group_session.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(str_enum(AttendanceStatus, "status", 20))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[GroupSession] = relationship(back_populates="attendance")
    enrolment: Mapped[Enrolment] = relationship()


class GroupEvaluation(db.Model):
    __tablename__ = "group_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"), unique=True)
    interesting: Mapped[str] = mapped_column(sa.String(20), default="")       # yes / partly / no
    continue_decision: Mapped[str] = mapped_column(sa.String(20), default="")  # yes / with_changes / no
    what_worked: Mapped[str] = mapped_column(sa.Text, default="")
    improvements: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    group: Mapped[Group] = relationship(back_populates="evaluation")


class ReferralStatus(enum.StrEnum):
    PENDING = "pending"
    ENROLLED = "enrolled"    # taken into the group
    WAITING = "waiting"      # taken onto the group's waiting list
    DECLINED = "declined"


class Referral(db.Model):
    """A worker suggests a client for a group in planning or enrolling, or for a theme in the
    ideas backlog, with a short reason. The group's facilitators take the client in or decline
    with a reason the referring worker sees. A referral grants no access to the client's record
    (no access rule reads this table): only the enrolment that follows does."""

    __tablename__ = "group_referral"
    __table_args__ = (
        sa.CheckConstraint("group_id IS NOT NULL OR idea_id IS NOT NULL", name="referral_has_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    # An idea's referrals move to the group made from it (group_id set, idea_id kept).
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"), nullable=True,
                                                 index=True)
    idea_id: Mapped[int | None] = mapped_column(sa.ForeignKey("group_idea.id", ondelete="CASCADE"), nullable=True,
                                                index=True)
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[str] = mapped_column(str_enum(ReferralStatus, "status", 20), default=ReferralStatus.PENDING.value)
    referred_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True,
                                                       index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decline_reason: Mapped[str] = mapped_column(sa.String(300), default="")

    client = relationship("Client")
    group = relationship("Group")
    idea = relationship("GroupIdea")
    referred_by = relationship("User", foreign_keys=[referred_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


# A session carries its group's unit (GroupSession.unit_id).
keep_copies(Group, "unit_id", lambda group: [
    sa.update(GroupSession.__table__).where(GroupSession.__table__.c.group_id == group.id).values(unit_id=group.unit_id)])
