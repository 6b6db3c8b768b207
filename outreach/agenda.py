"""Outreach visits in the agenda: the worker's visits (the anonymous counts still to record once
a visit is over), and for a lead the coming visits with one worker only."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _

from core.extensions import db
from core.timeutil import now_utc

from .models import OutreachVenue, OutreachVisit, VisitStatus

SINGLE_WORKER_AHEAD = timedelta(days=14)


def agenda_source(user, start: datetime, end: datetime) -> list[dict]:
    rows = db.session.execute(
        sa.select(OutreachVisit.id, OutreachVisit.starts_at, OutreachVisit.ends_at, OutreachVisit.status,
                  OutreachVenue.name)
        .join(OutreachVenue, OutreachVenue.id == OutreachVisit.venue_id)
        .where(sa.or_(OutreachVisit.staff1_id == user.id, OutreachVisit.staff2_id == user.id),
               OutreachVisit.starts_at < end, OutreachVisit.ends_at > start)
        .order_by(OutreachVisit.starts_at, OutreachVisit.id)).all()
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


def exception_source() -> list[dict]:
    now = now_utc()
    rows = db.session.execute(
        sa.select(OutreachVisit.id, OutreachVisit.starts_at, OutreachVenue.name)
        .join(OutreachVenue, OutreachVenue.id == OutreachVisit.venue_id)
        .where(OutreachVisit.status == VisitStatus.SCHEDULED.value, OutreachVisit.starts_at >= now,
               OutreachVisit.starts_at < now + SINGLE_WORKER_AHEAD,
               sa.or_(OutreachVisit.staff1_id.is_(None), OutreachVisit.staff2_id.is_(None)))
        .order_by(OutreachVisit.starts_at, OutreachVisit.id)).all()
    return [{"text": _("Outreach visit with fewer than two workers: %(venue)s", venue=row.name),
             "when": row.starts_at, "url": url_for("outreach.visit", visit_id=row.id)} for row in rows]
