"""Who may make a staff member one of a client's workers (a lasting reason to see the client):
only the client's own workers and leads. A facilitator whose only reason is passing (the client
is in their group, they take part in the client's meeting) sees the client but cannot make that
reason permanent, for themselves or anyone else; without any reason the client is a 404. Every
grant is in the access log with the grantor and the grantee."""
from __future__ import annotations

import sqlalchemy as sa

from groups import enrolment
from register.models import AccessLog, ClientWorker
from tests.factories import login, make_client, make_user
from tests.test_groups_support import make_group
from tests.test_meetings_support import make_meeting

FORM_ACTION = "/workers"


def _workers(fresh_db, client_id) -> set[int]:
    return set(fresh_db.scalars(sa.select(ClientWorker.user_id).where(ClientWorker.client_id == client_id)))


def _grant(http, client, user_id):
    return http.post_form(f"/clients/{client.id}/workers", {"user_id": str(user_id)}, token_from="/clients")


def _group_facilitator_of(client):
    """A facilitator whose only reason to see ``client`` is that the client is in their group."""
    from core.extensions import db

    facilitator = make_user(name="Ryhmä Ohjaaja")
    group = make_group(facilitator, status="enrolling")
    enrolment.enrol(group, client.id)
    db.session.commit()
    return facilitator


def test_group_facilitator_cannot_make_their_passing_reason_lasting(app, fresh_db):
    worker = make_user(name="Oma Työntekijä")
    client = make_client(name="Pertti Nieminen", worker=worker)
    passer = _group_facilitator_of(client)
    http = app.test_client()
    login(http, passer)
    page = http.get(f"/clients/{client.id}")
    assert page.status_code == 200  # the passing reason lets them see the client...
    assert f"/clients/{client.id}{FORM_ACTION}" not in page.get_data(as_text=True)  # ...but not grant
    response = _grant(http, client, passer.id)
    assert response.status_code == 403
    assert _workers(fresh_db, client.id) == {worker.id}
    # Nor for somebody else.
    accomplice = make_user(name="Kaveri")
    assert _grant(http, client, accomplice.id).status_code == 403
    assert _workers(fresh_db, client.id) == {worker.id}
    assert not fresh_db.scalars(sa.select(AccessLog).where(AccessLog.action == "grant_access"))


def test_meeting_participant_cannot_grant_a_lasting_reason(app, fresh_db):
    worker = make_user(name="Oma Työntekijä")
    client = make_client(name="Pertti Nieminen", worker=worker)
    guest = make_user(name="Palaverin Vieras")
    make_meeting([guest], client=client)
    http = app.test_client()
    login(http, guest)
    assert http.get(f"/clients/{client.id}").status_code == 200
    assert _grant(http, client, guest.id).status_code == 403
    assert _workers(fresh_db, client.id) == {worker.id}


def test_staff_without_a_reason_get_404(app, fresh_db):
    client = make_client(name="Pertti Nieminen", worker=make_user())
    stranger = make_user(name="Vieras")
    http = app.test_client()
    login(http, stranger)
    assert _grant(http, client, stranger.id).status_code == 404
    assert stranger.id not in _workers(fresh_db, client.id)


def test_a_worker_grants_and_the_log_names_grantor_and_grantee(app, fresh_db):
    worker = make_user(name="Oma Työntekijä")
    client = make_client(name="Pertti Nieminen", worker=worker)
    colleague = make_user(name="Kollega Koo")
    http = app.test_client()
    login(http, worker)
    page = http.get(f"/clients/{client.id}").get_data(as_text=True)
    assert f"/clients/{client.id}{FORM_ACTION}" in page
    response = _grant(http, client, colleague.id)
    assert response.status_code == 302
    assert _workers(fresh_db, client.id) == {worker.id, colleague.id}
    row = fresh_db.scalar(sa.select(AccessLog).where(AccessLog.client_id == client.id,
                                                     AccessLog.action == "grant_access"))
    assert row is not None
    assert (row.user_id, row.user_name) == (worker.id, "Oma Työntekijä")  # who granted
    assert "Kollega Koo" in row.detail and f"user {colleague.id}" in row.detail  # to whom
    assert "Pertti" not in row.detail


def test_a_lead_grants_but_not_to_an_inactive_account(app, lead, fresh_db):
    client = make_client(name="Pertti Nieminen", worker=make_user())
    gone = make_user(name="Lähtenyt", active=False)
    new = make_user(name="Uusi Ohjaaja")
    http = app.test_client()
    login(http, lead)
    assert _grant(http, client, gone.id).status_code == 404
    assert _grant(http, client, new.id).status_code == 302
    workers = _workers(fresh_db, client.id)
    assert new.id in workers and gone.id not in workers
    row = fresh_db.scalar(sa.select(AccessLog).where(AccessLog.action == "grant_access"))
    assert row.user_id == lead.id and f"user {new.id}" in row.detail
