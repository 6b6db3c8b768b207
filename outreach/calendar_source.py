"""Outreach visits in the calendar feeds (``calendar_export.sources``): a partner's feed shows the visits
to its venues (so the venue can announce them), a staff member's feed the visits they go on, and
the unit feed all visits. ``outreach.views`` registers ``SOURCE`` with the blueprint.

No client data exists in outreach; the summary names the venue, the description the staff pair.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from calendar_export.ical import EventRecord
from calendar_export.sources import UID_DOMAIN
from core.extensions import db

from .models import OutreachVenue, OutreachVisit, VisitStatus


def _scoped(stmt: sa.Select, scope, window) -> sa.Select | None:
    stmt = stmt.where(
        OutreachVisit.starts_at < window.end,
        OutreachVisit.ends_at > window.start,
        # Cancelled visits stay in the feed for a while so clients can strike them through.
        sa.or_(OutreachVisit.status != VisitStatus.CANCELLED.value,
               OutreachVisit.updated_at >= window.cancelled_since),
    )
    if scope.kind == "partner":
        return stmt.where(OutreachVisit.venue_id.in_(
            sa.select(OutreachVenue.id).where(OutreachVenue.partner_id == scope.target_id)))
    if scope.kind == "staff":
        return stmt.where(sa.or_(OutreachVisit.staff1_id == scope.target_id,
                                 OutreachVisit.staff2_id == scope.target_id))
    if scope.kind == "unit":
        # Visits at the unit's own venues and at shared ones (outreach.models.OutreachVenue).
        # Excluded are the visits at another unit's venues, found by the venue index; the rest are
        # found by their time (the window's index). "venue_id IN (own or shared venues)" made
        # PostgreSQL walk the visits of every venue (tests/test_query_plans.py).
        others = sa.select(OutreachVenue.id).where(OutreachVenue.unit_id != scope.target_id)
        return stmt.where(OutreachVisit.venue_id.not_in(others))
    if scope.kind == VENUE_SCOPE:
        return stmt.where(OutreachVisit.venue_id == scope.target_id)
    return None  # a group's feed has no outreach visits


# The venue's public feed (outreach.public): its visits only, without the staff's names (the
# address is on the poster, so anyone may read it).
VENUE_SCOPE = "outreach_venue"


def visit_record(visit: OutreachVisit, *, with_staff: bool = True):
    venue = visit.venue
    names = ", ".join(u.name for u in visit.staff) if with_staff else ""
    updated = max(visit.updated_at, venue.updated_at)
    return EventRecord(
        uid=f"outreach-{visit.id}@{UID_DOMAIN}",
        summary=_("Outreach: %(venue)s", venue=venue.name),
        starts_at=visit.starts_at,
        ends_at=visit.ends_at,
        updated_at=updated,
        created_at=visit.created_at,
        sequence=visit.sequence,
        cancelled=visit.status == VisitStatus.CANCELLED.value,
        location=venue.address or venue.name,
        description=(_("Adult social work outreach. Staff: %(names)s", names=names) if names
                     else _("Adult social work outreach.")),
    )


class OutreachSource:
    name = "outreach"
    # What the events are built from (visits, their venue and partner, the staff's names):
    # changes to these tables change the feeds' ETag (calendar_export.changes).
    tables = ("outreach_visit", "outreach_venue", "user")

    def events(self, scope, window) -> list:
        stmt = _scoped(sa.select(OutreachVisit), scope, window)
        if stmt is None:
            return []
        rows = db.session.scalars(stmt.order_by(OutreachVisit.starts_at).options(
            selectinload(OutreachVisit.venue), selectinload(OutreachVisit.staff1),
            selectinload(OutreachVisit.staff2))).all()
        return [visit_record(v, with_staff=scope.kind != VENUE_SCOPE) for v in rows]


SOURCE = OutreachSource()
