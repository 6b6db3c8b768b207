"""The group's evaluation page (groups feature) shows the released feedback figures itself:
tables, and the charts whose text alternative they are. It releases a round that is due by the
same rule as the results page, so the figures appear even if nobody opened that page; before
that it says plainly why not yet."""
from __future__ import annotations

import re

import sqlalchemy as sa

from core.extensions import db
from feedback import services
from feedback.models import FeedbackRelease
from tests.test_feedback_factories import add_responses, attend, close_window, make_group, open_now


def summary_of(client, group) -> str:
    html = client.get(f"/groups/{group.id}/evaluation").get_data(as_text=True)
    return html.split('class="feedback-summary"')[1].split("</section>")[0]


def test_released_figures_are_on_the_evaluation_page(auth_client, facilitator, fresh_db):
    group = make_group([facilitator], sessions=2, enrolled=6)
    w1, w2 = [services.open_session_window(s) for s in group.sessions]
    db.session.commit()
    attend(group.sessions[0], group.enrolments[:6])
    add_responses(w1, [[8, 7, 9, 8]] * 4 + [[6, 7, 9, 6]] * 2)
    close_window(w1), close_window(w2)
    assert fresh_db.scalar(sa.select(FeedbackRelease).where(FeedbackRelease.group_id == group.id)) is None

    # Nobody opened the results page: the evaluation page releases the round itself.
    summary = summary_of(auth_client, group)
    assert fresh_db.scalar(sa.select(FeedbackRelease).where(FeedbackRelease.group_id == group.id)) is not None
    assert "Koko ryhmäkierroksen keskiarvot (0–10): 6 vastausta 6 ihmiseltä" in summary
    assert '<td class="num">7,3</td>' in summary           # the overall question: (4·8 + 2·6) / 6
    # The charts, each with its table on the page.
    assert re.search(rf'<img src="/feedback/groups/{group.id}/charts/means.svg\?v=\w+" alt="Pylväskaavio', summary)
    assert re.search(rf'<img src="/feedback/groups/{group.id}/charts/distribution.svg\?v=\w+"', summary)
    assert "Vastausten määrä arvosanoittain" in summary
    for kind in ("means", "distribution"):
        src = re.search(rf'src="(/feedback/groups/{group.id}/charts/{kind}.svg[^"]*)"', summary).group(1)
        chart = auth_client.get(src.replace("&amp;", "&"))
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml" and b"<svg" in chart.data


def test_before_release_the_evaluation_page_says_why_not_yet(auth_client, facilitator, fresh_db):
    group = make_group([facilitator], sessions=2, enrolled=6)
    w1 = services.open_session_window(group.sessions[0])
    db.session.commit()
    attend(group.sessions[0], group.enrolments[:6])
    add_responses(w1, [[8, 7, 9, 8]] * 6)
    open_now(w1)   # feedback still open
    summary = summary_of(auth_client, group)
    assert "Palautteen lukuja ei näytetä vielä." in summary
    assert "Näytetään, kun ryhmän kaikki kerrat on pidetty ja niiden palauteaika on päättynyt" in summary
    assert "<img" not in summary and '<td class="num">' not in summary

    close_window(w1)
    few = make_group([facilitator], title="Pieni", sessions=1, enrolled=3)
    w = services.open_session_window(few.sessions[0])
    db.session.commit()
    attend(few.sessions[0], few.enrolments)
    add_responses(w, [[8, 7, 9, 8]] * 3)
    close_window(w)
    summary = summary_of(auth_client, few)
    assert "Palautteen lukuja ei näytetä vielä." in summary and "Piilotettu: alle 5 ihmistä vastasi" in summary
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(FeedbackRelease)
                           .where(FeedbackRelease.group_id == few.id)) == 0
