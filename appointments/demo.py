"""Demo appointments: the demo facilitator's day has two appointments today (an office
appointment with an interpreter, and a home visit with a work pair), one past appointment whose
record is still open, and one next week. Dates are relative to today; rows are made directly, as
the day's first appointment may already be past when the demo is loaded."""
from __future__ import annotations

from datetime import time, timedelta

from core.extensions import db
from core.timeutil import local_to_utc, local_today

from .models import Appointment, AppointmentKind


def _at(day, hour, minute, minutes):
    starts = local_to_utc(day, time(hour, minute))
    return starts, starts + timedelta(minutes=minutes)


def seed(ctx) -> None:
    today = local_today()
    ohjaaja, sanna = ctx.staff["ohjaaja"], ctx.staff["sanna"]
    rows = [
        (ctx.clients["ls"], _at(today, 10, 0, 45), AppointmentKind.OFFICE, "Huone 3", None, "venäjä"),
        (ctx.clients["th"], _at(today, 14, 0, 60), AppointmentKind.HOME_VISIT, "", sanna, ""),
        (ctx.clients["mk"], _at(today - timedelta(days=5), 9, 0, 45), AppointmentKind.OFFICE, "Huone 3", None, ""),
        (ctx.clients["ls"], _at(today + timedelta(days=7), 10, 0, 45), AppointmentKind.PHONE, "", None, ""),
    ]
    for client, (starts, ends), kind, place, pair, language in rows:
        db.session.add(Appointment(client_id=client.id, worker1_id=ohjaaja.id, worker2_id=pair.id if pair else None,
                                   kind=kind, starts_at=starts, ends_at=ends, place=place,
                                   interpreter=bool(language), interpreter_language=language,
                                   created_by_id=ohjaaja.id))
    db.session.flush()
