"""Network meetings, their participants, the plan's action items and partner links."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, copied_from, keep_copies, str_enum, utcnow
from core.extensions import db
from register.models import Client


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class PlaceKind(enum.StrEnum):
    OFFICE = "office"
    HOME_VISIT = "home_visit"
    PARTNER_VENUE = "partner_venue"
    REMOTE = "remote"


class ParticipantKind(enum.StrEnum):
    STAFF = "staff"
    PARTNER = "partner"
    RELATIVE = "relative"
    CLIENT = "client"


class InvitationStatus(enum.StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ItemStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"
    CARRIED = "carried"  # reviewed at a later meeting and carried forward as a new item


class ClientIdentification(enum.StrEnum):
    """How partner links name the client: initials by default."""

    INITIALS = "initials"
    FIRST_NAME = "name"
    NONE = "none"


class Meeting(db.Model):
    __tablename__ = "meeting"
    __table_args__ = (sa.Index("ix_meeting_starts_at", "starts_at"),
                      # The planned meetings of a time range (to record, fewer than two workers).
                      sa.Index("ix_meeting_status_starts_at", "status", "starts_at"),
                      # A lead's unit's meetings of a time range (the meeting list's count).
                      sa.Index("ix_meeting_unit_id_starts_at", "unit_id", "starts_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    # The client's unit, copied (the app never moves a client to another unit, and
    # core.db.keep_copies would follow if something did; a meeting keeps its client): the
    # leads of that unit may open the meeting, and a county's lists find a unit's meetings by
    # time in one index instead of joining every meeting to its client.
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"),
                                         default=copied_from("client", "client_id"))
    purpose: Mapped[str] = mapped_column(sa.String(300), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place_kind: Mapped[str] = mapped_column(str_enum(PlaceKind, "place_kind", 20), default=PlaceKind.OFFICE.value)
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    remote_link: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(str_enum(MeetingStatus, "status", 20), default=MeetingStatus.PLANNED.value)
    worries: Mapped[str] = mapped_column(sa.Text, default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    client_identification: Mapped[str] = mapped_column(str_enum(ClientIdentification, "client_identification", 20),
                                                       default=ClientIdentification.INITIALS.value)
    previous_meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting.id", ondelete="SET NULL"), nullable=True,
                                                            index=True)
    # Raised on every change of time, place or status (calendar feeds and invitations use it).
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    client = relationship("Client")
    participants: Mapped[list[MeetingParticipant]] = relationship(back_populates="meeting", cascade="all, delete-orphan",
                                                                  order_by="MeetingParticipant.id")
    items: Mapped[list[ActionItem]] = relationship(back_populates="meeting", cascade="all, delete-orphan",
                                                   order_by="ActionItem.id")
    changes: Mapped[list[MeetingChange]] = relationship(back_populates="meeting", cascade="all, delete-orphan",
                                                        order_by="MeetingChange.changed_at")
    previous_meeting = relationship("Meeting", remote_side=[id])
    # The meetings that continue this one (set through their previous_meeting_id).
    follow_ups = relationship("Meeting", primaryjoin="Meeting.id == foreign(Meeting.previous_meeting_id)",
                              viewonly=True, order_by="Meeting.starts_at")

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED.value


class MeetingParticipant(db.Model):
    """One invitee: exactly one of user (staff), contact (partner), relative, or the client."""

    __tablename__ = "meeting_participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(str_enum(ParticipantKind, "kind", 20))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True, index=True)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner_contact.id", ondelete="SET NULL"), nullable=True, index=True)
    relative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("relative.id", ondelete="SET NULL"), nullable=True,
        index=True)
    invitation_status: Mapped[str] = mapped_column(str_enum(InvitationStatus, "invitation_status", 20),
                                                   default=InvitationStatus.INVITED.value)
    attended: Mapped[bool | None] = mapped_column(nullable=True)

    meeting: Mapped[Meeting] = relationship(back_populates="participants")
    user = relationship("User")
    contact = relationship("PartnerContact")
    relative = relationship("Relative")
    # The personal links of a partner participant's contact (read here; made by services).
    contact_links = relationship("PartnerLink", primaryjoin="foreign(PartnerLink.contact_id) == MeetingParticipant.contact_id",
                                 viewonly=True, order_by="PartnerLink.created_at")

    @property
    def display_name(self) -> str:
        """The name staff see; the client is named as in the register (staff pages only)."""
        if self.kind == ParticipantKind.STAFF.value:
            return self.user.name if self.user else "?"
        if self.kind == ParticipantKind.PARTNER.value:
            if not self.contact:
                return "?"
            return f"{self.contact.name} ({self.contact.organisation.name})"
        if self.kind == ParticipantKind.RELATIVE.value:
            if not self.relative:
                return "?"
            return f"{self.relative.name} ({self.relative.relation})" if self.relative.relation else self.relative.name
        return self.meeting.client.name

    def same_person(self, other: MeetingParticipant) -> bool:
        return (self.kind == other.kind and self.user_id == other.user_id and self.contact_id == other.contact_id
                and self.relative_id == other.relative_id)


class ActionItem(db.Model):
    """Who does what, with whom, by when. One responsible participant per item."""

    __tablename__ = "action_item"
    # "My open tasks" finds a person's participations, then their items by status. With the
    # status in the index that path is always the cheaper one, so the planner never walks every
    # open item of the unit instead (as SQLite did with approximate statistics).
    # due_date: the county's report counts a period's items (tests/test_query_plans.py); a lead's
    # report reads its units' items of the period by (unit_id, due_date), not every item of the
    # county's period. (meeting_id, due_date): a meeting's items.
    __table_args__ = (sa.Index("ix_action_item_responsible_status", "responsible_id", "status"),
                      sa.Index("ix_action_item_due_date", "due_date"),
                      sa.Index("ix_action_item_meeting_id_due_date", "meeting_id", "due_date"),
                      sa.Index("ix_action_item_unit_id_due_date", "unit_id", "due_date"))

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"))
    # The meeting's unit, copied (as the meeting's is; an item keeps its meeting): a
    # lead's report counts the unit's items of a period in one index, instead of joining every
    # item of the county's period to its meeting (PostgreSQL hash-joined 108,000 items at ten
    # units to keep 10,000).
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"),
                                         default=copied_from("meeting", "meeting_id"))
    responsible_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_participant.id", ondelete="RESTRICT"))
    what: Mapped[str] = mapped_column(sa.String(500))
    with_whom: Mapped[str] = mapped_column(sa.String(300), default="")
    due_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    status: Mapped[str] = mapped_column(str_enum(ItemStatus, "status", 20), default=ItemStatus.OPEN.value)
    status_changed_by: Mapped[str] = mapped_column(sa.String(160), default="")
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The item this one continues (carried forward from an earlier meeting).
    carried_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("action_item.id", ondelete="SET NULL"), nullable=True,
        index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    responsible: Mapped[MeetingParticipant] = relationship()
    carried_from = relationship("ActionItem", remote_side=[id])


class MeetingChange(db.Model):
    __tablename__ = "meeting_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(sa.String(20))
    old_value: Mapped[str] = mapped_column(sa.String(300), default="")
    new_value: Mapped[str] = mapped_column(sa.String(300), default="")
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="changes")


class PartnerLink(db.Model):
    """A partner contact's personal link to their own open items. Only the token's hash is kept."""

    __tablename__ = "partner_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_contact.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    contact = relationship("PartnerContact")


class ItemStatusChange(db.Model):
    """One status change of a plan item (who, when, from what to what): the whole history, where
    the item itself keeps only the last change. meeting_id is the item's meeting, so the
    meeting's change history reads every item's changes in one query."""

    __tablename__ = "action_item_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("action_item.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    old_status: Mapped[str] = mapped_column(str_enum(ItemStatus, "old_status", 20))
    new_status: Mapped[str] = mapped_column(str_enum(ItemStatus, "new_status", 20))
    # A partner closes their own items through a link: no user then, so the name is kept too.
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    changed_by_name: Mapped[str] = mapped_column(sa.String(160), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _client_unit_copies(client) -> list[sa.Update]:
    meeting, item = Meeting.__table__, ActionItem.__table__
    of_client = sa.select(meeting.c.id).where(meeting.c.client_id == client.id)
    return [sa.update(meeting).where(meeting.c.client_id == client.id).values(unit_id=client.unit_id),
            sa.update(item).where(item.c.meeting_id.in_(of_client)).values(unit_id=client.unit_id)]


# A meeting and its items carry the client's unit (Meeting.unit_id, ActionItem.unit_id).
keep_copies(Client, "unit_id", _client_unit_copies)
