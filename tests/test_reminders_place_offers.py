"""Waiting-list places offered by message (issue #21 point 3): the facilitator sends the offer
with a deadline; the client answers through a single-use link (only its hash is stored); a
decline or no answer by the deadline withdraws it and asks the next in line, exactly once even
when two workers run; staff can confirm by hand; a client with no consented channel becomes a
task for the worker. Checked through the database's own connection (fresh_db)."""
from __future__ import annotations

import re
import threading
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from groups import enrolment
from groups.models import Enrolment, EnrolmentStatus
from register.models import AccessLog
from reminders.models import FollowUpTask, OfferStatus, OutboxMessage, PlaceOffer
from tests.conftest import _make_test_app
from tests.factories import logged, login, make_client, make_group_with_session, make_user

BASE = "https://kohtaamo.example"


@pytest.fixture
def app_config():
    return {"BASE_URL": BASE}


def _group_with_waiting_list(facilitator, *, waiting_consent=(True, True)):
    """A full group of one and two on the waiting list; the enrolled one withdraws, so the first
    waiting client is "offered" the place."""
    enrolled = make_client(name="Eino Enrolled", worker=facilitator, phone="040 100 0000", consent=True)
    first = make_client(name="Ensi Jonossa", worker=facilitator, phone="040 200 0000", consent=waiting_consent[0])
    second = make_client(name="Toka Jonossa", worker=facilitator, phone="040 300 0000", consent=waiting_consent[1],
                         language="sv")
    group, _session = make_group_with_session(facilitator=facilitator, clients=[enrolled],
                                              starts_at=local_to_utc(local_today() + timedelta(days=9), time(10, 0)))
    group.capacity = 1
    db.session.flush()
    enrolment.enrol(group, first.id)
    enrolment.enrol(group, second.id)
    [e] = [x for x in group.enrolments if x.client_id == enrolled.id]
    enrolment.withdraw(e)
    db.session.commit()
    return group, first, second


def _send_offer(auth_client, group, client_id, deadline_day, at="16:00"):
    enrolment_id = db.session.scalar(sa.select(Enrolment.id).where(Enrolment.group_id == group.id,
                                                                   Enrolment.client_id == client_id))
    url = f"/reminders/group/{group.id}/offers"
    return auth_client.post_form(url, {"enrolment_id": str(enrolment_id), "answer_by": deadline_day.isoformat(),
                                       "answer_at": at}, token_from=url)


def _token_of(row: OutboxMessage) -> str:
    [token] = re.findall(r"/reminders/offer/([A-Za-z0-9_-]+)", row.body)
    return token


def _offer_messages(fresh_db, client_id=None):
    stmt = sa.select(OutboxMessage).where(OutboxMessage.kind == "offer").order_by(OutboxMessage.id)
    if client_id is not None:
        stmt = stmt.where(OutboxMessage.client_id == client_id)
    return fresh_db.scalars(stmt)


def _status(fresh_db, group, client_id):
    return fresh_db.scalar(sa.select(Enrolment.status).where(Enrolment.group_id == group.id,
                                                             Enrolment.client_id == client_id))


def test_offer_is_sent_with_its_deadline_and_accepted_once_through_its_link(app, facilitator, auth_client, client,
                                                                            fresh_db):
    group, first, _second = _group_with_waiting_list(facilitator)
    deadline_day = local_today() + timedelta(days=3)
    response = _send_offer(auth_client, group, first.id, deadline_day)
    assert response.status_code == 302
    [row] = _offer_messages(fresh_db)
    assert row.channel == "sms" and row.address == "+358402000000" and row.target_kind == "offer"
    assert row.body.startswith("Meillä on sinulle paikka ryhmässä. ") and f"{BASE}/reminders/offer/" in row.body
    assert f"{deadline_day.day}.{deadline_day.month}. kello 16.00" in row.body
    assert "Ensi" not in row.body and "Raharyhmä" not in row.body and "Ensi" not in row.subject
    token = _token_of(row)
    [offer] = fresh_db.scalars(sa.select(PlaceOffer))
    # Only a hash of the token is kept.
    assert offer.token_hash and token not in offer.token_hash and len(offer.token_hash) == 64
    assert offer.deadline == local_to_utc(deadline_day, time(16, 0))

    client = app.test_client()   # the client's own phone: nobody is signed in
    page = client.get(f"/reminders/offer/{token}")
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    assert "Kyllä, otan paikan" in text and "Ensi" not in text and "Raharyhmä" not in text
    answered = client.post_form(f"/reminders/offer/{token}", {"accept": "Kyllä, otan paikan"},
                                token_from=f"/reminders/offer/{token}")
    assert answered.status_code == 200 and "Paikka on sinun." in answered.get_data(as_text=True)
    assert _status(fresh_db, group, first.id) == EnrolmentStatus.ENROLLED.value
    assert fresh_db.scalar(sa.select(PlaceOffer.status)) == OfferStatus.ACCEPTED.value
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLog).where(
        AccessLog.client_id == first.id, AccessLog.action == "offer_answer_link")) == 1
    # Single use: the link works no more.
    assert client.get(f"/reminders/offer/{token}").status_code == 404
    assert client.get("/reminders/offer/made-up-token").status_code == 404


def test_a_decline_asks_the_next_in_line_with_as_long_to_answer(app, facilitator, auth_client, client, fresh_db):
    group, first, second = _group_with_waiting_list(facilitator)
    _send_offer(auth_client, group, first.id, local_today() + timedelta(days=2))
    [row] = _offer_messages(fresh_db)
    token = _token_of(row)
    first_offer = fresh_db.scalar(sa.select(PlaceOffer))
    client = app.test_client()
    response = client.post_form(f"/reminders/offer/{token}", {"decline": "Ei kiitos"},
                                token_from=f"/reminders/offer/{token}")
    assert "Tarjoamme paikan jollekulle toiselle." in response.get_data(as_text=True)
    assert _status(fresh_db, group, first.id) == EnrolmentStatus.WITHDRAWN.value
    assert _status(fresh_db, group, second.id) == EnrolmentStatus.OFFERED.value
    [next_row] = _offer_messages(fresh_db, second.id)
    assert next_row.language == "sv" and next_row.body.startswith("Vi har en plats för dig i en grupp. ")
    offers = fresh_db.scalars(sa.select(PlaceOffer).order_by(PlaceOffer.id))
    assert [o.status for o in offers] == ["declined", "open"]
    assert offers[1].answer_minutes == first_offer.answer_minutes


def _expire_in(worker_app, at: datetime, barrier: threading.Barrier, results: list):
    """One reminders worker in a thread of its own (its own app, session and connection). The app
    is made in the main thread: CPython 3.11 can fail compiling in two threads at once
    ("AST constructor recursion depth mismatch"), which once broke this test in CI."""
    from reminders import offers

    with worker_app.app_context():
        from core.db import immediate_transactions

        db.session.execute(sa.select(1))
        db.session.rollback()   # connected and ready
        barrier.wait()
        try:
            with immediate_transactions():
                results.append(offers.expire_due(at))
                db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_no_answer_by_the_deadline_withdraws_once_and_asks_the_next_even_with_two_workers(app, runner, facilitator,
                                                                                          auth_client, fresh_db):
    group, first, second = _group_with_waiting_list(facilitator)
    _send_offer(auth_client, group, first.id, local_today() + timedelta(days=1))
    deadline = fresh_db.scalar(sa.select(PlaceOffer.deadline))
    # Before the deadline nothing happens.
    assert runner.invoke(args=["send-reminders", "--now",
                               (deadline - timedelta(minutes=1)).isoformat()]).exit_code == 0
    assert fresh_db.scalar(sa.select(PlaceOffer.status)) == "open"

    after = deadline + timedelta(minutes=5)
    barrier, results = threading.Barrier(2), []
    workers = [_make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], {"BASE_URL": BASE}) for _ in range(2)]
    threads = [threading.Thread(target=_expire_in, args=(worker, after, barrier, results)) for worker in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [0, 1]
    assert _status(fresh_db, group, first.id) == EnrolmentStatus.WITHDRAWN.value
    assert _status(fresh_db, group, second.id) == EnrolmentStatus.OFFERED.value
    assert len(_offer_messages(fresh_db, second.id)) == 1
    offers = fresh_db.scalars(sa.select(PlaceOffer).order_by(PlaceOffer.id))
    assert [o.status for o in offers] == ["expired", "open"]
    # The worker's own run later changes nothing more.
    assert runner.invoke(args=["send-reminders", "--now", after.isoformat()]).exit_code == 0
    assert len(fresh_db.scalars(sa.select(PlaceOffer))) == 2


def test_staff_can_confirm_by_hand_and_the_link_then_stops(app, runner, facilitator, auth_client, client, fresh_db):
    group, first, _second = _group_with_waiting_list(facilitator)
    _send_offer(auth_client, group, first.id, local_today() + timedelta(days=2))
    token = _token_of(_offer_messages(fresh_db)[0])
    enrolment_id = db.session.scalar(sa.select(Enrolment.id).where(Enrolment.client_id == first.id))
    participants = f"/groups/{group.id}/participants"
    assert "Lähetä vapaiden paikkojen tarjoukset viestillä" in auth_client.get(participants).get_data(as_text=True)
    assert auth_client.post_form(f"/groups/{group.id}/enrolments/{enrolment_id}/confirm", {},
                                 token_from=participants).status_code == 302
    assert _status(fresh_db, group, first.id) == EnrolmentStatus.ENROLLED.value
    assert app.test_client().get(f"/reminders/offer/{token}").status_code == 404
    assert "työntekijä ratkaissut" in auth_client.get(f"/reminders/group/{group.id}/offers").get_data(as_text=True)
    # The worker closes it for good (and never withdraws a place staff confirmed).
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert fresh_db.scalar(sa.select(PlaceOffer.status)) == OfferStatus.SETTLED.value
    assert _status(fresh_db, group, first.id) == EnrolmentStatus.ENROLLED.value


def test_without_a_consented_channel_the_worker_gets_a_task_instead(app, facilitator, auth_client, fresh_db):
    group, first, _second = _group_with_waiting_list(facilitator, waiting_consent=(False, True))
    response = _send_offer(auth_client, group, first.id, local_today() + timedelta(days=2))
    assert response.status_code == 302
    assert _offer_messages(fresh_db) == []
    [task] = fresh_db.scalars(sa.select(FollowUpTask))
    assert task.source_kind == "offer" and task.client_id == first.id and task.assigned_to_id == facilitator.id
    assert fresh_db.scalar(sa.select(PlaceOffer.by_message)) is False
    listing = auth_client.get("/reminders/follow-ups").get_data(as_text=True)
    assert "Soita asiakkaalle Ensi Jonossa ja tarjoa ryhmäpaikkaa" in listing
    page = auth_client.get(f"/reminders/follow-ups/{task.id}")
    assert page.status_code == 200 and "Vahvista tai peru paikka osallistujasivulla" in page.get_data(as_text=True)


def test_bad_deadline_and_strangers(app, facilitator, auth_client, client, fresh_db):
    group, first, _second = _group_with_waiting_list(facilitator)
    db.session.commit()
    seen = len(logged(fresh_db, first.id))
    response = _send_offer(auth_client, group, first.id, local_today() - timedelta(days=1))
    assert response.status_code == 200
    # The form page and the refused offer both listed the client: both rows were committed.
    assert logged(fresh_db, first.id)[seen:] == [("list", f"group {group.id} offer menu")] * 2
    text = response.get_data(as_text=True)
    assert "Määräajan on oltava tulevaisuudessa." in text and 'aria-invalid="true"' in text
    assert fresh_db.scalars(sa.select(PlaceOffer)) == []
    # Another facilitator does not see the group's offers (404, as on its reminder pages).
    other = make_user(role="facilitator")
    client = app.test_client()
    login(client, other)
    assert client.get(f"/reminders/group/{group.id}/offers").status_code == 404


def test_the_token_is_not_kept_in_clear_once_the_offer_went_out(app, runner, facilitator, auth_client, fresh_db):
    app.config["SMS_BACKEND"] = "outbox"   # staff send it by hand and mark it sent
    group, first, _second = _group_with_waiting_list(facilitator)
    _send_offer(auth_client, group, first.id, local_today() + timedelta(days=2))
    [row] = _offer_messages(fresh_db)
    token = _token_of(row)
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    outbox = "/reminders/outbox?status=manual"
    assert auth_client.post_form(f"/reminders/outbox/{row.id}/sent", {}, token_from=outbox).status_code == 302
    [row] = _offer_messages(fresh_db)
    assert row.status == "sent" and token not in row.body and "/reminders/offer/…" in row.body
