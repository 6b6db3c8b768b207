"""A participant gives feedback from a phone with the code; staff read the results. axe-core on
every page reached."""
from __future__ import annotations

import pytest

from core.extensions import db
from feedback import services
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD
from tests.test_feedback_factories import add_responses, attend, make_group, open_now


@pytest.mark.browser
def test_feedback_from_phone_and_results(page, facilitator):
    group = make_group([facilitator], sessions=2, enrolled=6)
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    attend(group.sessions[0], group.enrolments[:5])
    open_now(window)
    add_responses(window, [[7, 8, 6, 9]] * 4, comments=["Hyvä", "Kiva", "Selkeä", "Rauhallinen"])
    code, group_id, session_id, email = window.code, group.id, group.sessions[0].id, facilitator.email
    db.session.close()

    page.goto("/f")
    assert_accessible(page, context="code entry")
    page.get_by_label("Palautekoodi").fill(code.lower())
    click_through(page, page.get_by_role("button", name="Jatka"))
    page.wait_for_url(f"**/f/{code}")

    # The form fits a 320 px phone without sideways scrolling.
    page.set_viewport_size({"width": 320, "height": 700})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page, context="form at 320 px")
    click_through(page, page.get_by_role("button", name="Lähetä palaute"))
    assert page.locator(".error-summary").is_visible()  # nothing chosen nor written yet
    assert_accessible(page, context="form with errors")

    # Keyboard: focus a radio group and move with the arrow keys; the chosen value shows.
    enjoyed = page.get_by_role("group", name="Viihdyitkö ryhmässä tänään?")
    enjoyed.get_by_role("radio", name="5", exact=True).focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")   # a vertical list on a phone: the next value is below
    assert enjoyed.get_by_role("radio", name="6", exact=True).is_checked()
    for legend, value in (("Oliko tämän päivän aiheesta sinulle hyötyä?", "9"),
                          ("Auttoivatko ohjaajat sinua tänään?", "10, erittäin paljon"),
                          ("Oletko tyytyväinen tämän päivän ryhmäkertaan?", "8")):
        page.get_by_role("group", name=legend).get_by_role("radio", name=value, exact=True).check()
    page.get_by_label("Haluatko sanoa vielä jotain? (vapaaehtoinen)").fill("Mukava kerta")
    click_through(page, page.get_by_role("button", name="Lähetä palaute"))
    page.wait_for_url("**/f/thanks")
    assert page.get_by_role("heading", level=1).inner_text() == "Kiitos palautteestasi!"
    assert_accessible(page, context="thanks")
    page.goto(f"/f/{code}")
    assert "Olet jo vastannut" in page.content()

    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, email, PASSWORD)
    # Signed in as staff, this browser cannot answer, in any tab.
    other_tab = page.context.new_page()
    other_tab.goto(f"/f/{code}")
    assert other_tab.get_by_role("heading", level=1).inner_text() == "Työntekijä ei voi vastata"
    other_tab.close()
    page.goto(f"/feedback/sessions/{session_id}/show")
    assert page.locator(".feedback-code").inner_text() == code
    assert page.locator("img.feedback-qr").evaluate("img => img.naturalWidth") > 0
    assert_accessible(page, context="show to participants")
    click_through(page, page.get_by_role("button", name="Sulje nyt"))
    page.goto(f"/feedback/groups/{group_id}")
    assert "Mukava kerta" in page.content()  # five answers from five present, five comments: released
    assert page.locator("img[src*='charts/means.svg']").evaluate("img => img.naturalWidth") > 0
    assert_accessible(page, context="results")
