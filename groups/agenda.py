"""The groups' part of the agenda: the worker's group sessions (a roll call still to take once
a session is over), past sessions still to record, and for a lead the groups whose waiting list
could fill a free place."""
from __future__ import annotations

import functools
from datetime import datetime

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.units import led_unit_ids_select
from core.agenda import AGENDA, Worker, among, is_staff, to_record_values
from core.db import Viewer
from core.extensions import db
from core.timeutil import now_utc

from .finding import session_spans, sessions_for_user
from .models import Attendance, Enrolment, EnrolmentStatus, Group, GroupSession, GroupStatus, SessionStatus
from .services import ACTIVE_ENROLMENT


def _with_roll_call(session_ids) -> set[int]:
    ids = sorted(set(session_ids))
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Attendance.session_id).where(Attendance.session_id.in_(ids)).distinct()))


def _title(title: str, number: int, spans: dict, group_id: int) -> str:
    # The group's title and "3/6": groups are named for a theme, never a client.
    span = spans.get(group_id)
    return _("%(group)s, session %(number)s/%(total)s", group=title, number=number,
             total=span.count if span else number)


def agenda_source(user, start: datetime, end: datetime) -> list[dict]:
    sessions = sessions_for_user(user.id, start, end)
    spans = session_spans(s.group_id for s in sessions)
    now = now_utc()
    recorded = _with_roll_call(s.id for s in sessions if s.ends_at <= now and not s.is_cancelled)
    items = []
    for s in sessions:
        needs = []
        if s.is_cancelled:
            needs.append(_("Cancelled"))
        elif s.ends_at <= now and s.id not in recorded:
            needs.append(_("Roll call to take"))
        items.append({"start": s.starts_at, "end": s.ends_at, "kind": "session", "title": _title(s.group.title, s.number, spans, s.group_id),
                      "url": url_for("groups.session", group_id=s.group_id, session_id=s.id),
                      "needs": needs, "target": ("session", s.id)})
    return items


@functools.cache
def _to_record_statement(staff: bool) -> sa.Select:
    has_roll_call = sa.exists().where(Attendance.session_id == GroupSession.id)
    has_participants = sa.exists().where(Enrolment.group_id == GroupSession.group_id,
                                         Enrolment.status == EnrolmentStatus.ENROLLED.value)
    stmt = (sa.select(GroupSession.id, GroupSession.group_id, GroupSession.number, GroupSession.starts_at,
                      Group.title, Group.facilitator1_id, Group.facilitator2_id)
            .join(Group, Group.id == GroupSession.group_id)
            # starts_at < before is implied by ends_at <= before, and closes the index range (the
            # county's coming sessions were read too).
            .where(GroupSession.status == SessionStatus.SCHEDULED.value, GroupSession.ends_at <= AGENDA.before,
                   GroupSession.starts_at < AGENDA.before, GroupSession.starts_at >= AGENDA.since,
                   ~has_roll_call, has_participants))
    if not staff:
        stmt = stmt.where(among(False, Group.facilitator1_id, Group.facilitator2_id))
    else:
        # A lead's staff: their groups by each facilitator column's own index. "f1 IN (staff) OR
        # f2 IN (staff)" was planned by PostgreSQL as a walk of every group with the two lists
        # as a filter (tests/test_query_plans.py).
        stmt = stmt.where(GroupSession.group_id.in_(sa.union(
            sa.select(Group.id).where(among(True, Group.facilitator1_id)),
            sa.select(Group.id).where(among(True, Group.facilitator2_id)))))
    return stmt.order_by(GroupSession.starts_at, GroupSession.id)


def to_record_source(worker: Worker, before: datetime) -> list[dict]:
    """Held sessions (not cancelled, of groups with participants) without a roll call."""
    rows = db.session.execute(_to_record_statement(is_staff(worker)), to_record_values(worker, before)).all()
    spans = session_spans(row.group_id for row in rows)
    return [{"start": row.starts_at, "kind": "session",
             "title": _title(row.title, row.number, spans, row.group_id),
             "url": url_for("groups.roll_call", group_id=row.group_id, session_id=row.id),
             "needs": [_("Roll call to take")],
             "worker_ids": [i for i in (row.facilitator1_id, row.facilitator2_id) if i is not None]}
            for row in rows]


@functools.cache
def _exception_statement(viewer: Viewer) -> sa.Select:
    active = (sa.select(sa.func.count(Enrolment.id)).where(Enrolment.group_id == Group.id,
                                                           Enrolment.status.in_(ACTIVE_ENROLMENT))
              .correlate(Group).scalar_subquery())
    waiting = (sa.select(sa.func.count(Enrolment.id)).where(Enrolment.group_id == Group.id,
                                                            Enrolment.status == EnrolmentStatus.WAITING.value)
               .correlate(Group).scalar_subquery())
    return (sa.select(Group.id, Group.title, Group.capacity - active, waiting)
            .where(Group.status.in_((GroupStatus.ENROLLING.value, GroupStatus.RUNNING.value)),
                   Group.unit_id.in_(led_unit_ids_select(viewer)), active < Group.capacity, waiting > 0)
            .order_by(Group.title, Group.id))


def exception_source() -> list[dict]:
    """The lead's units' groups still taking participants with a free place and someone waiting
    for it (another unit's group titles are not the lead's to see)."""
    rows = db.session.execute(_exception_statement(Viewer.of(current_user)), {"viewer_id": current_user.id}).all()
    return [{"text": _("%(group)s: %(free)s free places, %(waiting)s on the waiting list",
                       group=title, free=free, waiting=n),
             "url": url_for("groups.participants", group_id=gid)} for gid, title, free, n in rows]
