"""Enrolment up to capacity, the waiting list and offers, names for staff only, roll call,
attendance figures and the attendance signal."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from core.extensions import db
from groups import attendance as groups_attendance, enrolment as groups_enrolment, schedule, services
from groups.models import Attendance, Enrolment
from groups.signals import attendance_recorded
from register.models import AccessLog
from tests.factories import logged, make_client, make_user
from tests.test_groups_support import make_group, text_of


def _enrol(client, group, person):
    url = f"/groups/{group.id}/participants"
    return client.post_form(url, {"client_id": str(person.id)}, token_from=url)


def _status(group):
    rows = db.session.execute(sa.select(Enrolment.client_id, Enrolment.status).where(Enrolment.group_id == group.id)
                              .order_by(Enrolment.id)).all()
    return [tuple(r) for r in rows]


def test_enrol_to_capacity_then_waiting_list_then_offer(lead_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=2, capacity=2, status="enrolling")
    a, b, c, d = (make_client(name=n) for n in ("Matti K.", "Laura S.", "Erik B.", "Sari S."))
    for person in (a, b, c, d):
        assert _enrol(lead_client, group, person).status_code == 302
    assert _status(group) == [(a.id, "enrolled"), (b.id, "enrolled"), (c.id, "waiting"), (d.id, "waiting")]
    html = text_of(lead_client.get(f"/groups/{group.id}/participants"))
    assert "Jono" in html and "Erik B." in html and "2/2 paikkaa varattu." in html

    enrolment_a = db.session.scalar(sa.select(Enrolment).where(Enrolment.client_id == a.id))
    url = f"/groups/{group.id}/enrolments/{enrolment_a.id}/withdraw"
    response = lead_client.post_form(url, {}, token_from=f"/groups/{group.id}/participants")
    assert response.status_code == 302
    assert _status(group) == [(a.id, "withdrawn"), (b.id, "enrolled"), (c.id, "offered"), (d.id, "waiting")]
    html = text_of(lead_client.get(f"/groups/{group.id}/participants"))
    assert "Paikkaa tarjottu" in html and "Vahvista paikka" in html

    enrolment_c = db.session.scalar(sa.select(Enrolment).where(Enrolment.client_id == c.id))
    lead_client.post_form(f"/groups/{group.id}/enrolments/{enrolment_c.id}/confirm", {},
                          token_from=f"/groups/{group.id}/participants")
    assert _status(group)[2] == (c.id, "enrolled")
    # Confirming twice is refused, nothing changes.
    lead_client.post_form(f"/groups/{group.id}/enrolments/{enrolment_c.id}/confirm", {},
                          token_from=f"/groups/{group.id}/participants")
    assert _status(group)[2] == (c.id, "enrolled")


def test_same_client_twice_refused(lead_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1, status="enrolling")
    person = make_client(name="Matti K.")
    _enrol(lead_client, group, person)
    response = _enrol(lead_client, group, person)
    assert response.status_code == 200
    assert "Valitse asiakas luettelosta." in text_of(response)
    with lead_client.application.test_request_context():
        try:
            groups_enrolment.enrol(group, person.id)
        except services.GroupError as exc:
            assert exc.field == "client_id"
        else:
            raise AssertionError("a second enrolment was accepted")
    assert len(_status(group)) == 1


def test_facilitator_can_enrol_only_clients_they_may_see(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1, status="enrolling")
    own = make_client(name="Oma Asiakas", worker=facilitator)
    stranger = make_client(name="Vieras Asiakas")
    html = text_of(auth_client.get(f"/groups/{group.id}/participants"))
    assert "Oma Asiakas" in html and "Vieras Asiakas" not in html
    response = _enrol(auth_client, group, stranger)
    assert response.status_code == 200
    assert _status(group) == []
    _enrol(auth_client, group, own)
    assert _status(group) == [(own.id, "enrolled")]


def test_no_enrolment_while_planning(lead_client, facilitator, fresh_db):
    group = make_group(facilitator, make_user(), weeks=1)
    html = text_of(lead_client.get(f"/groups/{group.id}/participants"))
    assert "Osallistujia voi ilmoittaa vain" in html
    person = make_client()
    db.session.commit()
    seen = len(logged(fresh_db, person.id))
    _enrol(lead_client, group, person)
    assert _status(group) == []
    # The refused form is still a page that listed the client: its access-log rows were committed.
    # (one row for the page the form came from, one for the refused form)
    assert logged(fresh_db, person.id)[seen:] == [("list", f"group {group.id} enrol menu")] * 2


def test_names_only_for_facilitators_and_leads_and_each_view_logged(client, lead_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1, status="enrolling")
    person = make_client(name="Matti K.")
    groups_enrolment.enrol(group, person.id)
    db.session.commit()
    outsider = make_user(email="outsider@example.fi")
    from tests.factories import login
    login(client, outsider)
    assert client.get(f"/groups/{group.id}/participants").status_code == 404  # names are records: not found, not "forbidden"
    plan = text_of(client.get(f"/groups/{group.id}"))
    assert "Raharyhmä" in plan and "Matti K." not in plan
    attendance = text_of(client.get(f"/groups/{group.id}/attendance"))
    assert "Matti K." not in attendance
    assert db.session.scalar(sa.select(sa.func.count(AccessLog.id)).where(AccessLog.user_id == outsider.id)) == 0

    html = text_of(lead_client.get(f"/groups/{group.id}/participants"))
    assert "Matti K." in html
    log = db.session.scalars(sa.select(AccessLog).where(AccessLog.client_id == person.id,
                                                        AccessLog.action == "view")).all()
    assert log and log[-1].user_name == "Leo Lead"


def test_roll_call_records_attendance_sends_signal_and_shows_figures(lead_client, facilitator):
    # Sessions in the past: a roll call is taken from the session's day on (time sense).
    group = make_group(facilitator, make_user(), weeks=2, status="running", first=date(2026, 11, 2))
    a, b, c = (make_client(name=n) for n in ("Matti K.", "Laura S.", "Erik B."))
    for person in (a, b, c):
        groups_enrolment.enrol(group, person.id)
    db.session.commit()
    ea, eb, ec = db.session.scalars(sa.select(Enrolment).order_by(Enrolment.id)).all()
    first, second = group.sessions
    received = []

    def listener(sender, attendance):
        received.append((attendance.enrolment_id, attendance.status))

    attendance_recorded.connect(listener)
    try:
        url = f"/groups/{group.id}/sessions/{first.id}/roll-call"
        html = text_of(lead_client.get(url))
        assert "Matti K." in html and f'name="att-{ea.id}"' in html
        response = lead_client.post_form(url, {f"att-{ea.id}": "present", f"att-{eb.id}": "absent",
                                               f"att-{ec.id}": "excused"}, token_from=url)
        assert response.status_code == 302
        url2 = f"/groups/{group.id}/sessions/{second.id}/roll-call"
        lead_client.post_form(url2, {f"att-{ea.id}": "present", f"att-{eb.id}": "present"}, token_from=url2)
        # Correcting one mark sends only that change.
        received.clear()
        lead_client.post_form(url, {f"att-{ea.id}": "present", f"att-{eb.id}": "excused",
                                    f"att-{ec.id}": "excused"}, token_from=url)
        assert received == [(eb.id, "excused")]
    finally:
        attendance_recorded.disconnect(listener)
    marks = dict(db.session.execute(sa.select(Attendance.enrolment_id, Attendance.status)
                                    .where(Attendance.session_id == first.id)).all())
    assert marks == {ea.id: "present", eb.id: "excused", ec.id: "excused"}

    figures = groups_attendance.attendance_figures(group)
    assert [c for _s, c in figures.per_session] == [{"present": 1, "absent": 0, "excused": 2},
                                                    {"present": 2, "absent": 0, "excused": 0}]
    assert {e.client_id: c["present"] for e, c in figures.per_participant} == {a.id: 2, b.id: 1, c.id: 0}
    assert figures.rate == 60
    html = text_of(lead_client.get(f"/groups/{group.id}/attendance"))
    assert "Läsnäolo osallistujittain" in html and "Läsnäoloaste 60 %" in html


def test_roll_call_refuses_bad_values_and_strangers(lead_client, facilitator, fresh_db):
    group = make_group(facilitator, make_user(), weeks=1, status="running", first=date(2026, 11, 2))
    groups_enrolment.enrol(group, make_client().id)
    db.session.commit()
    enrolment = db.session.scalar(sa.select(Enrolment))
    session = group.sessions[0]
    url = f"/groups/{group.id}/sessions/{session.id}/roll-call"
    seen = len(logged(fresh_db, enrolment.client_id))
    html = text_of(lead_client.post_form(url, {f"att-{enrolment.id}": "asleep"}, token_from=url))
    assert "Valitse paikalla, poissa tai poissa ilmoitetusti." in html
    assert fresh_db.scalar(sa.select(sa.func.count(Attendance.id))) == 0
    # The form page and the refused roll call both showed the client: both rows were committed.
    assert logged(fresh_db, enrolment.client_id)[seen:] == [("view", f"roll call, session {session.id}")] * 2


def test_no_roll_call_for_a_cancelled_session(lead_client, facilitator, fresh_db):
    group = make_group(facilitator, make_user(), weeks=1, status="running")
    groups_enrolment.enrol(group, make_client().id)
    session = group.sessions[0]
    schedule.set_session_status(session, "cancelled")
    db.session.commit()
    enrolment = db.session.scalar(sa.select(Enrolment))
    url = f"/groups/{group.id}/sessions/{session.id}/roll-call"
    seen = len(logged(fresh_db, enrolment.client_id))
    html = text_of(lead_client.post_form(url, {f"att-{enrolment.id}": "present"}, token_from=url))
    assert "Tämä ryhmäkerta on peruttu. Palauta se" in html
    assert fresh_db.scalar(sa.select(sa.func.count(Attendance.id))) == 0
    # The form page and the refused roll call both showed the client: both rows were committed.
    assert logged(fresh_db, enrolment.client_id)[seen:] == [("view", f"roll call, session {session.id}")] * 2


def test_larger_capacity_offers_places_to_the_waiting_list(lead_client, facilitator):
    from tests.test_groups_planning import _group_data

    group = make_group(facilitator, make_user(), weeks=2, capacity=1, status="enrolling")
    a, b, c = (make_client(name=n) for n in ("Matti K.", "Laura S.", "Erik B."))
    for person in (a, b, c):
        _enrol(lead_client, group, person)
    assert _status(group) == [(a.id, "enrolled"), (b.id, "waiting"), (c.id, "waiting")]
    ids = dict(facilitator1_id=str(group.facilitator1_id), facilitator2_id=str(group.facilitator2_id))
    url = f"/groups/{group.id}/edit"
    response = lead_client.post_form(url, _group_data(group, capacity="2", **ids), token_from=url)
    assert response.status_code == 302
    # The first in the queue is offered the new place; the second keeps waiting.
    assert _status(group) == [(a.id, "enrolled"), (b.id, "offered"), (c.id, "waiting")]
    assert db.session.scalar(sa.select(AccessLog.id).where(AccessLog.client_id == b.id,
                                                           AccessLog.detail.like("offered a place%")))
