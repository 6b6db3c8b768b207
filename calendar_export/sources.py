"""Event sources for calendar feeds: a per-app registry (``core.registry``), so a feature (e.g.
outreach visits) adds its events with ``register_source(app, source)`` in its blueprint's
``record_once`` without touching this package.

A source answers for a feed scope (whose feed) and a time window:

- ``events(scope, window)``: plain ``EventRecord``s, with nothing in them that must not leave
  the system (no client names or identifiers, no home addresses, no meeting links);
- ``tables``: the names of the tables its events are built from (every column it reads, every
  table it filters by). Changes to them raise the feed data counter (``changes.py``), from which
  the feed's ETag is made without reading any events.

A source without ``tables`` must instead have ``version(scope, window)``: a cheap tuple that
changes whenever its events would (count, latest change, sum of ids). It is then asked on every
feed request, which is correct but costs an aggregate query per request.

Both must run a fixed number of queries whatever the number of events.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

import sqlalchemy as sa
from flask import Flask
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from core.db import utcnow
from core.extensions import db
from core.registry import register, registered
from core.timeutil import local_to_utc, to_local

from .ical import EventRecord

if TYPE_CHECKING:
    from groups.models import GroupSession

UID_DOMAIN = "kohtaamo"
PAST = timedelta(days=60)
AHEAD = timedelta(days=548)          # about 18 months
CANCELLED_KEPT = timedelta(days=30)  # cancelled events stay this long after the cancellation


@dataclass(frozen=True)
class FeedScope:
    kind: str                 # "staff" | "group" | "partner" | "unit"
    target_id: int | None = None
    # The staff member who made the feed: its network meetings are those this person may open
    # (``meetings.services.can_open``), decided at every fetch, so a facilitator's feed never
    # shows more than the facilitator could see and a creator who leaves takes the meetings
    # along. None for feeds the operator made with ``flask calendar create`` (the unit's own).
    creator_id: int | None = None


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    cancelled_since: datetime
    day: date                 # the local day the window is for

    @classmethod
    def around(cls, now: datetime | None = None) -> Window:
        return cls.for_day(to_local(now or utcnow()).date())

    @classmethod
    @functools.lru_cache(maxsize=8)  # a pure function of the day; every feed poll asks for today's
    def for_day(cls, day: date) -> Window:
        """The window for a local (Helsinki) day. Its edges are local midnights, so a feed holds
        the same events all day and its ETag only needs the day, not the time. The past edge is
        the later midnight (at least ``PAST`` minus a day back), the others the wider one."""
        def midnight(d: date) -> datetime:
            return local_to_utc(d, time(0, 0))

        return cls(start=midnight(day + timedelta(days=1) - PAST), end=midnight(day + timedelta(days=1) + AHEAD),
                   cancelled_since=midnight(day - CANCELLED_KEPT), day=day)

    @property
    def day_start(self) -> datetime:
        """Today's local midnight as UTC: the feed may change then without any data change."""
        return local_to_utc(self.day, time(0, 0))


class EventSource(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def tables(self) -> tuple[str, ...]: ...

    def events(self, scope: FeedScope, window: Window) -> list[EventRecord]: ...


def register_source(app: Flask, source: EventSource) -> EventSource:
    return register(app, "calendar_sources", source)


def sources() -> list[EventSource]:
    """The current app's event sources, by name (one per name: the last registered wins)."""
    by_name = {source.name: source for source in registered("calendar_sources")}
    return [by_name[name] for name in sorted(by_name)]


def collect_events(scope: FeedScope, window: Window) -> list[EventRecord]:
    events: list[EventRecord] = []
    for source in sources():
        events.extend(source.events(scope, window))
    return events


def untracked_version(scope: FeedScope, window: Window) -> list[tuple]:
    """Versions of the sources that do not name their ``tables`` (see the module docstring)."""
    return [(source.name, *cast(Any, source).version(scope, window)) for source in sources()
            if not getattr(source, "tables", None)]


def _latest(values) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def latest_change(version: list[tuple]) -> datetime | None:
    """The newest change time in an ``untracked_version`` result (for Last-Modified)."""
    return _latest(v[2] for v in version)


# --- group sessions ----------------------------------------------------------------------------

def _staff_names(*users) -> str:
    return ", ".join(u.name for u in users if u is not None)


class GroupSessionSource:
    name = "group_session"
    # Sessions, their group (title, room, venue, facilitators), the group's partners (partner
    # feeds) and the facilitators' names. The "3/6" totals count the group's sessions.
    tables = ("group_session", "client_group", "group_partner", "user")

    def _filter(self, stmt: sa.Select, scope: FeedScope, window: Window) -> sa.Select | None:
        from groups.models import Group, GroupPartner, GroupSession, SessionStatus

        stmt = stmt.where(
            GroupSession.starts_at < window.end,
            GroupSession.ends_at > window.start,
            sa.or_(GroupSession.status != SessionStatus.CANCELLED.value,
                   GroupSession.updated_at >= window.cancelled_since),
        )
        if scope.kind == "staff":
            return stmt.where(sa.or_(Group.facilitator1_id == scope.target_id,
                                     Group.facilitator2_id == scope.target_id))
        if scope.kind == "group":
            return stmt.where(GroupSession.group_id == scope.target_id)
        if scope.kind == "partner":
            return stmt.where(GroupSession.group_id.in_(
                sa.select(GroupPartner.group_id).where(GroupPartner.partner_id == scope.target_id)))
        if scope.kind == "unit":
            return stmt.where(Group.unit_id == scope.target_id)  # the feed's own unit's groups
        return None

    def events(self, scope: FeedScope, window: Window) -> list[EventRecord]:
        from groups.models import Group, GroupSession

        stmt = self._filter(sa.select(GroupSession).join(Group, Group.id == GroupSession.group_id), scope, window)
        if stmt is None:
            return []
        rows = db.session.scalars(stmt.options(
            joinedload(GroupSession.group).joinedload(Group.facilitator1),
            joinedload(GroupSession.group).joinedload(Group.facilitator2),
        )).unique().all()
        totals = session_totals({s.group_id for s in rows})
        return [session_event(s, totals.get(s.group_id, 0)) for s in rows]


def session_totals(group_ids) -> dict[int, int]:
    """Number of sessions per group ("3/6"), in one query."""
    from groups.models import GroupSession

    if not group_ids:
        return {}
    rows = db.session.execute(
        sa.select(GroupSession.group_id, sa.func.count(GroupSession.id))
        .where(GroupSession.group_id.in_(sorted(group_ids))).group_by(GroupSession.group_id))
    return {group_id: count for group_id, count in rows}


def session_event(session: GroupSession, total: int) -> EventRecord:
    group = session.group
    summary = f"{group.title} {session.number}/{max(total, session.number)}"
    if session.topic:
        summary += f": {session.topic}"
    location = ", ".join(p for p in (session.room or group.room, group.venue) if p)
    names = _staff_names(group.facilitator1, group.facilitator2)
    description = _("Facilitators: %(names)s", names=names) if names else ""
    return EventRecord(
        uid=f"session-{session.id}@{UID_DOMAIN}",
        summary=summary,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        updated_at=max(session.updated_at, group.updated_at),
        created_at=session.created_at,
        sequence=session.sequence,
        cancelled=session.is_cancelled,
        location=location,
        description=description,
    )


# --- network meetings --------------------------------------------------------------------------

class MeetingSource:
    name = "meeting"
    # Meetings, who takes part (staff feeds, staff names; partner feeds through the contacts'
    # organisation) and the staff's names.
    # Partner feeds also say what the partner's people do in the meeting (their tasks in the
    # plan are counted) and whom to contact.
    tables = ("meeting", "meeting_participant", "partner_contact", "user", "action_item")

    def _filter(self, stmt: sa.Select, scope: FeedScope, window: Window) -> sa.Select | None:
        from meetings.models import Meeting, MeetingParticipant, MeetingStatus, ParticipantKind
        from register.models import PartnerContact

        stmt = stmt.where(
            Meeting.starts_at < window.end,
            Meeting.ends_at > window.start,
            sa.or_(Meeting.status != MeetingStatus.CANCELLED.value, Meeting.updated_at >= window.cancelled_since),
        )
        if scope.kind == "staff":
            return stmt.where(Meeting.id.in_(
                sa.select(MeetingParticipant.meeting_id).where(
                    MeetingParticipant.kind == ParticipantKind.STAFF.value,
                    MeetingParticipant.user_id == scope.target_id)))
        if scope.kind == "partner":
            return stmt.where(Meeting.id.in_(
                sa.select(MeetingParticipant.meeting_id)
                .join(PartnerContact, PartnerContact.id == MeetingParticipant.contact_id)
                .where(MeetingParticipant.kind == ParticipantKind.PARTNER.value,
                       PartnerContact.organisation_id == scope.target_id)))
        if scope.kind == "unit":
            from register.models import Client

            # The meetings of the unit's clients.
            return stmt.where(Meeting.client_id.in_(sa.select(Client.id).where(Client.unit_id == scope.target_id)))
        return None  # a group's feed has no network meetings

    def events(self, scope: FeedScope, window: Window) -> list[EventRecord]:
        from meetings.models import Meeting, MeetingParticipant

        stmt = self._filter(sa.select(Meeting), scope, window)
        if stmt is None:
            return []
        viewer = None
        if scope.creator_id is not None:
            from accounts.models import User

            viewer = db.session.get(User, scope.creator_id)
            if viewer is None or not viewer.active:
                return []  # the creator left: their feed shows no meetings
        options = [selectinload(Meeting.participants).joinedload(MeetingParticipant.user)]
        if scope.kind == "partner":
            options += [selectinload(Meeting.participants).joinedload(MeetingParticipant.contact)]
        rows = db.session.scalars(stmt.options(*options)).all()
        if viewer is not None:
            from meetings.services import can_open

            # The meeting page's own rule, on the loaded participants (no query per meeting).
            rows = [m for m in rows if can_open(viewer, m)]
        if scope.kind != "partner":
            return [meeting_event(m) for m in rows]
        plans = plan_summaries([m.id for m in rows])
        return [meeting_event(m, partner_id=scope.target_id, plan=plans.get(m.id)) for m in rows]


@dataclass(frozen=True)
class PlanSummary:
    """What a partner's feed takes from a meeting's plan: open tasks per responsible participant
    and the latest change. Counted in SQL: the item texts (which may name the client) are never
    loaded for a feed."""

    open_tasks: dict[int, int]
    updated_at: datetime | None


def plan_summaries(meeting_ids: list[int]) -> dict[int, PlanSummary]:
    from meetings.models import ActionItem, ItemStatus

    if not meeting_ids:
        return {}
    is_open = sa.case((ActionItem.status == ItemStatus.OPEN.value, 1), else_=0)
    rows = db.session.execute(
        sa.select(ActionItem.meeting_id, ActionItem.responsible_id, sa.func.sum(is_open),
                  sa.func.max(ActionItem.updated_at))
        .where(ActionItem.meeting_id.in_(meeting_ids))
        .group_by(ActionItem.meeting_id, ActionItem.responsible_id))
    tasks: dict[int, dict[int, int]] = {}
    latest: dict[int, datetime] = {}
    for meeting_id, responsible_id, open_count, updated_at in rows:
        tasks.setdefault(meeting_id, {})[responsible_id] = int(open_count or 0)
        if updated_at is not None:  # max() keeps the column's type: aware UTC
            latest[meeting_id] = max(latest.get(meeting_id, updated_at), updated_at)
    return {mid: PlanSummary(open_tasks=tasks.get(mid, {}), updated_at=latest.get(mid)) for mid in tasks}


def meeting_location(meeting, include_remote_link: bool = False) -> str:
    """Where the meeting is, without anything that identifies the client.

    A home visit's address is the client's home, so feeds only say "Home visit". A remote
    meeting's link lets anyone holding it join a confidential meeting, and feed contents end up
    on Google's or Microsoft's servers and are often shared within a partner organisation, so
    feeds never carry it; staff who may see the meeting get it in their single-event download.
    """
    from meetings.models import PlaceKind

    kind = meeting.place_kind
    if kind == PlaceKind.HOME_VISIT.value:
        return _("Home visit")
    if kind == PlaceKind.REMOTE.value:
        if include_remote_link and meeting.remote_link:
            return _("Remote meeting: %(link)s", link=meeting.remote_link)
        return _("Remote meeting (the link is in the invitation)")
    return meeting.place or (_("Office") if kind == PlaceKind.OFFICE.value else "")


def _contact_line(user) -> str:
    """The staff contact person: name and the work phone and e-mail the register has."""
    return ", ".join(part for part in (user.name, user.phone, user.email) if part)


def partner_description(meeting, partner_id: int, plan: PlanSummary | None = None) -> str:
    """What a partner organisation's feed says of a network meeting: who of its own people take
    part and in what role, how many tasks the plan gives them, and whom to contact among the
    staff. Built from participant and staff rows only: nothing here names the client."""
    from meetings.models import ParticipantKind

    ours = [p for p in meeting.participants
            if p.kind == ParticipantKind.PARTNER.value and p.contact is not None
            and p.contact.organisation_id == partner_id]
    lines = []
    for participant in ours:
        contact = participant.contact
        role = _("%(name)s (%(title)s)", name=contact.name, title=contact.title) if contact.title else contact.name
        tasks = plan.open_tasks.get(participant.id, 0) if plan else 0
        lines.append(_("Taking part from your organisation: %(role)s", role=role))
        if tasks:
            lines.append(_("Open tasks for %(name)s in the plan: %(count)s", name=contact.name, count=tasks))
    staff = [p.user for p in meeting.participants if p.kind == ParticipantKind.STAFF.value and p.user]
    if staff:
        lines.append(_("Contact person: %(contact)s", contact=_contact_line(staff[0])))
    return "\n".join(lines)


def meeting_event(meeting, include_remote_link: bool = False, partner_id: int | None = None,
                  plan: PlanSummary | None = None) -> EventRecord:
    """A network meeting as an event: "Network meeting", time, place and staff names only (and, in
    a partner's feed, the partner's own part and the staff contact: ``partner_description``).
    The purpose, worries and the client's name stay out: they are client data."""
    from meetings.models import ParticipantKind

    staff = [p.user for p in meeting.participants if p.kind == ParticipantKind.STAFF.value and p.user]
    names = _staff_names(*staff)
    description = _("Staff: %(names)s", names=names) if names else ""
    updated_at = meeting.updated_at
    if partner_id is not None:
        description = "\n".join(part for part in (partner_description(meeting, partner_id, plan), description)
                                if part)
        # The partner's tasks are part of the event there: a change to them updates it.
        updated_at = _latest([updated_at, plan.updated_at if plan else None])
    return EventRecord(
        uid=f"meeting-{meeting.id}@{UID_DOMAIN}",
        summary=_("Network meeting"),
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        updated_at=updated_at,
        created_at=meeting.created_at,
        sequence=meeting.sequence,
        cancelled=meeting.is_cancelled,
        location=meeting_location(meeting, include_remote_link),
        description=description,
    )


GROUP_SESSIONS = GroupSessionSource()
MEETINGS = MeetingSource()
