"""Language of parts on the participant's feedback form (WCAG 3.1.2, issue 27): a lead's own
question that has no Swedish or English wording falls back to the Finnish one, and then the
question says lang="fi", so a Swedish or English screen reader voice does not read Finnish
with its own pronunciation. Translated questions carry no lang of their own (they are in the
page's language). Read twice from the outside: the served HTML through BeautifulSoup, and the
page in Chromium at 360 px, where the language each legend is read in is the nearest [lang]."""
from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from core.extensions import db
from feedback import services
from tests.browser import assert_accessible
from tests.test_feedback_factories import open_session_window

FINNISH_ONLY = "Tulinko kuulluksi?"
TRANSLATED = {"fi": "Saitko apua?", "sv": "Fick du hjälp?", "en": "Did you get help?"}
COMMENT_FI = "Mitä muuta haluat sanoa?"
LANG_OF = "(el) => el.closest('[lang]').getAttribute('lang')"


@pytest.fixture
def window(facilitator):
    window = open_session_window([facilitator])
    own = services.create_item_set(kind="session", name="Oma mittari", comment_labels={"fi": COMMENT_FI},
                                   item_labels=[{"fi": FINNISH_ONLY}, TRANSLATED])
    window.item_set_id = own.id
    db.session.commit()
    return window


def _lang_of(tag) -> str | None:
    for node in [tag, *tag.parents]:
        if getattr(node, "attrs", None) and node.get("lang"):
            return node["lang"]
    return None


@pytest.mark.parametrize("language", ["sv", "en"])
def test_finnish_fallback_question_says_it_is_finnish(client, window, language):
    html = client.get(f"/f/{window.code}", headers={"Accept-Language": language}).get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == language
    legends = {legend.get_text(strip=True): legend for legend in soup.select("fieldset.score legend")}
    assert set(legends) == {FINNISH_ONLY, TRANSLATED[language]}
    assert _lang_of(legends[FINNISH_ONLY]) == "fi"
    assert _lang_of(legends[TRANSLATED[language]]) == language
    comment = soup.find("label", attrs={"for": "comment"})
    assert comment.get_text(strip=True) == COMMENT_FI and _lang_of(comment) == "fi"


def test_finnish_page_adds_no_lang(client, window):
    soup = BeautifulSoup(client.get(f"/f/{window.code}").get_data(as_text=True), "html.parser")
    assert soup.html["lang"] == "fi"
    assert not soup.select("main [lang]"), soup.select("main [lang]")


@pytest.mark.browser
@pytest.mark.parametrize("language", ["sv", "en"])
def test_fallback_language_in_the_browser(page, window, language):
    code = window.code
    db.session.close()
    page.goto(f"/f/{code}")
    # The participant switches the language as anyone would: the header's language form.
    page.select_option("#language-select", language)
    page.click(".language-form button")
    page.wait_for_url(f"**/f/{code}")
    assert page.evaluate("document.documentElement.lang") == language
    assert page.evaluate("window.innerWidth") == 360
    assert page.locator("legend", has_text=FINNISH_ONLY).evaluate(LANG_OF) == "fi"
    assert page.locator("legend", has_text=TRANSLATED[language]).evaluate(LANG_OF) == language
    assert page.locator("label[for=comment]").evaluate(LANG_OF) == "fi"
    # The radio group's accessible name is the Finnish question (the legend names the fieldset).
    group = page.get_by_role("group", name=FINNISH_ONLY)
    assert group.count() == 1
    assert_accessible(page, context=f"feedback form ({language})")
