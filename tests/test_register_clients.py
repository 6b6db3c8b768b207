"""Clients with minimal data, relatives, per-record access and the access log."""
from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from register.access import register_access_rule
from register.models import AccessLog, Client, Relative
from tests.factories import login, make_client, make_user


def _client_form(**overrides):
    data = {"name": "Matti M.", "phone": "", "email": "", "language": "fi", "version": ""}
    data.update(overrides)
    return data


def test_create_client_normalises_phone_and_records_consent(auth_client, facilitator):
    response = auth_client.post_form("/clients/new", _client_form(phone="040 765 4321", reminder_consent="y"),
                                     token_from="/clients/new")
    assert response.status_code == 302
    client = db.session.scalar(sa.select(Client))
    assert client.phone == "+358407654321"
    assert client.reminder_consent and client.consent_date is not None
    assert client.created_by_id == facilitator.id
    page = auth_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Matti M." in page and "+358407654321" in page
    actions = db.session.scalars(sa.select(AccessLog.action).where(AccessLog.client_id == client.id)).all()
    assert actions == ["create", "view"]


def test_invalid_client_input_is_kept_with_errors(auth_client):
    response = auth_client.post_form("/clients/new", _client_form(name="Pekka P.", phone="+1 555", email="bad@"),
                                     token_from="/clients/new")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="phone-error"' in body and 'id="email-error"' in body
    assert 'value="Pekka P."' in body and 'value="+1 555"' in body
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 0


def test_missing_name_and_overlong_name(auth_client):
    assert 'id="name-error"' in auth_client.post_form("/clients/new", _client_form(name=""),
                                                       token_from="/clients/new").get_data(as_text=True)
    assert 'id="name-error"' in auth_client.post_form("/clients/new", _client_form(name="x" * 121),
                                                       token_from="/clients/new").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 0


def test_missing_csrf_token_changes_nothing(auth_client):
    response = auth_client.post("/clients/new", data=_client_form())
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 0
    forged = auth_client.post("/clients/new", data=_client_form(csrf_token="forged"))
    assert forged.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 0


def test_staff_without_a_reason_cannot_see_a_client(app, facilitator):
    mine = make_client(name="Oma Asiakas", worker=facilitator)
    other_worker = make_user()
    theirs = make_client(name="Toisen Asiakas", worker=other_worker)
    browser = app.test_client()
    login(browser, facilitator)
    listing = browser.get("/clients").get_data(as_text=True)
    assert "Oma Asiakas" in listing and "Toisen Asiakas" not in listing
    # Changing the id in the URL does not reach the other client's record.
    for url in (f"/clients/{theirs.id}", f"/clients/{theirs.id}/edit", f"/clients/{theirs.id}/relatives/new"):
        assert browser.get(url).status_code == 404, url
    assert browser.post_form(f"/clients/{theirs.id}/edit", _client_form(name="Hacked", version="1"),
                             token_from="/clients").status_code == 404
    db.session.refresh(theirs)
    assert theirs.name == "Toisen Asiakas"
    assert browser.get(f"/clients/{mine.id}").status_code == 200
    # No access log row was written for the refused attempts.
    assert db.session.scalar(sa.select(sa.func.count(AccessLog.id)).where(AccessLog.client_id == theirs.id,
                                                                           AccessLog.user_id == facilitator.id)) == 0


def test_lead_sees_all_clients_and_the_access_log(app, lead, facilitator):
    client = make_client(name="Lokitettava", worker=facilitator)
    browser = app.test_client()
    login(browser, facilitator)
    browser.get(f"/clients/{client.id}")
    assert browser.get(f"/clients/{client.id}/access-log").status_code == 403
    lead_browser = app.test_client()
    login(lead_browser, lead)
    log_page = lead_browser.get(f"/clients/{client.id}/access-log")
    assert log_page.status_code == 200
    body = log_page.get_data(as_text=True)
    assert facilitator.name in body and "view" in body
    row = db.session.scalars(sa.select(AccessLog).where(AccessLog.user_id == facilitator.id,
                                                        AccessLog.action == "view")).first()
    assert row.client_id == client.id and row.at.tzinfo is not None


def test_feature_access_rules_extend_who_may_see(app, facilitator):
    other = make_user()
    client = make_client(name="Ryhmäläinen", worker=other)
    browser = app.test_client()
    login(browser, facilitator)
    assert browser.get(f"/clients/{client.id}").status_code == 404

    def rule(user_id):
        return sa.select(Client.id).where(Client.name == "Ryhmäläinen", sa.literal(user_id) == facilitator.id)

    register_access_rule(app, rule)  # on this test's app only (core.registry)
    assert browser.get(f"/clients/{client.id}").status_code == 200


def test_relatives_crud_and_ownership(app, auth_client, facilitator):
    client = make_client(worker=facilitator)
    other_client = make_client(worker=facilitator)
    data = {"name": "Helena K.", "relation": "äiti", "phone": "0405554433", "email": "", "language": "fi",
            "reminder_consent": "y"}
    assert auth_client.post_form(f"/clients/{client.id}/relatives/new", data,
                                 token_from="/clients").status_code == 302
    relative = db.session.scalar(sa.select(Relative))
    assert relative.phone == "+358405554433" and relative.consent_date is not None
    # A relative is reached only through its own client.
    assert auth_client.get(f"/clients/{other_client.id}/relatives/{relative.id}/edit").status_code == 404
    assert auth_client.post_form(f"/clients/{other_client.id}/relatives/{relative.id}/delete",
                                 token_from="/clients").status_code == 404
    assert auth_client.post_form(f"/clients/{client.id}/relatives/{relative.id}/delete",
                                 token_from="/clients").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Relative.id))) == 0


def test_consent_withdrawal_clears_date(auth_client, facilitator):
    client = make_client(worker=facilitator, consent=True)
    data = _client_form(name=client.name, version=str(client.version))
    auth_client.post_form(f"/clients/{client.id}/edit", data, token_from="/clients")
    db.session.refresh(client)
    assert client.reminder_consent is False and client.consent_date is None


def test_client_stale_edit(auth_client, facilitator):
    client = make_client(worker=facilitator, name="Alku")
    first = _client_form(name="Ensimmäinen", version="1")
    assert auth_client.post_form(f"/clients/{client.id}/edit", first, token_from="/clients").status_code == 302
    second = auth_client.post_form(f"/clients/{client.id}/edit", _client_form(name="Toinen", version="1"),
                                   token_from="/clients")
    assert second.status_code == 200 and 'value="Toinen"' in second.get_data(as_text=True)
    db.session.refresh(client)
    assert client.name == "Ensimmäinen"
