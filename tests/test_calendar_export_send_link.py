"""Staff send a new calendar link's instructions page by e-mail from the app: the message goes
out over real SMTP (aiosmtpd) and is read back as it arrived, in the recipient's language, with
the subscriber's page and nothing about clients. Only the holder of the subscription's current
link can send it; a bad address comes back as the form with the error."""
from __future__ import annotations

import email
import email.policy
import re

import pytest

from core.extensions import db
from register.services import save_contact
from tests.factories import login, make_client, make_partner
from tests.messaging import SmtpSink
from tests.test_calendar_export_data import make_meeting, soon

NEW = "/calendar/subscriptions/new"
TOKEN_RE = re.compile(r'name="token" type="hidden" value="([A-Za-z0-9_\-]{43})"')


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_FROM": "kohtaamo@sosiaali.example"}


@pytest.fixture
def made(client, lead, facilitator):
    partner = make_partner(name="Sovatek-säätiö", contacts=0)
    save_contact(partner, None, name="Liisa Laine", title="Ohjaaja", email="liisa.laine@sovatek.example",
                 language="sv")
    make_meeting(make_client(name="Matti Meikäläinen"), soon(3, 10), staff=[facilitator],
                 contacts=partner.contacts, place="Sovatek, Kauppakatu 2")
    db.session.commit()
    login(client, lead)
    response = client.post_form(NEW, {"kind": "partner", "partner_id": str(partner.id), "label": ""}, token_from=NEW)
    link_path = response.headers["Location"]
    page = client.get(link_path).get_data(as_text=True)
    token = TOKEN_RE.search(page).group(1)
    return dict(partner=partner, page=page, token=token, link_path=link_path,
                send_path=link_path.replace("/link", "/send"))


def messages(smtp):
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in smtp.raw]


def test_the_link_page_offers_the_form_prefilled_for_the_partner_contact(made):
    page = made["page"]
    assert 'value="liisa.laine@sovatek.example"' in page
    assert re.search(r'<option selected value="sv">|<option value="sv" selected>', page)


def test_staff_send_the_instructions_page_and_it_arrives_in_the_chosen_language(client, made, smtp):
    response = client.post_form(made["send_path"], {"token": made["token"], "email": "liisa.laine@sovatek.example",
                                                    "language": "sv"}, token_from=made["link_path"])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "liisa.laine@sovatek.example" in page  # the confirmation
    [message] = messages(smtp)
    assert message["To"] == "liisa.laine@sovatek.example"
    body = message.get_body(("plain",)).get_content()
    assert f"http://localhost/calendar/{made['token']}/subscribe" in body
    assert "Sovatek" in message["Subject"] + body
    assert "Matti" not in body and "Meikäläinen" not in body and "Matti" not in message["Subject"]
    assert "kalender" in body.lower()  # Swedish


def test_a_bad_address_comes_back_with_the_error_and_nothing_is_sent(client, made, smtp):
    response = client.post_form(made["send_path"], {"token": made["token"], "email": "liisa@", "language": "fi"},
                                token_from=made["link_path"])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and 'value="liisa@"' in page
    assert made["token"] in page  # the link is still in view
    assert smtp.raw == []


@pytest.mark.parametrize("token", ["", "x" * 43, "y" * 200])
def test_only_the_subscriptions_current_token_can_be_sent(client, made, smtp, token):
    response = client.post_form(made["send_path"], {"token": token, "email": "a@example.fi", "language": "fi"},
                                token_from=made["link_path"])
    assert response.status_code == 404
    assert smtp.raw == []


def test_a_facilitator_cannot_send_anothers_subscription(app, made, smtp, facilitator):
    other = app.test_client()
    login(other, facilitator)
    response = other.post_form(made["send_path"], {"token": made["token"], "email": "a@example.fi",
                                                   "language": "fi"})
    assert response.status_code == 404
    assert smtp.raw == []


def test_an_unreachable_mail_server_is_a_message_at_the_field(app, client, made, smtp):
    app.config["MAIL_PORT"] = 1  # nothing listens there
    response = client.post_form(made["send_path"], {"token": made["token"], "email": "liisa.laine@sovatek.example",
                                                    "language": "fi"}, token_from=made["link_path"])
    assert response.status_code == 200
    assert 'id="email-error"' in response.get_data(as_text=True)
