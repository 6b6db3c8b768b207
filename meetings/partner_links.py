"""Partners' personal links: a partner contact opens their open items and next meetings without a
login, through a link whose random token is kept only as a hash, and marks items done. Services flush."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from core.db import utcnow
from core.extensions import db

from .models import (
    ActionItem,
    ItemStatus,
    Meeting,
    MeetingParticipant,
    MeetingStatus,
    ParticipantKind,
    PartnerLink,
)
from .plan import set_item_status

# --- partner links -----------------------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_partner_link(contact, *, user) -> tuple[PartnerLink, str]:
    """A new personal link; the token is returned once and only its hash is kept."""
    token = secrets.token_urlsafe(32)
    link = PartnerLink(contact_id=contact.id, token_hash=hash_token(token), created_by_id=getattr(user, "id", None))
    db.session.add(link)
    db.session.flush()
    return link, token


def revoke_partner_link(link: PartnerLink) -> None:
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.flush()


def link_for_token(token: str) -> PartnerLink | None:
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(sa.select(PartnerLink).where(PartnerLink.token_hash == hash_token(token)))
    if link is None or link.revoked_at is not None or link.contact is None or not link.contact.active:
        return None
    return link


def partner_open_items(contact_id: int) -> list[ActionItem]:
    return list(db.session.scalars(
        sa.select(ActionItem)
        .join(MeetingParticipant, ActionItem.responsible_id == MeetingParticipant.id)
        .join(Meeting, ActionItem.meeting_id == Meeting.id)
        .where(MeetingParticipant.kind == ParticipantKind.PARTNER.value, MeetingParticipant.contact_id == contact_id,
               ActionItem.status == ItemStatus.OPEN.value, Meeting.status != MeetingStatus.CANCELLED.value)
        .options(selectinload(ActionItem.meeting).selectinload(Meeting.client))
        .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
    ))


def partner_next_meetings(contact_id: int) -> dict[int, Meeting]:
    """The next upcoming meeting per client that the contact is invited to."""
    rows = db.session.scalars(
        sa.select(Meeting)
        .join(MeetingParticipant, MeetingParticipant.meeting_id == Meeting.id)
        .where(MeetingParticipant.kind == ParticipantKind.PARTNER.value, MeetingParticipant.contact_id == contact_id,
               Meeting.status == MeetingStatus.PLANNED.value, Meeting.starts_at >= utcnow())
        .options(selectinload(Meeting.client))
        .order_by(Meeting.starts_at)
    ).all()
    result: dict[int, Meeting] = {}
    for m in rows:
        result.setdefault(m.client_id, m)
    return result


def client_label(meeting: Meeting) -> str:
    """How a partner link names the client: as the meeting's staff chose, initials by default."""
    kind = meeting.client_identification
    if kind == "name":
        return meeting.client.name.split()[0] if meeting.client.name.split() else meeting.client.initials
    if kind == "none":
        return ""
    return meeting.client.initials


# From the strictest: a partner's page shows a client no more than every meeting shown allows.
_IDENTIFICATION_ORDER = ("none", "initials", "name")


def client_label_of(meetings) -> str:
    """The label of one client's section of a partner's page, which shows several meetings: as
    the strictest of their settings says (an unknown setting counts as "not at all")."""
    def rank(m: Meeting) -> int:
        kind = m.client_identification
        return _IDENTIFICATION_ORDER.index(kind) if kind in _IDENTIFICATION_ORDER else 0

    return client_label(min(meetings, key=rank)) if meetings else ""


# A partner's "mark done" can be taken back for a day (a press on the wrong task).
PARTNER_UNDO_WINDOW = timedelta(hours=24)


def partner_actor_name(link: PartnerLink) -> str:
    contact = link.contact
    return f"{contact.name} ({contact.organisation.name})"[:160]


def partner_recently_done(link: PartnerLink) -> list[ActionItem]:
    """The contact's items this partner marked done within the undo window, newest first."""
    return list(db.session.scalars(
        sa.select(ActionItem)
        .join(MeetingParticipant, ActionItem.responsible_id == MeetingParticipant.id)
        .join(Meeting, ActionItem.meeting_id == Meeting.id)
        .where(MeetingParticipant.kind == ParticipantKind.PARTNER.value,
               MeetingParticipant.contact_id == link.contact_id,
               ActionItem.status == ItemStatus.DONE.value, ActionItem.status_changed_by == partner_actor_name(link),
               ActionItem.status_changed_at >= utcnow() - PARTNER_UNDO_WINDOW,
               Meeting.status != MeetingStatus.CANCELLED.value)
        .order_by(ActionItem.status_changed_at.desc(), ActionItem.id)
    ))


def partner_undo_done(link: PartnerLink, item_id) -> ActionItem:
    """Open again an item this partner marked done within the window; anything else is not found."""
    try:
        key = int(item_id)
    except (TypeError, ValueError):
        raise LookupError(item_id) from None
    item = next((i for i in partner_recently_done(link) if i.id == key), None)
    if item is None:
        raise LookupError(item_id)
    set_item_status(item, ItemStatus.OPEN.value, by_name=partner_actor_name(link))
    return item


def partner_mark_done(link: PartnerLink, item_id) -> ActionItem:
    """A partner may close only their own open items; anything else is refused as not found."""
    try:
        key = int(item_id)
    except (TypeError, ValueError):
        raise LookupError(item_id) from None
    item = db.session.get(ActionItem, key) if 0 < key < 2**63 else None
    if (item is None or item.status != ItemStatus.OPEN.value or item.responsible.kind != ParticipantKind.PARTNER.value
            or item.responsible.contact_id != link.contact_id or item.meeting.is_cancelled):
        raise LookupError(item_id)
    set_item_status(item, ItemStatus.DONE.value, by_name=partner_actor_name(link))
    return item
