"""Invitation e-mails as Outlook and Gmail build them, read back from a real SMTP server with
Python's e-mail parser: multipart/alternative of text/plain, text/html and an inline
text/calendar part (charset UTF-8, method REQUEST or CANCEL) with invite.ics also attached; the
calendar parses with icalendar and vobject and its METHOD matches the header; ORGANIZER and
DTSTAMP are those of the send, not of the queueing; and a person taken off a moved meeting is
sent a cancellation of the time and place they were invited to.

``received_calendars()`` gives the .ics bytes as received; with KOHTAAMO_ICS_DIR set they are
also written there (tests.messaging.keep_ics) for ical.js or libical."""
from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
import sqlalchemy as sa
import vobject
from flask import current_app
from icalendar import Calendar

from core.extensions import db
from meetings import arranging
from meetings.signals import meeting_changed
from register.services import save_relative
from reminders.models import MessageStatus, OutboxMessage
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_meeting, make_partner
from tests.messaging import SmtpSink, calendar_bytes, keep_ics

MEETING_AT = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)       # Thu 10.12. 10:00 in Helsinki
QUEUED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SEND_AT = datetime(2026, 12, 2, 7, 30, 15, tzinfo=UTC)       # a day later, after a settings change


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
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_FROM": "vanha@sosiaali.example"}


def changed(meeting, change):
    meeting_changed.send(current_app._get_current_object(), meeting=meeting, change=change)
    db.session.commit()


def run(runner, at: datetime):
    result = runner.invoke(args=["send-reminders", "--now", at.isoformat().replace("+00:00", "Z")])
    assert result.exit_code == 0, result.output
    return result


def received(smtp) -> dict[str, email.message.EmailMessage]:
    """Recipient -> the message parsed afresh from the bytes that arrived (policy default)."""
    return {rcpt[0]: email.message_from_bytes(raw, policy=policy.default)
            for (rcpt, _m), raw in zip(smtp.messages, smtp.raw, strict=True)}


def received_calendars(smtp, name: str) -> dict[str, bytes]:
    """Recipient -> the inline text/calendar bytes as received (also kept for other parsers)."""
    out = {}
    for n, (to, message) in enumerate(sorted(received(smtp).items())):
        out[to] = calendar_bytes(message)
        keep_ics(f"{name}-{n}", out[to])
    return out


def check_mime(message, method: str) -> bytes:
    """The tree Outlook and Gmail send; returns the inline calendar's bytes."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    plain, html, calendar = alternative.get_payload()
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert calendar.get_param("method") == method
    assert calendar.get_content_charset() == "utf-8"
    assert calendar.get_content_disposition() in (None, "inline")
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment" and attachment.get_filename() == "invite.ics"
    data = calendar.get_payload(decode=True)
    assert attachment.get_payload(decode=True) == data
    assert message["Subject"] and "\n" not in message["Subject"]
    return data


def parse_both(data: bytes, method: str):
    """The calendar through two independent parsers; both must read the same METHOD and instant."""
    text = data.decode("utf-8")
    cal = Calendar.from_ical(text)
    assert str(cal["METHOD"]) == method
    [event] = cal.walk("VEVENT")
    v = vobject.readOne(text, validate=True)
    assert v.method.value == method
    [vevent] = v.vevent_list
    assert vevent.dtstart.value.astimezone(UTC) == event.decoded("DTSTART").astimezone(UTC)
    return event, vevent


def test_invitation_mime_tree_parses_and_is_stamped_when_sent(app, runner, facilitator, smtp):
    contact = make_partner(name="Sovatek").contacts[0]
    person = make_client(name="Matti Meikäläinen", worker=facilitator)
    sister = save_relative(person, None, name="Liisa Ström", relation="sisar", phone="", email="liisa@example.fi",
                           language="sv", reminder_consent=False)
    db.session.commit()
    meeting = make_meeting(client=person, starts_at=MEETING_AT, staff=facilitator, relatives=[sister],
                           contacts=[contact], place="Kauppakatu 5")
    db.session.commit()
    changed(meeting, "created")
    queued = db.session.scalars(sa.select(OutboxMessage)).all()
    assert len(queued) == 2 and all("vanha@sosiaali.example" in m.ics for m in queued)

    # Between queueing and sending the unit changes its sending address.
    current_app.config["MAIL_FROM"] = "kutsut@uusi.example"
    run(runner, SEND_AT)
    messages = received(smtp)
    assert set(messages) == {contact.email, "liisa@example.fi"}
    calendars = received_calendars(smtp, "invitation")
    for to, message in messages.items():
        assert message["From"] == "kutsut@uusi.example"
        data = check_mime(message, "REQUEST")
        assert data == calendars[to]
        event, vevent = parse_both(data, "REQUEST")
        assert event.decoded("DTSTART").astimezone(UTC) == MEETING_AT
        assert str(event["UID"]) == calendar_uid("meeting", meeting.id)
        assert str(event["ORGANIZER"]).lower() == "mailto:kutsut@uusi.example"
        assert vevent.organizer.value.lower() == "mailto:kutsut@uusi.example"
        assert event.decoded("DTSTAMP") == SEND_AT.replace(microsecond=0)
        assert vevent.dtstamp.value == SEND_AT
        assert str(event["ATTENDEE"]).lower() == f"mailto:{to}"
        assert "Matti" not in data.decode() and "Matti" not in message.as_string()
    # The Swedish summary arrives intact through the charset.
    liisa = Calendar.from_ical(calendars["liisa@example.fi"].decode("utf-8"))
    assert str(liisa.walk("VEVENT")[0]["SUMMARY"]) == "Nätverksmöte"


def test_a_person_taken_off_a_moved_meeting_is_sent_the_cancellation_of_their_time(app, runner, facilitator, smtp):
    contact = make_partner(name="Sovatek").contacts[0]
    person = make_client(worker=facilitator)
    meeting = make_meeting(client=person, starts_at=MEETING_AT, staff=facilitator, contacts=[contact],
                           place="Kauppakatu 5")
    db.session.commit()
    changed(meeting, "created")
    run(runner, SEND_AT)
    assert len(smtp.messages) == 1
    smtp.messages.clear()
    smtp.raw.clear()

    # Moved to another day and place (the update is queued) and, in the same sitting, the partner
    # is taken off before the update went out.
    arranging.update_meeting(meeting, user=facilitator, purpose=meeting.purpose,
                                    starts_at=MEETING_AT + timedelta(days=1),
                                    ends_at=MEETING_AT + timedelta(days=1, hours=1), place_kind="office",
                                    place="Torikatu 1", remote_link="", client_identification="initials")
    db.session.commit()
    [partner] = [p for p in meeting.participants if p.kind == "partner"]
    arranging.remove_participant(meeting, partner, user=facilitator)
    db.session.commit()
    run(runner, SEND_AT + timedelta(hours=1))

    [(to, message)] = received(smtp).items()
    assert to == contact.email
    assert message["Subject"] == "Kutsu peruttu: verkostopalaveri torstaina 10.12. kello 10.00"
    assert "Torikatu" not in message.as_string() and "pe 11.12." not in message.as_string()
    data = check_mime(message, "CANCEL")
    keep_ics("removal-cancel", data)
    event, vevent = parse_both(data, "CANCEL")
    assert event.decoded("DTSTART").astimezone(UTC) == MEETING_AT
    assert str(event["LOCATION"]) == "Kauppakatu 5" and vevent.location.value == "Kauppakatu 5"
    assert str(event["STATUS"]) == "CANCELLED"
    db.session.expire_all()
    assert int(event["SEQUENCE"]) == meeting.sequence
    assert str(event["UID"]) == calendar_uid("meeting", meeting.id)
    update = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.slot == f"invite-{meeting.sequence - 1}"))
    assert update.status == MessageStatus.CANCELLED.value     # the new time never reached them


def test_received_invitations_read_alike_in_every_calendar_reader(app, runner, facilitator, smtp):
    """The calendar parts as they arrived over SMTP, REQUEST and CANCEL, through ical.js (the
    library inside Thunderbird), node-ical, libical, vobject, icalendar and recurring-ical-events:
    every reader puts the summer meeting at the same UTC instant, the one zoneinfo gives."""
    from tests.ical_readers.readers import disagreements, read_all

    summer = datetime(2027, 6, 15, 10, 0, tzinfo=UTC)   # 13.00 in Helsinki, summer time
    contact = make_partner(name="Sovatek").contacts[0]
    meeting = make_meeting(client=make_client(worker=facilitator), starts_at=summer, staff=facilitator,
                           contacts=[contact], place="Kauppakatu 5")
    db.session.commit()
    changed(meeting, "created")
    run(runner, SEND_AT)
    [request] = received_calendars(smtp, "summer-request").values()
    smtp.messages.clear()
    smtp.raw.clear()
    arranging.cancel_meeting(meeting, user=facilitator)   # sends meeting_changed itself
    db.session.commit()
    run(runner, SEND_AT + timedelta(hours=1))
    [cancel] = received_calendars(smtp, "summer-cancel").values()

    assert b"METHOD:REQUEST" in request and b"METHOD:CANCEL" in cancel
    uid = calendar_uid("meeting", meeting.id)
    files = {"request": request, "cancel": cancel}
    readings = read_all(files)
    expected = {name: {uid: (summer, meeting.ends_at, str(Calendar.from_ical(data).walk("VEVENT")[0]["SUMMARY"]))}
                for name, data in files.items()}
    assert disagreements(readings, expected) == []
    assert readings["request"]["ical.js"]["events"][uid][0] == summer
