"""Calendar subscriptions: one secret feed URL per subscriber. Only the token's hash is stored."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, str_enum, utcnow
from core.extensions import db


class FeedKind(enum.StrEnum):
    STAFF = "staff"
    GROUP = "group"
    PARTNER = "partner"
    UNIT = "unit"
    # An outreach venue's visits, without the staff's names (outreach.calendar_source.VENUE_SCOPE):
    # made and revoked on the venue's page; subscribed by the venue's own staff.
    VENUE = "outreach_venue"


class CalendarSubscription(db.Model):
    __tablename__ = "calendar_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(str_enum(FeedKind, "kind", 20))
    # Id of the user, group, partner organisation or outreach venue the feed is about; None for the unit feed.
    # No foreign key: the column points at a different table per kind.
    target_id: Mapped[int | None] = mapped_column(nullable=True, index=True)
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True,
                                                      index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    created_by = relationship("User")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class CalendarDataVersion(db.Model):
    """A named counter raised in the same transaction as every change to data that a feed shows
    (``calendar_export.changes``). A stored feed body is current while this is what it was
    rendered at, so answering a conditional GET needs this one row instead of scanning the events."""

    __tablename__ = "calendar_data_version"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeedCache(db.Model):
    """The last rendered body of a subscription's feed, what it was rendered from, and its ETag.

    In the database, not in a worker's memory: several gunicorn workers and app instances serve
    the same feeds. One row per subscription bounds the size.

    ``state_key`` says what the body was rendered from (the feed data counter, the day, the
    code, the feed's scope: ``views.feed_state_key``); while it is current the body is, and a
    poll is answered from this row alone. ``etag`` is made from the body's bytes, so it changes
    only when the feed's own content does: a change elsewhere moves the state key, the body is
    rendered again on the next poll, comes out the same, and keeps its ETag and ``modified_at``
    (a poll with the old ETag still gets 304).
    """

    __tablename__ = "calendar_feed_cache"

    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("calendar_subscription.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    etag: Mapped[str] = mapped_column(sa.String(64), index=True)
    state_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    data_version: Mapped[int] = mapped_column(sa.BigInteger)
    body: Mapped[bytes] = mapped_column(sa.LargeBinary)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the bytes last changed (the feed's Last-Modified).
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarInstallation(db.Model):
    """One row: what makes this installation's calendar UIDs its own (``calendar_export.installation``).

    In the database, not in a file: every app instance of a deployment must write the same UIDs.
    """

    __tablename__ = "calendar_installation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)   # always 1
    uid_domain: Mapped[str] = mapped_column(sa.String(100))
    # Events created before this keep their "...@kohtaamo" UID: subscribers already have them.
    legacy_uids_before: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


from . import (
    installation as _installation,  # noqa: E402,F401  (seeds the row when create_all makes the table)
    links as _links,  # noqa: E402,F401  (a subscription goes with the record it is about)
)
