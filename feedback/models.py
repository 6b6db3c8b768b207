"""Feedback data. Responses are anonymous by construction: a response row holds a random id, the
window it belongs to, the date (never the time) and the answers. Nothing links it to a person,
an enrolment, an invitation, an address or a browser, and nothing records the order of arrival.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, str_enum, utcnow
from core.extensions import db


class WindowKind(enum.StrEnum):
    SESSION = "session"
    GROUP_END = "group_end"
    MEETING = "meeting"


class ItemSet(db.Model):
    """A list of items with labels in fi/sv/en, answered on one scale (feedback.scales: 0–10, or
    the short form's five faces). Built-in sets carry the project's own wording; a lead can add
    sets (e.g. an organisation's licensed scale), and a group's facilitators choose one per group."""

    __tablename__ = "feedback_item_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(str_enum(WindowKind, "kind", 20), index=True)
    # Set for the built-in sets so they are created once and found again.
    builtin_key: Mapped[str | None] = mapped_column(sa.String(40), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # feedback.scales key: "0-10" or "1-5". Answers of different scales are never pooled.
    scale: Mapped[str] = mapped_column(sa.String(8), default="0-10", server_default="0-10")
    # {"fi": ..., "sv": ..., "en": ...}; the label of the optional free-text question.
    comment_labels: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[Item]] = relationship(back_populates="item_set", cascade="all, delete-orphan",
                                             order_by="Item.position")


class Item(db.Model):
    """One question, answered on its set's scale. The last item of a set is its overall item (its distribution is charted)."""

    __tablename__ = "feedback_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_set_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_item_set.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    labels: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    item_set: Mapped[ItemSet] = relationship(back_populates="items")

    def label(self, locale: str) -> str:
        return self.label_and_language(locale)[0]

    def label_and_language(self, locale: str) -> tuple[str, str]:
        """The wording in the visitor's language, or the Finnish one it falls back to (another set
        may lack a Swedish or English wording), with the language it is written in, so a page can
        mark a Finnish question on a Swedish page with lang="fi"."""
        for lang in (locale, "fi", *self.labels):
            if self.labels.get(lang):
                return self.labels[lang], lang
        return "", locale


class GroupFeedbackSettings(db.Model):
    """Which item sets a group uses (absent: the built-in sets)."""

    __tablename__ = "feedback_group_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"), unique=True)
    session_item_set_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feedback_item_set.id"), nullable=True)
    end_item_set_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feedback_item_set.id"), nullable=True)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>


class FeedbackWindow(db.Model):
    """When feedback for one session, one group (end survey) or one meeting can be given, and its code."""

    __tablename__ = "feedback_window"
    __table_args__ = (
        sa.CheckConstraint("session_id IS NULL OR meeting_id IS NULL", name="one_target"),
        # Windows still open (closes_at > now) are few; the table keeps every closed one.
        sa.Index("ix_feedback_window_closes_at", "closes_at"),
        # The report counts the period's flagged windows; flagged ones are rare among all kept.
        sa.Index("ix_feedback_window_overfilled", "overfilled", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(str_enum(WindowKind, "kind", 20))
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"),
                                                 nullable=True, index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("group_session.id", ondelete="CASCADE"),
                                                   nullable=True, unique=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"),
                                                   nullable=True, unique=True)
    item_set_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_item_set.id"))
    # Short and typeable; unique among open windows (checked when a code is given out), so an old
    # closed window may share a code with a later one.
    code: Mapped[str] = mapped_column(sa.String(12), index=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>
    # Set for good when the window ever held more answers than people could have given them
    # (feedback.release): its figures are withheld and the results page says so.
    overfilled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    item_set: Mapped[ItemSet] = relationship()
    session = relationship("GroupSession")
    group = relationship("Group")
    meeting = relationship("Meeting")

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.closes_at

    def is_closed(self, now: datetime) -> bool:
        return now >= self.closes_at


def random_response_id() -> str:
    return uuid.uuid4().hex


class FeedbackResponse(db.Model):
    """One anonymous answer sheet. No person, no time of day, no autoincrement id; on SQLite the
    table has no hidden rowid either, so storage order cannot be read back."""

    __tablename__ = "feedback_response"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=random_response_id)
    window_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_window.id", ondelete="CASCADE"), index=True)
    answered_on: Mapped[date] = mapped_column(sa.Date)
    comment: Mapped[str] = mapped_column(sa.Text, default="")

    answers: Mapped[list[FeedbackAnswer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class FeedbackAnswer(db.Model):
    __tablename__ = "feedback_answer"
    __table_args__ = {"sqlite_with_rowid": False}

    response_id: Mapped[str] = mapped_column(sa.ForeignKey("feedback_response.id", ondelete="CASCADE"),
                                             primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_item.id", ondelete="CASCADE"), primary_key=True)
    # On the set's scale. A question answered "don't know" has no row at all.
    value: Mapped[int] = mapped_column(sa.SmallInteger)

    response: Mapped[FeedbackResponse] = relationship(back_populates="answers")


class SubmissionBucket(db.Model):
    """Submissions per window per ten minutes, for rate limiting across processes. It counts, it
    does not identify: no address, no response id."""

    __tablename__ = "feedback_submission_bucket"

    window_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_window.id", ondelete="CASCADE"), primary_key=True)
    bucket: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(default=0)


class AddressCount(db.Model):
    """Answers taken per window from one client address (feedback.services.PER_ADDRESS), so one
    phone or one network cannot fill a window for everyone. The address is kept only as a keyed
    hash salted with the window id: it cannot be read back, nor matched across windows, and
    nothing links it to a response."""

    __tablename__ = "feedback_address_count"

    window_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_window.id", ondelete="CASCADE"), primary_key=True)
    address_key: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class AnswerSlip(db.Model):
    """A single-use answer slip of a window (feedback.services.make_slips): only a hash of its
    code, and whether it has been used. Nothing links a slip to a person or to the answer given
    with it. A window with slips takes answers only with them."""

    __tablename__ = "feedback_answer_slip"

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback_window.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    used: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class FeedbackRelease(db.Model):
    """The figures of a finished group or a closed meeting, stored the moment they are first
    shown and shown from here ever after: nothing that happens later (a late answer, a changed
    roll call, a reopened window) can change a figure someone has already seen."""

    __tablename__ = "feedback_release"
    __table_args__ = (
        sa.CheckConstraint("(group_id IS NULL) <> (meeting_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("client_group.id", ondelete="CASCADE"),
                                                 nullable=True, unique=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"),
                                                   nullable=True, unique=True)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The report's period: the local date of the group's last session (or of the meeting).
    period_date: Mapped[date] = mapped_column(sa.Date, index=True)
    theme: Mapped[str] = mapped_column(sa.String(200), default="")
    n: Mapped[int] = mapped_column()           # answer sheets behind the figures
    people: Mapped[int] = mapped_column()      # people who could have given them
    # Sum over the answer sheets of each sheet's mean answer: the report pools these by theme.
    score_sum: Mapped[float] = mapped_column(sa.Float)
    # {"items": [...], "means": {item id: mean}, "distribution": [11 counts] | None,
    #  "comments": [...] | None, "end": {...} | None}
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)


class ChartCache(db.Model):
    """Rendered charts keyed by a hash of exactly the data they show (shared by all app instances)."""

    __tablename__ = "feedback_chart_cache"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    mimetype: Mapped[str] = mapped_column(sa.String(40))
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
