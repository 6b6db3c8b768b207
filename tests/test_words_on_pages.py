"""The words a user reads come from the right feature's catalogue: a msgid that means two
things (the report's end date and the message's recipient are both "To") reads right on each
page, in Finnish and in Swedish. Read from the rendered pages with an HTML parser."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from tests.factories import login, make_user


def _label(html: str, field_id: str) -> str:
    label = BeautifulSoup(html, "html.parser").find("label", attrs={"for": field_id})
    assert label is not None, field_id
    return " ".join(label.get_text(" ").split())


def _headers(html: str) -> list[str]:
    return [" ".join(th.get_text(" ").split()) for th in BeautifulSoup(html, "html.parser").find_all("th")]


def _queued_message(language: str = "fi", body: str = "Muistutus: ryhmäkerta huomenna klo 10.00"):
    from core.extensions import db
    from reminders.models import OutboxMessage
    from tests.factories import make_client

    client = make_client(language=language, phone="+358401234567", consent=True)
    message = OutboxMessage(kind="reminder", target_kind="session", target_id=1, recipient_kind="client",
                            recipient_id=client.id, slot="day_before@x", channel="sms", client_id=client.id,
                            address="+358401234567", language=language, subject="", body=body)
    db.session.add(message)
    db.session.commit()
    return message


def _signed_in(app, language: str, role: str = "lead"):
    user = make_user(role=role, language=language)
    c = app.test_client()
    login(c, user)
    return c


@pytest.mark.parametrize("language, end, title, name", [
    ("fi", "Päättyen", "Tehtävänimike", "Nimi"),
    ("sv", "Till", "Titel", "Namn"),
])
def test_labels_that_share_an_english_word_read_right(app, language, end, title, name):
    c = _signed_in(app, language)
    report = c.get("/feedback/report")
    assert report.status_code == 200
    assert _label(report.get_data(as_text=True), "end").startswith(end)
    staff = c.get("/staff/new").get_data(as_text=True)
    assert _label(staff, "title").startswith(title)
    assert _label(staff, "name").startswith(name)
    group = c.get("/groups/new").get_data(as_text=True)
    assert _label(group, "title").startswith(name)


@pytest.mark.parametrize("language, recipient, switch", [("fi", "Vastaanottaja", "Vaihda"), ("sv", "Mottagare", "Byt")])
def test_outbox_names_the_recipient_and_the_language_switch_its_verb(app, language, recipient, switch):
    _queued_message()
    c = _signed_in(app, language)
    page = c.get("/reminders/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert recipient in _headers(html)
    switch_button = BeautifulSoup(html, "html.parser").select_one("form[action='/language'] button")
    assert switch_button is not None and switch_button.get_text(strip=True) == switch
