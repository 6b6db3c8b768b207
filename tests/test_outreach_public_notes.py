"""The public venue page's anonymous topic notes (#25.3): anyone with the poster's address picks a
topic (no free text) for the next visit; the note is stored without anything about its sender but
a keyed hash of the address; a flood is refused per address and per venue with a 429 page that
says why; the pair sees the counts per topic on the visit page before the visit."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import now_utc
from outreach.models import OutreachVenue
from tests.test_outreach_visits import make_venue, make_visit


@pytest.fixture
def venue_with_visits(facilitator):
    venue = make_venue("Diakoniakahvila")
    start = now_utc().replace(microsecond=0) + timedelta(days=3)
    first = make_visit(venue, start, staff=(facilitator,))
    second = make_visit(venue, start + timedelta(days=14), staff=(facilitator,))
    db.session.commit()
    return venue, first, second


def public_client(app, address="198.51.100.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def post_note(client, url, topic):
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
    data = {"csrf_token": token[1] or token[2], "topic": topic}
    return client.post(url, data=data)


def notes(fresh_db):
    return fresh_db.execute(sa.text("SELECT venue_id, visit_id, topic, address_key FROM outreach_topic_note "
                                    "ORDER BY id"))


def test_a_topic_note_is_stored_for_the_next_visit_without_the_address(app, venue_with_visits, fresh_db):
    venue, first, _second = venue_with_visits
    url = f"/outreach/v/{venue.public_token}?lang=en"
    client = public_client(app)
    response = post_note(client, url, "housing")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you! The workers will know to expect this topic." in page
    [(venue_id, visit_id, topic, key)] = notes(fresh_db)
    assert (venue_id, visit_id, topic) == (venue.id, first.id, "housing")
    assert "198.51.100.7" not in key and len(key) == 32


def test_only_a_topic_from_the_list_is_taken(app, venue_with_visits, fresh_db):
    venue, _first, _second = venue_with_visits
    url = f"/outreach/v/{venue.public_token}?lang=en"
    client = public_client(app)
    for junk in ("Matti Meikäläinen 010190-123A", "", "x" * 500):
        response = post_note(client, url, junk)
        assert response.status_code == 200
        assert "Not a valid choice" in response.get_data(as_text=True) or "Choose a topic." in \
            response.get_data(as_text=True)
    assert notes(fresh_db) == []
    # Without the CSRF token nothing is stored either.
    assert client.post(url, data={"topic": "money"}).status_code in (200, 400)
    assert notes(fresh_db) == []


def test_a_flood_is_throttled_per_address_and_per_venue(app, venue_with_visits, fresh_db):
    app.config.update(OUTREACH_NOTES_PER_ADDRESS=3, OUTREACH_NOTES_PER_VENUE=5)
    venue, _first, _second = venue_with_visits
    url = f"/outreach/v/{venue.public_token}?lang=en"
    one = public_client(app, "198.51.100.7")
    assert [post_note(one, url, "money").status_code for _ in range(3)] == [302, 302, 302]
    refused = post_note(one, url, "money")
    assert refused.status_code == 429
    assert "Many notes have just been left here." in refused.get_data(as_text=True)
    assert len(notes(fresh_db)) == 3
    # Another address may still leave notes, until the venue's limit.
    other = public_client(app, "203.0.113.9")
    assert [post_note(other, url, "work").status_code for _ in range(3)] == [302, 302, 429]
    assert len(notes(fresh_db)) == 5
    # A third address is refused too: the venue has had its hour's notes.
    assert post_note(public_client(app, "192.0.2.1"), url, "work").status_code == 429
    assert len(notes(fresh_db)) == 5


def test_the_pair_sees_the_expected_topics_before_the_visit(app, auth_client, venue_with_visits, facilitator):
    venue, first, second = venue_with_visits
    url = f"/outreach/v/{venue.public_token}"
    for address, topic in (("198.51.100.1", "housing"), ("198.51.100.2", "housing"), ("198.51.100.3", "benefits")):
        assert post_note(public_client(app, address), url, topic).status_code == 302
    facilitator.language = "en"
    db.session.commit()
    page = auth_client.get(f"/outreach/visits/{first.id}").get_data(as_text=True)
    assert "Topics people want to ask about" in page
    items = re.findall(r"<li>([^<]+)</li>", page.split('class="outreach-expected"')[1].split("</ul>")[0])
    assert items == ["Housing: 2 notes", "Benefits (Kela): 1 note"]
    # The notes belong to the next visit only.
    assert "Topics people want to ask about" not in auth_client.get(f"/outreach/visits/{second.id}").get_data(
        as_text=True)


def test_a_venue_without_coming_visits_takes_no_notes(app, facilitator, fresh_db):
    venue = make_venue("Työpaja Verstas")
    token = db.session.get(OutreachVenue, venue.id).public_token
    client = public_client(app)
    page = client.get(f"/outreach/v/{token}?lang=en").get_data(as_text=True)
    assert "No visits are planned at the moment." in page and 'name="topic"' not in page
    client.post(f"/outreach/v/{token}", data={"topic": "money"})
    assert notes(fresh_db) == []


@pytest.mark.browser
def test_a_visitor_leaves_a_note_on_a_phone_without_javascript_or_login(browser, live_server, venue_with_visits,
                                                                        fresh_db):
    from tests.browser import PHONE, assert_accessible

    venue, _first, _second = venue_with_visits
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="sv-SE", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"/outreach/v/{venue.public_token}?lang=sv")
        assert page.locator("html").get_attribute("lang") == "sv"
        assert page.locator("h1").inner_text() == "Diakoniakahvila"
        page.get_by_label("Boende").check()
        page.get_by_role("button", name="Skicka").click()
        assert "Tack! Personalen vet nu" in page.content()
        # Nothing sticks out sideways at 360 px.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
    # axe needs scripts: the same page again with them on.
    context = browser.new_context(viewport=PHONE, base_url=live_server.url, locale="sv-SE")
    try:
        page = context.new_page()
        page.goto(f"/outreach/v/{venue.public_token}?lang=sv")
        assert_accessible(page, context="public venue page")
        page.get_by_role("button", name="Skicka").click()   # no topic chosen: the error at the field
        assert page.locator(".error-summary").is_visible()
        assert_accessible(page, context="public venue page with an error")
    finally:
        context.close()
    assert [row[2] for row in notes(fresh_db)] == ["housing"]
