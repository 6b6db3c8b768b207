"""The outreach figures for the city as a CSV (#25.4), read back with Python's own csv parser: one
row per venue and month or quarter, in the downloader's language (Finnish here, with Finnish
number formatting), and k-suppression with FEEDBACK_MIN_RESPONSES: a figure about fewer than k
people is hidden, zero is shown. Only a lead downloads it."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from core.extensions import db
from tests.test_outreach_report import add_done_visit, month_start
from tests.test_outreach_visits import make_venue


def read(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


@pytest.fixture
def seeded(facilitator, lead):
    lead.language = "fi"
    venue = make_venue("Diakoniakahvila")
    m1, m2 = month_start(2), month_start(1)
    # Month 1: 12 people, 6 new, 7 with money matters, 2 with housing (hidden), 1 referred (hidden).
    add_done_visit(venue, m1 + timedelta(days=9), facilitator, people_met=12, people_new=6, met_one_to_one=12,
                   topic_money=7, topic_housing=2, errands_sorted=5, referred_kela=1)
    # Month 2: 3 people in all: everything about them is hidden, the visit counts are not.
    add_done_visit(venue, m2 + timedelta(days=9), facilitator, people_met=3, people_new=1, met_one_to_one=3,
                   topic_money=3)
    db.session.commit()
    return venue, m1, m2


def test_csv_by_month_hides_figures_about_fewer_than_k_people(lead_client, seeded, app):
    app.config["FEEDBACK_MIN_RESPONSES"] = 5
    _venue, m1, m2 = seeded
    response = lead_client.get("/outreach/report.csv?months=6&by=month")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = read(response)
    header = rows[0]
    assert header[:6] == ["Paikka", "Ajanjakso", "Toteutuneet käynnit", "Perutut käynnit", "Tavatut ihmiset",
                          "Palveluille uusien osuus"]
    by_period = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    first, second = by_period[f"{m1:%Y-%m}"], by_period[f"{m2:%Y-%m}"]
    assert first["Paikka"] == "Diakoniakahvila" and first["Tavatut ihmiset"] == "12"
    assert first["Palveluille uusien osuus"] == "50\xa0%"          # Finnish percent format
    assert first["Raha-asiat ja velat"] == "7" and first["Asuminen"] == "alle 5"
    assert first["Ohjattu eteenpäin"] == "alle 5" and first["Asia hoitui paikan päällä"] == "5"
    assert "alle 5" in first.values() and first["Työ"] == "0"
    assert second["Toteutuneet käynnit"] == "1"
    assert second["Tavatut ihmiset"] == "alle 5" and second["Palveluille uusien osuus"] == "alle 5"
    # No cell anywhere carries a count between 1 and k-1.
    people_columns = header[4:]
    for row in rows[1:]:
        for name, cell in zip(header, row, strict=True):
            if name in people_columns and cell.isdigit():
                assert not 0 < int(cell) < 5, (name, cell)


def test_csv_by_quarter_adds_the_months_up_and_cannot_be_differenced(lead_client, seeded, app):
    app.config["FEEDBACK_MIN_RESPONSES"] = 5
    _venue, m1, m2 = seeded
    rows = read(lead_client.get("/outreach/report.csv?months=12&by=quarter"))
    header = rows[0]
    quarters = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    q = lambda d: f"{d.year} Q{(d.month - 1) // 3 + 1}"  # noqa: E731
    first = quarters[q(m1)]
    if q(m1) == q(m2):
        # 12 + 3 people: the month file shows 12 and hides 3, so showing 15 here would give the 3 away.
        assert first["Toteutuneet käynnit"] == "2"
        assert first["Tavatut ihmiset"] == "alle 5" and first["Raha-asiat ja velat"] == "alle 5"
        assert first["Palveluille uusien osuus"] == "alle 5"
    else:
        assert first["Tavatut ihmiset"] == "12" and quarters[q(m2)]["Tavatut ihmiset"] == "alle 5"
    # Errands sorted (5, and none in the other month) and work (0) are no secret anywhere.
    assert first["Asia hoitui paikan päällä"] == "5" and first["Työ"] == "0"


def test_a_share_new_that_would_give_away_a_few_people_is_hidden(lead_client, facilitator, lead, app):
    app.config["FEEDBACK_MIN_RESPONSES"] = 5
    lead.language = "fi"
    venue = make_venue("Olohuone")
    add_done_visit(venue, month_start(1) + timedelta(days=9), facilitator, people_met=20, people_new=1,
                   met_one_to_one=20)
    db.session.commit()
    rows = read(lead_client.get("/outreach/report.csv?months=6&by=month"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Tavatut ihmiset"] == "20" and row["Palveluille uusien osuus"] == "alle 5"


def test_only_a_lead_downloads_the_csv(auth_client):
    assert auth_client.get("/outreach/report.csv").status_code == 403


def test_the_yearly_page_for_the_board_is_suppressed_like_the_csv(lead_client, auth_client, seeded, app):
    app.config["FEEDBACK_MIN_RESPONSES"] = 5
    _venue, m1, m2 = seeded
    page = lead_client.get(f"/outreach/report/year?year={m1.year}").get_data(as_text=True)
    assert f"Jalkautuminen vuonna {m1.year}" in page and "<h2" in page and "Diakoniakahvila" in page
    if m1.year == m2.year:
        # 12 + 3 people in the year: a month hides 3, so the year's 15 would give it away.
        assert "<dt>Tavatut ihmiset</dt><dd>alle 5</dd>" in page and "<dd>15</dd>" not in page
    assert "<dt>Toteutuneet käynnit</dt><dd>2</dd>" in page or m1.year != m2.year
    assert "<dt>Asia hoitui paikan päällä</dt><dd>5</dd>" in page
    # Junk years fall back to this year, never a 500; a facilitator gets no page.
    for junk in ("abc", "99999", "-1", "1e3"):
        assert lead_client.get(f"/outreach/report/year?year={junk}").status_code == 200
    assert auth_client.get("/outreach/report/year").status_code == 403
