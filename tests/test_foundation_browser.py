"""A real browser (Debian's Chromium): log in, create a client and a partner, switch language,
and axe-core finds no WCAG 2.1 A/AA violations on any page reached."""
from __future__ import annotations

import pytest

from tests.browser import DESKTOP, assert_accessible, browser_login, click_through
from tests.factories import PASSWORD


@pytest.mark.browser
def test_facilitator_flow_at_phone_width(page, facilitator):
    page.goto("/login")
    assert_accessible(page, context="login")
    # A wrong password shows the error summary; it must be accessible too.
    page.fill("#email", facilitator.email)
    page.fill("#password", "wrong password!")
    click_through(page, "main form button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    assert_accessible(page, context="login error")

    browser_login(page, facilitator.email, PASSWORD)
    assert page.locator("h1").inner_text().startswith("Tervetuloa")
    assert_accessible(page, context="start")

    page.goto("/clients/new")
    assert_accessible(page, context="new client form")
    page.fill("#name", "Testi T.")
    page.fill("#phone", "050 123 4567")
    page.check("#reminder_consent")
    click_through(page, "main form button[type=submit]")
    page.wait_for_url("**/clients/*")
    assert page.locator("h1").inner_text() == "Testi T."
    assert "+358501234567" in page.content()
    assert_accessible(page, context="client page")

    # Bad input keeps what was typed and explains at the field.
    page.goto("/clients/new")
    page.fill("#name", "Toinen T.")
    page.fill("#phone", "123")
    click_through(page, "main form button[type=submit]")
    assert page.locator("#phone-error").is_visible()
    assert page.input_value("#name") == "Toinen T."
    assert_accessible(page, context="client form with errors")

    page.goto("/clients")
    assert_accessible(page, context="client list")

    page.goto("/partners/new")
    assert_accessible(page, context="partner form")
    page.fill("#name", "Sovatek")
    page.select_option("#kind", "substance_abuse")
    click_through(page, "main form button[type=submit]")
    page.wait_for_url("**/partners/*")
    assert_accessible(page, context="partner page")
    click_through(page, "text=Lisää yhteyshenkilö")
    assert_accessible(page, context="contact form")
    page.fill("#name", "Tiina T.")
    page.fill("#email", "tiina@sovatek.example")
    click_through(page, "main form button[type=submit]")
    assert "Tiina T." in page.content()
    page.goto("/partners")
    assert_accessible(page, context="partner list")

    page.goto("/account/password")
    assert_accessible(page, context="password page")

    page.goto("/nothing-here")
    assert_accessible(page, context="404 page")

    # Switch language without JavaScript: the form posts and the page comes back in Swedish.
    page.goto("/clients")
    # At phone width the language form is in the header's menu: closed, it is out of reach.
    assert not page.locator("#language-select").is_visible()
    page.click("summary.nav-menu-button")
    page.select_option("#language-select", "sv")
    click_through(page, ".language-form button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.locator("h1").inner_text() == "Klienter"
    assert_accessible(page, context="Swedish client list")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP], ids=["desktop"])
def test_lead_pages_at_desktop_width(page, lead, facilitator):
    from tests.factories import make_client

    client = make_client(worker=facilitator)
    browser_login(page, lead.email, PASSWORD)
    for url in ("/staff", "/staff/new", f"/staff/{facilitator.id}/edit", f"/clients/{client.id}",
                f"/clients/{client.id}/access-log", f"/clients/{client.id}/relatives/new"):
        page.goto(url)
        assert_accessible(page, context=url)
