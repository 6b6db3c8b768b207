"""Staff side: windows and codes, the show-to-participants page and QR, results with
suppression, charts (cached, never drawn for hidden data), the group summary template,
meeting feedback, item sets and access per record."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from feedback import charts, services
from feedback.models import ChartCache, FeedbackWindow, ItemSet
from tests.factories import login, make_client, make_user
from tests.test_feedback_factories import add_responses, attend, close_window, make_group, open_now


@pytest.fixture
def group(app, facilitator):
    partner = make_user(name="Paula Pari")
    return make_group([facilitator, partner], sessions=3, enrolled=6)


def windows_for(group):
    ws = [services.open_session_window(s) for s in group.sessions]
    db.session.commit()
    return ws


def test_window_defaults_and_codes(group):
    w = services.open_session_window(group.sessions[0])
    s = group.sessions[0]
    assert w.opens_at == s.starts_at and w.closes_at == s.starts_at + timedelta(hours=48)
    assert re.fullmatch(f"[{services.CODE_ALPHABET}]{{6}}", w.code)
    assert services.open_session_window(s) is w  # one window per session
    codes = {services.new_code() for _ in range(200)}
    assert not codes & set("0O1IL2Z5S8B")


def test_code_is_unique_among_open_windows(group, monkeypatch):
    first = services.open_session_window(group.sessions[0])
    first.closes_at = datetime.now(UTC) + timedelta(hours=1)
    db.session.flush()
    sequence = iter(list(first.code) + list("ACDEF3"))
    monkeypatch.setattr(services.secrets, "choice", lambda alphabet: next(sequence))
    second = services.open_session_window(group.sessions[1])
    assert second.code == "ACDEF3" != first.code


def test_facilitator_opens_closes_and_extends(auth_client, group):
    session = group.sessions[0]
    page = auth_client.get(f"/feedback/sessions/{session.id}/show").get_data(as_text=True)
    assert "Aloita palaute" in page
    url = f"/feedback/sessions/{session.id}/show"
    assert auth_client.post_form(f"/feedback/sessions/{session.id}/window", {}, token_from=url).status_code == 302
    w = db.session.scalar(sa.select(FeedbackWindow).where(FeedbackWindow.session_id == session.id))
    page = auth_client.get(url).get_data(as_text=True)
    assert f'<p class="feedback-code">{w.code}</p>' in page
    assert f"/f/{w.code}" in page and f"/feedback/windows/{w.id}/qr.svg" in page
    qr = auth_client.get(f"/feedback/windows/{w.id}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data and b"style=" not in qr.data

    # The session was in September: the window is closed; open it again now.
    assert auth_client.post_form(f"/feedback/windows/{w.id}/adjust", {"action": "open"}, token_from=url).status_code == 302
    db.session.refresh(w)
    now = datetime.now(UTC)
    assert w.is_open(now) and w.closes_at > now + timedelta(hours=23)
    auth_client.post_form(f"/feedback/windows/{w.id}/adjust", {"action": "extend"}, token_from=url)
    db.session.refresh(w)
    assert w.closes_at > now + timedelta(hours=47)
    auth_client.post_form(f"/feedback/windows/{w.id}/adjust", {"action": "close"}, token_from=url)
    db.session.refresh(w)
    assert w.is_closed(datetime.now(UTC))
    assert auth_client.post_form(f"/feedback/windows/{w.id}/adjust", {"action": "delete"},
                                 token_from=url).status_code == 400


def test_other_staff_cannot_reach_a_group_s_feedback(app, group):
    stranger = make_user(name="Vieras")
    c = app.test_client()
    login(c, stranger)
    w = services.open_session_window(group.sessions[0])
    db.session.commit()
    assert c.get(f"/feedback/groups/{group.id}").status_code == 404
    assert c.get(f"/feedback/sessions/{group.sessions[0].id}/show").status_code == 404
    assert c.get(f"/feedback/windows/{w.id}/qr.svg").status_code == 404
    assert c.post_form(f"/feedback/windows/{w.id}/adjust", {"action": "close"}).status_code == 404
    assert c.get(f"/feedback/groups/{group.id}/charts/means.svg").status_code == 404
    for bad in ("abc", "0", "-1", "99999999999999999999"):
        assert c.get(f"/feedback/groups/{bad}").status_code == 404


def test_results_show_answers_against_present_and_release_only_the_whole_round(auth_client, group):
    """Per-session figures are never shown; the round's pooled figures once it is over."""
    w1, w2, w3 = windows_for(group)
    e = group.enrolments
    attend(group.sessions[0], e[:6])
    attend(group.sessions[1], e[:5], e[5:])
    attend(group.sessions[2], e[:2], e[2:])
    add_responses(w1, [[8, 7, 9, 8]] * 6, comments=["Kahvi hyvää", "Mukava", "Selkeä", "Hyvä", "Kiitos", ""])
    add_responses(w2, [[5, 6, 7, 6]] * 5)
    add_responses(w3, [[1, 1, 1, 1]] * 2, comments=["Salainen kommentti", "Toinen"])
    open_now(w1)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "Näytetään, kun ryhmän kaikki kerrat on pidetty" in html
    assert "Kahvi hyvää" not in html and "6 vastausta, 6 paikalla" in html

    for w in (w1, w2, w3):
        close_window(w)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "6 vastausta, 6 paikalla" in html and "5 vastausta, 5 paikalla" in html and "2 vastausta, 2 paikalla" in html
    # No per-session mean anywhere: session 3's 1.0 and session 1's 8.0 are not on the page.
    assert "1,0" not in html and "8,0" not in html
    # The round: 13 answers from 6 people; overall (last item) mean (6·8 + 5·6 + 2·1) / 13 = 6.2.
    assert "13 vastausta 6 ihmiseltä" in html and '<td class="num">6,2</td>' in html
    # Comments of the whole round, in text order (8 of them: at least 5 wrote one).
    found = re.findall(r'<li class="prewrap">([^<]+)</li>', html)
    assert found == sorted(["Kahvi hyvää", "Mukava", "Selkeä", "Hyvä", "Kiitos", "Salainen kommentti", "Toinen"])


def test_attendance_not_recorded_shows_nothing(auth_client, group):
    w1, _w2, _w3 = windows_for(group)
    add_responses(w1, [[8, 7, 9, 8]] * 5, comments=["öö", "Bee", "Aaa", "Cee", "Dee"])
    for w in (w1, _w2, _w3):
        close_window(w)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "Näytetään, kun läsnäolot on kirjattu" in html and "Aaa" not in html
    assert "5 vastausta, läsnäoloja ei ole kirjattu" in html
    attend(group.sessions[0], group.enrolments[:5])
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    found = re.findall(r'<li class="prewrap">([^<]+)</li>', html)
    assert found == sorted(["öö", "Bee", "Aaa", "Cee", "Dee"])


@pytest.mark.parametrize("app_config", [{"FEEDBACK_MIN_RESPONSES": 1}])
def test_threshold_never_below_three(auth_client, group):
    w1, w2, w3 = windows_for(group)
    attend(group.sessions[0], group.enrolments[:2])
    add_responses(w1, [[8, 7, 9, 8]] * 2)
    for w in (w1, w2, w3):
        close_window(w)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "Piilotettu: alle 3 ihmistä vastasi" in html


def released(group, answers=((8, 7, 9, 8),) * 6):
    """All three sessions closed, session 1 with 6 present and the answers given."""
    w1, w2, w3 = windows_for(group)
    attend(group.sessions[0], group.enrolments[:6])
    add_responses(w1, [list(a) for a in answers])
    for w in (w1, w2, w3):
        close_window(w)
    return w1, w2, w3


def test_charts_are_cached_and_never_drawn_for_hidden_data(auth_client, group, monkeypatch):
    w1, w2, w3 = released(group)
    calls = []
    real = charts.RENDERERS["means"]
    monkeypatch.setitem(charts.RENDERERS, "means", lambda data: calls.append(data) or real(data))
    page = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)  # releases the round
    url = f"/feedback/groups/{group.id}/charts/means.svg"
    first = auth_client.get(url)
    assert first.status_code == 200 and first.mimetype == "image/svg+xml" and b"<svg" in first.data
    second = auth_client.get(url)
    assert second.data == first.data and len(calls) == 1  # second from the database cache
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChartCache)) == 1
    assert calls[0]["values"] == [8.0, 7.0, 9.0, 8.0]
    # A late answer (a window opened again and answered) changes no released figure or chart.
    open_now(w3)
    add_responses(w3, [[0, 0, 0, 0]] * 5)
    close_window(w3)
    assert auth_client.get(url).data == first.data and len(calls) == 1
    later = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    results_part = page.split("Koko ryhmäkierroksen tulokset")[1].split("Paikalla olleet kerroittain")[0]
    assert later.split("Koko ryhmäkierroksen tulokset")[1].split("Paikalla olleet kerroittain")[0] == results_part
    assert 'alt="Pylväskaavio koko ryhmäkierroksen keskiarvoista. Viihdyitkö ryhmässä tänään?: 8,0;' in page


def test_hidden_data_has_no_chart(auth_client, group, monkeypatch):
    w1, *_ = windows_for(group)
    add_responses(w1, [[8, 7, 9, 8]] * 4)
    close_window(w1)
    monkeypatch.setattr(charts, "RENDERERS", {k: (lambda data: pytest.fail("rendered")) for k in charts.RENDERERS})
    for kind in ("means", "distribution"):
        assert auth_client.get(f"/feedback/groups/{group.id}/charts/{kind}.svg").status_code == 404
    page = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "charts/means.svg" not in page and "charts/distribution.svg" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChartCache)) == 0
    assert auth_client.get(f"/feedback/groups/{group.id}/charts/nonsense.svg").status_code == 404


def test_distribution_and_attendance_with_text_alternatives(auth_client, group):
    released(group, [[8, 7, 9, 8]] * 3 + [[5, 6, 7, 10]] * 2)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    table = html.split("Vastausten määrä arvosanoittain")[1].split("</table>")[0]
    cells = re.findall(r'<td[^>]*class="num">(\d+)</td>', table)
    assert cells == ["0"] * 8 + ["3", "0", "2"]
    assert "Yleisin arvosana oli 8" in html
    att = html.split("Paikalla olleet kerroittain")[1].split("</table>")[0]
    assert re.findall(r'<td[^>]*class="num">(\d+)</td>', att) == ["6", "6", "0", "6", "0", "6"]
    assert auth_client.get(f"/feedback/groups/{group.id}/charts/distribution.svg").status_code == 200
    assert auth_client.get(f"/feedback/groups/{group.id}/charts/attendance.svg").status_code == 200


def test_results_page_query_count_does_not_grow(auth_client, app, facilitator):
    small = make_group([facilitator], sessions=2, title="Pieni")
    big = make_group([facilitator], sessions=8, title="Iso", enrolled=3)
    for g in (small, big):
        for w in windows_for(g):
            add_responses(w, [[8, 7, 9, 8]] * 5, comments=["a", "b", "c", "d", "e"])
            close_window(w)
    counts = []
    ids = [small.id, big.id]
    auth_client.get(f"/feedback/groups/{small.id}")  # warm up: built-in sets, login session
    for group_id in ids:
        db.session.expunge_all()  # nothing already loaded from an earlier request
        statements = []
        listener = lambda *args, statements=statements: statements.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        auth_client.get(f"/feedback/groups/{group_id}")
        sa.event.remove(db.engine, "before_cursor_execute", listener)
        counts.append(statements)
    assert len(counts[0]) == len(counts[1]), "\n".join(counts[1])


def test_group_summary_template_for_the_evaluation_page(app, auth_client, group, facilitator):
    from flask import render_template_string
    from flask_login import login_user

    w1, w2, w3 = windows_for(group)
    attend(group.sessions[0], group.enrolments[:5])
    attend(group.sessions[1], group.enrolments[1:6])
    add_responses(w1, [[8, 7, 9, 8]] * 5)
    add_responses(w2, [[6, 7, 9, 8]] * 5)
    for w in (w1, w2, w3):
        close_window(w)
    auth_client.get(f"/feedback/groups/{group.id}")  # the results page releases the round
    with app.test_request_context():
        login_user(facilitator)
        html = render_template_string('{% include "feedback/_group_summary.html" %}', group=group)
    assert "Osallistujien palaute" in html and "10 vastausta 6 ihmiseltä" in html
    assert "<td class=\"num\">7,0</td>" in html  # overall mean of atmosphere (8 and 6)
    few = make_group([facilitator], title="Pienryhmä", sessions=1, enrolled=2)
    w = services.open_session_window(few.sessions[0])
    db.session.commit()
    attend(few.sessions[0], few.enrolments)
    add_responses(w, [[8, 7, 9, 8]] * 2)
    close_window(w)
    with app.test_request_context():
        login_user(facilitator)
        html = render_template_string('{% include "feedback/_group_summary.html" %}', group=few)
    assert "Piilotettu: alle 5 ihmistä vastasi" in html and "8,0" not in html


def test_end_of_group_survey(app, auth_client, group):
    url = f"/feedback/groups/{group.id}/end"
    assert auth_client.post_form(url, {}, token_from=url).status_code == 302
    w = services.end_window_for_group(group)
    assert w.kind == "group_end" and w.is_open(datetime.now(UTC))
    form = app.test_client().get(f"/f/{w.code}").get_data(as_text=True)
    assert "Oliko ryhmästä sinulle hyötyä?" in form and "Suosittelisitko ryhmää muille?" in form
    assert "Pitäisikö ryhmän jatkua?" in form and "Mitä ryhmässä pitäisi muuttaa?" in form
    w1, w2, w3 = windows_for(group)
    attend(group.sessions[0], group.enrolments[:6])
    add_responses(w1, [[8, 7, 9, 8]] * 6)
    add_responses(w, [[9, 8, 10, 9]] * 5, comments=["Lisää kertoja"] * 5)
    for window in (w, w1, w2, w3):
        close_window(window)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "Loppukysely: keskiarvot (0–10), 5 vastausta" in html and "Lisää kertoja" in html


def test_network_meeting_feedback(app, auth_client, facilitator):
    from meetings.models import Meeting, MeetingParticipant
    from register.models import Relative

    client_row = make_client(name="Salainen Asiakas")
    start = datetime.now(UTC) - timedelta(hours=1)
    meeting = Meeting(client_id=client_row.id, starts_at=start, ends_at=start + timedelta(hours=1),
                      created_by_id=facilitator.id, status="held")
    db.session.add(meeting)
    db.session.flush()
    db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="staff", user_id=facilitator.id))
    people = []
    for i in range(5):
        relative = Relative(client_id=client_row.id, name=f"Läheinen {i}")
        db.session.add(relative)
        db.session.flush()
        people.append(MeetingParticipant(meeting_id=meeting.id, kind="relative", relative_id=relative.id))
    db.session.add_all(people)
    db.session.commit()
    url = f"/feedback/meetings/{meeting.id}/show"
    assert auth_client.post_form(f"/feedback/meetings/{meeting.id}/window", {}, token_from=url).status_code == 302
    page = auth_client.get(url).get_data(as_text=True)
    assert "Salainen Asiakas" not in page  # projected to everyone: no client name
    w = services.window_for_meeting(meeting)
    form = app.test_client().get(f"/f/{w.code}").get_data(as_text=True)
    assert "Kuunneltiinko sinua?" in form and "Tiedätkö nyt, kuka tekee mitä?" in form
    add_responses(w, [[9, 8, 10, 9]] * 5)
    close_window(w)
    results = auth_client.get(f"/feedback/meetings/{meeting.id}/results").get_data(as_text=True)
    assert "Näytetään, kun läsnäolot on kirjattu" in results and "9,0" not in results
    for p in people:
        p.attended = True
    db.session.commit()
    results = auth_client.get(f"/feedback/meetings/{meeting.id}/results").get_data(as_text=True)
    assert "5 vastausta" in results and "9,0" in results
    other = app.test_client()
    login(other, make_user(name="Ulkopuolinen"))
    assert other.get(f"/feedback/meetings/{meeting.id}/results").status_code == 404
    # Another staff participant may see it.
    insider = make_user(name="Mukana")
    db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="staff", user_id=insider.id))
    db.session.commit()
    insider_client = app.test_client()
    login(insider_client, insider)
    assert insider_client.get(f"/feedback/meetings/{meeting.id}/results").status_code == 200


def test_lead_defines_an_item_set_and_chooses_it_for_a_group(app, lead_client, auth_client, group):
    assert auth_client.get("/feedback/item-sets").status_code == 403
    page = "/feedback/item-sets/new"
    bad = lead_client.post_form(page, {"name": "", "kind": "session", "items-0-sv": "Bara svenska"}, token_from=page)
    html = bad.get_data(as_text=True)
    assert "Anna nimi." in html and "Kirjoita ainakin suomenkielinen muoto." in html and "Bara svenska" in html
    data = {"name": "Lisensoitu mittari", "kind": "session",
            "items-0-fi": "Tulin kuulluksi", "items-0-sv": "Jag blev hörd", "items-0-en": "I felt heard",
            "items-1-fi": "Yleisesti", "comment-fi": "Muuta?"}
    assert lead_client.post_form(page, data, token_from=page).status_code == 302
    item_set = db.session.scalar(sa.select(ItemSet).where(ItemSet.name == "Lisensoitu mittari"))
    assert [i.labels for i in item_set.items] == [{"fi": "Tulin kuulluksi", "sv": "Jag blev hörd", "en": "I felt heard"},
                                                  {"fi": "Yleisesti"}]
    settings = f"/feedback/groups/{group.id}/settings"
    listing = lead_client.get("/feedback/item-sets").get_data(as_text=True)
    assert "Lisensoitu mittari" in listing and "Tulin kuulluksi" in listing and "Kuunneltiinko sinua?" in listing
    page = lead_client.get(settings).get_data(as_text=True)
    assert '<option lang="fi" selected value="builtin:session">' in page or 'value="builtin:session" selected' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ItemSet)) == 1  # viewing wrote nothing
    # A set of another kind cannot be forged into the choice.
    assert lead_client.post_form(settings, {"session_set": "builtin:meeting", "end_set": "builtin:group_end"},
                                 token_from=settings).status_code == 200
    assert lead_client.post_form(settings, {"session_set": str(item_set.id), "end_set": "builtin:group_end"},
                                 token_from=settings).status_code == 302
    w = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(w)
    form = app.test_client().get(f"/f/{w.code}").get_data(as_text=True)  # a participant's phone
    assert "Tulin kuulluksi" in form and "Viihdyitkö ryhmässä tänään?" not in form
    # Once feedback has started with a set it cannot be swapped (answers would mix).
    builtin_session = db.session.scalar(sa.select(ItemSet.id).where(ItemSet.builtin_key == "session"))
    assert builtin_session is None  # the group uses its own set; the built-in was never stored
    end_id = db.session.scalar(sa.select(ItemSet.id).where(ItemSet.builtin_key == "group_end"))
    locked = lead_client.post_form(settings, {"session_set": "builtin:session", "end_set": str(end_id)},
                                   token_from=settings)
    assert "sarjaa ei voi enää vaihtaa" in locked.get_data(as_text=True)


def test_results_page_writes_nothing_before_feedback_starts(auth_client, group):
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "Aloita palaute" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ItemSet)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackWindow)) == 0


def test_groups_evaluation_page_shows_the_summary(auth_client, group):
    w1, w2, w3 = windows_for(group)
    attend(group.sessions[0], group.enrolments[:5])
    attend(group.sessions[1], group.enrolments[:6])
    attend(group.sessions[2], group.enrolments[:2])
    add_responses(w1, [[8, 7, 9, 8]] * 5)
    add_responses(w2, [[6, 7, 9, 8]] * 6)
    add_responses(w3, [[4, 7, 9, 8]] * 2)
    auth_client.get(f"/feedback/groups/{group.id}")  # the results page releases the round
    html = auth_client.get(f"/groups/{group.id}/evaluation").get_data(as_text=True)
    summary = html.split('class="feedback-summary"')[1].split("</section>")[0]
    assert "Osallistujien palaute" in summary
    # All three sessions closed in September: 13 answers from 6 people behind the round's figures.
    assert "13 vastausta 6 ihmiseltä" in summary and '<td class="num">6,5</td>' in summary


def test_cancelled_session_gets_no_window(auth_client, group):
    session = group.sessions[1]
    session.status = "cancelled"
    db.session.commit()
    url = f"/feedback/sessions/{session.id}/show"
    html = auth_client.get(url).get_data(as_text=True)
    assert "Tämä kerta on peruttu" in html and "Aloita palaute" not in html
    assert auth_client.post_form(f"/feedback/sessions/{session.id}/window", {}, token_from=url).status_code == 400
    assert services.window_for_session(session) is None


def test_total_waits_until_the_group_is_over(auth_client, facilitator):
    # Two sessions past, one next week: a growing total would give each week's session by subtraction.
    start = datetime.now(UTC) - timedelta(days=14)
    g = make_group([facilitator], sessions=3, start=start, enrolled=6)
    w1, w2 = (services.open_session_window(s) for s in g.sessions[:2])
    db.session.commit()
    attend(g.sessions[0], g.enrolments[:6])
    attend(g.sessions[1], g.enrolments[:6])
    add_responses(w1, [[8, 7, 9, 8]] * 5)
    add_responses(w2, [[6, 7, 9, 8]] * 6)
    close_window(w1)
    close_window(w2)
    html = auth_client.get(f"/feedback/groups/{g.id}").get_data(as_text=True)
    assert "5 vastausta, 6 paikalla" in html and "6 vastausta, 6 paikalla" in html
    assert "11 vastausta" not in html and "7,4" not in html
    assert "kaikki kerrat on pidetty" in html
    assert auth_client.get(f"/feedback/groups/{g.id}/charts/distribution.svg").status_code == 404


def test_closed_window_with_answers_cannot_be_reopened(auth_client, group):
    """Once results can be seen, one more answer would show as the difference of two totals."""
    session = group.sessions[0]
    url = f"/feedback/sessions/{session.id}/show"
    w = services.open_session_window(session)
    w.opens_at = datetime.now(UTC) - timedelta(hours=2)
    w.closes_at = datetime.now(UTC) + timedelta(hours=1)
    db.session.commit()
    items = services.set_for_group(group, "session").items
    services.submit_response(w.id, {item.id: 7 for item in items}, "")
    w.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    closes_at = w.closes_at
    page = auth_client.get(url).get_data(as_text=True)
    assert "pysyy suljettuna" in page and 'value="extend"' not in page
    for action in ("open", "extend"):
        response = auth_client.post_form(f"/feedback/windows/{w.id}/adjust", {"action": action}, token_from=url)
        assert response.status_code == 302
        db.session.refresh(w)
        assert w.closes_at == closes_at
