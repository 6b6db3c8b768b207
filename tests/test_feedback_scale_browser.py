"""The participant's feedback scale as assistive technology and other display modes get it, in
Chromium: the accessibility tree (Playwright's ARIA snapshot, and the browser's own tree through
the DevTools protocol for the descriptions), the layout at 320 px, and forced colours."""
from __future__ import annotations

import pytest

from core.extensions import db
from feedback import services
from tests.browser import assert_accessible, click_through
from tests.test_feedback_factories import make_group, open_now

TEN_ITEMS = ["Viihdyitkö ryhmässä tänään?", "Oliko tämän päivän aiheesta sinulle hyötyä?",
             "Auttoivatko ohjaajat sinua tänään?", "Oletko tyytyväinen tämän päivän ryhmäkertaan?"]
SHORT_ITEMS = ["Millainen olo sinulla oli ryhmässä?", "Millainen oli tämän päivän aihe?",
               "Millainen tämä ryhmäkerta oli sinulle?"]


def open_window(facilitator, *, short=False) -> str:
    group = make_group([facilitator], sessions=1, enrolled=6)
    if short:
        services.choose_group_sets(group, session_set=services.builtin_set("session_short"),
                                   end_set=services.builtin_set("group_end"))
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(window)
    code = window.code
    db.session.close()
    return code


def expected_snapshot(legend: str, ends: str, names: list[str]) -> str:
    """The group as Playwright's ARIA snapshot writes it: its name, the visible ends tied to it,
    and each radio's accessible name followed by the visible text of its label: the same words."""
    lines = [f'- group "{legend}":', f"  - text: {legend}", f"  - paragraph: {ends}"]
    for name in names:
        lines += [f'  - radio "{name}"', f'  - text: "{name}"' if name.isdigit() else f"  - text: {name}"]
    return "\n".join(lines)


def ax_nodes(page) -> list[dict]:
    """The browser's own accessibility tree (what a screen reader is given)."""
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    cdp.detach()
    return nodes


def ax_value(node, key) -> str:
    return (node.get(key) or {}).get("value") or ""


@pytest.mark.browser
def test_the_ten_point_scale_in_the_accessibility_tree_and_at_320_px(page, facilitator):
    code = open_window(facilitator)
    page.set_viewport_size({"width": 320, "height": 700})
    page.goto(f"/f/{code}")
    group = page.get_by_role("group", name=TEN_ITEMS[0])
    # The names pin the meaning of the ends, in the words the screen also shows.
    assert group.aria_snapshot() == expected_snapshot(
        TEN_ITEMS[0], "0, ei lainkaan … 10, erittäin paljon",
        ["0, ei lainkaan"] + [str(v) for v in range(1, 10)] + ["10, erittäin paljon", "En osaa sanoa"])
    # Every question's group carries the ends as its description (aria-describedby), as the
    # browser computes it.
    groups = {ax_value(n, "name"): ax_value(n, "description") for n in ax_nodes(page)
              if ax_value(n, "role") == "group"}
    for item in TEN_ITEMS:
        assert groups[item] == "0, ei lainkaan … 10, erittäin paljon", groups
    # One vertical list at 320 px: each option straight below the one before, none beside
    # another (so no "6" under "0"), and nothing wider than the screen.
    boxes = [group.get_by_role("radio", name=name, exact=True).bounding_box()
             for name in ["0, ei lainkaan"] + [str(v) for v in range(1, 10)] + ["10, erittäin paljon", "En osaa sanoa"]]
    assert len({round(b["x"]) for b in boxes}) == 1
    assert all(later["y"] > earlier["y"] + 20 for earlier, later in zip(boxes, boxes[1:], strict=False))
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page, context="0–10 form at 320 px")
    # At a wide screen the scale is one row.
    page.set_viewport_size({"width": 1280, "height": 900})
    boxes = [group.get_by_role("radio", name=name, exact=True).bounding_box()
             for name in ["0, ei lainkaan", "5", "10, erittäin paljon"]]
    assert len({round(b["y"]) for b in boxes}) == 1 and boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]


@pytest.mark.browser
def test_the_short_form_by_keyboard_with_faces_hidden_from_the_names(page, facilitator):
    code = open_window(facilitator, short=True)
    page.goto(f"/f/{code}")
    group = page.get_by_role("group", name=SHORT_ITEMS[0])
    assert group.aria_snapshot() == expected_snapshot(
        SHORT_ITEMS[0], "1, tosi huono … 5, tosi hyvä",
        ["1, tosi huono", "2, huono", "3, ei hyvä eikä huono", "4, hyvä", "5, tosi hyvä", "En osaa sanoa"])
    # The faces are on the screen, but not in any name.
    assert "😊" in group.inner_text()
    assert not any(face in ax_value(n, "name") for n in ax_nodes(page) for face in "😞😟😐😊😄")
    # Keyboard only: the first question by arrows, the second skipped ("don't know"), the third.
    group.get_by_role("radio", name="1, tosi huono").focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert group.get_by_role("radio", name="4, hyvä").is_checked()
    page.get_by_role("group", name=SHORT_ITEMS[1]).get_by_role("radio", name="En osaa sanoa").check()
    page.get_by_role("group", name=SHORT_ITEMS[2]).get_by_role("radio", name="5, tosi hyvä").check()
    assert_accessible(page, context="short form")
    click_through(page, page.get_by_role("button", name="Lähetä palaute"))
    page.wait_for_url("**/f/thanks")


@pytest.mark.browser
def test_the_chosen_option_shows_under_forced_colours(page, facilitator):
    code = open_window(facilitator)
    page.emulate_media(forced_colors="active")
    page.goto(f"/f/{code}")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    group = page.get_by_role("group", name=TEN_ITEMS[0])
    radio = group.get_by_role("radio", name="7", exact=True)
    option = radio.locator("xpath=..")
    other = group.get_by_role("radio", name="3", exact=True).locator("xpath=..")
    # The native radio is there to be seen (not made transparent), beside its label.
    assert radio.evaluate("r => getComputedStyle(r).opacity") == "1" and radio.is_visible()
    before = option.screenshot()
    other_before = other.screenshot()
    radio.check()
    page.mouse.move(0, 0)
    after = option.screenshot()
    other_after = other.screenshot()
    assert after != before, "the chosen option looks the same as before under forced colours"
    assert other_after == other_before   # only the chosen one changed
    assert_accessible(page, context="forced colours")
