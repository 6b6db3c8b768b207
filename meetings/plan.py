"""A network meeting's plan: its action items and their status history, carrying open items forward
to a follow-up meeting and reviewing them there, and each worker's open tasks. Services flush."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, joinedload, selectinload

from core.db import utcnow
from core.extensions import db
from core.timeutil import local_today, to_local

from .arranging import _record_change, _refuse_if_cancelled, create_meeting, participant_of
from .models import (
    ActionItem,
    InvitationStatus,
    ItemStatus,
    ItemStatusChange,
    Meeting,
    MeetingParticipant,
    MeetingStatus,
    ParticipantKind,
)
from .services import MeetingError, _people_of

# --- the plan ----------------------------------------------------------------------------------

@dataclass
class ItemResult:
    item: ActionItem
    warnings: list = field(default_factory=list)


def add_item(meeting: Meeting, *, responsible_id, what: str, with_whom: str = "", due_date: date | None = None) -> ItemResult:
    """One responsible participant of this meeting per item; a due date before the meeting is
    saved with a warning (it may be a task already under way)."""
    _refuse_if_cancelled(meeting)
    responsible = participant_of(meeting, responsible_id)
    if responsible is None:
        raise MeetingError(_l("Choose the responsible person from this meeting's participants."))
    item = ActionItem(what=what, with_whom=with_whom, due_date=due_date, responsible=responsible,
                      responsible_id=responsible.id)
    meeting.items.append(item)
    db.session.flush()
    result = ItemResult(item)
    if due_date is not None and due_date < to_local(meeting.starts_at).date():
        result.warnings.append(_l("The due date is before the meeting. The item was saved; check the date."))
    return result


def _fmt_item(what: str, responsible: str, with_whom: str, due_date: date | None) -> str:
    # The due date is stored ISO and shown in the reader's language (core.formatting.recorded).
    return " · ".join(x for x in (what, responsible, with_whom, due_date.isoformat() if due_date else "") if x)


def update_item(meeting: Meeting, item: ActionItem, *, user, responsible_id, what: str, with_whom: str = "",
                due_date: date | None = None) -> ItemResult:
    """Correct an item: its text, partner, date or responsible person (one of this meeting's
    participants). The change goes into the meeting's change history, since the plan is shared:
    a partner's tasks should not change without a trace. A carried-forward item is changed in the
    later meeting, where it continues."""
    _refuse_if_cancelled(meeting)
    if item.status == ItemStatus.CARRIED.value:
        raise MeetingError(_l("This item was carried forward; change it in the later meeting."))
    responsible = participant_of(meeting, responsible_id)
    if responsible is None:
        raise MeetingError(_l("Choose the responsible person from this meeting's participants."))
    old = _fmt_item(item.what, item.responsible.display_name, item.with_whom, item.due_date)
    new = _fmt_item(what, responsible.display_name, with_whom, due_date)
    result = ItemResult(item)
    if (what, responsible.id, with_whom, due_date) == (item.what, item.responsible_id, item.with_whom, item.due_date):
        return result
    _record_change(meeting, "item", old, new, user)
    item.what, item.with_whom, item.due_date = what, with_whom, due_date
    item.responsible, item.responsible_id = responsible, responsible.id
    item.version += 1
    db.session.flush()
    if due_date is not None and due_date < to_local(meeting.starts_at).date():
        result.warnings.append(_l("The due date is before the meeting. The item was saved; check the date."))
    return result


def duplicate_item(meeting: Meeting, *, responsible_id, what: str, due_date: date | None) -> ActionItem | None:
    """An open item of the meeting identical to the one about to be added (same person, same
    words ignoring case and spacing, same date): most likely a double press or a retyped item."""
    key = " ".join((what or "").split()).casefold()
    for item in meeting.items:
        if (item.status == ItemStatus.OPEN.value and str(item.responsible_id) == str(responsible_id)
                and item.due_date == due_date and " ".join(item.what.split()).casefold() == key):
            return item
    return None


def _change_item_status(item: ActionItem, status: str, *, by_name: str, by_user=None) -> None:
    """Every status change is kept (who, when, from, to); the item's own columns say the last."""
    now = utcnow()
    db.session.add(ItemStatusChange(item_id=item.id, meeting_id=item.meeting_id, old_status=item.status,
                                    new_status=status, changed_by_id=getattr(by_user, "id", None),
                                    changed_by_name=by_name[:160], changed_at=now))
    item.status = status
    item.status_changed_by = by_name[:160]
    item.status_changed_at = now
    item.version += 1


def set_item_status(item: ActionItem, status: str, *, by_name: str, by_user=None) -> None:
    if status not in (ItemStatus.OPEN.value, ItemStatus.DONE.value, ItemStatus.DROPPED.value):
        raise MeetingError(_l("Choose a valid status."))
    if item.status == status:
        return
    _change_item_status(item, status, by_name=by_name, by_user=by_user)
    db.session.flush()


def status_history(meeting: Meeting) -> list[ItemStatusChange]:
    """Every status change of the meeting's plan items, oldest first, in one query."""
    return list(db.session.scalars(
        sa.select(ItemStatusChange).where(ItemStatusChange.meeting_id == meeting.id)
        .order_by(ItemStatusChange.changed_at, ItemStatusChange.id)))


def is_overdue(item: ActionItem, today: date | None = None) -> bool:
    today = today or local_today()
    return item.status == ItemStatus.OPEN.value and item.due_date is not None and item.due_date < today


@functools.cache
def _history_statement() -> sa.Select:
    """The items a chain of carried items continues, from the ids it starts at (bind "starts");
    built once, see _meeting_page_statements()."""
    chain = sa.select(ActionItem.id, ActionItem.carried_from_id) \
        .where(ActionItem.id.in_(sa.bindparam("starts", expanding=True))).cte("chain", recursive=True)
    earlier = aliased(ActionItem)
    chain = chain.union(sa.select(earlier.id, earlier.carried_from_id).join(chain, earlier.id == chain.c.carried_from_id))
    return sa.select(ActionItem).where(ActionItem.id.in_(sa.select(chain.c.id))).options(selectinload(ActionItem.meeting))


def item_histories(items) -> dict[int, list[ActionItem]]:
    """For each item, the earlier items it continues (oldest first), in one query however long
    the chains are: a recursive CTE follows carried_from_id back through the meetings."""
    by_id: dict[int, ActionItem] = {i.id: i for i in items}
    starts = sorted({i.carried_from_id for i in items if i.carried_from_id} - set(by_id))
    if starts:
        found = db.session.scalars(_history_statement(), {"starts": starts}).all()
        for f in found:
            by_id[f.id] = f
    result = {}
    for item in items:
        chain: list[ActionItem] = []
        prev = by_id.get(item.carried_from_id) if item.carried_from_id else None
        while prev is not None and len(chain) < 50:
            chain.append(prev)
            prev = by_id.get(prev.carried_from_id) if prev.carried_from_id else None
        result[item.id] = list(reversed(chain))
    return result


@functools.cache
def _carried_to_statement() -> sa.Select:
    return (sa.select(ActionItem).where(ActionItem.carried_from_id.in_(sa.bindparam("ids", expanding=True)))
            .options(selectinload(ActionItem.meeting)))


def carried_to(items) -> dict[int, ActionItem]:
    """For carried items, the item that continues them in a later meeting (one query)."""
    ids = [i.id for i in items if i.status == ItemStatus.CARRIED.value]
    if not ids:
        return {}
    later = db.session.scalars(_carried_to_statement(), {"ids": ids}).all()
    return {i.carried_from_id: i for i in later}


# --- follow-up and review ----------------------------------------------------------------------

def schedule_follow_up(meeting: Meeting, *, user, starts_at: datetime, ends_at: datetime, purpose: str | None = None) -> Meeting:
    """The next meeting, with the same participants (invitations start afresh)."""
    new = create_meeting(
        client=meeting.client, purpose=purpose or meeting.purpose, starts_at=starts_at, ends_at=ends_at,
        place_kind=meeting.place_kind, place=meeting.place, remote_link=meeting.remote_link,
        staff_ids=[p.user_id for p in meeting.participants if p.kind == ParticipantKind.STAFF.value and p.user_id],
        contact_ids=[p.contact_id for p in meeting.participants if p.kind == ParticipantKind.PARTNER.value and p.contact_id],
        relative_ids=[p.relative_id for p in meeting.participants if p.kind == ParticipantKind.RELATIVE.value and p.relative_id],
        include_client=any(p.kind == ParticipantKind.CLIENT.value for p in meeting.participants),
        client_identification=meeting.client_identification, created_by=user, previous=meeting,
    )
    return new


def items_for_review(meeting: Meeting) -> list[ActionItem]:
    """The previous meeting's items still open: this meeting reviews them."""
    if meeting.previous_meeting_id is None:
        return []
    return list(db.session.scalars(_review_statement(), {"meeting_id": meeting.previous_meeting_id}))


@functools.cache
def _review_statement() -> sa.Select:
    """Open items of a meeting (bind "meeting_id") with who is responsible, in one statement."""
    return (sa.select(ActionItem).where(ActionItem.meeting_id == sa.bindparam("meeting_id"),
                                        ActionItem.status == ItemStatus.OPEN.value)
            .options(*_people_of(joinedload(ActionItem.responsible)))
            .order_by(ActionItem.id))


def _matching_participant(meeting: Meeting, other: MeetingParticipant) -> MeetingParticipant:
    for p in meeting.participants:
        if p.same_person(other):
            return p
    # The responsible person was left out of this meeting: they stay responsible, so they are
    # added (as invited) rather than the item losing its owner.
    copy = MeetingParticipant(kind=other.kind, user_id=other.user_id, contact_id=other.contact_id,
                              relative_id=other.relative_id, invitation_status=InvitationStatus.INVITED.value)
    meeting.participants.append(copy)
    db.session.flush()
    return copy


def review_item(meeting: Meeting, item: ActionItem, action: str, *, by_name: str,
                due_date: date | None = None, by_user=None) -> ActionItem | None:
    """Done, dropped, or carried forward as a new item of this meeting (linked by carried_from)."""
    _refuse_if_cancelled(meeting)
    if item.meeting_id != meeting.previous_meeting_id or item.status != ItemStatus.OPEN.value:
        raise MeetingError(_l("This item is not open for review in this meeting."))
    if action in (ItemStatus.DONE.value, ItemStatus.DROPPED.value):
        set_item_status(item, action, by_name=by_name, by_user=by_user)
        return None
    if action != "carry":
        raise MeetingError(_l("Choose a valid status."))
    responsible = _matching_participant(meeting, item.responsible)
    new = ActionItem(what=item.what, with_whom=item.with_whom, due_date=due_date or item.due_date,
                     responsible=responsible, responsible_id=responsible.id, carried_from_id=item.id)
    meeting.items.append(new)
    _change_item_status(item, ItemStatus.CARRIED.value, by_name=by_name, by_user=by_user)
    db.session.flush()
    return new


# --- my tasks ----------------------------------------------------------------------------------

@functools.cache
def _open_items_statement() -> sa.Select:
    """A staff member's open items (bind "user_id") as plain rows with what the task lists show
    of their meetings and clients: no ORM objects, which cost more to build than the query
    takes when the list is long. Built once."""
    from register.models import Client

    return (
        sa.select(ActionItem.id, ActionItem.meeting_id, ActionItem.what, ActionItem.with_whom, ActionItem.due_date,
                  ActionItem.status, Meeting.starts_at, Meeting.purpose, Meeting.client_id,
                  Client.name.label("client_name"))
        .join(MeetingParticipant, ActionItem.responsible_id == MeetingParticipant.id)
        .join(Meeting, ActionItem.meeting_id == Meeting.id)
        .join(Client, Meeting.client_id == Client.id)
        .where(MeetingParticipant.kind == ParticipantKind.STAFF.value,
               MeetingParticipant.user_id == sa.bindparam("user_id"),
               ActionItem.status == ItemStatus.OPEN.value, Meeting.status != MeetingStatus.CANCELLED.value)
        # Overdue items have the earliest due dates, so due-date order puts them first; items
        # without a due date come last.
        .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
    )


def open_items_for_user(user_id: int) -> list[sa.Row]:
    """The staff member's open items across meetings, overdue first, then by due date: rows with
    id, meeting_id, what, with_whom, due_date, status, starts_at, purpose, client_id and
    client_name (is_overdue() takes them as it takes items)."""
    return list(db.session.execute(_open_items_statement(), {"user_id": user_id}))


@functools.cache
def _first_open_items_statement() -> sa.Select:
    return _open_items_statement().add_columns(sa.func.count().over().label("total")).limit(sa.bindparam("limit"))


def first_open_items(user_id: int, limit: int) -> tuple[list[sa.Row], int]:
    """The first ``limit`` of ``open_items_for_user`` and how many there are in all, in one
    query (a window count) however many tasks the user has."""
    rows = db.session.execute(_first_open_items_statement(), {"user_id": user_id, "limit": limit}).all()
    return list(rows), (rows[0].total if rows else 0)
