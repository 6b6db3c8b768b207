"""One bad message does not stop send-reminders: a line break typed into a meeting's place no
longer reaches (or breaks) the Subject header, and a message that still cannot be built is that
message's failure: marked failed with a readable reason, retried with backoff, while the rest of
the batch is delivered to a real SMTP server and nothing is left "sending"."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from meetings.signals import meeting_changed
from reminders import worker
from reminders.models import MessageStatus, OutboxMessage
from tests.factories import make_client, make_meeting, make_partner
from tests.messaging import SmtpSink

MEETING_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
QUEUED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RUN_AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
POISON = "Room 1\r\nBcc: evil@attacker.example"


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


def run(runner, at: datetime):
    return runner.invoke(args=["send-reminders", "--now", at.isoformat().replace("+00:00", "Z")])


def test_a_line_break_in_the_place_is_delivered_as_one_line_and_the_batch_goes_on(app, runner, facilitator, smtp,
                                                                                fresh_db):
    contacts = make_partner(contacts=3).contacts
    client = make_client(worker=facilitator)
    for contact, place in zip(contacts, ("Kauppakatu 5", POISON, "Torikatu 1"), strict=True):
        meeting = make_meeting(client=client, starts_at=MEETING_AT, staff=facilitator, contacts=[contact],
                               place=place)
        db.session.commit()
        meeting_changed.send(current_app._get_current_object(), meeting=meeting, change="created")
        db.session.commit()

    result = run(runner, RUN_AT)
    assert result.exit_code == 0, result.output
    assert "sent 3" in result.output and "failed 0" in result.output
    received = {rcpt[0]: (rcpt, m) for rcpt, m in smtp.messages}
    assert set(received) == {c.email for c in contacts}
    rcpt, poisoned = received[contacts[1].email]
    assert rcpt == [contacts[1].email]                       # no Bcc smuggled in
    assert poisoned["Bcc"] is None
    assert "\r" not in poisoned["Subject"] and "\n" not in poisoned["Subject"]
    # Nothing staff typed reaches a header any more (the subject names no place); the body has
    # the place as one line.
    assert poisoned["Subject"] == "Kutsu: verkostopalaveri torstaina 3.12. kello 10.00"
    assert "Paikka: Room 1 Bcc: evil@attacker.example." in poisoned.get_body(("plain",)).get_content()
    statuses = fresh_db.scalars(sa.select(OutboxMessage.status).order_by(OutboxMessage.id))
    assert statuses == [MessageStatus.SENT.value] * 3


def _email(client, meeting, slot, address, subject):
    row = OutboxMessage(kind="invitation", target_kind="meeting", target_id=meeting.id, recipient_kind="contact",
                        recipient_id=len(slot), slot=slot, channel="email", client_id=client.id, address=address,
                        language="fi", subject=subject, body=f"body of {slot}", next_attempt_at=QUEUED_AT,
                        created_at=QUEUED_AT)
    db.session.add(row)
    db.session.flush()
    return row.id


def test_a_message_that_cannot_be_built_fails_alone_and_is_retried_later(app, runner, facilitator, smtp, fresh_db,
                                                                          lead_client):
    client = make_client(worker=facilitator)
    meeting = make_meeting(client=client, starts_at=MEETING_AT, staff=facilitator)
    # Queued before this fix (or by any other path): a header the e-mail library refuses.
    first = _email(client, meeting, "a", "first@partner.example", "First")
    bad = _email(client, meeting, "bb", "bad@partner.example\r\nBcc: evil@attacker.example", "Line\r\nBreak")
    last = _email(client, meeting, "ccc", "last@partner.example", "Last")
    db.session.commit()

    result = run(runner, RUN_AT)
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output and "failed 1" in result.output
    assert sorted(rcpt[0] for rcpt, _m in smtp.messages) == ["first@partner.example", "last@partner.example"]
    rows = {r.id: r for r in fresh_db.scalars(sa.select(OutboxMessage))}
    assert rows[first].status == rows[last].status == MessageStatus.SENT.value
    poisoned = rows[bad]
    assert poisoned.status == MessageStatus.FAILED.value and poisoned.claim_token is None
    assert poisoned.attempts == 1 and poisoned.next_attempt_at == RUN_AT + worker.backoff(1)
    assert poisoned.last_error.startswith("message: ValueError")
    assert not any(r.status == MessageStatus.SENDING.value for r in rows.values())

    # The outbox says why, in the user's language, with the technical detail after it.
    page = lead_client.get("/reminders/outbox?status=failed").get_data(as_text=True)
    assert "Viestiä ei voitu muodostaa" in page and "ValueError" in page

    # Not due before its backoff; tried again after it (and fails again, alone).
    smtp.messages.clear()
    assert "failed 0" in run(runner, RUN_AT + timedelta(minutes=1)).output
    assert fresh_db.get(OutboxMessage, bad).attempts == 1
    later = RUN_AT + worker.backoff(1) + timedelta(seconds=1)
    result = run(runner, later)
    assert result.exit_code == 0 and "failed 1" in result.output, result.output
    poisoned = fresh_db.get(OutboxMessage, bad)
    assert poisoned.attempts == 2 and poisoned.status == MessageStatus.FAILED.value
    assert poisoned.next_attempt_at == later + worker.backoff(2)
    assert smtp.messages == []


def test_a_worker_stopped_mid_batch_gives_back_the_messages_it_did_not_try(app, facilitator, smtp, fresh_db,
                                                                           monkeypatch):
    client = make_client(worker=facilitator)
    meeting = make_meeting(client=client, starts_at=MEETING_AT, staff=facilitator)
    ids = [_email(client, meeting, slot, f"{slot}@partner.example", slot) for slot in ("a", "bb", "ccc")]
    db.session.commit()
    token, claimed = worker.claim_batch(RUN_AT, 10)
    assert claimed == ids
    real = worker.deliver

    def deliver(message, config, now=None):
        if message.id == ids[1]:
            raise KeyboardInterrupt        # the process is stopped while sending the second
        return real(message, config)

    monkeypatch.setattr(worker, "deliver", deliver)
    with pytest.raises(KeyboardInterrupt):
        worker.send_claimed(token, claimed, current_app.config, RUN_AT)
    rows = {r.id: r for r in fresh_db.scalars(sa.select(OutboxMessage))}
    assert rows[ids[0]].status == MessageStatus.SENT.value
    # The one being sent may have gone out: left to the stale-claim recovery.
    assert rows[ids[1]].status == MessageStatus.SENDING.value and rows[ids[1]].claim_token == token
    # The one not tried is due again at once, with no attempt counted.
    assert rows[ids[2]].status == MessageStatus.PENDING.value and rows[ids[2]].claim_token is None
    assert rows[ids[2]].attempts == 0
    assert [rcpt[0] for rcpt, _m in smtp.messages] == ["a@partner.example"]
