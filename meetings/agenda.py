"""The network meetings' part of the agenda: the worker's meetings (a record to write once a
meeting is over and not marked held), past meetings still to record, and for a lead the coming
meetings and home visits with fewer than two workers. Titles never name the client."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.units import led_unit_ids_select
from core.agenda import AGENDA, Worker, agenda_values, among, exception_values, is_staff, to_record_values
from core.db import VIEWER_ID, Viewer
from core.extensions import db
from core.timeutil import now_utc

from .models import Meeting, MeetingParticipant, MeetingStatus, ParticipantKind, PlaceKind

SINGLE_WORKER_AHEAD = timedelta(days=14)


def _title(place_kind: str) -> str:
    return _("Home visit (network meeting)") if place_kind == PlaceKind.HOME_VISIT.value else _("Network meeting")


def _staff_of(user_id):
    return sa.select(MeetingParticipant.meeting_id).where(MeetingParticipant.kind == ParticipantKind.STAFF.value,
                                                          MeetingParticipant.user_id == user_id)


@functools.cache
def _agenda_statement() -> sa.Select:
    return (sa.select(Meeting.id, Meeting.starts_at, Meeting.ends_at, Meeting.status, Meeting.place_kind)
            .where(Meeting.id.in_(_staff_of(VIEWER_ID)), Meeting.starts_at < AGENDA.end, Meeting.ends_at > AGENDA.start)
            .order_by(Meeting.starts_at, Meeting.id))


def agenda_source(user, start: datetime, end: datetime) -> list[dict]:
    rows = db.session.execute(_agenda_statement(), agenda_values(user, start, end)).all()
    now = now_utc()
    items = []
    for row in rows:
        needs = []
        if row.status == MeetingStatus.CANCELLED.value:
            needs.append(_("Cancelled"))
        elif row.status == MeetingStatus.PLANNED.value and row.ends_at <= now:
            needs.append(_("Record to write: was it held?"))
        items.append({"start": row.starts_at, "end": row.ends_at, "kind": "meeting", "title": _title(row.place_kind),
                      "url": url_for("meetings.show", meeting_id=row.id), "needs": needs,
                      "target": ("meeting", row.id)})
    return items


@functools.cache
def _to_record_statements(staff: bool) -> tuple[sa.Select, sa.Select]:
    # The planned meetings of the 90 days by the (status, starts_at) index (starts_at < before is
    # implied by ends_at <= before and bounds that range), each checked for a staff participant
    # of the worker's per row. "id IN (the staff's participations)" read every meeting the
    # lead's staff ever had, five years of them.
    meetings = (sa.select(Meeting.id, Meeting.starts_at, Meeting.place_kind)
                .where(Meeting.status == MeetingStatus.PLANNED.value, Meeting.ends_at <= AGENDA.before,
                       Meeting.starts_at < AGENDA.before, Meeting.starts_at >= AGENDA.since,
                       sa.exists().where(MeetingParticipant.meeting_id == Meeting.id,
                                         MeetingParticipant.kind == ParticipantKind.STAFF.value,
                                         among(staff, MeetingParticipant.user_id)))
                .order_by(Meeting.starts_at, Meeting.id))
    participants = (sa.select(MeetingParticipant.meeting_id, MeetingParticipant.user_id)
                    .where(MeetingParticipant.meeting_id.in_(sa.bindparam("meeting_ids", expanding=True)),
                           MeetingParticipant.kind == ParticipantKind.STAFF.value,
                           MeetingParticipant.user_id.is_not(None))
                    .order_by(MeetingParticipant.id))
    return meetings, participants


def to_record_source(worker: Worker, before: datetime) -> list[dict]:
    """Meetings over but still "planned": neither marked held (with the record) nor cancelled.
    Two queries: the planned meetings by time, then their staff by meeting."""
    meetings, participants = _to_record_statements(is_staff(worker))
    rows = db.session.execute(meetings, to_record_values(worker, before)).all()
    staff: dict[int, list[int]] = {}
    if rows:
        for meeting_id, staff_id in db.session.execute(participants, {"meeting_ids": [row.id for row in rows]}):
            staff.setdefault(meeting_id, []).append(staff_id)
    return [{"start": row.starts_at, "kind": "meeting", "title": _title(row.place_kind),
             "url": url_for("meetings.show", meeting_id=row.id) + "#record-heading",
             "needs": [_("Record to write: was it held?")], "worker_ids": staff.get(row.id, [])} for row in rows]


@functools.cache
def _exception_statement(viewer: Viewer) -> sa.Select:
    staff = (sa.select(sa.func.count(sa.distinct(MeetingParticipant.user_id)))
             .where(MeetingParticipant.meeting_id == Meeting.id, MeetingParticipant.kind == ParticipantKind.STAFF.value)
             .correlate(Meeting).scalar_subquery())
    # The lead's units' meetings of the two weeks, by the (unit_id, starts_at) index: not every
    # unit's planned meetings joined to their clients.
    return (sa.select(Meeting.id, Meeting.starts_at, Meeting.place_kind)
            .where(Meeting.unit_id.in_(led_unit_ids_select(viewer)),
                   Meeting.status == MeetingStatus.PLANNED.value,
                   Meeting.starts_at >= AGENDA.now, Meeting.starts_at < AGENDA.soon, staff < 2)
            .order_by(Meeting.starts_at, Meeting.id))


def exception_source() -> list[dict]:
    """Coming meetings and home visits with fewer than two workers (pair work is the norm)."""
    rows = db.session.execute(_exception_statement(Viewer.of(current_user)),
                              exception_values(current_user, SINGLE_WORKER_AHEAD)).all()
    return [{"text": (_("Home visit with fewer than two workers") if row.place_kind == PlaceKind.HOME_VISIT.value
                      else _("Network meeting with fewer than two workers")),
             "when": row.starts_at, "url": url_for("meetings.show", meeting_id=row.id)} for row in rows]
