"""Titles, where-you-are and the words of dates and times (#27.8 and #27.9), read in Chromium at
phone width as a screen reader would get them: the document's title, the sub-navigation's
aria-current, what the logo is, and the dates and times a Swedish and an English user read.
tests/test_ux_titles.py and tests/test_words_on_pages.py read the same through an HTML parser;
this proves the browser sees it too (issue #27: "each point has a browser test at 360 px")."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest

from core.extensions import db
from core.timeutil import local_today
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_client, make_user
from tests.test_groups_support import make_group
from tests.test_meetings_support import make_meeting

pytestmark = pytest.mark.browser


def _next_weekday(start: date) -> date:
    day = start + timedelta(days=5)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _switch_language(page, language: str) -> None:
    menu = page.locator("summary.nav-menu-button")
    if menu.is_visible():
        menu.click()
    page.select_option("#language-select", language)
    click_through(page, page.locator("form.language-form button[type=submit]"))


def test_titles_name_the_record_and_say_error_first(app, page, live_server):
    fiia = make_user(email="fiia@example.fi", name="Fiia Fasilitaattori")
    client = make_client(name="Matti Kuusela", worker=fiia)
    day = _next_weekday(local_today())
    meeting = make_meeting([fiia], client=client, day=day, at=time(14, 5), purpose="Asumisen suunnitelma")
    group = make_group(fiia, make_user(), title="Raharyhmä kevät", weeks=2, first=date(2027, 1, 4))
    db.session.commit()

    browser_login(page, "fiia@example.fi", PASSWORD)
    page.goto(f"/meetings/{meeting.id}")
    title = page.title()
    assert "Asumisen suunnitelma" in title and f"{day.day}.{day.month}.{day.year}" in title, title
    assert "Kuusela" not in title and "Matti" not in title, title
    assert not title.startswith("Virhe:")

    # The plan's add form sent empty: the title says so first, and still names the meeting.
    click_through(page, page.get_by_role("button", name="Lisää suunnitelmaan"))
    assert page.title().startswith("Virhe: "), page.title()
    assert "Asumisen suunnitelma" in page.title()
    assert_accessible(page, context="meeting page after a failed submit")

    # The group's sub-navigation marks the page shown, for assistive technology too.
    page.goto(f"/groups/{group.id}/participants")
    assert "Raharyhmä kevät" in page.title()
    current = page.locator('nav.group-nav a[aria-current="page"]')
    assert current.count() == 1 and current.inner_text().strip() == "Osallistujat"
    page.goto(f"/groups/{group.id}/attendance")
    assert page.locator('nav.group-nav a[aria-current="page"]').inner_text().strip() == "Läsnäolo"


def test_the_logo_is_no_link_to_the_staff_login_on_a_participants_page(app, page, live_server):
    page.goto("/f")
    brand = page.locator(".brand")
    assert brand.count() == 1
    assert brand.evaluate("e => e.tagName") == "SPAN"
    assert page.get_by_role("link", name="Kohtaamo").count() == 0
    assert_accessible(page, context="participant's code page")


@pytest.mark.parametrize("language, date_text, time_text", [
    # Babel's sv_FI: 6.12.2026 and 14.05; en_FI: day first (06/12/2026) and a 24-hour clock.
    ("sv", "{d}.{m}.{y}", "14.05"),
    ("en", "{d:02d}/{m:02d}/{y}", "14.05"),
])
def test_dates_and_times_read_the_finnish_way_in_swedish_and_english(app, page, live_server, language, date_text,
                                                                      time_text):
    fiia = make_user(email="fiia@example.fi", name="Fiia Fasilitaattori")
    day = _next_weekday(local_today())
    meeting = make_meeting([fiia], client=make_client(name="Laura S.", worker=fiia), day=day, at=time(14, 5),
                           purpose="Asumisen suunnitelma")
    db.session.commit()
    browser_login(page, "fiia@example.fi", PASSWORD)
    _switch_language(page, language)
    page.goto(f"/meetings/{meeting.id}")
    text = page.locator("main").inner_text()
    assert date_text.format(d=day.day, m=day.month, y=day.year) in text, text[:800]
    assert time_text in text, text[:800]
    # No US date (month first) and no 12-hour clock.
    assert f"{day.month}/{day.day}/" not in text
    assert not re.search(r"\b\d{1,2}[:.]\d{2}\s?(AM|PM|am|pm)\b", text)
    assert page.evaluate("document.documentElement.lang") == language
    assert_accessible(page, context=f"meeting page in {language}")
