"""Dates, times, months and numbers follow the reader's language through Babel's fi_FI, sv_FI
and en_FI locales: 6.12.2026 and 10.00 in Finnish and Swedish, 06/12/2026 and a 24-hour 10.00
in English, 7,2 everywhere, month names lowercase mid-sentence. Expected strings are written
out here from the spec (issue #22/#27), not computed by the code under test; pages are read
with an HTML parser."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from bs4 import BeautifulSoup

from core.extensions import db
from core.timeutil import HELSINKI, local_today
from tests.factories import login, make_client, make_partner, make_user
from tests.test_meetings_support import make_meeting

US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2}\b")         # 12/6/26
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")             # 2026-12-06
COLON_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")               # 10:00
TWELVE_HOUR = re.compile(r"\b\d{1,2}[.:]\d{2}\s?[AP]M\b")   # 10:00 AM


@pytest.mark.parametrize("language, day, clock, mean, month, weekday", [
    ("fi", "6.12.2026", "10.00", "7,2", "joulukuu 2026", "su 6.12.2026"),
    ("sv", "6.12.2026", "10.00", "7,2", "december 2026", "sön 6.12.2026"),
    ("en", "06/12/2026", "10.00", "7,2", "December 2026", "Sun 06/12/2026"),
])
def test_one_formatting_module_per_language(language, day, clock, mean, month, weekday):
    from core import formatting

    instant = datetime(2026, 12, 6, 10, 0, tzinfo=HELSINKI)
    assert formatting.local_date(instant, locale=language) == day
    assert formatting.local_time(instant, locale=language) == clock
    assert formatting.local_time(time(10, 0), locale=language) == clock
    assert formatting.local_dt(instant, locale=language).replace(",", "") == f"{day} {clock}"
    assert formatting.time_range(time(10), time(11, 30), locale=language) == f"{clock}–11.30"
    assert formatting.number(7.24, locale=language) == mean
    assert formatting.month_year(date(2026, 12, 1), locale=language) == month
    assert formatting.month_year(date(2026, 12, 1), start=True, locale=language) == month[0].upper() + month[1:]
    assert formatting.weekday_date(date(2026, 12, 6), locale=language) == weekday
    # A change history's stored values (ISO, or the older day-first form) read in the language.
    assert formatting.recorded("2026-12-06 10:00–11:30", locale=language) == f"{day} {clock}–11.30"
    assert formatting.recorded("06.12.2026", locale=language) == day


def _page(app, language: str, url: str, role: str = "lead") -> str:
    user = make_user(role=role, language=language)
    c = app.test_client()
    login(c, user)
    response = c.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "input", "select", "textarea"]):
        hidden.decompose()
    return " ".join(soup.get_text(" ").split())


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_meeting_page_dates_and_change_history_in_the_language(app, language):
    from meetings import arranging

    worker = make_user(name="Tuula Työntekijä")
    meeting = make_meeting([worker], client=make_client(name="Matti Kuusela", worker=worker), day=date(2026, 12, 14),
                           at=time(10, 0))
    starts, ends = arranging.meeting_times(date(2026, 12, 15), time(14, 30), 60)
    arranging.update_meeting(meeting, user=worker, purpose=meeting.purpose, starts_at=starts, ends_at=ends,
                            place_kind=meeting.place_kind, place=meeting.place, remote_link=meeting.remote_link or "",
                            client_identification=meeting.client_identification)
    db.session.commit()
    text = _text(_page(app, language, f"/meetings/{meeting.id}"))
    expected = {"fi": ("14.12.2026 10.00–11.00", "15.12.2026 14.30–15.30"),
                "sv": ("14.12.2026 10.00–11.00", "15.12.2026 14.30–15.30"),
                "en": ("14/12/2026 10.00–11.00", "15/12/2026 14.30–15.30")}[language]
    for value in expected:
        assert value in text, (value, text[-1500:])
    assert not US_DATE.search(text) and not ISO_DATE.search(text) and not TWELVE_HOUR.search(text)
    assert not COLON_TIME.search(text), COLON_TIME.findall(text)


MONTHS = {
    "fi": ("tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu", "heinäkuu", "elokuu", "syyskuu",
           "lokakuu", "marraskuu", "joulukuu"),
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}


@pytest.mark.parametrize("language, caption, schedule", [
    ("fi", "Jalkautumiset, %s", "13.00–15.00"),
    ("sv", "Uppsökande besök, %s", "13.00–15.00"),
    ("en", "Outreach visits, %s", "13.00–15.00"),
])
def test_outreach_month_mid_sentence_and_schedule_times(app, language, caption, schedule):
    from outreach import services
    from outreach.models import OutreachVisit

    partner = make_partner(name="Jyväskylän seurakunta", kind="parish")
    venue = services.save_venue(None, partner_id=partner.id, name="Diakoniakahvila", address="Kirkkotie 1",
                                active=True)
    services.save_rule(venue, spec=services.RuleSpec(frequency="monthly", nth=2, weekday=1, valid_from=date(2020, 1, 1)),
                       start_time=time(13), end_time=time(15))
    day = local_today() + timedelta(days=7)
    starts = datetime.combine(day, time(13), tzinfo=HELSINKI)
    db.session.add(OutreachVisit(venue=venue, starts_at=starts, ends_at=starts + timedelta(hours=2)))
    db.session.commit()
    html = _page(app, language, "/outreach/")
    soup = BeautifulSoup(html, "html.parser")
    month = MONTHS[language][day.month - 1]
    captions = [" ".join(c.get_text(" ").split()) for c in soup.find_all("caption")]
    assert caption % f"{month} {day.year}" in captions, captions
    # The heading starts a line: capitalised there.
    headings = [" ".join(h.get_text(" ").split()) for h in soup.find_all("h2")]
    assert f"{month[0].upper()}{month[1:]} {day.year}" in headings, headings
    venue_text = _text(_page(app, language, f"/outreach/venues/{venue.id}"))
    assert schedule in venue_text, venue_text[:800]
    assert not COLON_TIME.search(venue_text)


def test_sms_clock_is_the_languages_own():
    from reminders.texts import when_text

    starts = datetime(2026, 12, 8, 10, 0, tzinfo=HELSINKI)
    assert "10.00" in when_text(starts, "en") and "10:00" not in when_text(starts, "en")
    assert "10.00" in when_text(starts, "sv")



@pytest.mark.parametrize("language, when", [("fi", "7.12.2026 10.15"), ("sv", "7.12.2026 10.15"),
                                            ("en", "07/12/2026, 10.15")])
def test_a_conflict_is_dated_in_the_readers_language(app, language, when):
    """The "busy at the same time" warning of every feature (core.conflicts.Conflict.when) wrote
    its date with strftime: "07.12.2026 10:15" in every language."""
    from flask_babel import force_locale

    from core.conflicts import Conflict

    conflict = Conflict(kind="meeting", record_id=1, starts_at=datetime(2026, 12, 7, 10, 15, tzinfo=HELSINKI),
                        ends_at=datetime(2026, 12, 7, 11, 0, tzinfo=HELSINKI))
    with app.test_request_context(), force_locale(language):
        assert conflict.when == when
