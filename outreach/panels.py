"""Start-page panel: the signed-in worker's outreach visits in the next two weeks, and their
visits that have taken place but still wait for the anonymous counts."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from core.dashboard import Panel, register_panel
from core.extensions import db
from core.timeutil import now_utc

from .models import OutreachVisit, VisitStatus

AHEAD = timedelta(days=14)
COUNTS_WAIT = timedelta(days=60)


@register_panel
def my_outreach_panel(user) -> Panel | None:
    now = now_utc()
    visits = db.session.scalars(
        sa.select(OutreachVisit)
        .where(sa.or_(OutreachVisit.staff1_id == user.id, OutreachVisit.staff2_id == user.id),
               OutreachVisit.status == VisitStatus.SCHEDULED.value,
               OutreachVisit.starts_at >= now - COUNTS_WAIT, OutreachVisit.starts_at < now + AHEAD)
        .order_by(OutreachVisit.starts_at)
        # Each visit has one venue and two workers: joined into the same query.
        .options(joinedload(OutreachVisit.venue), joinedload(OutreachVisit.staff1),
                 joinedload(OutreachVisit.staff2))
    ).all()
    if not visits:
        return None
    coming = [v for v in visits if v.starts_at > now]
    counts_due = [v for v in visits if v.starts_at <= now]
    return Panel("outreach/_panel.html", {"coming": coming, "counts_due": counts_due}, order=30)
