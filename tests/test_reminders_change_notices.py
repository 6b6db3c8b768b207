"""Clients told of every change (issue #21 point 3): moving or cancelling a group session or a
network meeting queues a notice for each affected client and relative on each channel they
consented to, in their language, once; staff can untick "send notice"; a relative invited
without e-mail gets the invitation by SMS; the unit's contact line ends every message. Read
back through the database's own connection (fresh_db), a real SMTP server and an HTTP SMS
gateway; an unreachable gateway is retried and then shown as failed on the outbox page."""
from __future__ import annotations

import email
import re
from datetime import UTC, datetime, time, timedelta
from email import policy

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.timeutil import local_to_utc, local_today
from groups.models import Group, GroupSession
from meetings import arranging
from register.services import save_relative, update_client
from reminders import services, worker
from reminders.models import MessageStatus, OutboxMessage
from tests.factories import make_client, make_group_with_session
from tests.messaging import FakeGateway, SmtpSink, free_port


@pytest.fixture
def gateway():
    with FakeGateway() as gw:
        yield gw


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def app_config(gateway, smtp):
    return {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": gateway.url, "SMS_GATEWAY_KEY": "k",
            "SMS_GATEWAY_TIMEOUT": 0.5, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
            "MAIL_FROM": "kohtaamo@sosiaali.example", "BASE_URL": "https://kohtaamo.example"}


def _run(runner, at: datetime):
    result = runner.invoke(args=["send-reminders", "--now", at.astimezone(UTC).isoformat().replace("+00:00", "Z")])
    assert result.exit_code == 0, result.output
    return result


def _notices(fresh_db):
    return fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "notice")
                            .order_by(OutboxMessage.id))


def _people(facilitator):
    """Three clients: SMS in Finnish, e-mail in Swedish, and one without consent."""
    sms = make_client(name="Saara Tekstari", worker=facilitator, phone="040 111 2222", consent=True)
    mail = make_client(name="Maja Mejl", worker=facilitator, consent=True, language="sv")
    update_client(mail, name=mail.name, phone="", email="maja@koti.example", language="sv", reminder_consent=True)
    silent = make_client(name="Ei Lupaa", worker=facilitator, phone="040 333 4444", consent=False)
    db.session.commit()
    return sms, mail, silent


def _session_form(session, day, start: str, end: str, **extra):
    data = {"day": day.isoformat(), "start_time": start, "end_time": end, "topic": session.topic or "",
            "room": session.room or "", "plan_notes": "", "version": str(session.version), "confirm": "y"}
    data.update(extra)
    return data


def test_moving_a_session_tells_each_client_on_their_consented_channel_in_their_language(
        app, runner, facilitator, auth_client, fresh_db, gateway, smtp):
    from reminders.notices import save_team_settings

    sms, mail, silent = _people(facilitator)
    save_team_settings(contact_phone="+358 9 310 12345", opening_hours="ma–pe 9–15", user=None)
    day = local_today() + timedelta(days=8)
    group, session = make_group_with_session(facilitator=facilitator, clients=[sms, mail, silent],
                                             starts_at=local_to_utc(day, time(10, 0)))
    db.session.commit()
    url = f"/groups/{group.id}/sessions/{session.id}/edit"
    # The box is ticked on the form as it comes.
    page = auth_client.get(url).get_data(as_text=True)
    [box] = re.findall(r'<input[^>]*name="send_notice"[^>]*>', page)
    assert "checked" in box
    response = auth_client.post_form(url, _session_form(session, day + timedelta(days=1), "13:00", "15:00",
                                                        send_notice="y"), token_from=url)
    assert response.status_code == 302

    rows = _notices(fresh_db)
    assert sorted((r.recipient_id, r.channel, r.language) for r in rows) == sorted(
        [(sms.id, "sms", "fi"), (mail.id, "email", "sv")])
    by_channel = {r.channel: r for r in rows}
    fi, sv = by_channel["sms"].body, by_channel["email"].body
    # The new day's weekday in Finnish (essive), whatever day the suite runs on: "tiistaina" held
    # only when run on a Sunday.
    weekday = ["maanantaina", "tiistaina", "keskiviikkona", "torstaina", "perjantaina", "lauantaina",
               "sunnuntaina"][(day + timedelta(days=1)).weekday()]
    assert fi.startswith("Ryhmäkertasi ") and "on siirtynyt." in fi and f"Uusi aika on {weekday}" in fi
    assert "kello 13.00. Paikka: Kauppakatu 5." in fi
    assert sv.startswith("Din gruppträff ") and "har flyttats." in sv and "13.00" in sv
    # "Call us" has the number (and the hours), in each one's language.
    assert fi.endswith("Kysyttävää? Soita meille +358 9 310 12345 (ma–pe 9–15).")
    assert sv.endswith("Frågor? Ring oss på +358 9 310 12345 (ma–pe 9–15).")
    # Nothing names the client or the group.
    for r in rows:
        for name in ("Saara", "Maja", "Raharyhmä"):
            assert name not in r.body and name not in r.subject

    # The same save again (a double submit) is no change: nothing new is queued.
    session = db.session.get(type(session), session.id)
    db.session.refresh(session)
    auth_client.post_form(url, _session_form(session, day + timedelta(days=1), "13:00", "15:00", send_notice="y"),
                          token_from=url)
    assert len(_notices(fresh_db)) == 2

    _run(runner, utcnow() + timedelta(minutes=1))
    assert [p["to"] for p in gateway.delivered()] == ["+358401112222"]
    assert gateway.delivered()[0]["message"].startswith("Ryhmäkertasi ")
    [(rcpt, _m)] = smtp.messages
    assert rcpt == ["maja@koti.example"]
    received = email.message_from_bytes(smtp.raw[0], policy=policy.default)
    assert received["Subject"] == "Ändrad tid"
    assert "Din gruppträff " in received.get_content() and "har flyttats." in received.get_content()
    assert {r.status for r in _notices(fresh_db)} == {MessageStatus.SENT.value}


def test_unticked_send_notice_tells_nobody(app, facilitator, auth_client, fresh_db):
    sms, mail, _silent = _people(facilitator)
    day = local_today() + timedelta(days=8)
    group, session = make_group_with_session(facilitator=facilitator, clients=[sms, mail],
                                             starts_at=local_to_utc(day, time(10, 0)))
    db.session.commit()
    url = f"/groups/{group.id}/sessions/{session.id}/edit"
    response = auth_client.post_form(url, _session_form(session, day, "12:00", "14:00"), token_from=url)
    assert response.status_code == 302
    assert fresh_db.scalar(sa.select(Group.id).where(Group.id == group.id)) == group.id
    # The move was stored (and still told nobody).
    assert fresh_db.get(GroupSession, session.id).starts_at == local_to_utc(day, time(12, 0))
    assert _notices(fresh_db) == []
    # Cancelling with the box unticked tells nobody either.
    status_url = f"/groups/{group.id}/sessions/{session.id}/status"
    assert auth_client.post_form(status_url, {"status": "cancelled"},
                                 token_from=f"/groups/{group.id}/sessions/{session.id}").status_code == 302
    assert fresh_db.get(GroupSession, session.id).status == "cancelled"
    assert _notices(fresh_db) == []


def test_cancelling_a_session_tells_the_clients_once(app, facilitator, auth_client, fresh_db):
    sms, _mail, _silent = _people(facilitator)
    day = local_today() + timedelta(days=9)
    group, session = make_group_with_session(facilitator=facilitator, clients=[sms],
                                             starts_at=local_to_utc(day, time(10, 0)))
    db.session.commit()
    page = f"/groups/{group.id}/sessions/{session.id}"
    assert 'name="send_notice"' in auth_client.get(page).get_data(as_text=True)
    status_url = f"{page}/status"
    assert auth_client.post_form(status_url, {"status": "cancelled", "send_notice": "y"},
                                 token_from=page).status_code == 302
    [row] = _notices(fresh_db)
    assert row.channel == "sms" and row.body.startswith("Ryhmäkertasi ") and "kello 10.00 on peruttu." in row.body
    assert row.subject == "Peruttu aika"


def test_meeting_move_and_cancel_tell_the_client_and_the_relative_without_email(app, facilitator, auth_client,
                                                                                 fresh_db):
    client = make_client(name="Kaisa Asiakas", worker=facilitator, phone="040 555 6666", consent=True)
    by_sms = save_relative(client, None, name="Sisko Sms", relation="sisar", phone="040 777 8888", email="",
                           language="sv", reminder_consent=True)
    by_mail = save_relative(client, None, name="Veli Posti", relation="veli", phone="040 999 0000",
                            email="veli@koti.example", language="fi", reminder_consent=True)
    db.session.commit()
    day = local_today() + timedelta(days=10)
    starts = local_to_utc(day, time(9, 0))
    meeting = arranging.create_meeting(
        client=client, purpose="Salainen tarkoitus", starts_at=starts, ends_at=starts + timedelta(hours=1),
        place="Kauppakatu 5", staff_ids=[facilitator.id], relative_ids=[by_sms.id, by_mail.id], created_by=facilitator)
    db.session.commit()

    # Invited relatives get their invitation: the one with e-mail a calendar, the other an SMS.
    invites = fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "invitation"))
    assert sorted((r.recipient_id, r.channel) for r in invites) == sorted([(by_sms.id, "sms"), (by_mail.id, "email")])
    [sms_invite] = [r for r in invites if r.channel == "sms"]
    assert sms_invite.address == "+358407778888" and sms_invite.language == "sv"
    assert sms_invite.body.startswith("Vi bjuder in dig till ett nätverksmöte") and "Kauppakatu 5" in sms_invite.body
    assert "Salainen" not in sms_invite.body and "Kaisa" not in sms_invite.body

    edit = f"/meetings/{meeting.id}/edit"
    form = {"purpose": meeting.purpose, "day": day.isoformat(), "start": "11:30", "length": "60",
            "place_kind": "office", "place": "Kauppakatu 5", "remote_link": "", "client_identification": "initials",
            "version": str(meeting.version), "send_notice": "y", "save_anyway": "y"}
    assert auth_client.post_form(edit, form, token_from=edit).status_code == 302
    moved = _notices(fresh_db)
    # The client (SMS) and the relative without e-mail (SMS); the one with e-mail gets the calendar update.
    assert sorted((r.recipient_kind, r.recipient_id, r.channel) for r in moved) == sorted(
        [("client", client.id, "sms"), ("relative", by_sms.id, "sms")])
    assert all("11.30" in r.body and "9.00" in r.body for r in moved)
    # The glossary's word: a network meeting, not an appointment ("besök").
    assert any(r.body.startswith("Ditt nätverksmöte ") and "har flyttats." in r.body for r in moved)

    show = f"/meetings/{meeting.id}"
    # Cancelling asks first, on its own page, which carries the "send notice" box (ticked).
    assert 'name="send_notice"' in auth_client.get(f"{show}/cancel").get_data(as_text=True)
    assert auth_client.post_form(f"{show}/cancel", {"send_notice": "y"}, token_from=f"{show}/cancel").status_code == 302
    cancelled = [r for r in _notices(fresh_db) if r.slot.startswith("notice-cancel")]
    assert sorted((r.recipient_kind, r.recipient_id) for r in cancelled) == sorted(
        [("client", client.id), ("relative", by_sms.id)])
    assert any(r.body.startswith("Verkostopalaveri ") and "on peruttu." in r.body for r in cancelled)


def test_queue_change_notice_is_generic_and_exactly_once(app, facilitator):
    """The one function the appointments feature calls: any target, any recipients."""
    from reminders.notices import queue_change_notice

    client = make_client(name="Aino Yleinen", worker=facilitator, phone="040 121 2121", consent=True, language="en")
    old = utcnow() + timedelta(days=3)
    recipients = [services._from_client(client)]
    kwargs = dict(what="appointment", target_kind="appt", target_id=77, sequence=1, old_start=old,
                  new_start=old + timedelta(days=1), place=lambda lang: {"en": "Room 2"}.get(lang, "?"))
    assert queue_change_notice(recipients, **kwargs) == 1
    assert queue_change_notice(recipients, **kwargs) == 0
    db.session.commit()
    [row] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.target_kind == "appt")).all()
    assert row.body.startswith("Your appointment ") and "has moved." in row.body and "Room 2" in row.body and row.language == "en"
    assert queue_change_notice(recipients, **{**kwargs, "sequence": 2, "new_start": None}) == 1


def test_unreachable_sms_gateway_is_retried_then_shown_as_failed(app, runner, facilitator, auth_client, fresh_db):
    app.config["SMS_GATEWAY_URL"] = f"http://127.0.0.1:{free_port()}/send"   # nobody listens there
    sms, _mail, _silent = _people(facilitator)
    day = local_today() + timedelta(days=8)
    group, session = make_group_with_session(facilitator=facilitator, clients=[sms],
                                             starts_at=local_to_utc(day, time(10, 0)))
    db.session.commit()
    page = f"/groups/{group.id}/sessions/{session.id}"
    auth_client.post_form(f"{page}/status", {"status": "cancelled", "send_notice": "y"}, token_from=page)
    at = utcnow() + timedelta(minutes=1)
    for attempt in range(1, worker.MAX_ATTEMPTS + 1):
        _run(runner, at)
        [row] = _notices(fresh_db)
        assert row.status == MessageStatus.FAILED.value and row.attempts == attempt
        assert row.last_error.startswith("SMS gateway:")
        if attempt < worker.MAX_ATTEMPTS:
            assert row.next_attempt_at == at + worker.backoff(attempt)
            at = row.next_attempt_at
    assert row.next_attempt_at is None   # given up: no more retries
    outbox = auth_client.get("/reminders/outbox?status=failed").get_data(as_text=True)
    assert "Tekstiviestipalvelu ei ottanut viestiä vastaan." in outbox


def test_contact_settings_are_for_the_lead_and_refuse_a_bad_number(app, auth_client, lead_client, fresh_db):
    assert auth_client.get("/reminders/contact").status_code == 403
    client = lead_client
    response = client.post_form("/reminders/contact", {"contact_phone": "not a number", "opening_hours": "9–15",
                                                       "version": "0"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "9–15" in text and 'aria-invalid="true"' in text
    assert fresh_db.scalar(sa.text("SELECT count(*) FROM team_settings")) == 0
    response = client.post_form("/reminders/contact", {"contact_phone": "09 310 12345", "opening_hours": "ma–pe 9–15",
                                                       "version": "0"})
    assert response.status_code == 302
    assert fresh_db.execute(sa.text("SELECT contact_phone, opening_hours FROM team_settings")) == [
        ("+358931012345", "ma–pe 9–15")]


def test_a_restored_meeting_tells_those_told_of_the_cancellation_and_revives_its_reminders(app, facilitator,
                                                                                          auth_client, fresh_db):
    """Undoing a meeting's cancellation (before its time): the client and the relative without
    e-mail, told by SMS that it was cancelled, are told it takes place after all, and the reminder
    the cancellation stopped goes out after all (as a restored group session's does). Before, the
    restore sent only the calendar update: the client kept believing the meeting was off."""
    from reminders import queue
    from reminders.services import save_policy

    client = make_client(name="Kaisa Asiakas", worker=facilitator, phone="040 555 6666", consent=True)
    by_sms = save_relative(client, None, name="Sisko Sms", relation="sisar", phone="040 777 8888", email="",
                           language="sv", reminder_consent=True)
    db.session.commit()
    day = local_today() + timedelta(days=10)
    starts = local_to_utc(day, time(9, 0))
    meeting = arranging.create_meeting(
        client=client, purpose="Salainen tarkoitus", starts_at=starts, ends_at=starts + timedelta(hours=1),
        place="Kauppakatu 5", staff_ids=[facilitator.id], relative_ids=[by_sms.id], created_by=facilitator)
    save_policy("meeting", meeting.id, day_before=True, day_before_at=time(16, 0), same_morning=False,
                same_morning_at=time(8, 0), by_sms=True, by_email=False)
    db.session.commit()
    assert queue.queue_due(local_to_utc(day - timedelta(days=1), time(16, 5))) >= 1
    db.session.commit()

    show = f"/meetings/{meeting.id}"
    assert auth_client.post_form(f"{show}/cancel", {"send_notice": "y"}, token_from=f"{show}/cancel").status_code == 302
    reminders = list(fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder")))
    assert reminders and all(r.status == "cancelled" for r in reminders)

    assert auth_client.post_form(f"{show}/restore", {}, token_from=show).status_code == 302
    restored = [r for r in _notices(fresh_db) if r.slot.startswith("notice-restore")]
    assert sorted((r.recipient_kind, r.recipient_id, r.channel) for r in restored) == sorted(
        [("client", client.id, "sms"), ("relative", by_sms.id, "sms")])
    by_language = {r.language: r.body for r in restored}
    assert by_language["fi"].startswith("Verkostopalaverisi ") and "pidetään sittenkin." in by_language["fi"]
    assert by_language["sv"].startswith("Ditt nätverksmöte ") and "blir av ändå." in by_language["sv"]
    assert all("9.00" in r.body and "Salainen" not in r.body and "Kaisa" not in r.body for r in restored)
    reminders = list(fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder")))
    assert reminders and all(r.status == "pending" and r.last_error == "" for r in reminders)
