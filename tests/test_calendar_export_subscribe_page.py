"""The subscriber's page: reached from the link staff send (no login, the token is the only key),
in Finnish, Swedish and English through the visitors' language switch, with step-by-step
instructions and "add from web" links for Google Calendar, Outlook for Microsoft 365, Outlook.com,
Apple Calendar and Thunderbird; and the ready e-mail on the staff link page. Links are read back
with an HTML parser and urllib, not with the code that made them."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import sqlalchemy as sa

from calendar_export.models import CalendarSubscription
from core.extensions import db
from register.services import save_contact
from tests.factories import login, make_client, make_partner
from tests.test_calendar_export_data import make_meeting, soon

NEW = "/calendar/subscriptions/new"
PAGE_RE = re.compile(r'value="http://localhost(/calendar/([A-Za-z0-9_\-]{43})/subscribe)"')
CALENDAR = "Kohtaamo: Sovatek-säätiö"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.inputs: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if tag == "input" and "id" in attrs:
            self.inputs[attrs["id"]] = attrs


def parse(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def one(hrefs, prefix):
    found = [h for h in hrefs if h.startswith(prefix)]
    assert len(found) == 1, (prefix, hrefs)
    return found[0]


@pytest.fixture
def made(client, lead, facilitator):
    """A partner feed made in the app by a lead; its staff link page and the partner's page path."""
    partner = make_partner(name="Sovatek-säätiö", contacts=0)
    save_contact(partner, None, name="Liisa Laine", title="Ohjaaja", email="liisa.laine@sovatek.example",
                 language="sv")
    meeting = make_meeting(make_client(name="Matti Meikäläinen"), soon(3, 10), staff=[facilitator],
                           contacts=partner.contacts, place="Sovatek, Kauppakatu 2")
    db.session.commit()
    login(client, lead)
    response = client.post_form(NEW, {"kind": "partner", "partner_id": str(partner.id), "label": ""}, token_from=NEW)
    link_html = client.get(response.headers["Location"]).get_data(as_text=True)
    client.post_form("/logout", {})
    path, token = PAGE_RE.search(link_html).groups()
    return dict(partner=partner, meeting=meeting, link_html=link_html, path=path, token=token)


def test_the_page_in_three_languages_through_the_visitors_switch(client, made):
    assert client.get("/").status_code == 302  # really not signed in
    page = client.get(made["path"], headers={"Accept-Language": "fi"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Tilaa kalenteri</h1>" in html and "Valitse \"Tilaa\"" in html.replace("&#34;", '"')
    assert 'lang="fi"' in html
    for language, heading, step in (("sv", "Prenumerera på kalendern", "Prenumerera från webben"),
                                    ("en", "Subscribe to the calendar", "Subscribe from web"),
                                    ("fi", "Tilaa kalenteri", "Tilaa verkosta")):
        switched = client.post_form("/language", {"language": language, "next": made["path"]}, token_from=made["path"])
        assert switched.status_code == 302 and switched.headers["Location"].endswith(made["path"])
        html = client.get(made["path"]).get_data(as_text=True).replace("&#34;", '"')
        assert f'<html lang="{language}">' in html and f"<h1>{heading}</h1>" in html and step in html, language
        for app in ('id="google"', 'id="outlook-365"', 'id="outlook-com"', 'id="apple"', 'id="thunderbird"'):
            assert app in html, (language, app)


def test_the_links_exact_urls(client, made):
    token = made["token"]
    feed = f"http://localhost/calendar/{token}.ics"
    parsed = parse(client.get(made["path"]).get_data(as_text=True))
    assert parsed.inputs["feed-url"]["value"] == feed and "readonly" in parsed.inputs["feed-url"]
    # Google: webcal address in cid (the form calendar.google.com documents for subscribe links).
    assert one(parsed.hrefs, "https://calendar.google.com/") == \
        f"https://calendar.google.com/calendar/r?cid=webcal://localhost/calendar/{token}.ics"
    name = "Kohtaamo%3A%20Sovatek-s%C3%A4%C3%A4ti%C3%B6"
    encoded = f"http%3A%2F%2Flocalhost%2Fcalendar%2F{token}.ics"
    for host in ("outlook.office.com", "outlook.live.com"):
        href = one(parsed.hrefs, f"https://{host}/")
        assert href == f"https://{host}/calendar/0/addfromweb?url={encoded}&name={name}"
        query = parse_qs(urlsplit(href).query)
        assert query == {"url": [feed], "name": [CALENDAR]}
    assert one(parsed.hrefs, "webcal://") == f"webcal://localhost/calendar/{token}.ics"


def test_the_staff_page_has_the_ready_email_for_the_partner_contact(made, fresh_db):
    hrefs = parse(made["link_html"]).hrefs
    mail = one(hrefs, "mailto:")
    address, _, query = mail.removeprefix("mailto:").partition("?")
    assert address == "liisa.laine@sovatek.example"
    fields = parse_qs(query)
    assert fields["subject"] == [f"Kalenderlänk: {CALENDAR}"]  # the contact's language (Swedish)
    body = fields["body"][0]
    assert f"http://localhost{made['path']}" in body.split("\r\n")
    assert "+" not in query and "%20" in query  # RFC 6068 spaces, not form encoding
    for secret in ("Matti", "Meikäläinen", "M.M.", "Kauppakatu"):
        assert secret not in unquote(mail)
    # The message is written in the staff member's own e-mail program: the secret link is not
    # stored anywhere in the database (only the token's hash is).
    [sub] = fresh_db.scalars(sa.select(CalendarSubscription))
    assert made["token"] not in repr(sub.__dict__)


def test_without_a_contact_address_the_email_has_no_recipient(client, lead):
    partner = make_partner(name="TYP", contacts=0)
    login(client, lead)
    response = client.post_form(NEW, {"kind": "partner", "partner_id": str(partner.id), "label": ""}, token_from=NEW)
    mail = one(parse(client.get(response.headers["Location"]).get_data(as_text=True)).hrefs, "mailto:")
    assert mail.startswith("mailto:?subject=Kalenterilinkki%3A%20Kohtaamo%3A%20TYP&body=")


def test_the_page_shows_nothing_beyond_the_feed_and_is_not_kept(client, made, fresh_db):
    response = client.get(made["path"])
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert CALENDAR in html and '<meta name="robots" content="noindex, nofollow">' in html
    for other in ("Sovatek, Kauppakatu 2", "Fiia Facilitator", "Liisa Laine", "Matti", "Verkostopalaveri"):
        assert other not in html
    # Opening the page is not a use of the feed.
    assert fresh_db.scalar(sa.select(CalendarSubscription.last_used_at)) is None


def test_unknown_revoked_and_ended_feeds_have_no_page(client, made, lead):
    assert client.get("/calendar/" + "x" * 43 + "/subscribe").status_code == 404
    assert client.get("/calendar/subscriptions/subscribe").status_code == 404
    made["partner"].active = False
    db.session.commit()
    assert client.get(made["path"]).status_code == 404
    made["partner"].active = True
    db.session.commit()
    assert client.get(made["path"]).status_code == 200
    from calendar_export.services import revoke

    revoke(db.session.scalar(sa.select(CalendarSubscription)))
    db.session.commit()
    assert client.get(made["path"]).status_code == 404
