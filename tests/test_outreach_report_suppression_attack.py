"""An attacker against the outreach figures' k-suppression (#25.4): a lead (or anyone handed the
printouts) collects every number the app shows about outreach — the report page for every period
(venue tables, topic table, month-by-month tables, the totals sentence), the CSV by month and by
quarter for every period, the yearly board page for each year and each venue's trial review — and
reads each shown number as a linear equation over the unknown per-venue-per-month cells. A
share new next to the people met gives the new; people per visit times the visits gives the people
met. Then linear algebra (the null space of all equations) says which cells are determined. No
cell about 1..k-1 people, nor the already known (met less new) of such a month, may be."""
from __future__ import annotations

import csv
import io
import re
from datetime import time, timedelta

import numpy as np
import pytest
from bs4 import BeautifulSoup

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from outreach import services
from outreach.models import TOPICS, OutreachVenue
from tests.test_outreach_report import add_done_visit, month_start
from tests.test_outreach_visits import make_venue

K = 5
FIELDS = ("people_met", "people_new", *(f"topic_{t}" for t in TOPICS), "errands_sorted", "referred",
          "appointments_booked")
# English labels as the pages show them -> field
LABELS = {"People met": "people_met", "Guided onward": "referred", "Referred on": "referred",
          "Appointments booked": "appointments_booked", "Errand sorted on the spot": "errands_sorted",
          "Money and debts": "topic_money", "Housing": "topic_housing", "Benefits (Kela)": "topic_benefits",
          "Work": "topic_work", "Health": "topic_health", "Substance use": "topic_substance",
          "Loneliness": "topic_loneliness", "Other matters": "topic_other"}
# Labels whose numbers are about visits (no one), or read with another figure below.
OTHER_LABELS = {"Venue", "Period", "Visits", "Cancelled", "Visits held", "Visits cancelled", "Share new to services",
                "People per visit"}

# (venue, months back) -> counts. People met, new, topics... several under k on purpose.
SEED = {
    ("Diakoniakahvila", 1): dict(people_met=12, people_new=6, topic_money=7, topic_housing=2, errands_sorted=5,
                                 referred_kela=1, appointments_booked=6),
    ("Diakoniakahvila", 2): dict(people_met=3, people_new=1, topic_money=3),
    ("Diakoniakahvila", 4): dict(people_met=20, people_new=19, topic_money=10, appointments_booked=5),
    ("Diakoniakahvila", 7): dict(people_met=8, people_new=4, topic_health=8, appointments_booked=1),
    ("Työpaja Verstas", 1): dict(people_met=6, people_new=0, topic_work=6),
    ("Työpaja Verstas", 3): dict(people_met=2, people_new=2, topic_work=2),
    ("Työpaja Verstas", 5): dict(people_met=15, people_new=5, referred_office=3, topic_work=15),
    ("Olohuone", 2): dict(people_met=9, people_new=9, topic_health=4, topic_loneliness=9),
    ("Olohuone", 6): dict(people_met=5, people_new=5, topic_loneliness=5),
    ("Olohuone", 8): dict(people_met=7, people_new=7, topic_loneliness=7, errands_sorted=7),
}


def truth_cells():
    cells = {}
    for (venue, back), counts in SEED.items():
        month = month_start(back)
        row = cells.setdefault((venue, month), dict.fromkeys(FIELDS, 0))
        for name, value in counts.items():
            key = "referred" if name.startswith("referred") else name
            row[key] += value
    return cells


@pytest.fixture
def seeded(app, facilitator, lead):
    app.config["FEEDBACK_MIN_RESPONSES"] = K
    lead.language = "en"
    venues = {name: make_venue(name) for name in {v for v, _ in SEED}}
    for (venue, back), counts in SEED.items():
        values = {**counts, "met_one_to_one": counts["people_met"]}
        add_done_visit(venues[venue], month_start(back) + timedelta(days=9), facilitator, **values)
    # A trial that started 14 months ago, so its review covers all the months above.
    for venue in venues.values():
        venue.created_at = local_to_utc(month_start(14), time(12))
    db.session.commit()
    return {v.name: v.id for v in db.session.scalars(db.select(OutreachVenue))}


def number(text: str) -> float | None:
    """A number as the en_FI locale writes it (1 234,5 and 50 %), or None for anything else."""
    text = text.strip().replace("\xa0", "").replace("\u202f", "").replace(" ", "")
    if not re.fullmatch(r"[0-9]+(,[0-9]+)?%?", text):
        return None
    if text.endswith("%"):
        return float(text[:-1].replace(",", ".")) / 100
    return float(text.replace(",", "."))


class Attacker:
    def __init__(self, venues, months):
        self.venues, self.months = venues, months
        self.index = {(v, m, f): i for i, (v, m, f) in
                      enumerate((v, m, f) for v in venues for m in months for f in FIELDS)}
        self.rows: list[np.ndarray] = []
        self.values: list[float] = []
        self.shown = 0
        self._null = None

    def equation(self, venues, months, field, value):
        row = np.zeros(len(self.index))
        for v in venues:
            for m in months:
                if m in self.months:
                    row[self.index[(v, m, field)]] = 1
        self.rows.append(row)
        self.values.append(value)
        self.shown += 1

    def read(self, venues, months, label_values, held=None):
        """label -> shown text for one aggregate (venues x months)."""
        met = number(label_values.get("People met", ""))
        for label, text in label_values.items():
            assert label in LABELS or label in OTHER_LABELS, label   # a figure the attacker cannot place
            value = number(text)
            if value is None:
                continue
            if label in LABELS:
                self.equation(venues, months, LABELS[label], value)
            elif label == "Share new to services" and met is not None:
                self.equation(venues, months, "people_new", round(value * met))
            elif label == "People per visit" and held is not None:
                self.equation(venues, months, "people_met", round(value * held))

    def determined(self, combination: dict) -> bool:
        """Is this linear combination of cells fixed by the equations? It is when it has no
        component in the null space of the equation matrix."""
        if self._null is None:
            _u, s, vt = np.linalg.svd(np.array(self.rows))
            self._null = vt[int((s > 1e-9 * s[0]).sum()):]
        null = self._null
        c = np.zeros(len(self.index))
        for key, weight in combination.items():
            c[self.index[key]] = weight
        return bool(np.abs(null @ c).max(initial=0) < 1e-6)


def collect(client, venue_ids, attacker):
    today = local_today()
    names = {i: n for n, i in venue_ids.items()}
    for count in (3, 6, 12, 24):
        window = services.report_months(today, count)
        soup = BeautifulSoup(client.get(f"/outreach/report?months={count}").get_data(as_text=True), "html.parser")
        for caption in ("Visits per venue", "Topics discussed per venue (people)"):
            table = soup.find("caption", string=caption).parent
            for tr in table.tbody.find_all("tr"):
                venue = tr.th.get_text(strip=True)
                cells = {td["data-label"]: td.get_text(strip=True) for td in tr.find_all("td")}
                attacker.read([venue], window, cells, held=number(cells.get("Visits", "")))
        for venue in venue_ids:
            table = soup.find("caption", string=f"{venue} month by month").parent
            for month, tr in zip(window, table.tbody.find_all("tr"), strict=True):
                cells = {td["data-label"]: td.get_text(strip=True) for td in tr.find_all("td")}
                attacker.read([venue], [month], cells)
        sentence = re.search(r"(\S+) visits, (.+?) people met, (.+?) appointments booked, (.+?) guided onward\.",
                             soup.get_text(" "))
        attacker.read(list(venue_ids), window, {"People met": sentence[2], "Appointments booked": sentence[3],
                                                "Guided onward": sentence[4]})
        for by in ("month", "quarter"):
            text = client.get(f"/outreach/report.csv?months={count}&by={by}").get_data().decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text), delimiter=";"))
            for row in rows[1:]:
                cells = dict(zip(rows[0], row, strict=True))
                period = cells["Period"]
                if by == "month":
                    months = [m for m in window if f"{m:%Y-%m}" == period]
                else:
                    months = [m for m in window if f"{m.year} Q{(m.month - 1) // 3 + 1}" == period]
                attacker.read([cells["Venue"]], months, cells)
    for year in (today.year - 1, today.year):
        soup = BeautifulSoup(client.get(f"/outreach/report/year?year={year}").get_data(as_text=True), "html.parser")
        for section in soup.find_all("section", class_="outreach-year-venue"):
            cells = {dt.get_text(strip=True): dd.get_text(strip=True)
                     for dt, dd in zip(section.find_all("dt"), section.find_all("dd"), strict=True)}
            attacker.read([section.h2.get_text(strip=True)], [m for m in attacker.months if m.year == year], cells)
    for venue_id, venue in names.items():
        venue_row = db.session.get(OutreachVenue, venue_id)
        months = services.review_months(venue_row, today)
        soup = BeautifulSoup(client.get(f"/outreach/venues/{venue_id}/review").get_data(as_text=True), "html.parser")
        cells = {dt.get_text(strip=True): dd.get_text(strip=True)
                 for dt, dd in zip(soup.find_all("dt"), soup.find_all("dd"), strict=False)}
        for tr in soup.find("caption", string="Topics discussed (how many people)").parent.find_all("tr"):
            cells[tr.th.get_text(strip=True)] = tr.td.get_text(strip=True)
        attacker.read([venue], months, cells)


def test_no_hidden_cell_can_be_recovered_from_everything_shown(seeded, lead_client):
    today = local_today()
    months = services.report_months(today, 24 + today.month)   # every month any page can cover
    attacker = Attacker(sorted(seeded), months)
    collect(lead_client, seeded, attacker)
    assert attacker.shown > 300   # the pages were read (a parser that found nothing proves nothing)

    truth = truth_cells()
    secrets, visible = [], []
    for (venue, month), row in truth.items():
        known = row["people_met"] - row["people_new"]
        for field in FIELDS:
            cell = ((venue, month, field), {(venue, month, field): 1})
            if 0 < row[field] < K:
                secrets.append(cell)
            elif not (field == "people_new" and 0 < known < K):   # the share would give the known away
                visible.append(cell)
        if 0 < known < K:
            secrets.append(((venue, month, "people_known"),
                            {(venue, month, "people_met"): 1, (venue, month, "people_new"): -1}))
    assert len(secrets) >= 12
    recovered = [name for name, combination in secrets if attacker.determined(combination)]
    assert recovered == []
    # The attack works: the cells shown on their own (at least k, or zero) are determined.
    assert [name for name, c in visible if not attacker.determined(c)] == []
    # ... and the equations agree with the truth (the pages were read right).
    a, b = np.array(attacker.rows), np.array(attacker.values)
    x = np.zeros(len(attacker.index))
    for (venue, month), row in truth.items():
        for field in FIELDS:
            x[attacker.index[(venue, month, field)]] = row[field]
    assert np.allclose(a @ x, b)


def test_the_chart_draws_no_hidden_month(seeded, lead_client):
    from core.formatting import month_year
    from outreach.chart import venue_chart_png

    months = services.report_months(local_today(), 6)
    truth = truth_cells()
    cafe = seeded["Diakoniakahvila"]

    def shown(value):
        return None if 0 < value < K else value

    rows = [truth.get(("Diakoniakahvila", m), dict.fromkeys(FIELDS, 0)) for m in months]
    with lead_client.application.test_request_context(headers={"Accept-Language": "en"}):
        from flask_babel import force_locale

        with force_locale("en"):
            expected = venue_chart_png("Diakoniakahvila", [month_year(m, start=True, short=True) for m in months],
                                       [shown(r["people_met"]) for r in rows],
                                       [shown(r["appointments_booked"]) for r in rows],
                                       people_label="People met", appointments_label="Appointments booked",
                                       hidden_label=f"fewer than {K}")
    assert None in [shown(r["people_met"]) for r in rows]
    assert lead_client.get(f"/outreach/report/venues/{cafe}/chart.png?months=6").data == expected


def test_the_topics_chart_is_drawn_from_suppressed_figures_once_and_then_cached(seeded, lead_client, fresh_db,
                                                                              monkeypatch):
    import outreach.views as views
    from outreach.chart import topics_chart_png

    cafe = seeded["Diakoniakahvila"]
    months = services.report_months(local_today(), 12)
    truth = truth_cells()
    totals = {f"topic_{t}": [truth[(v, m)][f"topic_{t}"] for v, m in truth if v == "Diakoniakahvila" and m in months]
              for t in TOPICS}
    # A sum is shown only when none of its months is under k.
    expected_values = [None if any(0 < n < K for n in totals[f"topic_{t}"]) else sum(totals[f"topic_{t}"])
                       for t in TOPICS]
    assert None in expected_values and any(v and v >= K for v in expected_values)
    labels = ["Money and debts", "Housing", "Benefits (Kela)", "Work", "Health", "Substance use", "Loneliness",
              "Other matters"]
    expected = topics_chart_png("Topics discussed per venue (people): Diakoniakahvila", labels, expected_values,
                                hidden_label=f"fewer than {K}")
    drawn = []
    monkeypatch.setattr(views, "topics_chart_png", lambda *a, **kw: drawn.append(a) or topics_chart_png(*a, **kw))
    url = f"/outreach/report/venues/{cafe}/topics.png?months=12"
    first = lead_client.get(url)
    assert first.status_code == 200 and first.data == expected and len(drawn) == 1
    assert fresh_db.execute(db.text("SELECT count(*) FROM feedback_chart_cache"))[0][0] >= 1
    again = lead_client.get(url)
    assert again.data == expected and len(drawn) == 1          # from the cache
    etag = again.headers["ETag"]
    assert lead_client.get(url, headers={"If-None-Match": etag}).status_code == 304
