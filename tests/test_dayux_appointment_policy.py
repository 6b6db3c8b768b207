"""An appointment's reminder policy has a page of its own, as a meeting's and a group's do
(reminders._policy_page, one way): linked from the appointment, defaulting to the day before at
16:00 by SMS, and a changed policy changes the reminder the worker queues (read through
``fresh_db``, an engine of its own). Staff who may not open the appointment get 404."""
from __future__ import annotations

import re
from datetime import time, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from reminders import queue
from reminders.models import OutboxMessage, ReminderOptOut, ReminderPolicy
from tests.factories import login, make_client, make_user


def _appointment(facilitator, day):
    from appointments import services

    client = make_client(name="Muistettava Asiakas", worker=facilitator, phone="040 765 4321", consent=True)
    client.email, client.consent_date = "asiakas@example.fi", client.consent_date
    starts = local_to_utc(day, time(10, 0))
    appointment = services.book(client=client, kind="office", starts_at=starts, ends_at=starts + timedelta(minutes=45),
                                worker_ids=[facilitator.id], place="Huone 3")
    db.session.commit()
    return appointment


def test_the_appointment_page_links_to_its_reminder_settings_with_the_default(auth_client, facilitator):
    appointment = _appointment(facilitator, local_today() + timedelta(days=20))
    page = auth_client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    url = f"/reminders/appointment/{appointment.id}"
    assert f'href="{url}"' in page
    policy_page = auth_client.get(url).get_data(as_text=True)
    assert "Muistutukset: tapaaminen" in policy_page
    assert "checked" in re.search(r'<input[^>]*id="day_before"[^>]*>', policy_page).group(0)
    assert "checked" in re.search(r'<input[^>]*id="by_sms"[^>]*>', policy_page).group(0)
    assert "checked" not in re.search(r'<input[^>]*id="by_email"[^>]*>', policy_page).group(0)
    assert 'value="16:00"' in policy_page and "Muistettava Asiakas" in policy_page and "+358407654321" in policy_page


def test_a_changed_policy_changes_the_queued_reminder(auth_client, facilitator, fresh_db):
    day = local_today() + timedelta(days=20)
    appointment = _appointment(facilitator, day)
    url = f"/reminders/appointment/{appointment.id}"
    response = auth_client.post_form(url, {"version": "0", "same_morning": "y", "same_morning_at": "07:30",
                                           "day_before_at": "16:00", "by_email": "y"}, token_from=url)
    assert response.status_code == 302, response.get_data(as_text=True)
    [policy] = fresh_db.scalars(sa.select(ReminderPolicy))
    assert (policy.target_kind, policy.target_id) == ("appt", appointment.id)
    assert (policy.day_before, policy.same_morning, policy.by_sms, policy.by_email) == (False, True, False, True)

    # The default (the day before at 16:00) no longer queues anything...
    assert queue.queue_due(local_to_utc(day - timedelta(days=1), time(16, 5))) == 0
    # ...the same morning at 7.30 does, by e-mail only.
    assert queue.queue_due(local_to_utc(day, time(7, 35))) == 1
    db.session.commit()
    rows = fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.target_kind == "appt",
                                                           OutboxMessage.target_id == appointment.id))
    assert [(r.kind, r.channel, r.address) for r in rows] == [("reminder", "email", "asiakas@example.fi")]
    assert rows[0].slot.startswith("same_morning")


def test_a_staff_opt_out_on_the_appointment_page_stops_its_reminder(auth_client, facilitator, fresh_db):
    day = local_today() + timedelta(days=20)
    appointment = _appointment(facilitator, day)
    url = f"/reminders/appointment/{appointment.id}"
    response = auth_client.post_form(f"/reminders/appt/{appointment.id}/recipients/client/{appointment.client_id}"
                                     "/opt-out", {"opted_out": "1"}, token_from=url)
    assert response.status_code == 302 and response.location.endswith(url)
    assert fresh_db.scalar(sa.select(ReminderOptOut.recipient_id)) == appointment.client_id
    assert queue.queue_due(local_to_utc(day - timedelta(days=1), time(16, 5))) == 0


def test_staff_who_may_not_open_the_appointment_get_404(app, facilitator, fresh_db):
    appointment = _appointment(facilitator, local_today() + timedelta(days=20))
    other = app.test_client()
    login(other, make_user(email="muu@example.fi"))
    url = f"/reminders/appointment/{appointment.id}"
    assert other.get(url).status_code == 404
    assert other.post_form(url, {"version": "0", "by_sms": "y"}, token_from="/").status_code == 404
    assert other.post_form(f"/reminders/appt/{appointment.id}/recipients/client/{appointment.client_id}/opt-out",
                           {"opted_out": "1"}, token_from="/").status_code == 404
    assert fresh_db.scalars(sa.select(ReminderPolicy)) == [] and fresh_db.scalars(sa.select(ReminderOptOut)) == []
    assert other.get("/reminders/appointment/abc").status_code == 404
