"""Appointment reminders go through the existing exactly-once outbox (reminders.queue.queue_due):
one reminder per slot however often the worker runs, in the client's language, without the
client's name; a moved appointment's reminder for the old time never goes out, a cancelled one's
neither."""
from __future__ import annotations

from datetime import date, time, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from reminders import queue
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
    assert queue.queue_due(run_at) == 1
    assert queue.queue_due(run_at) == 0  # exactly once
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


def test_no_show_opens_the_follow_up_task_and_its_new_time_is_an_appointment(app, auth_client, facilitator, fresh_db):
    from appointments.models import Appointment
    from core.db import utcnow
    from reminders.models import FollowUpTask

    client = make_client(name="Poissa Oleva", worker=facilitator, phone="040 765 4321", consent=True)
    # Letters are offered only to a postal address the client agreed to (reminders, notices).
    client.postal_address, client.postal_consent_date = "Kirjekatu 1\n00100 Helsinki", date(2026, 1, 5)
    missed = Appointment(client_id=client.id, worker1_id=facilitator.id, kind="office", place="Huone 3",
                         starts_at=utcnow() - timedelta(hours=3), ends_at=utcnow() - timedelta(hours=2))
    db.session.add(missed)
    db.session.commit()
    assert auth_client.post_form(f"/appointments/{missed.id}/status", {"status": "no_show"}).status_code == 302
    [task] = fresh_db.scalars(sa.select(FollowUpTask))
    assert (task.source_kind, task.source_id, task.assigned_to_id, task.status) == ("appt", missed.id, facilitator.id,
                                                                                    "open")
    listing = auth_client.get("/reminders/follow-ups").get_data(as_text=True)
    assert f"/reminders/follow-ups/{task.id}" in listing
    url = f"/reminders/follow-ups/{task.id}"
    page = auth_client.get(url).get_data(as_text=True)
    assert "Poissa Oleva" in page and "Tapaaminen" in page
    day = local_today() + timedelta(days=8)
    response = auth_client.post_form(url, {"outcome": "not_reached", "day": day.isoformat(), "at": "09:00",
                                           "minutes": "45", "place": "Huone 3"})
    assert response.status_code == 302
    [task] = fresh_db.scalars(sa.select(FollowUpTask))
    new = fresh_db.get(Appointment, task.new_appointment_id)
    assert new.previous_id == missed.id and new.worker1_id == facilitator.id and new.status.value == "booked"
    [sms] = fresh_db.scalars(sa.select(OutboxMessage))
    assert (sms.kind, sms.target_kind, sms.target_id) == ("new_time", "appt", new.id)
    assert "Poissa" not in sms.body
    assert auth_client.get(f"{url}/letter").status_code == 200
    # Marked held after all: the task closes.
    assert auth_client.post_form(f"/appointments/{missed.id}/status", {"status": "held"}).status_code == 302
    assert fresh_db.scalars(sa.select(FollowUpTask))[0].status == "not_reached"  # done tasks stay done
    # A stranger sees neither the task nor the appointment.
    from tests.factories import login, make_user

    stranger = app.test_client()
    login(stranger, make_user(name="Vieras"))
    assert stranger.get(url).status_code == 404 and stranger.get(f"/appointments/{missed.id}").status_code == 404
