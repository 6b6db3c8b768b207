"""Announced results (#27.3): after each submit of the five main tasks, done with the keyboard
alone at 360 px, focus lands on the outcome (the success message, or the error summary), and
the outcome is inside the viewport; axe finds nothing on the pages reached.

The five tasks: plan a group, arrange a meeting and add a plan item, take a roll call, answer
feedback, record an outreach visit's counts."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.db import utcnow
from core.extensions import db
from core.timeutil import local_today
from tests.browser import assert_accessible, browser_login
from tests.factories import PASSWORD, make_client, make_user
from tests.test_groups_support import make_group
from tests.test_meetings_support import make_contact

pytestmark = pytest.mark.browser

FOCUS_JS = """() => {
  const a = document.activeElement;
  const r = a.getBoundingClientRect();
  return {id: a.id, cls: a.className, text: a.innerText || '', top: r.top, bottom: r.bottom,
          height: window.innerHeight, tag: a.tagName};
}"""


def keyboard_submit(page, selector: str) -> None:
    """Focus the submit button and press Enter (no mouse), then wait for the next page."""
    page.focus(selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def focused_outcome(page) -> dict:
    # Autofocus runs at the browser's next rendering step after the load.
    page.wait_for_function("() => document.activeElement && document.activeElement !== document.body", timeout=3000)
    return page.evaluate(FOCUS_JS)


def assert_message_focused(page, text: str, context: str) -> None:
    state = focused_outcome(page)
    assert state["id"] == "messages", f"{context}: focus on {state}"
    assert text in state["text"], f"{context}: {state['text']!r}"
    assert 0 <= state["top"] < state["height"], f"{context}: message out of view {state}"
    assert not page.title().startswith("Virhe:")


def assert_summary_focused(page, context: str) -> None:
    state = focused_outcome(page)
    assert "error-summary" in state["cls"], f"{context}: focus on {state}"
    assert 0 <= state["top"] < state["height"], f"{context}: summary out of view {state}"
    assert page.title().startswith("Virhe:"), page.title()


def test_plan_a_group_by_keyboard(page, facilitator):
    make_user(name="Pekka Peltonen")
    db.session.commit()
    email = facilitator.email
    db.session.close()
    browser_login(page, email, PASSWORD)

    page.goto("/groups/ideas")
    keyboard_submit(page, "main form button[type=submit]")
    assert_summary_focused(page, "empty idea")
    page.fill("#theme", "Raharyhmä")
    keyboard_submit(page, "main form button[type=submit]")
    assert_message_focused(page, "", "idea saved")
    assert_accessible(page, context="idea saved")

    page.goto("/groups/new")
    page.fill("#title", "")
    keyboard_submit(page, "main form button[type=submit]")
    assert_summary_focused(page, "empty group")
    page.fill("#title", "Raharyhmä kevät")
    keyboard_submit(page, "main form button[type=submit]")
    assert re.search(r"/groups/\d+$", page.url), page.url
    assert_message_focused(page, "", "group saved")
    assert_accessible(page, context="group saved")


def test_arrange_a_meeting_and_add_a_plan_item_by_keyboard(page, facilitator):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    make_contact("Sovatek-säätiö")
    db.session.commit()
    client_id, email = client.id, facilitator.email
    day = local_today() + timedelta(days=3)
    db.session.close()
    browser_login(page, email, PASSWORD)

    page.goto(f"/meetings/new/{client_id}")
    page.fill("#day", day.isoformat())
    page.fill("#start", "13:00")
    keyboard_submit(page, "main form button[type=submit]")
    assert_summary_focused(page, "meeting without a purpose")
    page.fill("#purpose", "Asumisen suunnitelma")
    keyboard_submit(page, "main form button[type=submit]")
    assert re.search(r"/meetings/\d+$", page.url), page.url
    assert_message_focused(page, "", "meeting arranged")
    assert_accessible(page, context="meeting arranged")

    page.evaluate("() => { document.querySelector(\"main form[action$='/items']\").noValidate = true; }")
    keyboard_submit(page, "main form[action$='/items'] button[type=submit]")
    assert_summary_focused(page, "empty plan item")
    page.fill("#what", "Soittaa vuokranantajalle")
    page.select_option("#responsible", label="Matti Kuusela")
    keyboard_submit(page, "main form[action$='/items'] button[type=submit]")
    assert_message_focused(page, "", "plan item added")
    assert "Soittaa vuokranantajalle" in page.inner_text("main")
    assert_accessible(page, context="plan item added")


def test_take_a_roll_call_by_keyboard(page, facilitator):
    group = make_group(facilitator, make_user(), weeks=1, status="running", first=local_today() + timedelta(days=7))
    person = make_client(name="Anna Aalto", worker=facilitator)
    from groups import services as group_services

    group_services.enrol(group, person.id)
    session = group.sessions[0]
    session.starts_at = utcnow() - timedelta(hours=2)
    session.ends_at = session.starts_at + timedelta(minutes=90)
    db.session.commit()
    url = f"/groups/{group.id}/sessions/{session.id}/roll-call"
    email = facilitator.email
    db.session.close()
    browser_login(page, email, PASSWORD)

    page.goto(url)
    page.focus("input[type=radio][value=present]")
    page.keyboard.press("Space")
    keyboard_submit(page, "button.roll-call-save")
    assert_message_focused(page, "Läsnäolot tallennettu.", "roll call saved")
    assert_accessible(page, context="roll call saved")


def test_answer_feedback_by_keyboard(page, facilitator):
    from tests.test_feedback_factories import open_session_window

    window = open_session_window([facilitator])
    code = window.code
    db.session.commit()
    db.session.close()

    page.goto(f"/f/{code}")
    keyboard_submit(page, "main form button[type=submit]")
    assert_summary_focused(page, "feedback without answers")
    for fieldset in page.locator("main form fieldset").all():
        fieldset.locator("input[type=radio]").nth(7).check()
    keyboard_submit(page, "main form button[type=submit]")
    page.wait_for_url("**/f/thanks")
    # The outcome is the page itself: its heading is at the top, in view.
    heading = page.locator("main h1").bounding_box()
    assert heading and 0 <= heading["y"] < 740
    assert_accessible(page, context="feedback thanks")


def test_record_an_outreach_visit_by_keyboard(page, app):
    from tests.test_outreach_browser import _venue_with_visits

    worker = make_user(name="Sanna Saarinen", email="sanna@example.fi")
    other = make_user(name="Pekka Peltonen")
    _venue, visit = _venue_with_visits(worker, other)
    visit_id = visit.id
    db.session.commit()
    db.session.close()
    browser_login(page, "sanna@example.fi", PASSWORD)

    page.goto(f"/outreach/visits/{visit_id}/counts")
    page.evaluate("() => { document.querySelector('main form').noValidate = true; }")
    keyboard_submit(page, "main form button[type=submit]")
    assert_summary_focused(page, "counts without people met")
    page.fill("#people_met", "6")
    page.fill("#met_one_to_one", "6")  # the counts must add up to the people met
    keyboard_submit(page, "main form button[type=submit]")
    page.wait_for_url(f"**/outreach/visits/{visit_id}")
    assert_message_focused(page, "Kiitos", "counts saved")
    assert_accessible(page, context="counts saved")
