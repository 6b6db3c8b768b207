"""Appointment reminders go through the existing exactly-once outbox (reminders.services.queue_due):
one reminder per slot however often the worker runs, in the client's language, without the
client's name; a moved appointment's reminder for the old time never goes out, a cancelled one's
neither."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from reminders import services as reminders
from reminders.models import OutboxMessage
from tests.factories import make_client


def test_reminder_queued_once_and_dropped_when_moved(app, auth_client, facilitator, fresh_db):
    from appointments import services

    client = make_client(name="Muistettava Asiakas", worker=facilitator, phone="040 765 4321", consent=True)
    day = local_today() + timedelta(days=20)
    starts = local_to_utc(day, time(10, 0))
    appointment = services.book(client=client, kind="office", starts_at=starts, ends_at=starts + timedelta(minutes=45),
                                worker_ids=[facilitator.id], place="Huone 3")
    db.session.commit()
    run_at = local_to_utc(day - timedelta(days=1), time(16, 5))
    assert reminders.queue_due(run_at) == 1
    assert reminders.queue_due(run_at) == 0  # exactly once
    db.session.commit()
    rows = fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.target_id == appointment.id))
    assert [(r.kind, r.target_kind, r.channel, r.status) for r in rows] == [("reminder", "appt", "sms", "pending")]
    assert "Muistettava" not in rows[0].body and "Huone 3" in rows[0].body
    # Moved through the page: the reminder for the old time is cancelled, not sent.
    new_day = day + timedelta(days=1)
    response = auth_client.post_form(f"/appointments/{appointment.id}/move", {
        "kind": "office", "day": new_day.isoformat(), "start": "10:00", "minutes": "45", "worker1": str(facilitator.id),
        "worker2": "", "place": "Huone 3", "version": str(appointment.version), "confirm": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    old = fresh_db.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    assert old.status == "cancelled"
