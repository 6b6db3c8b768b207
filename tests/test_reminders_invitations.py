"""Meeting invitations: partner contacts and relatives get an e-mail with an .ics file; a move
sends an update with the same UID and a higher SEQUENCE; a cancellation sends METHOD:CANCEL.
Queued by the meetings feature's meeting_changed signal, sent by send-reminders over SMTP."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app
from icalendar import Calendar

from core.extensions import db
from meetings.signals import meeting_changed
from register.services import save_relative
from reminders import queue, services
from reminders.models import MessageStatus, OutboxMessage
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_meeting, make_partner
from tests.messaging import SmtpSink

MEETING_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
# The clock of the queueing side, fixed before the sending runs' --now: with the real clock the
# queued invitations were not yet due for a run dated earlier, and the meeting would one day
# be in the past (this test broke when the real date passed 2026-12-01 10:00 UTC).
QUEUED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(frozen_time):
    """The whole app's clock, stopped at QUEUED_AT (before the test logs in: a later session cookie
    would be refused as from the future)."""
    frozen_time(QUEUED_AT)


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_FROM": "kohtaamo@sosiaali.example"}


def changed(meeting, change):
    meeting_changed.send(current_app._get_current_object(), meeting=meeting, change=change)
    db.session.commit()


def run(runner):
    result = runner.invoke(args=["send-reminders", "--now", "2026-12-01T10:00:00Z"])
    assert result.exit_code == 0, result.output
    return result


def ics_of(message):
    # The inline part calendar programs act on (the attached invite.ics is application/ics).
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") in ("REQUEST", "CANCEL")
    return Calendar.from_ical(part.get_content() if isinstance(part.get_content(), str)
                              else part.get_content().decode()), part.get_param("method")


def test_invitation_update_and_cancellation_apply_to_the_same_event(app, runner, facilitator, smtp):
    partner = make_partner(name="Sovatek")
    contact = partner.contacts[0]
    client = make_client(name="Matti Meikäläinen", worker=facilitator, consent=True)
    sister = save_relative(client, None, name="Liisa", relation="sisar", phone="", email="liisa@example.fi",
                           language="sv", reminder_consent=False)
    no_email = save_relative(client, None, name="Pekka", relation="veli", phone="040 123 4567", email="",
                             language="fi", reminder_consent=True)
    db.session.commit()
    meeting = make_meeting(client=client, starts_at=MEETING_AT, staff=facilitator, relatives=[sister, no_email],
                           contacts=[contact], place="Kauppakatu 5")
    db.session.commit()

    changed(meeting, "created")
    changed(meeting, "updated")          # nothing calendar-relevant changed: no second invitation
    run(runner)
    assert sorted(rcpt[0] for rcpt, _m in smtp.messages) == sorted([contact.email, "liisa@example.fi"])
    by_to = {rcpt[0]: m for rcpt, m in smtp.messages}
    partner_mail = by_to[contact.email]
    assert partner_mail["Subject"] == "Kutsu: verkostopalaveri torstaina 3.12. kello 10.00"
    assert "Matti" not in partner_mail.as_string()        # the client is not named
    assert by_to["liisa@example.fi"]["Subject"].startswith("Inbjudan: nätverksmöte")
    cal, method = ics_of(partner_mail)
    assert method == "REQUEST" and cal["METHOD"] == "REQUEST"
    [event] = cal.walk("VEVENT")
    uid = str(event["UID"])
    assert uid == calendar_uid("meeting", meeting.id)
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == MEETING_AT
    assert "BEGIN:VTIMEZONE" in cal.to_ical().decode()

    # Moved: the same event, a higher SEQUENCE.
    meeting.starts_at += timedelta(days=1)
    meeting.ends_at += timedelta(days=1)
    meeting.sequence += 1
    changed(meeting, "moved")
    smtp.messages.clear()
    run(runner)
    assert len(smtp.messages) == 2
    moved = {rcpt[0]: m for rcpt, m in smtp.messages}[contact.email]
    assert moved["Subject"].startswith("Muutos: verkostopalaveri perjantaina 4.12.")
    cal, method = ics_of(moved)
    [event] = cal.walk("VEVENT")
    assert method == "REQUEST" and str(event["UID"]) == uid and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == MEETING_AT + timedelta(days=1)

    # A reminder queued for the meeting is dropped when it is cancelled.
    services.save_policy("meeting", meeting.id, day_before=True, day_before_at=time(16, 0), same_morning=False,
                         same_morning_at=time(8, 0), by_sms=True, by_email=False)
    queue.queue_due(datetime(2026, 12, 3, 14, 5, tzinfo=UTC))
    db.session.commit()
    reminder = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    assert reminder is not None and reminder.address == "+358401234567"

    meeting.status = "cancelled"
    meeting.sequence += 1
    changed(meeting, "cancelled")
    smtp.messages.clear()
    run(runner)
    assert len(smtp.messages) == 2
    cancel = {rcpt[0]: m for rcpt, m in smtp.messages}[contact.email]
    assert cancel["Subject"].startswith("Peruttu: verkostopalaveri")
    cal, method = ics_of(cancel)
    [event] = cal.walk("VEVENT")
    assert method == "CANCEL" and cal["METHOD"] == "CANCEL"
    assert str(event["UID"]) == uid and int(event["SEQUENCE"]) == 2 and event["STATUS"] == "CANCELLED"

    db.session.expire_all()
    assert reminder.status == MessageStatus.CANCELLED.value
    invitations = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "invitation")).all()
    emailed = [m for m in invitations if m.channel == "email"]
    assert len(emailed) == 6 and all(m.status == MessageStatus.SENT.value for m in emailed)
    # Pekka has no e-mail but consented to SMS: the meeting, two days ahead on the one clock, gets
    # him one SMS invitation (waiting in the outbox for staff to send by hand). Before the whole
    # app shared one frozen clock, reminders.notices read the real one, saw the meeting as past
    # and queued nothing, and this test counted on that.
    [texted] = [m for m in invitations if m.channel == "sms"]
    assert texted.address == "+358401234567" and texted.status == MessageStatus.MANUAL.value


def test_cancelling_a_meeting_nobody_was_invited_to_sends_nothing(app, runner, facilitator, smtp):
    contact = make_partner().contacts[0]
    client = make_client(worker=facilitator)
    meeting = make_meeting(client=client, starts_at=MEETING_AT, staff=facilitator, contacts=[contact])
    meeting.status = "cancelled"
    db.session.commit()
    changed(meeting, "cancelled")
    run(runner)
    assert smtp.messages == []


def test_the_meetings_services_trigger_invitations_through_their_signal(app, facilitator):
    """End to end with the meetings feature's own services (they send meeting_changed)."""
    from meetings import arranging

    contact = make_partner().contacts[0]
    client = make_client(worker=facilitator)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    meeting = arranging.create_meeting(client=client, purpose="Suunnitelma", starts_at=start,
                                              ends_at=start + timedelta(hours=1), place="Kauppakatu 5",
                                              staff_ids=[facilitator.id], contact_ids=[contact.id],
                                              created_by=facilitator)
    db.session.commit()
    arranging.update_meeting(meeting, user=facilitator, purpose="Suunnitelma", starts_at=start + timedelta(hours=2),
                                    ends_at=start + timedelta(hours=3), place_kind="office", place="Kauppakatu 5",
                                    remote_link="", client_identification="initials")
    db.session.commit()
    arranging.cancel_meeting(meeting, user=facilitator)
    db.session.commit()
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.slot, r.ics_method, r.address) for r in rows] == [
        ("invite-0", "REQUEST", contact.email), ("invite-1", "REQUEST", contact.email),
        ("cancel-2", "CANCEL", contact.email)]
