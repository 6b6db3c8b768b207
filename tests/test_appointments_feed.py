"""Appointments in the worker's staff calendar feed, read by an independent parser (icalendar):
the kind and time, never the client's name or a home visit's address; other staff's feeds do not
have them; a cancelled appointment stays with STATUS:CANCELLED."""
from __future__ import annotations

from datetime import time, timedelta

import icalendar

from core.extensions import db
from core.timeutil import HELSINKI, local_to_utc, local_today
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_user


def _feed(client, kind, target_id):
    from calendar_export.services import create_subscription

    _sub, token = create_subscription(kind=kind, target_id=target_id, label="test")
    db.session.commit()
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    return response.get_data(as_text=True), {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_staff_feed_has_the_appointment_without_the_client(app, client, facilitator):
    from appointments import services

    pair, other = make_user(name="Pekka Pari"), make_user(name="Muu Olli")
    person = make_client(name="Salli Salainen", worker=facilitator)
    starts = local_to_utc(local_today() + timedelta(days=4), time(14, 0))
    appointment = services.book(client=person, kind="home_visit", starts_at=starts, ends_at=starts + timedelta(hours=1),
                                worker_ids=[facilitator.id, pair.id], place="Kotikatu 5 B 12")
    db.session.commit()
    for worker in (facilitator, pair):
        raw, events = _feed(client, "staff", worker.id)
        event = events[calendar_uid("appointment", appointment.id)]
        assert str(event["SUMMARY"]) == "Tapaaminen, kotikäynti"
        assert event["DTSTART"].dt == starts.astimezone(HELSINKI)
        assert "Salli" not in raw and "Salainen" not in raw and "Kotikatu" not in raw and "S.S." not in raw
    _raw, events = _feed(client, "staff", other.id)
    assert calendar_uid("appointment", appointment.id) not in events
    services.cancel(appointment)
    db.session.commit()
    _raw, events = _feed(client, "staff", facilitator.id)
    assert str(events[calendar_uid("appointment", appointment.id)]["STATUS"]) == "CANCELLED"
