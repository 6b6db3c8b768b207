"""send-reminders: what is due (DST-correct), consent and numbers, cancelled sessions, the HTTP
SMS gateway with its failures, e-mail over real SMTP, missing settings, the manual SMS outbox
and opt-out links."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from register.services import save_relative
from reminders import models, queue, services, worker
from reminders.models import MessageStatus, OutboxMessage, ReminderOptOut
from tests.factories import make_client, make_group_with_session, make_meeting, make_user
from tests.messaging import FakeGateway, SmtpSink

# Thursday 3.12.2026 10:00 in Helsinki (UTC+2).
SESSION_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
DAY_BEFORE_DUE = "2026-12-02T14:05:00Z"      # 16:05 local on Wednesday


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
    return {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": gateway.url, "SMS_GATEWAY_KEY": "secret-key",
            "SMS_GATEWAY_TIMEOUT": 0.5, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
            "MAIL_FROM": "muistutus@kohtaamo.example"}


def policy(target_kind, target_id, **kw):
    values = dict(day_before=True, day_before_at=time(16, 0), same_morning=False, same_morning_at=time(8, 0),
                  by_sms=True, by_email=False)
    values.update(kw)
    p = services.save_policy(target_kind, target_id, **values)
    db.session.commit()
    return p


def run(runner, now=DAY_BEFORE_DUE):
    return runner.invoke(args=["send-reminders", "--now", now])


def messages():
    db.session.expire_all()
    return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_due_slots_follow_helsinki_time_across_dst(app):
    p = models.ReminderPolicy(day_before=True, day_before_at=time(16, 0), same_morning=True,
                                same_morning_at=time(8, 0))
    # Winter: 16:00 local is 14:00 UTC.
    assert queue.due_slots(p, SESSION_AT, datetime(2026, 12, 2, 13, 59, tzinfo=UTC)) == []
    assert queue.due_slots(p, SESSION_AT, datetime(2026, 12, 2, 14, 0, tzinfo=UTC))[0].startswith("day_before@")
    # Summer: 16:00 local is 13:00 UTC.
    summer = datetime(2026, 6, 11, 7, 0, tzinfo=UTC)
    assert queue.due_slots(p, summer, datetime(2026, 6, 10, 12, 59, tzinfo=UTC)) == []
    assert queue.due_slots(p, summer, datetime(2026, 6, 10, 13, 0, tzinfo=UTC))[0].startswith("day_before@")
    # Clocks go forward on Sunday 29.3.2026: the day before is winter time, the morning summer time.
    sunday = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)   # 10:00 EEST
    assert queue.due_slots(p, sunday, datetime(2026, 3, 28, 13, 59, tzinfo=UTC)) == []
    assert queue.due_slots(p, sunday, datetime(2026, 3, 28, 14, 0, tzinfo=UTC))[0].startswith("day_before@")
    assert queue.due_slots(p, sunday, datetime(2026, 3, 29, 4, 59, tzinfo=UTC))[0].startswith("day_before@")
    assert queue.due_slots(p, sunday, datetime(2026, 3, 29, 5, 0, tzinfo=UTC))[0].startswith("same_morning@")
    # Once the event has started nothing is due.
    assert queue.due_slots(p, sunday, sunday) == []


def test_sms_reminder_goes_out_once_through_the_gateway(app, runner, facilitator, gateway):
    client = make_client(name="Matti Meikäläinen", worker=facilitator, phone="040 123 4567", consent=True)
    group, session = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=SESSION_AT)
    policy("group", group.id)

    early = run(runner, "2026-12-02T13:55:00Z")
    assert early.exit_code == 0, early.output
    assert gateway.requests == [] and messages() == []

    result = run(runner)
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    again = run(runner)
    assert "queued 0, sent 0" in again.output

    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["auth"] == "Bearer secret-key"
    assert request["payload"]["to"] == "+358401234567"
    text = request["payload"]["message"]
    assert text.startswith("Muistutus: sinulla on ryhmäkerta huomenna torstaina 3.12. kello 10.00. Paikka: Kauppakatu 5.")
    assert "Matti" not in text and "Raharyhmä" not in text   # nothing sensitive
    assert "/reminders/stop/" in text
    [row] = messages()
    assert row.status == MessageStatus.SENT.value and row.attempts == 1 and row.sent_at is not None
    assert row.claim_token is None


def test_no_consent_invalid_or_foreign_numbers_are_not_sent_and_the_page_says_why(app, runner, facilitator,
                                                                                   gateway, auth_client):
    no_consent = make_client(name="Ei Suostumusta", worker=facilitator, phone="040 111 2222", consent=False)
    foreign = make_client(name="Sven Svensson", worker=facilitator, phone="+46 70 123 45 67", consent=True)
    invalid = make_client(name="Väärä Numero", worker=facilitator, phone="12345", consent=True)
    ok = make_client(name="Oikea Numero", worker=facilitator, phone="+358 50 987 6543", consent=True)
    group, _session = make_group_with_session(facilitator=facilitator, clients=[no_consent, foreign, invalid, ok],
                                              starts_at=SESSION_AT)
    policy("group", group.id)

    page = auth_client.get(f"/reminders/group/{group.id}").get_data(as_text=True)
    assert "Ei suostumusta muistutuksiin" in page
    assert "Ulkomainen puhelinnumero" in page
    assert "Virheellinen puhelinnumero" in page
    assert "+358509876543" in page

    assert run(runner).exit_code == 0
    assert [p["to"] for p in gateway.delivered()] == ["+358509876543"]
    assert [m.address for m in messages()] == ["+358509876543"]


def test_cancelled_session_is_not_reminded(app, runner, facilitator, gateway):
    client = make_client(worker=facilitator, phone="040 123 4567", consent=True)
    group, cancelled = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=SESSION_AT,
                                               status="cancelled")
    policy("group", group.id)
    assert run(runner).exit_code == 0
    assert gateway.requests == [] and messages() == []

    # Queued before the cancellation: dropped, not sent.
    cancelled.status = "scheduled"
    db.session.commit()
    queue.queue_due(datetime(2026, 12, 2, 14, 5, tzinfo=UTC))
    db.session.commit()
    cancelled.status = "cancelled"
    db.session.commit()
    assert run(runner).exit_code == 0
    assert gateway.requests == []
    [row] = messages()
    assert row.status == MessageStatus.CANCELLED.value and row.sent_at is None


@pytest.mark.parametrize("failure,error", [("500", "HTTP 500"), ("timeout", "timed out")])
def test_gateway_failures_are_retried_with_backoff_and_nothing_is_lost(app, runner, facilitator, gateway,
                                                                       failure, error):
    client = make_client(worker=facilitator, phone="040 123 4567", consent=True)
    group, _session = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=SESSION_AT)
    policy("group", group.id)
    gateway.script = [failure, failure]

    assert run(runner).exit_code == 0
    [row] = messages()
    assert row.status == MessageStatus.FAILED.value and row.attempts == 1
    assert error in row.last_error
    first_retry = row.next_attempt_at
    assert first_retry == datetime(2026, 12, 2, 14, 7, tzinfo=UTC)   # 2 minutes

    # Not before its time...
    run(runner, "2026-12-02T14:06:00Z")
    assert len(gateway.requests) == 2 - 1
    # ...then it fails again and waits twice as long...
    run(runner, "2026-12-02T14:07:00Z")
    [row] = messages()
    assert row.attempts == 2 and row.next_attempt_at == datetime(2026, 12, 2, 14, 11, tzinfo=UTC)
    # ...and goes out once the gateway works again.
    run(runner, "2026-12-02T14:11:00Z")
    [row] = messages()
    assert row.status == MessageStatus.SENT.value and row.attempts == 3 and row.last_error == ""
    assert len(gateway.delivered()) == 1


def test_email_reminder_in_the_recipients_language_over_smtp(app, runner, facilitator, smtp):
    client = make_client(name="Anna Andersson", worker=facilitator, consent=True, language="sv")
    relative = save_relative(client, None, name="Bo", relation="bror", phone="", email="bo@example.fi",
                             language="en", reminder_consent=True)
    client.email = "anna@example.fi"
    db.session.commit()
    meeting = make_meeting(client=client, starts_at=SESSION_AT, staff=facilitator, relatives=[relative])
    db.session.commit()
    policy("meeting", meeting.id, by_sms=False, by_email=True)

    result = run(runner)
    assert result.exit_code == 0, result.output
    got = {rcpt[0]: msg for rcpt, msg in smtp.messages}
    assert set(got) == {"anna@example.fi", "bo@example.fi"}
    sv = got["anna@example.fi"].get_body().get_content()
    en = got["bo@example.fi"].get_body().get_content()
    # A network meeting is called one (docs/GLOSSARY.md), not an appointment ("besök", "tapaaminen").
    assert sv.startswith("Påminnelse: du har ett nätverksmöte i morgon torsdag 3.12. klockan 10.00. Plats: Kauppakatu 5.")
    assert en.startswith("Reminder: you have a network meeting tomorrow Thursday 3 Dec at 10.00. Place: Kauppakatu 5.")
    assert got["anna@example.fi"]["From"] == "muistutus@kohtaamo.example"
    assert all(m.status == MessageStatus.SENT.value for m in messages())


def test_missing_smtp_setting_stops_the_run_before_anything_is_sent(app, runner, facilitator, smtp):
    app.config["MAIL_SERVER"] = ""
    client = make_client(worker=facilitator, consent=True)
    client.email = "x@example.fi"
    db.session.commit()
    meeting = make_meeting(client=client, starts_at=SESSION_AT, staff=facilitator)
    db.session.commit()
    policy("meeting", meeting.id, by_sms=False, by_email=True)

    result = run(runner)
    assert result.exit_code != 0
    assert "MAIL_SERVER" in result.output and "nothing was sent" in result.output
    assert messages() == [] and smtp.messages == []

    app.config["MAIL_SERVER"] = "127.0.0.1"
    assert run(runner).exit_code == 0
    assert len(smtp.messages) == 1


def test_outbox_backend_waits_for_manual_sending(app, runner, facilitator, gateway, auth_client):
    app.config["SMS_BACKEND"] = "outbox"
    client = make_client(name="Kaisa K", worker=facilitator, phone="040 123 4567", consent=True)
    other = make_user(name="Other Worker")
    hidden_client = make_client(name="Hidden H", worker=other, phone="040 765 4321", consent=True)
    group, _s = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=SESSION_AT)
    group2, _s2 = make_group_with_session(facilitator=other, clients=[hidden_client], starts_at=SESSION_AT)
    policy("group", group.id)
    policy("group", group2.id)

    assert "waiting for manual sending 2" in run(runner).output
    assert gateway.requests == []
    mine = next(m for m in messages() if m.client_id == client.id)
    theirs = next(m for m in messages() if m.client_id == hidden_client.id)
    assert mine.status == MessageStatus.MANUAL.value

    page = auth_client.get("/reminders/outbox?status=manual").get_data(as_text=True)
    assert "+358401234567" in page and "Muistutus: sinulla on ryhmäkerta" in page
    assert "+358407654321" not in page        # another worker's client
    assert auth_client.post_form(f"/reminders/outbox/{theirs.id}/sent", token_from="/reminders/outbox").status_code == 404
    assert auth_client.post_form("/reminders/outbox/abc/sent", token_from="/reminders/outbox").status_code == 404

    response = auth_client.post_form(f"/reminders/outbox/{mine.id}/sent", token_from="/reminders/outbox")
    assert response.status_code == 302
    db.session.expire_all()
    assert mine.status == MessageStatus.SENT.value and mine.sent_by_id == facilitator.id
    assert theirs.status == MessageStatus.MANUAL.value
    from register.models import AccessLog
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog).where(
        AccessLog.client_id == client.id, AccessLog.action == "reminder_outbox")) >= 1


def test_opt_out_link_stops_reminders(app, runner, facilitator, gateway, client):
    person = make_client(worker=facilitator, phone="040 123 4567", consent=True)
    group, session = make_group_with_session(facilitator=facilitator, clients=[person], starts_at=SESSION_AT)
    policy("group", group.id)
    run(runner)
    link = gateway.delivered()[0]["message"].split("http://localhost", 1)[1]
    assert client.get(link).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderOptOut)) == 0   # GET changes nothing
    response = client.post_form(link, token_from=link)
    assert response.status_code == 200 and "Et saa enää muistutuksia" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(ReminderOptOut.recipient_id)) == person.id
    from register.models import AccessLog
    assert db.session.scalar(sa.select(AccessLog.action).where(AccessLog.client_id == person.id,
                                                               AccessLog.user_id.is_(None))) == "reminder_opt_out_link"
    assert client.get("/reminders/stop/not-a-token").status_code == 404

    # The next session is not reminded.
    from groups.models import GroupSession
    db.session.add(GroupSession(group_id=group.id, number=2, starts_at=SESSION_AT + timedelta(days=7),
                                ends_at=SESSION_AT + timedelta(days=7, hours=2)))
    db.session.commit()
    run(runner, "2026-12-09T14:05:00Z")
    assert len(gateway.requests) == 1


def test_interrupted_send_is_retried_and_hopeless_ones_give_up(app, runner, facilitator, gateway):
    client = make_client(worker=facilitator, phone="040 123 4567", consent=True)
    common = dict(kind="reminder", target_kind="session", target_id=1, recipient_kind="client",
                  recipient_id=client.id, channel="sms", client_id=client.id, address="+358401234567")
    # A process died while sending 40 minutes ago: the claim is stale and the message is retried.
    stale = OutboxMessage(slot="stale", body="stale", status="sending", claim_token="dead", attempts=1,
                          claimed_at=datetime(2026, 12, 2, 13, 25, tzinfo=UTC),
                          next_attempt_at=datetime(2026, 12, 2, 13, 0, tzinfo=UTC), **common)
    # A fresh claim belongs to a process that is still running: left alone.
    busy = OutboxMessage(slot="busy", body="busy", status="sending", claim_token="alive", attempts=1,
                         claimed_at=datetime(2026, 12, 2, 14, 0, tzinfo=UTC),
                         next_attempt_at=datetime(2026, 12, 2, 13, 0, tzinfo=UTC), **common)
    # The last allowed attempt fails: no further retries, shown as failed.
    last = OutboxMessage(slot="last", body="last", status="failed", attempts=worker.MAX_ATTEMPTS - 1,
                         next_attempt_at=datetime(2026, 12, 2, 14, 0, tzinfo=UTC), **common)
    db.session.add_all([stale, busy, last])
    db.session.commit()
    # Claimed rows are sent in id order: "stale" first (works), then "last" (fails again).
    gateway.script = ["ok", "500"]
    result = run(runner)
    assert result.exit_code == 0, result.output
    rows = {m.slot: m for m in messages()}
    assert rows["stale"].status == MessageStatus.SENT.value and rows["stale"].attempts == 2
    assert rows["busy"].status == MessageStatus.SENDING.value and rows["busy"].claim_token == "alive"
    assert rows["last"].status == MessageStatus.FAILED.value and rows["last"].attempts == worker.MAX_ATTEMPTS
    assert rows["last"].next_attempt_at is None and "HTTP 500" in rows["last"].last_error
    assert [p["message"] for p in gateway.delivered()] == ["stale"]


def test_staff_can_retry_a_failed_message_now(app, facilitator, auth_client):
    client = make_client(worker=facilitator, phone="040 123 4567", consent=True)
    # Messages of a session of the facilitator's own group (the outbox lists no others to them).
    _group, session = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=SESSION_AT)
    failed = OutboxMessage(kind="reminder", target_kind="session", target_id=session.id, recipient_kind="client",
                           recipient_id=client.id, slot="s", channel="sms", client_id=client.id,
                           address="+358401234567", body="x", status="failed", attempts=6, next_attempt_at=None,
                           last_error="SMS gateway: HTTP 500")
    sent = OutboxMessage(kind="reminder", target_kind="session", target_id=session.id, recipient_kind="client",
                         recipient_id=client.id, slot="t", channel="sms", client_id=client.id,
                         address="+358401234567", body="y", status="sent")
    db.session.add_all([failed, sent])
    db.session.commit()
    page = auth_client.get("/reminders/outbox?status=failed").get_data(as_text=True)
    assert "SMS gateway: HTTP 500" in page and "Yritä uudelleen" in page
    assert auth_client.post_form(f"/reminders/outbox/{sent.id}/retry", token_from="/reminders/outbox").status_code == 404
    assert auth_client.post_form(f"/reminders/outbox/{failed.id}/retry",
                                 token_from="/reminders/outbox").status_code == 302
    db.session.expire_all()
    assert failed.status == MessageStatus.PENDING.value and failed.next_attempt_at is not None
    assert sent.status == MessageStatus.SENT.value


def test_a_reminder_queued_in_a_run_goes_out_in_the_same_run(app, runner, facilitator, gateway):
    """The run's own clock decides what is due: a reminder it queues is sent by the same run,
    not left pending until the next one (found by the benchmark, where "now" is the real time)."""
    client = make_client(name="Laura S", worker=facilitator, phone="040 765 4321", consent=True)
    # A run whose "now" lies before the wall clock, as a real run's start does by the time it inserts.
    starts = datetime(2026, 11, 12, 8, 0, tzinfo=UTC)
    group, _session = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=starts)
    policy("group", group.id)
    result = run(runner, "2026-11-11T14:05:00Z")
    assert result.exit_code == 0, result.output
    assert "queued 1, sent 1" in result.output
    assert len(gateway.requests) == 1
