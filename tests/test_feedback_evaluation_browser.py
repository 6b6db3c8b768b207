"""At 360 px in Chromium: a group's facilitator chooses the short form on the group's feedback
settings page, and once the round is over the group's evaluation page shows the released figures
itself (charts that load, tables beside them, on the short form's own 1–5 scale). axe-core on
every page reached."""
from __future__ import annotations

import pytest

from core.extensions import db
from feedback import services
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD
from tests.test_feedback_factories import attend, close_window, make_group
from tests.test_feedback_short_form import add_sheets


@pytest.mark.browser
def test_facilitator_chooses_the_short_form_and_reads_it_on_the_evaluation_page(page, facilitator):
    group = make_group([facilitator], sessions=1, enrolled=6)
    group_id, email = group.id, facilitator.email
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto(f"/feedback/groups/{group_id}/settings")
    assert_accessible(page, context="feedback settings")
    page.get_by_label("Ryhmäkerran palautteen kysymykset").select_option(
        label="Kohtaamo: lyhyt palaute (3 kysymystä, hymiöt)")
    click_through(page, page.get_by_role("button", name="Tallenna"))
    assert "Palautteen asetukset tallennettiin." in page.content()

    from groups.models import Group

    group = db.session.get(Group, group_id)
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    assert window.item_set.scale == "1-5"
    attend(group.sessions[0], group.enrolments)
    add_sheets(window, [[4, 5, 4]] * 5 + [[None, 3, 2]])
    close_window(window)
    db.session.close()

    page.goto(f"/groups/{group_id}/evaluation")
    summary = page.locator("section.feedback-summary")
    assert "Koko ryhmäkierroksen keskiarvot (1–5): 6 vastausta 6 ihmiseltä" in summary.inner_text()
    for kind in ("means", "distribution"):
        image = summary.locator(f"img[src*='charts/{kind}.svg']")
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), kind
    means = summary.get_by_role("table").first.inner_text()
    assert "4,0" in means and "4,7" in means and "3,7" in means   # 4·5/5, (5·5+3)/6, (4·5+2)/6
    # The feedback part stays inside its section (its tables scroll inside their own regions).
    # (The section itself is as wide as the page's grid column, which the groups feature's
    # evaluation form beside it sets; at 360 px that form is wider than the screen: reported.)
    too_wide = summary.evaluate("""s => [...s.querySelectorAll('*')].filter(e => !e.closest('.table-wrap'))
        .filter(e => e.getBoundingClientRect().right > s.getBoundingClientRect().right + 1)
        .map(e => e.tagName + '.' + e.className)""")
    assert too_wide == []
    assert_accessible(page, context="evaluation page with feedback figures")
