"""Language of parts (WCAG 3.1.2), read by a real browser: text in another language than the
page says so with ``lang``, and only that text. A Swedish-speaking worker prints the plan of a
Finnish-speaking client: the handout is Finnish, the page around it (staff header, title, back
link) stays Swedish. Finnish outbox message bodies and the Finnish names of built-in feedback
sets carry lang="fi" on a Swedish page."""
from __future__ import annotations

import pytest

from core.extensions import db
from tests.browser import assert_accessible, browser_login
from tests.factories import PASSWORD, make_client, make_user
from tests.test_meetings_support import make_meeting
from tests.test_words_on_pages import _queued_message

LANG_OF = "(el) => el.closest('[lang]').getAttribute('lang')"


@pytest.mark.browser
def test_only_the_handout_is_in_the_clients_language(page):
    worker = make_user(role="lead", language="sv")
    client = make_client(language="fi", worker=worker)
    meeting = make_meeting([worker], client=client)
    _queued_message(language="fi", body="Muistutus: verkostopalaveri huomenna klo 10.00")
    ids = {"meeting": meeting.id}
    email = worker.email
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto(f"/meetings/{ids['meeting']}/plan")
    assert page.evaluate("document.documentElement.lang") == "sv"
    assert page.locator("header.site-header").evaluate(LANG_OF) == "sv"
    handout = page.locator("article.plan-handout")
    assert handout.evaluate(LANG_OF) == "fi"
    assert handout.locator("h1").inner_text() == "Meidän suunnitelmamme"
    assert page.locator("h1").count() == 1
    back = page.locator("main p.no-print a")
    assert back.inner_text() == "Tillbaka till mötet" and back.evaluate(LANG_OF) == "sv"
    assert page.title().startswith("Utskrivbar plan")
    assert_accessible(page, context="printable plan")

    page.goto("/reminders/outbox")
    body = page.locator("p.reminders-body").first
    assert "verkostopalaveri" in body.inner_text()
    assert body.evaluate(LANG_OF) == "fi"
    assert page.locator("main h1").evaluate(LANG_OF) == "sv"
    assert_accessible(page, context="outbox")

    page.goto("/feedback/item-sets")
    names = page.locator("main section.panel h2 span[lang]")
    assert names.count() >= 3
    for i in range(names.count()):
        assert names.nth(i).evaluate(LANG_OF) == "fi"
        assert names.nth(i).inner_text().startswith("Kohtaamo: ")
    assert_accessible(page, context="feedback sets")
