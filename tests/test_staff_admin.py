"""A lead manages staff accounts; facilitators cannot."""
from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from core.extensions import db
from tests.factories import PASSWORD, login, make_user


def _new_staff(client, **overrides):
    data = {"name": "Uusi Ohjaaja", "email": "uusi@example.fi", "title": "", "phone": "", "role": "facilitator",
            "language": "fi", "password": "twelve chars ok"}
    data.update(overrides)
    return client.post_form("/staff/new", data, token_from="/staff/new")


def test_facilitator_cannot_manage_staff(auth_client, facilitator):
    assert auth_client.get("/staff").status_code == 403
    assert auth_client.get("/staff/new").status_code == 403
    assert auth_client.post_form("/staff/new", {"name": "x"}, token_from="/").status_code == 403


def test_lead_creates_staff_who_can_log_in(app, lead_client):
    response = _new_staff(lead_client, phone="040 123 4567")
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "uusi@example.fi"))
    assert user.phone == "+358401234567"
    assert user.password_hash.startswith("$argon2id$")
    login(app.test_client(), "uusi@example.fi", "twelve chars ok")


def test_duplicate_email_is_refused_with_input_kept(lead_client, facilitator):
    response = _new_staff(lead_client, email=facilitator.email.upper(), name="Kaksoisolento")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tällä sähköpostiosoitteella on jo käyttäjä." in body
    assert 'value="Kaksoisolento"' in body
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2


def test_invalid_email_phone_and_long_fields(lead_client):
    body = _new_staff(lead_client, email="not-an-email", phone="12", name="N" * 121).get_data(as_text=True)
    assert 'id="email-error"' in body and 'id="phone-error"' in body and 'id="name-error"' in body
    assert "Anna kelvollinen puhelinnumero" in body
    assert 'aria-invalid="true"' in body
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_short_initial_password_refused(lead_client):
    response = _new_staff(lead_client, password="short")
    assert response.status_code == 200 and 'id="password-error"' in response.get_data(as_text=True)


def test_edit_staff_and_stale_edit_is_refused(app, lead_client):
    user = make_user(name="Vanha Nimi")
    form = lead_client.get(f"/staff/{user.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    data = {"name": "Uusi Nimi", "email": user.email, "title": "", "phone": "", "role": "facilitator",
            "language": "sv", "version": "1"}
    assert lead_client.post_form(f"/staff/{user.id}/edit", data, token_from="/staff").status_code == 302
    db.session.refresh(user)
    assert user.name == "Uusi Nimi" and user.language == "sv" and user.version == 2
    # A second browser still holding version 1 is told, and nothing is overwritten.
    data.update(name="Kolmas Nimi")
    response = lead_client.post_form(f"/staff/{user.id}/edit", data, token_from="/staff")
    assert response.status_code == 200
    assert 'value="Kolmas Nimi"' in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.name == "Uusi Nimi"


def test_deactivation_ends_sessions_and_blocks_login(app, lead_client):
    user = make_user()
    their_browser = app.test_client()
    login(their_browser, user)
    assert their_browser.get("/").status_code == 200
    assert lead_client.post_form(f"/staff/{user.id}/active", token_from="/staff").status_code == 302
    db.session.refresh(user)
    assert user.active is False
    assert their_browser.get("/").status_code == 302
    again = app.test_client()
    assert again.post_form("/login", {"email": user.email, "password": PASSWORD}).status_code == 200
    # Reactivation lets them in again.
    lead_client.post_form(f"/staff/{user.id}/active", token_from="/staff")
    login(app.test_client(), user)


def test_lead_cannot_deactivate_self(lead_client, lead):
    lead_client.post_form(f"/staff/{lead.id}/active", token_from="/staff")
    db.session.refresh(lead)
    assert lead.active is True


def test_unknown_and_malformed_staff_ids_are_404(lead_client):
    for url in ("/staff/99999/edit", "/staff/abc/edit", "/staff/-1/edit", "/staff/99999999999999999999999/edit"):
        assert lead_client.get(url).status_code == 404, url
