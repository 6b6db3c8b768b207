"""Partner organisations and their contact persons."""
from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from register.models import PartnerContact, PartnerOrganisation
from tests.factories import make_partner


def test_create_partner_with_contact(auth_client):
    response = auth_client.post_form("/partners/new", {"name": "Sovatek", "kind": "substance_abuse",
                                                        "address": "Kauppakatu 1", "phone": "014 123 4567",
                                                        "notes": "", "version": ""}, token_from="/partners/new")
    assert response.status_code == 302
    partner = db.session.scalar(sa.select(PartnerOrganisation))
    assert partner.phone == "+358141234567"
    response = auth_client.post_form(f"/partners/{partner.id}/contacts/new", {
        "name": "Tiina T.", "title": "Päihdetyöntekijä", "email": "tiina@sovatek.example", "phone": "",
        "language": "fi"}, token_from="/partners")
    assert response.status_code == 302
    page = auth_client.get(f"/partners/{partner.id}").get_data(as_text=True)
    assert "Tiina T." in page and "Päihdetyöntekijä" in page
    assert "Sovatek" in auth_client.get("/partners").get_data(as_text=True)


def test_duplicate_partner_name_and_bad_kind(auth_client):
    make_partner(name="TYP")
    body = auth_client.post_form("/partners/new", {"name": "typ", "kind": "employment", "version": ""},
                                 token_from="/partners/new").get_data(as_text=True)
    assert 'id="name-error"' in body and 'value="typ"' in body
    body = auth_client.post_form("/partners/new", {"name": "Uusi", "kind": "bogus", "version": ""},
                                 token_from="/partners/new").get_data(as_text=True)
    assert 'id="kind-error"' in body
    assert db.session.scalar(sa.select(sa.func.count(PartnerOrganisation.id))) == 1


def test_contact_belongs_to_its_partner(auth_client):
    a = make_partner(name="A")
    b = make_partner(name="B")
    contact = a.contacts[0]
    assert auth_client.get(f"/partners/{b.id}/contacts/{contact.id}/edit").status_code == 404
    assert auth_client.get(f"/partners/{a.id}/contacts/{contact.id}/edit").status_code == 200
    bad = auth_client.post_form(f"/partners/{a.id}/contacts/{contact.id}/edit",
                                {"name": "X", "email": "nope", "language": "fi"}, token_from="/partners")
    assert 'id="email-error"' in bad.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.name != "X"
    assert db.session.scalar(sa.select(sa.func.count(PartnerContact.id))) == 2
