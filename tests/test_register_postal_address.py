"""An optional postal address on the client with the date the client agreed to letters there
(issue #21): saved from the register's form, shown on the client's page, logged; consent
without an address is refused at the field with the input kept; a client one may not see is 404."""
from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today
from register.models import AccessLog, Client
from tests.factories import logged, login, make_client, make_user


def _form(client, **extra):
    data = {"name": client.name, "phone": client.phone, "email": "", "language": "fi", "version": str(client.version)}
    data.update(extra)
    return data


def test_postal_address_with_consent_is_saved_shown_and_logged(app, facilitator, auth_client, fresh_db):
    client = make_client(name="Posti Asiakas", worker=facilitator)
    url = f"/clients/{client.id}/edit"
    response = auth_client.post_form(url, _form(client, postal_address="Kotikatu 1 A 2\r\n00100 Helsinki",
                                                postal_consent="y"), token_from=url)
    assert response.status_code == 302
    row = fresh_db.get(Client, client.id)
    assert row.postal_address == "Kotikatu 1 A 2\n00100 Helsinki" and row.postal_consent_date == local_today()
    page = auth_client.get(f"/clients/{client.id}").get_data(as_text=True)
    assert "Kotikatu 1 A 2\n00100 Helsinki" in page and "suostumus kirjeisiin" in page
    actions = [a for a, in fresh_db.execute(sa.select(AccessLog.action).where(AccessLog.client_id == client.id))]
    assert "update" in actions and actions.count("view") >= 2   # the edit form and the page
    # Consent withdrawn: the address stays, letters do not (the date is cleared).
    client = fresh_db.get(Client, client.id)
    auth_client.post_form(url, _form(client, postal_address="Kotikatu 1 A 2\n00100 Helsinki"), token_from=url)
    row = fresh_db.get(Client, client.id)
    assert row.postal_address.startswith("Kotikatu") and row.postal_consent_date is None


def test_consent_without_an_address_is_refused_at_the_field(app, facilitator, auth_client, fresh_db):
    client = make_client(name="Ei Osoitetta", worker=facilitator, phone="040 123 4567")
    db.session.commit()
    url = f"/clients/{client.id}/edit"
    seen = len(logged(fresh_db, client.id))
    response = auth_client.post_form(url, _form(client, name="Ei Osoitetta Muutettu", postal_address="   ",
                                                postal_consent="y"), token_from=url)
    # The form page and the refused form both showed the client: both rows were committed.
    assert logged(fresh_db, client.id)[seen:] == [("view", "edit form")] * 2
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Kirjoita osoite tai poista rasti kirjesuostumuksesta." in text and "Ei Osoitetta Muutettu" in text
    row = fresh_db.get(Client, client.id)
    assert row.name == "Ei Osoitetta" and row.postal_address == "" and row.postal_consent_date is None


def test_a_client_one_may_not_see_is_404(app, facilitator, client):
    stranger = make_client(name="Vieras", worker=make_user(role="facilitator"))
    login(client, facilitator)
    assert client.get(f"/clients/{stranger.id}/edit").status_code == 404
