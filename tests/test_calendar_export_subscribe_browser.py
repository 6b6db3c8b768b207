"""Browser: a lead makes a partner feed, the link page offers the instructions page and a ready
e-mail; the partner (not signed in) opens the instructions page, switches language, copies the
feed address. axe-core on each page at phone (360 px) and desktop (1280 px) width."""
from __future__ import annotations

import re

import pytest

from core.extensions import db
from register.services import save_contact
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_partner


@pytest.fixture(params=[{"width": 360, "height": 740}, {"width": 1280, "height": 900}], ids=["360", "1280"])
def viewport(request):
    return request.param


@pytest.mark.browser
def test_partner_subscribes_from_the_instructions_page(page, live_server, lead, viewport):
    partner = make_partner(name="Sovatek-säätiö", contacts=0)
    save_contact(partner, None, name="Liisa Laine", email="liisa@sovatek.example")
    db.session.commit()
    partner_id, email = partner.id, lead.email
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto("/calendar/subscriptions/new")
    page.check("input[name=kind][value=partner]")
    page.select_option("#partner_id", str(partner_id))
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/calendar/subscriptions/\d+/link$"))
    assert_accessible(page, context=f"link page {viewport['width']}")
    page_url = page.input_value("#page-url")
    feed_url = page.input_value("#feed-url")
    assert re.fullmatch(r"http://localhost/calendar/[A-Za-z0-9_\-]{43}/subscribe", page_url)
    assert page.locator("a[href^='mailto:liisa@sovatek.example?']").count() == 1
    page.click("[data-copy-target=page-url] button")
    page.wait_for_function("document.querySelector('[data-copy-target=page-url] [data-copy-status]').textContent")

    # The partner: a fresh browser context, no session.
    other = page.context.browser.new_context(viewport=viewport, base_url=live_server.url, locale="fi-FI")
    partner_page = other.new_page()
    path = page_url.removeprefix("http://localhost")
    partner_page.goto(path)
    assert partner_page.locator("h1").inner_text() == "Tilaa kalenteri"
    assert partner_page.input_value("#feed-url") == feed_url
    assert_accessible(partner_page, context=f"instructions fi {viewport['width']}")
    # Fits the width: nothing scrolls sideways.
    assert partner_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    for code, heading in (("sv", "Prenumerera på kalendern"), ("en", "Subscribe to the calendar")):
        partner_page.select_option("#language-select", code)
        click_through(partner_page, ".language-form button[type=submit]")
        assert partner_page.locator("h1").inner_text() == heading
        assert_accessible(partner_page, context=f"instructions {code} {viewport['width']}")

    partner_page.click("[data-copy-target=feed-url] button")
    partner_page.wait_for_function("document.querySelector('[data-copy-status]').textContent.length > 0")
    assert partner_page.locator("[data-copy-status]").inner_text() == "Copied"
    assert partner_page.locator("a[href^='https://outlook.office.com/calendar/0/addfromweb?url=']").count() == 1
    assert partner_page.locator("a[href^='https://outlook.live.com/calendar/0/addfromweb?url=']").count() == 1
    other.close()


@pytest.mark.browser
def test_without_javascript_the_address_is_still_there(browser, live_server, lead):
    from calendar_export.services import create_subscription

    partner = make_partner(name="TYP")
    _sub, token = create_subscription(kind="partner", target_id=partner.id, created_by=lead)
    db.session.commit()
    db.session.close()
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url, locale="fi-FI",
                                  viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"/calendar/{token}/subscribe")
    assert page.input_value("#feed-url") == f"http://localhost/calendar/{token}.ics"
    assert page.locator("[data-copy-row]").is_hidden()
    context.close()
