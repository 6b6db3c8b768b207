"""Plain language as a client reads it, in Chromium at 360 px: the printable plan a worker
hands out (issue 27, "the printable plan in selkokieli"). The handout's text as rendered
(dates and times included, which the template check of tests/test_plain_language.py cannot
see) passes the same measures: short sentences, no abbreviations (the weekday written out,
"kello"), no participle constructions; Swedish and English short sentences too."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.extensions import db
from core.timeutil import local_today
from meetings import plan
from tests.browser import assert_accessible, browser_login
from tests.factories import PASSWORD, make_client, make_user
from tests.test_meetings_support import make_meeting
from tests.test_plain_language import MAX_WORDS_SV_EN, problems_of, sentences, words

LINE = re.compile(r"\n+")


def _plan(language: str):
    worker = make_user(role="lead", language="fi")
    client = make_client(name="Matti Kuusela", language=language, worker=worker)
    meeting = make_meeting([worker], client=client, day=local_today() + timedelta(days=9))
    who = next(p for p in meeting.participants if p.kind == "client")
    plan.add_item(meeting, responsible_id=who.id, what="Soita vuokranantajalle",
                      due_date=local_today() + timedelta(days=16))
    plan.add_item(meeting, responsible_id=who.id, what="Varaa aika lääkärille")
    db.session.commit()
    return worker.email, meeting.id


@pytest.mark.browser
@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_printable_plan_reads_plainly(page, language):
    email, meeting_id = _plan(language)
    db.session.close()
    browser_login(page, email, PASSWORD)
    page.goto(f"/meetings/{meeting_id}/plan")
    assert page.evaluate("window.innerWidth") == 360
    handout = page.locator("article.plan-handout")
    assert handout.get_attribute("lang") in (language, None)
    text = handout.inner_text()
    # Each line of the handout as the reader sees it (a table cell, a heading or a paragraph).
    lines = [line.strip() for line in LINE.split(text) if line.strip()]
    assert len(lines) > 8, lines
    if language == "fi":
        found = [p for line in lines for p in problems_of(line, exempt=("Kuusela", "vuokranantajalle"))]
        assert not found, found
        assert re.search(r"Tapaamme \w+na \d{1,2}\.\d{1,2}\.\d{4}\.", text), text
    else:
        long = [s for line in lines for s in sentences(line) if len(words(s)) > MAX_WORDS_SV_EN]
        assert not long, long
        assert not re.search(r"\b(kl\.|Mon|Tue|Wed|Thu|Fri|Sat|Sun|mån|tis|ons|tors|fre|lör|sön)\b", text), text
    assert_accessible(page, context=f"printable plan ({language})")
