"""Browser: a facilitator creates a partner subscription and copies its link; axe-core on the
subscription pages."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from calendar_export.models import CalendarSubscription
from core.extensions import db
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_partner
from tests.test_calendar_export_data import make_group, make_session, soon


@pytest.mark.browser
def test_create_partner_subscription_and_copy_its_link(page, live_server, facilitator, lead):
    partner = make_partner(name="Sovatek-säätiö")
    group = make_group("Raharyhmä", (facilitator, lead), partners=[partner])
    make_session(group, 1, soon(), topic="Budjetti")
    db.session.commit()
    partner_id, email = partner.id, facilitator.email
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto("/calendar/subscriptions")
    assert_accessible(page, context="empty list")
    click_through(page, "text=Uusi kalenterilinkki")
    page.wait_for_url("**/calendar/subscriptions/new")
    assert_accessible(page, context="new form")

    # Submitting without an organisation keeps the choice and says what is missing.
    page.check("input[name=kind][value=partner]")
    page.fill("#label", "Tiina Toivonen")
    click_through(page, "main form button[type=submit]")
    assert page.locator("#partner_id-error").inner_text().strip() == "Valitse yhteistyökumppani."
    assert page.input_value("#label") == "Tiina Toivonen"
    assert_accessible(page, context="form with errors")

    page.select_option("#partner_id", str(partner_id))
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/calendar/subscriptions/\d+/link$"))
    assert_accessible(page, context="link shown once")
    url = page.input_value("#feed-url")
    assert re.fullmatch(r"http://localhost/calendar/[A-Za-z0-9_\-]{43}\.ics", url)
    assert page.get_attribute("#feed-url", "readonly") is not None
    assert page.locator("a", has_text="Lisää Google-kalenteriin").get_attribute("href").endswith(
        url.replace("http://", "webcal://"))

    page.click("[data-copy-target=feed-url] button[data-copy-button]")
    page.wait_for_function(
        "document.querySelector('[data-copy-target=feed-url] [data-copy-status]').textContent.length > 0")
    assert page.locator("[data-copy-target=feed-url] [data-copy-status]").inner_text() == "Kopioitu"

    # The feed answers at the copied address (the path, served by this live server).
    path = url.removeprefix("http://localhost")
    feed = page.request.get(live_server.url + path)
    assert feed.status == 200 and "Raharyhmä 1/1: Budjetti" in feed.text()

    click_through(page, "text=Takaisin kalenterilinkkeihin")
    assert "Sovatek-säätiö" in page.inner_text("main")
    assert_accessible(page, context="list with a subscription")

    sub = db.session.scalar(sa.select(CalendarSubscription))
    assert (sub.kind, sub.target_id, sub.label) == ("partner", partner_id, "Tiina Toivonen")
    db.session.close()
