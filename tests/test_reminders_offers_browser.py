"""A waiting-list offer accepted through its message link, in a real browser with axe-core on
every page (the facilitator at 360 and at 1280 px; the client always on a 360 px phone): the facilitator sends the offer from the group's
participants, the client opens the link from the message on a phone nobody is signed in on,
and accepts; the place is the client's in the database."""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from groups import enrolment
from groups.models import Enrolment
from reminders.models import OutboxMessage, PlaceOffer
from reminders.notices import save_team_settings
from tests.browser import DESKTOP, PHONE, assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_client, make_group_with_session


@pytest.fixture
def app_config():
    return {"BASE_URL": "https://kohtaamo.example"}


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_waiting_list_offer_accepted_through_its_message_link(app, page, browser, live_server, facilitator,
                                                              fresh_db, viewport):
    assert page.viewport_size["width"] == viewport["width"]
    enrolled = make_client(name="Eino Enrolled", worker=facilitator, phone="040 100 0000", consent=True)
    waiting = make_client(name="Ensi Jonossa", worker=facilitator, phone="040 200 0000", consent=True)
    group, _session = make_group_with_session(facilitator=facilitator, clients=[enrolled],
                                              starts_at=local_to_utc(local_today() + timedelta(days=9), time(10, 0)))
    group.capacity = 1
    db.session.flush()
    enrolment.enrol(group, waiting.id)
    enrolment.withdraw(next(e for e in group.enrolments if e.client_id == enrolled.id))
    save_team_settings(contact_phone="09 310 12345", opening_hours="ma–pe 9–15", user=None)
    db.session.commit()
    group_id, waiting_id, email = group.id, waiting.id, facilitator.email
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto(f"/groups/{group_id}/participants")
    assert_accessible(page, context="participants with an offered place")
    click_through(page, "text=Lähetä vapaiden paikkojen tarjoukset viestillä")
    assert_accessible(page, context="offers page")
    page.select_option("#enrolment_id", label="Ensi Jonossa")
    page.fill("#answer_by", (local_today() + timedelta(days=3)).isoformat())
    page.fill("#answer_at", "16:00")
    click_through(page, "main form button[type=submit]")
    assert "Tarjous on lähtevissä viesteissä." in page.content()
    assert "odottaa vastausta" in page.content()
    assert_accessible(page, context="offers page after sending")

    [message] = fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "offer"))
    [link] = re.findall(r"https://kohtaamo\.example(/reminders/offer/[A-Za-z0-9_-]+)", message.body)

    # The client's phone: a browser nobody is signed in on.
    phone = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="fi-FI")
    try:
        client_page = phone.new_page()
        client_page.goto(link)
        assert client_page.locator("h1").inner_text() == "Ryhmäpaikka"
        assert "Ensi" not in client_page.content()
        assert "Kysyttävää? Soita meille" in client_page.content()
        assert_accessible(client_page, context="offer link")
        click_through(client_page, "text=Kyllä, otan paikan")
        assert "Paikka on sinun." in client_page.content()
        assert_accessible(client_page, context="offer accepted")
        # Used once: opening it again says it does not work any more.
        client_page.goto(link)
        assert "Tämä linkki ei toimi enää" in client_page.content()
        assert_accessible(client_page, context="offer link used")
    finally:
        phone.close()

    assert fresh_db.scalar(sa.select(Enrolment.status).where(Enrolment.client_id == waiting_id)) == "enrolled"
    assert fresh_db.scalar(sa.select(PlaceOffer.status)) == "accepted"
