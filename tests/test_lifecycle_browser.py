"""The client's own copy at phone width in a real browser, with axe-core on the pages reached."""
from __future__ import annotations

import pytest

from core.extensions import db
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD
from tests.test_lifecycle_client_copy import _seed


@pytest.mark.browser
def test_lead_opens_the_clients_copy_from_the_client_page(app, page, lead, facilitator):
    client, _ = _seed(facilitator, language="sv")
    client_id, email = client.id, lead.email
    db.session.commit()
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto(f"/clients/{client_id}")
    assert_accessible(page, context="client page with the data-protection section")
    click_through(page, "#data-protection-heading ~ p a >> nth=0")
    page.wait_for_url(f"**/clients/{client_id}/copy")
    assert page.locator("h1").inner_text() == "Dina uppgifter i Kohtaamo"
    assert "Vuokrarästit huolettavat" in page.content()
    assert_accessible(page, context="client's own copy")
    # Nothing wider than the phone's screen but the scrolling table region.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
