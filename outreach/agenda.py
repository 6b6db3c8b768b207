"""Outreach visits in the agenda: the worker's visits (the anonymous counts still to record once
a visit is over), the visits still waiting for their counts ("to record"), and for a lead the
coming visits with one worker only."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.agenda import AGENDA, Worker, agenda_values, among, exception_values, is_staff, to_record_values
from core.db import VIEWER_ID, Viewer
from core.extensions import db
from core.timeutil import now_utc

from .models import OutreachVenue, OutreachVisit, VisitStatus
from .services import visible_venue_ids

SINGLE_WORKER_AHEAD = timedelta(days=14)


@functools.cache
def _agenda_statement() -> sa.Select:
    return (sa.select(OutreachVisit.id, OutreachVisit.starts_at, OutreachVisit.ends_at, OutreachVisit.status,
                      OutreachVenue.name)
            .join(OutreachVenue, OutreachVenue.id == OutreachVisit.venue_id)
            .where(sa.or_(OutreachVisit.staff1_id == VIEWER_ID, OutreachVisit.staff2_id == VIEWER_ID),
                   OutreachVisit.starts_at < AGENDA.end, OutreachVisit.ends_at > AGENDA.start)
            .order_by(OutreachVisit.starts_at, OutreachVisit.id))


def agenda_source(user, start: datetime, end: datetime) -> list[dict]:
    rows = db.session.execute(_agenda_statement(), agenda_values(user, start, end)).all()
    now = now_utc()
    items = []
    for row in rows:
        needs = []
        if row.status == VisitStatus.CANCELLED.value:
            needs.append(_("Cancelled"))
        elif row.status == VisitStatus.SCHEDULED.value and row.ends_at <= now:
            needs.append(_("Counts to record"))
        items.append({"start": row.starts_at, "end": row.ends_at, "kind": "outreach",
                      "title": _("Outreach: %(venue)s", venue=row.name),
                      "url": url_for("outreach.visit", visit_id=row.id), "needs": needs})
    return items


@functools.cache
def _exception_statement(viewer: Viewer) -> sa.Select:
    return (sa.select(OutreachVisit.id, OutreachVisit.starts_at, OutreachVenue.name)
            .join(OutreachVenue, OutreachVenue.id == OutreachVisit.venue_id)
            .where(OutreachVisit.status == VisitStatus.SCHEDULED.value, OutreachVisit.starts_at >= AGENDA.now,
                   OutreachVisit.starts_at < AGENDA.soon,
                   sa.or_(OutreachVisit.staff1_id.is_(None), OutreachVisit.staff2_id.is_(None)),
                   OutreachVisit.venue_id.in_(visible_venue_ids(viewer)))  # the lead's units' and shared
            .order_by(OutreachVisit.starts_at, OutreachVisit.id))


def exception_source() -> list[dict]:
    rows = db.session.execute(_exception_statement(Viewer.of(current_user)),
                              exception_values(current_user, SINGLE_WORKER_AHEAD)).all()
    return [{"text": _("Outreach visit with fewer than two workers: %(venue)s", venue=row.name),
             "when": row.starts_at, "url": url_for("outreach.visit", visit_id=row.id)} for row in rows]


@functools.cache
def _to_record_statement(staff: bool) -> sa.Select:
    return (sa.select(OutreachVisit.id, OutreachVisit.starts_at, OutreachVisit.staff1_id, OutreachVisit.staff2_id,
                      OutreachVenue.name)
            .join(OutreachVenue, OutreachVenue.id == OutreachVisit.venue_id)
            .where(OutreachVisit.status == VisitStatus.SCHEDULED.value, OutreachVisit.ends_at <= AGENDA.before,
                   OutreachVisit.starts_at >= AGENDA.since,
                   among(staff, OutreachVisit.staff1_id, OutreachVisit.staff2_id))
            .order_by(OutreachVisit.starts_at, OutreachVisit.id))


def to_record_source(worker: Worker, before: datetime) -> list[dict]:
    """Visits over but still "scheduled": their anonymous counts are not recorded yet."""
    return [{"start": row.starts_at, "kind": "outreach", "title": _("Outreach: %(venue)s", venue=row.name),
             "url": url_for("outreach.visit_report", visit_id=row.id), "needs": [_("Counts to record")],
             "worker_ids": [i for i in (row.staff1_id, row.staff2_id) if i is not None]}
            for row in db.session.execute(_to_record_statement(is_staff(worker)), to_record_values(worker, before))]
