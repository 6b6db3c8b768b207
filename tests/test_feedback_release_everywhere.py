"""A group's figures are released wherever they are first needed, through the one function the
results page uses (feedback.release.ensure_group_release): the lead's report and its CSV are
complete even when nobody has opened a finished group's results page."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import sqlalchemy as sa

from core.extensions import db
from feedback import services
from feedback.models import FeedbackRelease
from tests.test_feedback_factories import add_responses, attend, close_window, make_group

PERIOD = {"start": "2026-03-01", "end": "2026-04-30"}


def finished_group(facilitator, *, title="Raharyhmä", theme="Raha", people=5):
    group = make_group([facilitator], title=title, theme=theme, sessions=2, enrolled=people,
                       start=datetime(2026, 3, 2, 10, tzinfo=UTC))
    windows = [services.open_session_window(s) for s in group.sessions]
    db.session.commit()
    for s in group.sessions:
        attend(s, group.enrolments)
    add_responses(windows[0], [[8, 8, 8, 8]] * people)
    add_responses(windows[1], [[6, 6, 6, 6]] * people)
    for w in windows:
        close_window(w)
    db.session.commit()
    return group


def releases(fresh_db):
    return [tuple(r) for r in fresh_db.execute(sa.select(FeedbackRelease.group_id, FeedbackRelease.n, FeedbackRelease.people))]


def test_a_finished_group_nobody_opened_is_in_the_report(app, facilitator, lead_client, fresh_db):
    group = finished_group(facilitator)
    assert releases(fresh_db) == []
    html = lead_client.get("/feedback/report", query_string=PERIOD).get_data(as_text=True)
    table = html.split("<tbody>")[1].split("</tfoot>")[0]
    assert '<th scope="row">Raha</th><td class="num">1</td>' in table
    assert '<td class="num">10</td><td class="num">7,0</td>' in table
    assert "Ei julkaistuja ryhmien tuloksia" not in table
    # Stored by the report, as the results page would have: the results page now reads it.
    assert releases(fresh_db) == [(group.id, 10, 5)]


def test_the_csv_alone_releases_too_and_the_figure_never_changes(app, facilitator, lead_client, auth_client, fresh_db):
    group = finished_group(facilitator)
    rows = list(csv.reader(io.StringIO(lead_client.get("/feedback/report.csv", query_string=PERIOD)
                                       .data.decode("utf-8-sig")), delimiter=";"))
    assert ["Raha", "1", "10", "7,0"] in rows
    assert releases(fresh_db) == [(group.id, 10, 5)]
    # The results page shows the figure the report released, and a second report is the same.
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "10 vastausta 5 ihmiseltä" in html
    again = list(csv.reader(io.StringIO(lead_client.get("/feedback/report.csv", query_string=PERIOD)
                                        .data.decode("utf-8-sig")), delimiter=";"))
    assert again == rows
    assert releases(fresh_db) == [(group.id, 10, 5)]


def test_the_report_releases_nothing_that_is_not_due(app, facilitator, lead_client, fresh_db):
    """Too few people, a window still open, or an open period: nothing is stored or shown."""
    finished_group(facilitator, title="Pieni", theme="Pieni", people=2)
    open_one = make_group([facilitator], title="Auki", theme="Auki", sessions=1, enrolled=6,
                          start=datetime(2026, 3, 9, 10, tzinfo=UTC))
    window = services.open_session_window(open_one.sessions[0])
    db.session.commit()
    attend(open_one.sessions[0], open_one.enrolments)
    add_responses(window, [[5, 5, 5, 5]] * 6)
    window.closes_at = datetime(2099, 1, 1, tzinfo=UTC)
    db.session.commit()
    html = lead_client.get("/feedback/report", query_string=PERIOD).get_data(as_text=True)
    assert "Ei julkaistuja ryhmien tuloksia" in html
    assert releases(fresh_db) == []
