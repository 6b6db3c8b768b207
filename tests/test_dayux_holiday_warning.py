"""A public holiday is warned about BEFORE saving on every meeting form (new, move, the next
meeting) and on the rebooking of a missed time, as appointments and outreach do: the form comes
back with the input, the warning and "save anyway"; nothing is stored until that is ticked (read
through ``fresh_db``)."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.timeutil import finnish_holiday, local_today
from meetings.models import Meeting
from tests.factories import make_client
from tests.test_meetings_support import make_meeting


def _next_holiday() -> date:
    day = local_today() + timedelta(days=3)
    while not finnish_holiday(day) or day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _warned(response, day: date) -> bool:
    body = response.get_data(as_text=True)
    return (response.status_code == 200 and 'id="clash-warning"' in body and finnish_holiday(day) in body
            and f"{day.day}.{day.month}.{day.year}" in body and 'name="confirm' in body)


def test_a_new_meeting_on_a_holiday_is_warned_before_saving(auth_client, facilitator, fresh_db):
    client = make_client(worker=facilitator)
    day = _next_holiday()
    data = {"purpose": "Palaveri", "day": day.isoformat(), "start": "10:00", "length": "60", "place_kind": "office",
            "place": "Kauppakatu 5", "client_identification": "initials", "staff": [str(facilitator.id)],
            "include_client": "y"}
    url = f"/meetings/new/{client.id}"
    response = auth_client.post_form(url, data, token_from=url)
    assert _warned(response, day)
    assert 'value="Kauppakatu 5"' in response.get_data(as_text=True)  # the input is kept
    assert fresh_db.scalars(sa.select(Meeting)) == []
    response = auth_client.post_form(url, dict(data, confirm_clash="y"), token_from=url)
    assert response.status_code == 302
    [meeting] = fresh_db.scalars(sa.select(Meeting))
    assert meeting.purpose == "Palaveri"


def test_moving_a_meeting_onto_a_holiday_is_warned_before_saving(auth_client, facilitator, fresh_db):
    meeting = make_meeting([facilitator])
    before = meeting.starts_at
    day = _next_holiday()
    url = f"/meetings/{meeting.id}/edit"
    data = {"purpose": meeting.purpose, "day": day.isoformat(), "start": "10:00", "length": "60",
            "place_kind": "office", "place": "Kauppakatu 5", "client_identification": "initials",
            "version": str(meeting.version), "send_notice": "y"}
    assert _warned(auth_client.post_form(url, data, token_from=url), day)
    assert fresh_db.get(Meeting, meeting.id).starts_at == before
    assert auth_client.post_form(url, dict(data, confirm_clash="y"), token_from=url).status_code == 302
    assert fresh_db.get(Meeting, meeting.id).starts_at != before


def test_the_next_meeting_on_a_holiday_is_warned_before_saving(auth_client, facilitator, fresh_db):
    meeting = make_meeting([facilitator])
    day = _next_holiday()
    url = f"/meetings/{meeting.id}/follow-up"
    data = {"purpose": "Jatko", "day": day.isoformat(), "start": "10:00", "length": "45"}
    assert _warned(auth_client.post_form(url, data, token_from=url), day)
    assert fresh_db.scalars(sa.select(Meeting.id).where(Meeting.previous_meeting_id == meeting.id)) == []
    assert auth_client.post_form(url, dict(data, confirm_clash="y"), token_from=url).status_code == 302
    assert len(fresh_db.scalars(sa.select(Meeting.id).where(Meeting.previous_meeting_id == meeting.id))) == 1


def test_rebooking_a_missed_time_onto_a_holiday_is_warned_before_saving(auth_client, facilitator, fresh_db):
    from appointments.models import Appointment
    from reminders.models import FollowUpTask

    client = make_client(name="Poissa Oleva", worker=facilitator, phone="040 765 4321", consent=True)
    missed = Appointment(client_id=client.id, worker1_id=facilitator.id, kind="office", place="Huone 3",
                         starts_at=utcnow() - timedelta(hours=3), ends_at=utcnow() - timedelta(hours=2))
    db.session.add(missed)
    db.session.commit()
    assert auth_client.post_form(f"/appointments/{missed.id}/status", {"status": "no_show"}).status_code == 302
    [task] = fresh_db.scalars(sa.select(FollowUpTask))
    day = _next_holiday()
    url = f"/reminders/follow-ups/{task.id}"
    data = {"outcome": "reached", "day": day.isoformat(), "at": "10:00", "minutes": "45", "place": "Huone 3"}
    assert _warned(auth_client.post_form(url, data, token_from=url), day)
    assert fresh_db.scalars(sa.select(Appointment.id).where(Appointment.previous_id == missed.id)) == []
    assert fresh_db.get(FollowUpTask, task.id).status == "open"
    assert auth_client.post_form(url, dict(data, confirm="y"), token_from=url).status_code == 302
    assert fresh_db.get(FollowUpTask, task.id).new_appointment_id is not None
