"""The optional short form (three questions, five faces 1–5) and "don't know" on every scale, read
from the outside: a group's facilitator chooses the short form on the settings page, participants
answer from their own phones, and the results page, its charts, the lead's report and its CSV are
read as served. Each scale's figures stand on their own (a 1–5 mean is never pooled with a 0–10
one), a skipped question stores no answer, and a question's figure rests on the people who
answered that question."""
from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from feedback import services
from feedback.models import FeedbackAnswer, FeedbackRelease, FeedbackResponse, GroupFeedbackSettings, ItemSet
from tests.factories import login, make_user
from tests.test_feedback_factories import attend, close_window, make_group, open_now, phone


def choose_short_form(client, group):
    url = f"/feedback/groups/{group.id}/settings"
    return client.post_form(url, {"session_set": "builtin:session_short", "end_set": "builtin:group_end"},
                            token_from=url)


def answer(app, code, choices: list[str], comment=""):
    """One participant on a phone of their own: opens the form and sends these choices (a value,
    "x" for "don't know", or "" for nothing chosen), one per question in order."""
    browser = phone(app)
    page = browser.get(f"/f/{code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    window_id = re.search(r'name="window_id"[^>]*value="(\d+)"', page).group(1)
    names = list(dict.fromkeys(re.findall(r'name="(item_\d+)"', page)))
    assert len(names) == len(choices)
    data = {name: value for name, value in zip(names, choices, strict=True) if value != ""}
    data.update(csrf_token=token, window_id=window_id, comment=comment)
    return browser.post(f"/f/{code}", data=data)


def add_sheets(window, sheets):
    """Answer sheets straight into the database; None is "don't know" (no answer row)."""
    for values in sheets:
        response = FeedbackResponse(window_id=window.id, answered_on=window.opens_at.date(), comment="")
        response.answers = [FeedbackAnswer(item_id=item.id, value=v)
                            for item, v in zip(window.item_set.items, values, strict=True) if v is not None]
        db.session.add(response)
    db.session.commit()


def test_a_facilitator_chooses_the_short_form_and_participants_answer_with_faces(app, auth_client, facilitator,
                                                                                  fresh_db):
    group = make_group([facilitator], sessions=2, enrolled=6)
    settings = auth_client.get(f"/feedback/groups/{group.id}/settings")
    # The group's facilitator (not a lead) chooses; the short form is offered.
    assert settings.status_code == 200 and 'value="builtin:session_short"' in settings.get_data(as_text=True)
    assert choose_short_form(auth_client, group).status_code == 302
    chosen = fresh_db.scalar(sa.select(ItemSet).join(GroupFeedbackSettings,
                                                     GroupFeedbackSettings.session_item_set_id == ItemSet.id)
                             .where(GroupFeedbackSettings.group_id == group.id))
    assert chosen.scale == "1-5" and chosen.builtin_key == "session_short"

    # Someone who may not see the group cannot choose for it (404, as for the group itself).
    other = app.test_client()
    login(other, make_user(name="Olli Ulkopuolinen"))
    url = f"/feedback/groups/{group.id}/settings"
    assert other.get(url).status_code == 404

    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(window)
    code = window.code
    form = app.test_client().get(f"/f/{code}").get_data(as_text=True)
    assert form.count('type="radio"') == 3 * 6   # five faces and "don't know" per question
    assert "Millainen oli tämän päivän aihe?" in form
    # Each face's name is its label; the face itself is decoration hidden from screen readers.
    assert '<span class="score-face" aria-hidden="true">😞</span><span class="score-name">1, tosi huono</span>' in form
    assert '<span class="score-name">5, tosi hyvä</span>' in form and "En osaa sanoa" in form
    assert "1, tosi huono … 5, tosi hyvä" in form

    assert answer(app, code, ["x", "4", "5"]).status_code == 302
    rows = fresh_db.execute(sa.select(FeedbackAnswer.item_id, FeedbackAnswer.value))
    items = [item.id for item in window.item_set.items]
    assert sorted(rows) == sorted([(items[1], 4), (items[2], 5)])   # "don't know" stored nothing

    off_scale = answer(app, code, ["7", "4", "5"])
    assert off_scale.status_code == 200 and "Valitse yksi vaihtoehdoista." in off_scale.get_data(as_text=True)
    empty = answer(app, code, ["x", "", "x"])
    assert empty.status_code == 200
    assert "Vastaa ainakin yhteen kysymykseen tai kirjoita jotain laatikkoon." in empty.get_data(as_text=True)
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse)) == 1


@pytest.mark.parametrize("short", [True, False], ids=["short form", "0-10"])
def test_a_question_rests_on_those_who_answered_it(app, auth_client, facilitator, fresh_db, short):
    """Six people present at both sessions, eleven sheets. The first question got four answers
    (the others said "don't know"): its mean is hidden, though the round has eleven sheets from
    six people. The last question got nine: its mean is over those nine."""
    group = make_group([facilitator], sessions=2, enrolled=6)
    if short:
        assert choose_short_form(auth_client, group).status_code == 302
    w1, w2 = [services.open_session_window(s) for s in group.sessions]
    db.session.commit()
    attend(group.sessions[0], group.enrolments[:6])
    attend(group.sessions[1], group.enrolments[:5], group.enrolments[5:])
    n_items = len(w1.item_set.items)
    middle = [None] * (n_items - 2)
    hi, lo = (5, 2) if short else (9, 3)
    add_sheets(w1, [[hi] + middle + [hi]] * 4 + [[None] + middle + [lo]] * 2)
    add_sheets(w2, [[None] + middle + [hi]] * 3 + [[None] + middle + [None]] * 2)
    close_window(w1), close_window(w2)

    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    span = "1–5" if short else "0–10"
    assert f"Koko ryhmäkierroksen keskiarvot ({span}): 11 vastausta 6 ihmiseltä" in html
    section = html.split("Koko ryhmäkierroksen tulokset")[1].split("<h2")[0]
    first, last = w1.item_set.items[0], w1.item_set.items[-1]
    first_row = re.search(rf"<th scope=\"row\">{re.escape(first.label('fi'))}</th>(.*?)</tr>", section).group(1)
    assert "Piilotettu: alle 5 ihmistä vastasi" in first_row and 'class="num"' not in first_row
    # (7·hi + 2·lo) / 9, not over the eleven sheets and not with "don't know" as a score.
    expected = f"{(7 * hi + 2 * lo) / 9:.1f}".replace(".", ",")
    last_row = re.search(rf"<th scope=\"row\">{re.escape(last.label('fi'))}</th>(.*?)</tr>", section).group(1)
    assert f'<td class="num">{expected}</td>' in last_row
    # The overall question's distribution, on its own scale only.
    dist = html.split("Vastausten määrä arvosanoittain")[1].split("</table>")[0]
    headers = re.findall(r'<th scope="col" class="num">(\d+)</th>', dist)
    assert headers == ([str(v) for v in range(1, 6)] if short else [str(v) for v in range(11)])
    counts = re.findall(r'<td class="num">(\d+)</td>', dist)
    assert sum(map(int, counts)) == 9
    release = fresh_db.scalar(sa.select(FeedbackRelease).where(FeedbackRelease.group_id == group.id))
    assert release.data["scale"] == ("1-5" if short else "0-10") and release.data["scored"] == 11 - 2
    # The charts are drawn (for the figures shown).
    chart = auth_client.get(f"/feedback/groups/{group.id}/charts/distribution.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"


def test_the_report_never_pools_the_two_scales(app, lead_client, facilitator):
    """Two groups of one theme: one answered 8 on 0–10, the other 2 on 1–5. Pooled carelessly
    they would read 5,0; the report shows 8,0 and 2,0 in columns of their own, page and CSV."""
    ten = make_group([facilitator], title="Kymppi", theme="Raha", sessions=1, enrolled=6)
    five = make_group([facilitator], title="Vitonen", theme="Raha", sessions=1, enrolled=6)
    assert choose_short_form(lead_client, five).status_code == 302
    for group, value in ((ten, 8), (five, 2)):
        window = services.open_session_window(group.sessions[0])
        db.session.commit()
        attend(group.sessions[0], group.enrolments)
        add_sheets(window, [[value] * len(window.item_set.items)] * 6)
        close_window(window)
    period = {"start": "2026-08-01", "end": "2026-10-31"}
    html = lead_client.get("/feedback/report", query_string=period).get_data(as_text=True)
    table = html.split("<table>")[1].split("</table>")[0]
    assert "Vastauksia, lyhyt lomake" in table and "Keskiarvo (1–5), lyhyt lomake" in table
    row = re.search(r'<th scope="row">Raha</th>(.*?)</tr>', table, re.S).group(1)
    assert re.findall(r'<td class="num">([\d,]+)</td>', row) == ["2", "6", "8,0", "6", "2,0"]
    assert "5,0" not in table
    body = lead_client.get("/feedback/report.csv", query_string=period).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    header = next(r for r in rows if r and r[0] == "Teema")
    assert len(header) == 6 and header[4:] == ["Vastauksia, lyhyt lomake", "Keskiarvo (1–5), lyhyt lomake"]
    assert next(r for r in rows if r and r[0] == "Raha") == ["Raha", "2", "6", "8,0", "6", "2,0"]
    assert not any("5,0" in cell for r in rows for cell in r)
