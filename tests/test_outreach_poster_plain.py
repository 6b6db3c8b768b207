"""The venue's poster in plain Finnish (selkosuomi, "fi-selko"): a fourth poster language for readers
of Finnish as a second language or with reading difficulties. Its every sentence is measured by the
plain-language checks of the client messages (tests/test_plain_language.py: short sentences, short
words, no abbreviations such as "klo" or "ti", no "-han/-hän", no participle constructions); the
visits have the weekday and "kello" written out, and the QR code opens the Finnish public page.
Printed by Chromium it is one A4 page, read back with pdftotext and its QR code with zbarimg, as
the other posters (tests/test_outreach_poster.py)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.dates import format_date

from core.extensions import db
from core.timeutil import now_utc, to_local
from outreach.models import OutreachVenue
from reminders.notices import save_team_settings
from tests.test_outreach_visits import make_venue, make_visit
from tests.test_plain_language import problems_of, sentences

LEAD = "Sosiaalityöntekijät tulevat tänne."


@pytest.fixture
def plain_venue(lead):
    venue = make_venue("Diakoniakahvila")
    base = now_utc().replace(hour=11, minute=0, second=0, microsecond=0)
    for days in (5, 12, 26, 40):
        make_visit(venue, base + timedelta(days=days))
    save_team_settings(contact_phone="09 816 45000", opening_hours="", user=lead)
    db.session.commit()
    return venue


def poster_blocks(page: str) -> list[str]:
    """The poster's own texts (not the staff's tools around it) as a reader meets them: each
    heading, paragraph and list item, and the QR code's text for a screen reader."""
    article = re.search(r'<article class="outreach-poster[^"]*">(.*?)</article>', page, re.S)[1]
    article = re.sub(r"<svg.*?</svg>", " ", article, flags=re.S)
    blocks = [re.sub(r"<[^>]+>", " ", inner) for _tag, inner in re.findall(r"<(li|h1|h2|p)\b[^>]*>(.*?)</\1>",
                                                                          article, re.S)]
    blocks += re.findall(r'aria-label="([^"]*)"', article)
    return [unescape(re.sub(r"\s+", " ", b)).strip() for b in blocks if b.strip()]


def poster_problems(page: str, venue_name: str) -> list[str]:
    return [p for block in poster_blocks(page) for p in problems_of(block, exempt=(venue_name,))]


def test_plain_finnish_poster_is_plain_by_the_client_messages_measures(auth_client, plain_venue):
    response = auth_client.get(f"/outreach/venues/{plain_venue.id}/poster?lang=fi-selko")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="fi">' in page
    text = " ".join(poster_blocks(page))
    assert LEAD in text and "Voit soittaa meille: 09 816 45000" in text
    # The next three visits, the weekday and "kello" written out.
    visits = re.search(r'<ul class="outreach-poster-visits">(.*?)</ul>', page, re.S)[1]
    assert visits.count("<li>") == 3
    first = db.session.get(OutreachVenue, plain_venue.id).visits[0]
    weekday = format_date(to_local(first.starts_at).date(), "EEEE", locale="fi_FI")
    assert f"{weekday}na " in visits or f"{weekday} " in visits
    assert " kello " in visits and "klo" not in visits
    # Every sentence passes the plain-language measures; a URL is not a sentence to read.
    found = poster_problems(page, plain_venue.name)
    assert found == [], found
    assert max(len(s.split()) for block in poster_blocks(page) for s in sentences(block)) <= 12
    # The QR code opens the Finnish public page ("fi-selko" is no locale of the app).
    token = db.session.get(OutreachVenue, plain_venue.id).public_token
    url = re.search(r'<p class="outreach-poster-url">([^<]+)</p>', page)[1]
    assert urlsplit(url).path == f"/outreach/v/{token}" and parse_qs(urlsplit(url).query) == {"lang": ["fi"]}
    # The ordinary Finnish poster is as it was, and links to the plain one.
    ordinary = auth_client.get(f"/outreach/venues/{plain_venue.id}/poster?lang=fi").get_data(as_text=True)
    assert LEAD not in ordinary and "selkosuomeksi" in ordinary and "lang=fi-selko" in ordinary


def test_the_measures_would_catch_the_ordinary_posters_finnish(auth_client, plain_venue):
    """The check is not empty: the ordinary Finnish poster (not written as plain language) fails it."""
    page = auth_client.get(f"/outreach/venues/{plain_venue.id}/poster?lang=fi").get_data(as_text=True)
    assert poster_problems(page, plain_venue.name) != []


def test_plain_poster_without_visits_says_so_plainly(auth_client, facilitator):
    venue = make_venue("Työpaja Verstas")
    page = auth_client.get(f"/outreach/venues/{venue.id}/poster?lang=fi-selko").get_data(as_text=True)
    assert "Emme ole vielä sopineet uusia aikoja." in page
    assert poster_problems(page, venue.name) == []


@pytest.mark.browser
def test_printed_plain_poster_is_one_a4_page_whose_qr_code_opens_the_finnish_page(page, live_server, plain_venue,
                                                                                   facilitator, tmp_path):
    from tests.browser import assert_accessible, browser_login
    from tests.factories import PASSWORD

    for tool in ("pdftoppm", "pdfinfo", "pdftotext", "zbarimg"):
        if shutil.which(tool) is None:
            message = f"{tool} is not installed (poppler-utils, zbar-tools; .ci/run installs them)"
            if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: a missing tool fails, never skips
                pytest.fail(message)
            pytest.skip(message)
    browser_login(page, facilitator.email, PASSWORD)
    page.goto(f"/outreach/venues/{plain_venue.id}/poster?lang=fi-selko")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, context="plain-language poster")
    pdf = tmp_path / "poster.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert abs(float(size[1]) - 595.28) < 2 and abs(float(size[2]) - 841.89) < 2   # A4 in points
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Diakoniakahvila" in text and LEAD in text and "09 816 45000" in text
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "150", "-png", str(pdf), str(tmp_path / "p")],
                   check=True)
    png = next(tmp_path.glob("p*.png"))
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True,
                             check=True).stdout.strip()
    token = db.session.get(OutreachVenue, plain_venue.id).public_token
    assert urlsplit(decoded).path == f"/outreach/v/{token}" and parse_qs(urlsplit(decoded).query) == {"lang": ["fi"]}
