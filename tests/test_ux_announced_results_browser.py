"""Announced results (#27.3): after each submit of the five main tasks, done with the keyboard
alone at 360 px, focus lands on the outcome (the success message, or the error summary), and
the outcome is inside the viewport, and the success message says what was done; axe finds
nothing on the pages reached. "Keyboard alone" is literal: fields, selects, radios and submit
buttons are reached with Tab (tab_to fails when Tab order never gets there) and filled by typing
or with the arrow keys; nothing is focused, filled or clicked by the script.

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


MAX_TABS = 200


def tab_to(page, selector: str) -> None:
    """Press Tab (only Tab: no programmatic focus, no mouse) until the element ``selector``
    names has the focus; fails when Tab order never reaches it."""
    for _ in range(MAX_TABS):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def key_fill(page, selector: str, text: str) -> None:
    """Tab to a text field, clear it and type, as a keyboard user does."""
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    if text:
        page.keyboard.type(text)
    assert page.input_value(selector) == text, (selector, page.input_value(selector))


def key_date(page, selector: str, day) -> None:
    """A native date field, typed segment by segment. The segments' order is the browser's own
    (Chromium's UI language, not the page's): day first, and if the browser reads month first,
    clear the segments with the keyboard and type it that way."""
    tab_to(page, selector)
    page.keyboard.type(f"{day.day:02d}{day.month:02d}{day.year}")
    if page.input_value(selector) != day.isoformat():
        # Clear the three segments from the last (Backspace, then left to the one before).
        for key in ("Backspace", "ArrowLeft", "Backspace", "ArrowLeft", "Backspace"):
            page.keyboard.press(key)
        page.keyboard.type(f"{day.month:02d}{day.day:02d}{day.year}")
    assert page.input_value(selector) == day.isoformat(), page.input_value(selector)


def key_time(page, selector: str, hhmm: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(hhmm.replace(":", ""))
    assert page.input_value(selector) == hhmm, page.input_value(selector)


def key_select(page, selector: str, label: str) -> None:
    """Tab to a select and move with the arrow keys until the option is chosen."""
    tab_to(page, selector)
    for _ in range(50):
        chosen = page.evaluate("(s) => { const e = document.querySelector(s); return e.options[e.selectedIndex].text; }",
                               selector)
        if chosen.strip() == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{label!r} not reached in {selector}")


def keyboard_submit(page, selector: str) -> None:
    """Tab to the submit button and press Enter (no mouse), then wait for the next page."""
    tab_to(page, selector)
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
    assert -1 < state["top"] < state["height"], f"{context}: message out of view {state}"  # sub-pixel scroll
    assert not page.title().startswith("Virhe:")


def assert_summary_focused(page, context: str) -> None:
    state = focused_outcome(page)
    assert "error-summary" in state["cls"], f"{context}: focus on {state}"
    assert -1 < state["top"] < state["height"], f"{context}: summary out of view {state}"  # sub-pixel scroll
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
    key_fill(page, "#theme", "Raharyhmä")
    keyboard_submit(page, "main form button[type=submit]")
    assert_message_focused(page, "Idea tallennettu.", "idea saved")
    assert_accessible(page, context="idea saved")

    page.goto("/groups/new")
    key_fill(page, "#title", "")
    keyboard_submit(page, "main form button[type=submit]")
    assert_summary_focused(page, "empty group")
    key_fill(page, "#title", "Raharyhmä kevät")
    keyboard_submit(page, "main form button[type=submit]")
    assert re.search(r"/groups/\d+$", page.url), page.url
    assert_message_focused(page, "Ryhmä tallennettu.", "group saved")
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
    key_date(page, "#day", day)
    key_time(page, "#start", "13:00")
    keyboard_submit(page, "main form button[type=submit]")
    assert_summary_focused(page, "meeting without a purpose")
    key_fill(page, "#purpose", "Asumisen suunnitelma")
    keyboard_submit(page, "main form button[type=submit]")
    assert re.search(r"/meetings/\d+$", page.url), page.url
    assert_message_focused(page, "Verkostopalaveri sovittu.", "meeting arranged")
    assert_accessible(page, context="meeting arranged")

    page.evaluate("() => { document.querySelector(\"main form[action$='/items']\").noValidate = true; }")
    keyboard_submit(page, "main form[action$='/items'] button[type=submit]")
    assert_summary_focused(page, "empty plan item")
    key_fill(page, "#what", "Soittaa vuokranantajalle")
    key_select(page, "#responsible", "Matti Kuusela")
    keyboard_submit(page, "main form[action$='/items'] button[type=submit]")
    assert_message_focused(page, "Tehtävä lisätty suunnitelmaan.", "plan item added")
    assert "Soittaa vuokranantajalle" in page.inner_text("main")
    assert_accessible(page, context="plan item added")


def test_take_a_roll_call_by_keyboard(page, facilitator):
    group = make_group(facilitator, make_user(), weeks=1, status="running", first=local_today() + timedelta(days=7))
    person = make_client(name="Anna Aalto", worker=facilitator)
    from groups import enrolment

    enrolment.enrol(group, person.id)
    session = group.sessions[0]
    session.starts_at = utcnow() - timedelta(hours=2)
    session.ends_at = session.starts_at + timedelta(minutes=90)
    db.session.commit()
    url = f"/groups/{group.id}/sessions/{session.id}/roll-call"
    email = facilitator.email
    db.session.close()
    browser_login(page, email, PASSWORD)

    page.goto(url)
    tab_to(page, "input[type=radio][value=present]")
    page.keyboard.press("Space")
    assert page.is_checked("input[type=radio][value=present]")
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
    # Each question: Tab into its radio group (focus on "0"), seven presses of the right arrow
    # choose "7" (arrows move the choice within a group), Tab on to the next group.
    fieldsets = page.locator("main form fieldset.score").all()
    assert fieldsets
    for fieldset in fieldsets:
        tab_to(page, f"#{fieldset.get_attribute('id')} input[type=radio]")
        for _ in range(7):
            page.keyboard.press("ArrowRight")
        assert fieldset.locator("input[type=radio]:checked").get_attribute("value") == "7"
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
    key_fill(page, "#people_met", "6")
    key_fill(page, "#met_one_to_one", "6")  # the counts must add up to the people met
    keyboard_submit(page, "main form button[type=submit]")
    page.wait_for_url(f"**/outreach/visits/{visit_id}")
    assert_message_focused(page, "Kiitos", "counts saved")
    assert_accessible(page, context="counts saved")
