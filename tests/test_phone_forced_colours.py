"""Forced colours (Windows High Contrast, issue 27.1): on the roll call the native radios are
hidden behind big labels, so the chosen option must show in a way that survives the system
colours. Chromium emulates `forced-colors: active`; the label is photographed before and after it
is chosen (focus moved away both times) and the two pictures must differ."""
from __future__ import annotations

import pytest

from tests.browser import assert_accessible
from tests.phone_walk import seed_demo, sign_in


def _unfocused_shot(page, locator) -> bytes:
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)
    return locator.screenshot(animations="disabled")


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chosen_roll_call_option_is_visible_under_forced_colours(app, runner, page, scheme):
    seed_demo(app, runner)
    sign_in(page, "ohjaaja@example.fi")
    page.emulate_media(forced_colors="active", color_scheme=scheme)
    page.goto("/groups/1/sessions/1/roll-call")
    assert page.evaluate("() => matchMedia('(forced-colors: active)').matches")
    radio = page.locator(".roll-call-option input:not(:checked)").first
    radio_id = radio.get_attribute("id")
    label = page.locator(f"label[for='{radio_id}']")
    before = _unfocused_shot(page, label)
    label.click()
    assert page.locator(f"#{radio_id}").is_checked()
    after = _unfocused_shot(page, label)
    assert before != after, "the chosen option looks exactly as it did before it was chosen"
    # Not only a different picture: a mark or a border that is not a background colour.
    style = label.evaluate("""el => {
      const s = getComputedStyle(el), b = getComputedStyle(el, '::before');
      return {mark: b.content, border: s.borderTopWidth, adjust: s.forcedColorAdjust};
    }""")
    assert "✓" in style["mark"] or float(style["border"].rstrip("px")) >= 4, style
    # axe-core reads the author's colours, not the system's, so it runs with forced colours off.
    page.emulate_media(forced_colors="none", color_scheme="light")
    assert_accessible(page, context="roll call with a chosen option")
