"""Outreach venues, their recurrence rules, the visits generated from them and the anonymous
counts recorded after a visit. No client names or other personal data live here."""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, str_enum, utcnow
from core.extensions import db


class VisitStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    DONE = "done"


class RuleFrequency(enum.StrEnum):
    MONTHLY = "monthly"
    WEEKLY = "weekly"


LAST = -1  # ``OutreachRule.nth`` for "the last <weekday> of the month"


def new_public_token() -> str:
    return secrets.token_urlsafe(16)


class OutreachVenue(db.Model):
    __tablename__ = "outreach_venue"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # The unit whose venue this is, or None: shared by every unit. Its visits follow it (their
    # counts are in the reports of the venue's unit; a shared venue's in every unit's).
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>
    # On site: the venue's own contact person (a partner's employee, not a client), opening hours,
    # notes on a private place to talk and on safety.
    contact_name: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    opening_hours: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    private_space_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    safety_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # A trial period ends with a review on this date: continue / change / end (REVIEW_DECISIONS).
    trial_review_on: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    review_decision: Mapped[str] = mapped_column(sa.String(10), default="", server_default="")
    review_note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The public venue page's address (the poster's QR code): unguessable, so the page cannot be
    # found by counting ids. It carries nothing but the venue and its coming visits.
    public_token: Mapped[str] = mapped_column(sa.String(32), unique=True, index=True,
                                              default=lambda: new_public_token())

    partner = relationship("PartnerOrganisation")
    rule: Mapped[OutreachRule | None] = relationship(back_populates="venue", cascade="all, delete-orphan",
                                                     uselist=False)
    visits: Mapped[list[OutreachVisit]] = relationship(back_populates="venue", cascade="all, delete-orphan",
                                                       order_by="OutreachVisit.starts_at")


class OutreachRule(db.Model):
    """The schedule agreed with a venue: monthly on the nth (or last) weekday, or every one or
    two weeks; local Helsinki wall-clock times; break months and an optional break date range.
    Finnish public holidays are always skipped."""

    __tablename__ = "outreach_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("outreach_venue.id", ondelete="CASCADE"), unique=True)
    frequency: Mapped[str] = mapped_column(str_enum(RuleFrequency, "frequency", 10), default=RuleFrequency.MONTHLY.value)
    # 1..4, or LAST (-1); used by monthly rules.
    nth: Mapped[int] = mapped_column(default=1)
    # 0 = Monday … 6 = Sunday, as datetime.date.weekday().
    weekday: Mapped[int] = mapped_column(default=1)
    # Weekly rules: every 1 or 2 weeks, counted from valid_from.
    interval_weeks: Mapped[int] = mapped_column(default=1)
    start_time: Mapped[time] = mapped_column(sa.Time)
    end_time: Mapped[time] = mapped_column(sa.Time)
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    # Comma-separated month numbers without visits, e.g. "6,7" for a summer break.
    break_months: Mapped[str] = mapped_column(sa.String(40), default="")
    break_from: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    break_until: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    venue: Mapped[OutreachVenue] = relationship(back_populates="rule")

    @property
    def break_month_list(self) -> list[int]:
        return [int(m) for m in self.break_months.split(",") if m.strip().isdigit()]


class OutreachVisit(db.Model):
    __tablename__ = "outreach_visit"
    __table_args__ = (
        # Regenerating from the rule never duplicates: one generated visit per venue and rule date.
        sa.UniqueConstraint("venue_id", "rule_date", name="uq_outreach_visit_rule_date"),
        sa.CheckConstraint("staff1_id IS NULL OR staff2_id IS NULL OR staff1_id <> staff2_id",
                           name="distinct_outreach_staff"),
        sa.Index("ix_outreach_visit_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("outreach_venue.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(str_enum(VisitStatus, "status", 12), default=VisitStatus.SCHEDULED.value)
    # Raised on every change of time, place or status (calendar clients need it).
    sequence: Mapped[int] = mapped_column(default=0)
    # The local date the rule produced this visit for; kept when the visit is moved so the rule
    # does not recreate it. None for visits added by hand.
    rule_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    # Two columns make a third worker impossible by construction.
    staff1_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    staff2_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    venue: Mapped[OutreachVenue] = relationship(back_populates="visits")
    staff1 = relationship("User", foreign_keys=[staff1_id])
    staff2 = relationship("User", foreign_keys=[staff2_id])
    report: Mapped[VisitReport | None] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                      uselist=False)

    @property
    def staff(self) -> list:
        return [u for u in (self.staff1, self.staff2) if u is not None]

    @property
    def staff_ids(self) -> list[int]:
        return [i for i in (self.staff1_id, self.staff2_id) if i is not None]


# The short list of topics the unit keeps, in the order of the form and the report.
TOPICS = ("money", "housing", "benefits", "work", "health", "substance", "loneliness", "other")
# Where an errand was referred on: the office, Kela, a partner (``guided_onward``, the older column).
REFERRALS = ("referred_office", "referred_kela", "guided_onward")
# What a venue's trial review decides.
REVIEW_DECISIONS = ("continue", "change", "end")
# Why a visit did not take place after all (it is then recorded as not held, with no counts).
NOT_HELD_REASONS = ("venue_closed", "workers_absent", "safety", "other")


class VisitReport(db.Model):
    """Anonymous counts only: nothing here can name or identify a person met at a venue."""

    __tablename__ = "outreach_visit_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("outreach_visit.id", ondelete="CASCADE"), unique=True)
    people_met: Mapped[int] = mapped_column(default=0)
    topic_benefits: Mapped[int] = mapped_column(default=0)
    topic_housing: Mapped[int] = mapped_column(default=0)
    topic_money: Mapped[int] = mapped_column(default=0)
    topic_health: Mapped[int] = mapped_column(default=0)
    topic_other: Mapped[int] = mapped_column(default=0)
    topic_work: Mapped[int] = mapped_column(default=0, server_default="0")
    topic_substance: Mapped[int] = mapped_column(default=0, server_default="0")
    topic_loneliness: Mapped[int] = mapped_column(default=0, server_default="0")
    # Of the people met: new to services (the rest were already known), met one to one, met in a group.
    people_new: Mapped[int] = mapped_column(default=0, server_default="0")
    met_one_to_one: Mapped[int] = mapped_column(default=0, server_default="0")
    met_in_group: Mapped[int] = mapped_column(default=0, server_default="0")
    # People whose errand was sorted on the spot, and people referred on (office, Kela, partner).
    errands_sorted: Mapped[int] = mapped_column(default=0, server_default="0")
    referred_office: Mapped[int] = mapped_column(default=0, server_default="0")
    referred_kela: Mapped[int] = mapped_column(default=0, server_default="0")
    # Referred on to a partner organisation.
    guided_onward: Mapped[int] = mapped_column(default=0)
    appointments_booked: Mapped[int] = mapped_column(default=0)
    # How many of the venue's own staff were given advice (not people met).
    staff_advised: Mapped[int] = mapped_column(default=0, server_default="0")
    queue: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Checked for names and identifiers before saving (warning, save anyway).
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # A visit that did not take place after all: no counts, one of NOT_HELD_REASONS.
    held: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    not_held_reason: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    visit: Mapped[OutreachVisit] = relationship(back_populates="report")


class OutreachTopicNote(db.Model):
    """An anonymous note left on the public venue page (#25.3): only a topic from the unit's
    list, for the venue's next visit, so the pair knows what to expect. No free text, nothing
    about who left it; ``address_key`` is a keyed hash of the sender's address salted with the
    venue and the day (it cannot be read back nor matched across venues or days), kept only so the
    per-address limit can count recent notes."""

    __tablename__ = "outreach_topic_note"
    __table_args__ = (sa.Index("ix_outreach_topic_note_venue_created", "venue_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("outreach_venue.id", ondelete="CASCADE"))
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("outreach_visit.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(sa.String(20))
    address_key: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _remove_venue_subscriptions(_mapper, connection, target) -> None:
    """A venue's calendar subscriptions (calendar_export, kind "outreach_venue", no foreign key)
    go with the venue in the same flush, as calendar_export.links does for its own kinds: a
    reused id must never show another venue to an old link."""
    from calendar_export.models import CalendarSubscription, FeedKind

    table = CalendarSubscription.__table__
    connection.execute(sa.delete(table).where(table.c.kind == FeedKind.VENUE.value, table.c.target_id == target.id))


sa.event.listen(OutreachVenue, "after_delete", _remove_venue_subscriptions)
