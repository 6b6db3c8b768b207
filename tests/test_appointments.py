"""One-to-one appointments: booking from the client's page, warnings before saving (the one
conflict check, holiday, home visit alone), bad input kept at the field, access (a worker on it or
a lead; others 404), moving and cancelling with a notice to the client through the outbox,
held / no-show, rebooking a no-show, the next time in one click, the agenda hook."""
from __future__ import annotations

from datetime import date, time, timedelta

import sqlalchemy as sa

from appointments.models import Appointment, AppointmentStatus
from core.db import utcnow
from core.extensions import db
from core.timeutil import finnish_holiday, local_to_utc, local_today
from register.models import AccessLog
from reminders.models import OutboxMessage
from tests.factories import logged, login, make_client, make_user


def _form(day, worker, **extra):
    data = {"kind": "office", "day": day.isoformat(), "start": "10:00", "minutes": "45", "worker1": str(worker.id),
            "worker2": "", "place": "Room 3", "interpreter_language": ""}
    data.update(extra)
    return data


def _future_workday(days=9) -> date:
    day = local_today() + timedelta(days=days)
    while day.weekday() >= 5 or finnish_holiday(day):
        day += timedelta(days=1)
    return day


def _book(client, worker, *, day=None, kind="office", place="Room 3", start=time(10, 0), minutes=45, second=None):
    from appointments import services

    day = day or _future_workday()
    starts = local_to_utc(day, start)
    ids = [worker.id] + ([second.id] if second else [])
    appointment = services.book(client=client, kind=kind, starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
                                worker_ids=ids, place=place)
    db.session.commit()
    return appointment


def test_book_from_the_client_page(auth_client, facilitator, fresh_db):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    page = auth_client.get(f"/clients/{client.id}").get_data(as_text=True)
    assert f"/appointments/new/{client.id}" in page
    day = _future_workday()
    response = auth_client.post_form(f"/appointments/new/{client.id}", _form(day, facilitator, interpreter="y",
                                                                              interpreter_language="arabia"))
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = fresh_db.scalar(sa.select(Appointment))
    assert stored.client_id == client.id and stored.worker1_id == facilitator.id
    assert stored.starts_at == local_to_utc(day, time(10, 0)) and stored.ends_at - stored.starts_at == timedelta(minutes=45)
    assert stored.interpreter and stored.interpreter_language == "arabia"
    assert stored.status == AppointmentStatus.BOOKED
    page = auth_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Matti Kuusela" in page and "arabia" in page
    actions = [r.action for r in fresh_db.scalars(sa.select(AccessLog).where(AccessLog.client_id == client.id))]
    assert "create" in actions and actions.count("view") >= 2


def test_bad_input_is_refused_at_the_field_with_the_input_kept(auth_client, facilitator, fresh_db):
    client = make_client(worker=facilitator)
    db.session.commit()
    yesterday = local_today() - timedelta(days=1)
    seen = len(logged(fresh_db, client.id))
    for data, message in [
        (_form(yesterday, facilitator), "Aika on mennyt"),
        (_form(_future_workday(), facilitator, minutes="10"), "15–120 minuuttia"),
        (_form(_future_workday(), facilitator, minutes="121"), "15–120 minuuttia"),
        (_form(_future_workday(), facilitator, minutes="1500"), "yli vuorokautta"),
        (_form(_future_workday(), facilitator, minutes="abc"), "minuut"),
        (_form(_future_workday(), facilitator, worker2=str(facilitator.id)), "kaksi eri työntekijää"),
        (_form(_future_workday(), facilitator, worker1="999999"), "Kind"),
    ]:
        response = auth_client.post_form(f"/appointments/new/{client.id}", data)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        if message != "Kind":
            assert message in page, (data, page[page.find("error-summary"):][:600])
        assert 'value="Room 3"' in page  # the input is kept
        # Each refused form showed the client: its access-log row was committed with the page.
        assert logged(fresh_db, client.id)[seen:] == [("view", "new appointment form")]
        seen = len(logged(fresh_db, client.id))
    assert fresh_db.scalar(sa.select(sa.func.count(Appointment.id))) == 0


def test_a_conflict_a_holiday_and_a_lone_home_visit_are_warned_before_saving(auth_client, facilitator, fresh_db):
    client = make_client(worker=facilitator)
    other = make_client(name="Toinen Asiakas", worker=facilitator)
    day = _future_workday()
    _book(other, facilitator, day=day, start=time(10, 15))
    response = auth_client.post_form(f"/appointments/new/{client.id}", _form(day, facilitator))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Fiia Facilitator on samaan aikaan tapaamisessa" in page and "Toinen Asiakas" not in page
    assert 'name="confirm"' in page
    assert fresh_db.scalar(sa.select(sa.func.count(Appointment.id))) == 1  # nothing saved yet
    response = auth_client.post_form(f"/appointments/new/{client.id}", _form(day, facilitator, confirm="y"))
    assert response.status_code == 302
    assert fresh_db.scalar(sa.select(sa.func.count(Appointment.id))) == 2
    # A home visit alone asks for a pair; saved alone only with "save anyway", and then shown.
    later = _future_workday(20)
    response = auth_client.post_form(f"/appointments/new/{client.id}", _form(later, facilitator, kind="home_visit"))
    assert "työparina" in response.get_data(as_text=True)
    assert fresh_db.scalar(sa.select(sa.func.count(Appointment.id))) == 2
    response = auth_client.post_form(f"/appointments/new/{client.id}",
                                     _form(later, facilitator, kind="home_visit", confirm="y"))
    assert response.status_code == 302
    assert "Kotikäynti ilman työparia" in auth_client.get(response.headers["Location"]).get_data(as_text=True)
    # A public holiday is warned about.
    holiday = date(local_today().year + 1, 12, 6)
    response = auth_client.post_form(f"/appointments/new/{client.id}", _form(holiday, facilitator))
    assert "Itsenäisyyspäivä" in response.get_data(as_text=True) or "itsenäisyyspäivä" in response.get_data(as_text=True)


def test_only_its_workers_and_leads_open_an_appointment(app, client, facilitator, lead):
    stranger = make_user(name="Outo Olli")
    owner_client = make_client(name="Salainen Asiakas", worker=facilitator)
    appointment = _book(owner_client, facilitator)
    login(client, stranger)
    for url in (f"/appointments/{appointment.id}", f"/appointments/{appointment.id}/move", "/appointments/x"):
        assert client.get(url).status_code == 404
    assert client.post_form(f"/appointments/{appointment.id}/cancel", {}).status_code in (400, 404)
    as_lead = app.test_client()
    login(as_lead, lead)
    assert "Salainen Asiakas" in as_lead.get(f"/appointments/{appointment.id}").get_data(as_text=True)


def test_booking_gives_the_second_worker_a_reason_to_see_the_client(client, facilitator):
    colleague = make_user(name="Pekka Pari")
    owner_client = make_client(name="Kotikäynnin Asiakas", worker=facilitator)
    login(client, colleague)
    assert client.get(f"/clients/{owner_client.id}").status_code == 404
    _book(owner_client, facilitator, kind="home_visit", second=colleague)
    assert client.get(f"/clients/{owner_client.id}").status_code == 200


def test_move_and_cancel_tell_the_client_once_through_the_outbox(auth_client, facilitator, fresh_db):
    client = make_client(worker=facilitator, phone="040 123 4567", consent=True)
    appointment = _book(client, facilitator)
    day = _future_workday(12)
    data = _form(day, facilitator, version=str(appointment.version), send_notice="y")
    response = auth_client.post_form(f"/appointments/{appointment.id}/move", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    stored = fresh_db.get(Appointment, appointment.id)
    assert stored.starts_at == local_to_utc(day, time(10, 0)) and stored.sequence == 1
    messages = fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.target_id == appointment.id))
    assert [(m.kind, m.channel, m.address) for m in messages] == [("notice", "sms", "+358401234567")]
    assert "on siirtynyt" in messages[0].body and client.name not in messages[0].body
    # A stale form (same version again) is refused, nothing more is sent.
    response = auth_client.post_form(f"/appointments/{appointment.id}/move", data)
    assert response.status_code == 200 and "version" in response.get_data(as_text=True)
    assert len(fresh_db.scalars(sa.select(OutboxMessage))) == 1
    # Cancelling without the notice ticked sends nothing.
    response = auth_client.post_form(f"/appointments/{appointment.id}/cancel", {})
    assert response.status_code == 302
    assert fresh_db.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED
    assert len(fresh_db.scalars(sa.select(OutboxMessage))) == 1


def test_cancel_with_notice_queues_one_message(auth_client, facilitator, fresh_db):
    client = make_client(worker=facilitator, phone="040 123 4567", consent=True, language="sv")
    appointment = _book(client, facilitator)
    assert auth_client.post_form(f"/appointments/{appointment.id}/cancel", {"send_notice": "y"}).status_code == 302
    messages = fresh_db.scalars(sa.select(OutboxMessage))
    assert len(messages) == 1 and "inställt" in messages[0].body.lower()


def test_no_show_and_rebook_and_next_time(auth_client, facilitator, fresh_db):
    client = make_client(worker=facilitator)
    appointment = _book(client, facilitator, second=make_user(name="Pari Paavo"))
    # Not begun yet: no held / no-show.
    response = auth_client.post_form(f"/appointments/{appointment.id}/status", {"status": "no_show"})
    assert fresh_db.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED
    appointment.starts_at = utcnow() - timedelta(hours=2)
    appointment.ends_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    response = auth_client.post_form(f"/appointments/{appointment.id}/status", {"status": "no_show"})
    assert response.status_code == 302
    assert fresh_db.get(Appointment, appointment.id).status == AppointmentStatus.NO_SHOW
    page = auth_client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    rebook = f"/appointments/new/{client.id}?after={appointment.id}"
    assert rebook.replace("?", "?") in page.replace("&amp;", "&")
    form_page = auth_client.get(rebook).get_data(as_text=True)
    assert "Pari Paavo" in form_page
    day = _future_workday(5)
    while any(finnish_holiday(day + timedelta(days=d)) for d in (7, 14)):  # the next times warn of holidays
        day = _future_workday((day - local_today()).days + 1)
    response = auth_client.post_form(rebook, _form(day, facilitator, minutes="60"))
    assert response.status_code == 302, response.get_data(as_text=True)
    new = fresh_db.scalar(sa.select(Appointment).where(Appointment.previous_id == appointment.id))
    assert new is not None and new.minutes == 60
    # One click: the same settings two weeks on.
    response = auth_client.post_form(f"/appointments/{new.id}/next", {"weeks": "2"})
    assert response.status_code == 302
    nxt = fresh_db.scalar(sa.select(Appointment).where(Appointment.previous_id == new.id))
    assert nxt.starts_at.date() >= (new.starts_at + timedelta(days=13)).date()
    assert nxt.kind == new.kind and nxt.place == new.place and nxt.minutes == new.minutes
    assert auth_client.post_form(f"/appointments/{new.id}/next", {"weeks": "5"}).status_code == 400
    # A clash one week on: the click does not book; it opens the form, filled in, with the warning.
    other = make_client(name="Kolmas Asiakas", worker=facilitator)
    week_on = new.starts_at + timedelta(days=7)
    from appointments import services

    services.book(client=other, kind="phone", starts_at=week_on, ends_at=week_on + timedelta(minutes=15),
                  worker_ids=[facilitator.id])
    db.session.commit()
    before = len(fresh_db.scalars(sa.select(Appointment)))
    response = auth_client.post_form(f"/appointments/{new.id}/next", {"weeks": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "samaan aikaan tapaamisessa" in page and 'name="confirm"' in page
    assert f'action="/appointments/new/{client.id}?after={new.id}"' in page
    assert len(fresh_db.scalars(sa.select(Appointment))) == before


def test_agenda_hook(app, facilitator):
    from appointments.agenda import agenda_items, unrecorded_for

    client = make_client(name="Anna Bertta Korhonen", worker=facilitator)
    upcoming = _book(client, facilitator)
    past = _book(client, facilitator)
    past.starts_at, past.ends_at = utcnow() - timedelta(days=2, hours=1), utcnow() - timedelta(days=2)
    db.session.commit()
    with app.test_request_context("/"):
        items = agenda_items(facilitator, utcnow() - timedelta(days=3), utcnow() + timedelta(days=30))
        assert [i["url"] for i in items] == [f"/appointments/{past.id}", f"/appointments/{upcoming.id}"]
        assert items[0]["needs"] and items[1]["needs"] == []
        assert "A.B.K." in items[0]["title"] and "Korhonen" not in items[0]["title"]
        assert [i["url"] for i in unrecorded_for(facilitator)] == [f"/appointments/{past.id}"]


def test_demo_facilitator_has_two_appointments_today_one_a_home_visit_with_a_pair(app, runner):
    from accounts.models import User

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    ohjaaja = db.session.scalar(sa.select(User).where(User.email == "ohjaaja@example.fi"))
    today = local_today()
    start, end = local_to_utc(today, time(0, 0)), local_to_utc(today + timedelta(days=1), time(0, 0))
    todays = db.session.scalars(sa.select(Appointment).where(
        Appointment.worker1_id == ohjaaja.id, Appointment.starts_at >= start, Appointment.starts_at < end)).all()
    assert len(todays) == 2
    assert [a.worker2_id is not None for a in todays if a.kind.value == "home_visit"] == [True]


def test_agenda_hook_reads_a_fixed_number_of_times(app, facilitator):
    from appointments.agenda import agenda_items, unrecorded_for

    def queries(n):
        for i in range(n):
            _book(make_client(name=f"Asiakas {i} Nimi", worker=facilitator), facilitator, start=time(8 + i % 8, 0),
                  day=_future_workday(3 + i // 8))
        statements = []
        listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            with app.test_request_context("/"):
                items = agenda_items(facilitator, utcnow(), utcnow() + timedelta(days=60))
                unrecorded_for(facilitator)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(items), len(statements)

    one = queries(1)
    many = queries(12)
    assert one[0] == 1 and many[0] == 13
    assert one[1] == many[1], (one, many)


def test_the_database_refuses_a_kind_or_status_outside_the_enum(app, facilitator):
    import pytest

    client = make_client(worker=facilitator)
    appointment = _book(client, facilitator)
    for column, value in (("kind", "sauna"), ("status", "maybe")):
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.text(f"UPDATE appointment SET {column} = :v WHERE id = :i"),
                               {"v": value, "i": appointment.id})
            db.session.flush()
        db.session.rollback()
    with pytest.raises(sa.exc.IntegrityError):  # ends before it starts
        db.session.execute(sa.text("UPDATE appointment SET ends_at = starts_at WHERE id = :i"), {"i": appointment.id})
    db.session.rollback()
