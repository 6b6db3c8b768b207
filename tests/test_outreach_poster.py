"""The venue's poster (#25.3) and the public venue page its QR code opens. The poster is printed by
Chromium to a PDF, the PDF's first page is rendered to PNG by poppler's pdftoppm, and the QR code
is decoded from those pixels by zbar (zbarimg): one A4 page, whose code leads (without a login) to
the page of the venue's coming visits."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from core.extensions import db
from core.timeutil import now_utc
from outreach.models import OutreachVenue
from reminders.notices import save_team_settings
from tests.test_outreach_visits import make_venue, make_visit


def coming(venue, days):
    start = now_utc().replace(hour=11, minute=0, second=0, microsecond=0) + timedelta(days=days)
    return make_visit(venue, start)


@pytest.fixture
def poster_venue(lead):
    venue = make_venue("Diakoniakahvila")
    for days in (40, 5, 12, 26):
        coming(venue, days)
    save_team_settings(contact_phone="09 816 45000", opening_hours="", user=lead)
    db.session.commit()
    return venue


def test_poster_shows_the_next_three_visits_topics_phone_and_a_qr_code(auth_client, app, poster_venue):
    page = auth_client.get(f"/outreach/venues/{poster_venue.id}/poster?lang=sv").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Här kan du prata med stadens socialarbetare" in page
    visits = re.search(r'<ul class="outreach-poster-visits">(.*?)</ul>', page, re.S)[1]
    assert visits.count("<li>") == 3          # the 40-day one is the fourth
    assert "Telefon: 09 816 45000" in page and "<li>Boende</li>" in page
    assert "<svg" in page and "<script" not in page
    token = db.session.get(OutreachVenue, poster_venue.id).public_token
    assert f"/outreach/v/{token}?lang=sv" in page
    # The public page needs no login (a browser that never signed in); a wrong token is a 404.
    client = app.test_client()
    public = client.get(f"/outreach/v/{token}?lang=en")
    assert public.status_code == 200
    body = public.get_data(as_text=True)
    assert '<html lang="en">' in body and "Diakoniakahvila" in body and body.count("<li>") >= 4
    assert client.get("/outreach/v/not-the-token").status_code == 404
    assert client.get(f"/outreach/venues/{poster_venue.id}/poster").status_code == 302   # staff only


def test_a_poster_without_coming_visits_says_so(auth_client, facilitator):
    venue = make_venue("Työpaja Verstas")
    page = auth_client.get(f"/outreach/venues/{venue.id}/poster?lang=en").get_data(as_text=True)
    assert "No visits are planned at the moment." in page
    assert 'class="outreach-poster-visits"' not in page


@pytest.mark.browser
def test_printed_poster_is_one_a4_page_whose_qr_code_opens_the_venue_page(page, live_server, poster_venue,
                                                                            facilitator, tmp_path, app):
    from tests.browser import assert_accessible, browser_login
    from tests.factories import PASSWORD

    for tool in ("pdftoppm", "pdfinfo", "zbarimg"):
        if shutil.which(tool) is None:
            message = f"{tool} is not installed (poppler-utils, zbar-tools; .ci/run installs them)"
            if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: a missing tool fails, never skips
                pytest.fail(message)
            pytest.skip(message)
    browser_login(page, facilitator.email, PASSWORD)
    page.goto(f"/outreach/venues/{poster_venue.id}/poster?lang=fi")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360   # the phone width of the fixture
    assert_accessible(page, context="poster")
    pdf = tmp_path / "poster.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    assert abs(float(size[1]) - 595.28) < 2 and abs(float(size[2]) - 841.89) < 2   # A4 in points
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "150", "-png", str(pdf), str(tmp_path / "p")],
                   check=True)
    png = next(tmp_path.glob("p*.png"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Diakoniakahvila" in text and "09 816 45000" in text
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True,
                             check=True).stdout.strip()
    token = db.session.get(OutreachVenue, poster_venue.id).public_token
    assert urlsplit(decoded).path == f"/outreach/v/{token}"
    # The decoded address opens the venue's page in a browser that is not signed in.
    other = page.context.browser.new_context()
    try:
        public = other.new_page()
        public.goto(live_server.url + urlsplit(decoded).path + "?" + urlsplit(decoded).query)
        assert public.locator("h1").inner_text() == "Diakoniakahvila"
        assert public.evaluate("document.documentElement.lang") == "fi"
        assert_accessible(public, context="public venue page")
    finally:
        other.close()


def test_the_demo_has_a_poster_ready_venue_with_topic_notes(app, runner):
    import sqlalchemy as sa

    from outreach.models import OutreachTopicNote
    from tests.factories import login

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    venue = db.session.scalar(sa.select(OutreachVenue).where(OutreachVenue.name == "Diakonian avoin kahvila"))
    browser = app.test_client()
    login(browser, "ohjaaja@example.fi", "kohtaamo-demo")
    poster = browser.get(f"/outreach/venues/{venue.id}/poster?lang=fi").get_data(as_text=True)
    visits = re.search(r'<ul class="outreach-poster-visits">(.*?)</ul>', poster, re.S)[1]
    assert visits.count("<li>") == 3 and "<svg" in poster
    note = db.session.scalars(sa.select(OutreachTopicNote).where(OutreachTopicNote.venue_id == venue.id)).first()
    page = browser.get(f"/outreach/visits/{note.visit_id}").get_data(as_text=True)
    assert "Etuudet (Kela): 3 viestiä" in page
