"""No-shows: an absence at a session or a meeting creates a follow-up task for the responsible
staff; the task books a new time (a new meeting with its reminder policy) and, when the client
was not reached, queues the new time by SMS and offers a printable letter. The start page shows
due follow-ups and failed reminders."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from core.timeutil import local_today, to_local
from groups.models import Attendance, Enrolment
from groups.signals import attendance_recorded
from meetings.models import Meeting, MeetingParticipant
from meetings.signals import participant_attendance_recorded
from register.models import AccessLog
from reminders import follow_ups
from reminders.models import FollowUpTask, MessageStatus, OutboxMessage, ReminderPolicy
from tests.factories import logged, login, make_client, make_group_with_session, make_meeting, make_user

PAST = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def absent_at_session(facilitator, client, status="absent"):
    group, session = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=PAST)
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.group_id == group.id))
    row = Attendance(session_id=session.id, enrolment_id=enrolment.id, status=status)
    db.session.add(row)
    db.session.flush()
    attendance_recorded.send(current_app._get_current_object(), attendance=row)
    db.session.commit()
    return group, session, row


def tasks():
    db.session.expire_all()
    return db.session.scalars(sa.select(FollowUpTask).order_by(FollowUpTask.id)).all()


def test_absence_at_a_session_creates_one_task_for_the_first_facilitator(app, facilitator):
    client = make_client(worker=facilitator)
    group, session, row = absent_at_session(facilitator, client)
    attendance_recorded.send(current_app._get_current_object(), attendance=row)   # recorded again
    db.session.commit()
    [task] = tasks()
    assert (task.source_kind, task.source_id, task.client_id) == ("session", session.id, client.id)
    assert task.assigned_to_id == facilitator.id and task.status == "open"

    # Attendance corrected to present: the task is no longer needed.
    row.status = "present"
    attendance_recorded.send(current_app._get_current_object(), attendance=row)
    db.session.commit()
    assert tasks()[0].status == "closed"


def test_client_absent_from_a_meeting_creates_a_task_for_the_first_staff_participant(app, facilitator):
    other = make_user(name="Toinen Työntekijä")
    client = make_client(worker=facilitator)
    meeting = make_meeting(client=client, starts_at=PAST, staff=other)
    db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="staff", user_id=facilitator.id))
    db.session.commit()
    relative_row = MeetingParticipant(meeting_id=meeting.id, kind="relative", attended=False)
    participant_attendance_recorded.send(current_app._get_current_object(), participant=relative_row)
    assert tasks() == []          # only the client's absence is followed up
    participant = next(p for p in meeting.participants if p.kind == "client")
    participant.attended = False
    participant_attendance_recorded.send(current_app._get_current_object(), participant=participant)
    db.session.commit()
    [task] = tasks()
    assert task.source_kind == "meeting" and task.assigned_to_id == other.id
    # Both staff participants see it; the facilitator (second participant) can open it.
    assert follow_ups.can_see_task(facilitator, task) and follow_ups.can_see_task(other, task)


def test_reached_books_a_new_appointment_with_its_reminder(app, facilitator, auth_client):
    client = make_client(name="Liisa Laine", worker=facilitator, phone="040 123 4567", consent=True)
    absent_at_session(facilitator, client)
    [task] = tasks()
    page = auth_client.get(f"/reminders/follow-ups/{task.id}")
    assert page.status_code == 200
    assert "Soita asiakkaalle Liisa Laine ja sovi uusi aika" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(AccessLog.id).where(AccessLog.client_id == client.id,
                                                           AccessLog.action == "follow_up_view"))

    day = local_today() + timedelta(days=7)
    url = f"/reminders/follow-ups/{task.id}"
    response = auth_client.post_form(url, {"outcome": "reached", "day": day.isoformat(), "at": "10:30",
                                           "minutes": "45", "place": "Kauppakatu 5"}, token_from=url)
    assert response.status_code == 302
    [task] = tasks()
    assert task.status == "reached" and task.done_by_id == facilitator.id
    # A group session's no-show is rebooked as a one-to-one appointment (no longer as a
    # one-staff "network meeting").
    assert task.new_meeting_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 0
    from appointments.models import Appointment

    meeting = db.session.get(Appointment, task.new_appointment_id)
    local = to_local(meeting.starts_at)
    assert (local.date(), local.hour, local.minute) == (day, 10, 30)
    assert meeting.ends_at - meeting.starts_at == timedelta(minutes=45)
    assert (meeting.client_id, meeting.worker1_id, meeting.worker2_id) == (client.id, facilitator.id, None)
    assert meeting.place == "Kauppakatu 5" and meeting.kind.value == "office"
    policy = db.session.scalar(sa.select(ReminderPolicy).where(ReminderPolicy.target_kind == "appt",
                                                               ReminderPolicy.target_id == meeting.id))
    assert policy is not None and policy.by_sms and policy.day_before
    # Reached: no extra SMS; the reminder comes from the policy.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    done = auth_client.get(url).get_data(as_text=True)
    assert "Tavoitettu; uusi aika sovittu." in done


def test_not_reached_sends_the_new_time_by_sms_and_offers_a_letter(app, facilitator, auth_client):
    client = make_client(name="Liisa Laine", worker=facilitator, phone="040 123 4567", consent=True)
    absent_at_session(facilitator, client)
    [task] = tasks()
    url = f"/reminders/follow-ups/{task.id}"
    day = local_today() + timedelta(days=7)
    response = auth_client.post_form(url, {"outcome": "not_reached", "day": day.isoformat(), "at": "09:00",
                                           "minutes": "60", "place": "Kauppakatu 5"}, token_from=url)
    assert response.status_code == 302
    [sms] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert sms.kind == "new_time" and sms.channel == "sms" and sms.address == "+358401234567"
    assert sms.status == MessageStatus.PENDING.value
    assert sms.body.startswith("Emme tavoittaneet sinua. Varasimme sinulle uuden ajan:")
    assert "kello 9.00. Paikka: Kauppakatu 5." in sms.body
    assert "Liisa" not in sms.body
    # A letter needs a postal address the client agreed to (issue #21): none yet, no letter.
    assert auth_client.get(f"{url}/letter").status_code == 404
    assert "Tulostettava kirje" not in auth_client.get(url).get_data(as_text=True)
    from register.services import update_client
    update_client(client, name=client.name, phone=client.phone, email="", language="fi", reminder_consent=True,
                  postal_address="Kotikatu 1\n00100 Helsinki", postal_consent=True)
    db.session.commit()
    letter = auth_client.get(f"{url}/letter")
    assert letter.status_code == 200
    text = letter.get_data(as_text=True)
    assert "Hei Liisa Laine," in text and "9.00" in text
    assert "Kauppakatu 5" in text and 'class="reminders-letter"' in text
    assert "Kotikatu 1\n00100 Helsinki" in text


def test_not_reached_without_consent_says_why_and_sends_nothing(app, facilitator, auth_client):
    client = make_client(name="Ei Lupaa", worker=facilitator, phone="040 123 4567", consent=False)
    absent_at_session(facilitator, client)
    [task] = tasks()
    url = f"/reminders/follow-ups/{task.id}"
    page = auth_client.get(url).get_data(as_text=True)
    assert "ei voi lähettää tekstiviestiä: Ei suostumusta muistutuksiin" in page
    day = local_today() + timedelta(days=7)
    response = auth_client.post_form(url, {"outcome": "not_reached", "day": day.isoformat(), "at": "09:00",
                                           "minutes": "60", "place": "Kauppakatu 5"}, token_from=url,
                                     follow_redirects=True)
    assert "tekstiviestiä ei lähetetty: Ei suostumusta muistutuksiin" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert tasks()[0].status == "not_reached"


def test_bad_input_and_foreign_ids(app, facilitator, auth_client, fresh_db):
    client = make_client(worker=facilitator)
    absent_at_session(facilitator, client)
    [task] = tasks()
    db.session.commit()
    url = f"/reminders/follow-ups/{task.id}"
    seen = len(logged(fresh_db, client.id))
    response = auth_client.post_form(url, {"outcome": "reached", "day": "", "at": "25:99", "minutes": "60",
                                           "place": "Toivontie 3"}, token_from=url)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Anna päivämäärä." in text and 'value="Toivontie 3"' in text
    past = (local_today() - timedelta(days=1)).isoformat()
    response = auth_client.post_form(url, {"outcome": "reached", "day": past, "at": "10:00", "minutes": "60",
                                           "place": "Toivontie 3"}, token_from=url)
    assert "Uuden ajan pitää olla tulevaisuudessa." in response.get_data(as_text=True)
    assert tasks()[0].status == "open" and db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)) == 0
    # The two form pages and the two refused forms showed the client: all four rows were committed.
    assert logged(fresh_db, client.id)[seen:] == [("follow_up_view", f"task {task.id}")] * 4

    for bad in ("abc", "0", "99999", "-1"):
        assert auth_client.get(f"/reminders/follow-ups/{bad}").status_code == 404
    assert auth_client.get(f"{url}/letter").status_code == 404      # no new time yet
    stranger = make_user(name="Vieras Työntekijä", email="vieras@example.fi")
    other = app.test_client()
    login(other, stranger)
    assert other.get(url).status_code == 404
    assert other.post_form(url, {"outcome": "reached"}, token_from="/").status_code == 404


def test_start_page_shows_due_follow_ups_and_failed_reminders(app, facilitator, auth_client):
    client = make_client(name="Paula Poissa", worker=facilitator, phone="040 123 4567", consent=True)
    absent_at_session(facilitator, client)
    db.session.add(OutboxMessage(kind="reminder", target_kind="session", target_id=1, recipient_kind="client",
                                 recipient_id=client.id, slot="x", channel="sms", client_id=client.id,
                                 address="+358401234567", body="x", status="failed", last_error="HTTP 500"))
    db.session.commit()
    page = auth_client.get("/").get_data(as_text=True)
    assert "Soita asiakkaalle Paula Poissa ja sovi uusi aika" in page
    assert "1 muistutus epäonnistui" in page
    # Someone with no reason to see the client gets no panel about them.
    stranger = make_user(name="Vieras", email="vieras2@example.fi")
    other = app.test_client()
    login(other, stranger)
    assert "Paula" not in other.get("/").get_data(as_text=True)


def test_the_groups_roll_call_service_creates_the_task_through_its_signal(app, facilitator):
    """End to end with the groups feature's own attendance service (it sends attendance_recorded)."""
    from groups import attendance

    client = make_client(worker=facilitator)
    group, session = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=PAST)
    db.session.commit()
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.group_id == group.id))
    attendance.record_attendance(session, {enrolment.id: "absent"}, user=facilitator)
    db.session.commit()
    [task] = tasks()
    assert task.client_id == client.id and task.assigned_to_id == facilitator.id
