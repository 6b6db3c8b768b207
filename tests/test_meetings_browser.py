"""Browser test: arrange a network meeting, record it and its plan through the UI at phone width,
with axe-core on every meetings page reached (staff pages, printable plan, partner link)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import finnish_holiday, local_today
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_client, make_user
from tests.test_meetings_support import add_relative, make_contact


@pytest.mark.browser
def test_record_a_meeting_and_its_plan(page, facilitator):
    colleague = make_user(name="Pekka Peltonen")
    client = make_client(name="Matti Kuusela", worker=facilitator)
    add_relative(client, name="Helena Kuusela", relation="äiti")
    contact = make_contact("Sovatek-säätiö")
    db.session.commit()
    ids = {"client": client.id, "colleague": colleague.id, "contact": contact.id}
    email = facilitator.email
    # The last working day before today: yesterday may be a weekend or a public holiday, which
    # the form asks to confirm (on 7.12.2026 it was Independence Day, and the test stopped there).
    day = local_today() - timedelta(days=1)
    while day.weekday() >= 5 or finnish_holiday(day):
        day -= timedelta(days=1)
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto("/meetings/")
    assert_accessible(page, context="meetings list")
    click_through(page, "main a.button")
    page.wait_for_url("**/meetings/new")
    assert_accessible(page, context="choose client")
    page.select_option("#client_id", str(ids["client"]))
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/meetings/new/\d+$"))
    assert_accessible(page, context="new meeting form")

    # A missing purpose is reported at the field, and what was chosen is kept.
    page.fill("#day", day.isoformat())
    page.fill("#start", "13:00")
    page.check(f"#contacts-{ids['contact']}")
    click_through(page, "main form button[type=submit]")
    assert page.locator("#purpose-error").is_visible()
    assert page.is_checked(f"#contacts-{ids['contact']}")
    assert_accessible(page, context="new meeting form with errors")

    page.fill("#purpose", "Aktivointisuunnitelma")
    page.check(f"#staff-{ids['colleague']}")
    page.get_by_label("Helena Kuusela (äiti)").check()
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/meetings/\d+$"))
    meeting_url = page.url
    assert page.locator("h1").inner_text() == "Verkostopalaveri: Matti Kuusela"
    assert page.locator("#single-worker-warning").count() == 0
    assert_accessible(page, context="meeting page")

    # The record of the meeting.
    page.fill("#worries", "Vuokrarästit")
    page.fill("#summary", "Matti hoitaa ensin asumisen.")
    page.check("#held")
    click_through(page, "form[action$='/notes'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/meetings/\d+(#record-heading)?$"))
    assert "Kirjaus tallennettu." in page.locator(".flashes").inner_text()

    # An item without a responsible person is refused at the field, the text kept.
    page.fill("#what", "Soittaa vuokranantajalle")
    click_through(page, "form[action$='/items'] button[type=submit]")
    assert page.locator("#responsible-error").inner_text().strip() == "Valitse, kuka vastaa tästä tehtävästä."
    assert page.input_value("#what") == "Soittaa vuokranantajalle"
    assert_accessible(page, context="item form with errors")
    page.select_option("#responsible", label="Matti Kuusela")
    page.fill("#with_whom", "Olli")
    page.fill("#due_date", (day + timedelta(days=14)).isoformat())
    click_through(page, "form[action$='/items'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/meetings/\d+(#plan-heading)?$"))
    assert "Soittaa vuokranantajalle" in page.locator(".plan-items").inner_text()
    assert_accessible(page, context="meeting with plan")

    page.goto(meeting_url + "/plan")
    assert page.locator("h1").inner_text() == "Meidän suunnitelmamme"
    assert "Soittaa vuokranantajalle" in page.locator("table").inner_text()
    assert_accessible(page, context="printable plan")

    page.goto(meeting_url + "/edit")
    assert_accessible(page, context="edit form")
    page.goto(meeting_url + "/follow-up")
    assert_accessible(page, context="follow-up form")

    # A personal link for the partner, and the partner's page.
    page.goto(meeting_url)
    click_through(page, "text=Luo henkilökohtainen linkki")
    page.wait_for_url(re.compile(r".*/link$"))
    assert_accessible(page, context="link created")
    partner_url = page.input_value("#partner-link")
    page.goto("/meetings/tasks")
    assert_accessible(page, context="my tasks")

    from meetings.models import ActionItem, Meeting

    meeting = db.session.scalar(sa.select(Meeting))
    assert meeting.status == "held" and meeting.summary == "Matti hoitaa ensin asumisen."
    assert {p.kind for p in meeting.participants} == {"staff", "partner", "relative", "client"}
    assert len([p for p in meeting.participants if p.kind == "staff"]) == 2
    item = db.session.scalar(sa.select(ActionItem))
    assert item.responsible.kind == "client" and item.with_whom == "Olli"
    db.session.close()

    partner_path = re.sub(r"^https?://[^/]+", "", partner_url)
    page.goto(partner_path)
    assert page.locator("h1").is_visible()
    assert_accessible(page, context="partner page")


@pytest.mark.browser
def test_a_name_in_a_text_partners_see_is_warned_then_saved_anyway(page, facilitator):
    """The hint at the field, the warning with the input kept, and "save anyway", at phone width
    and with axe-core on the warned form."""
    client = make_client(name="Pertti Nieminen", worker=facilitator)
    from tests.test_meetings_support import make_meeting

    meeting = make_meeting([facilitator], client=client)
    meeting_url = f"/meetings/{meeting.id}"
    email = facilitator.email
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto(meeting_url)
    hint_id = page.get_attribute("#with_whom", "aria-describedby")
    assert "älä kirjoita tähän asiakkaan nimeä" in page.locator(f"#{hint_id}").inner_text()
    page.select_option("#responsible", label=facilitator.name)
    page.fill("#what", "Varaa aika")
    page.fill("#with_whom", "mukana: Pertti N.")
    click_through(page, "form[action$='/items'] button[type=submit]")
    warning = page.locator(".name-warning")
    assert warning.is_visible() and "Pertti" in warning.inner_text()
    assert page.input_value("#with_whom") == "mukana: Pertti N."
    assert_accessible(page, context="item form with a name warning")
    page.check("#save_anyway")
    click_through(page, "form[action$='/items'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/meetings/\d+(#plan-heading)?$"))
    assert "mukana: Pertti N." in page.locator(".plan-items").inner_text()
