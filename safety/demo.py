"""Demo pair safety: the demo facilitator's home visit today with the pair checked in, and an
outreach visit earlier today whose "we are done" never came, so the demo lead sees an alert."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from appointments.models import Appointment, AppointmentKind
from core.db import utcnow
from core.extensions import db
from core.timeutil import local_day_bounds_utc, local_today
from outreach.models import OutreachVenue, OutreachVisit

from .models import CheckKind, FieldCheck


def seed(ctx) -> None:
    now = utcnow()
    lead, ohjaaja, sanna = ctx.staff["vastaava"], ctx.staff["ohjaaja"], ctx.staff["sanna"]
    start, end = local_day_bounds_utc(local_today())
    home = db.session.scalar(sa.select(Appointment).where(
        Appointment.kind == AppointmentKind.HOME_VISIT, Appointment.worker1_id == ohjaaja.id,
        Appointment.worker2_id.is_not(None), Appointment.starts_at >= start, Appointment.starts_at < end)
        .order_by(Appointment.starts_at).limit(1))
    if home is not None:
        check = FieldCheck(kind=CheckKind.HOME_VISIT.value, appointment_id=home.id, margin_minutes=30,
                           contact_id=lead.id, arrived_at=min(now, home.starts_at), arrived_by_id=ohjaaja.id)
        if home.ends_at < now:
            # Loaded after the visit: the pair also said "we are done", so this one does not alert.
            check.done_at, check.done_by_id = home.ends_at, ohjaaja.id
        db.session.add(check)
    venue = db.session.scalar(sa.select(OutreachVenue).order_by(OutreachVenue.id).limit(1))
    if venue is not None:
        # Ended two hours ago: with a 30-minute margin, long overdue when the demo opens.
        visit = OutreachVisit(venue_id=venue.id, starts_at=now - timedelta(hours=4), ends_at=now - timedelta(hours=2),
                              staff1_id=sanna.id, staff2_id=ctx.staff["pekka"].id)
        db.session.add(visit)
        db.session.flush()
        db.session.add(FieldCheck(kind=CheckKind.OUTREACH.value, outreach_visit_id=visit.id, margin_minutes=30,
                                  contact_id=lead.id, arrived_at=visit.starts_at + timedelta(minutes=5),
                                  arrived_by_id=sanna.id))
    db.session.flush()
