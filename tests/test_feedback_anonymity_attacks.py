"""The two de-anonymisation attacks of issue #19, driven through HTTP as the attacker would
(fresh test clients are fresh browsers), and the rules that stop them: a window takes at most
the people present plus feedback.people.MARGIN answers, one that ever held more is flagged and
withheld, a signed-in staff browser cannot answer, and figures are released once per finished
group, pooled, so no two figures can be subtracted."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from feedback import people, services
from feedback.models import FeedbackResponse, FeedbackWindow
from tests.factories import login, make_client
from tests.test_feedback_factories import add_responses, attend, close_window, make_group, open_now, phone

MEAN = re.compile(r'<td class="num">(\d+[.,]\d)</td>')


def answer(app, window, scores, comment=""):
    """A participant on a fresh phone (no cookies): the public form, a real CSRF token."""
    browser = phone(app)
    url = f"/f/{window.code}"
    data = {f"item_{item.id}": str(v) for item, v in zip(window.item_set.items, scores, strict=True)}
    data.update(window_id=str(window.id), comment=comment)
    return browser.post_form(url, data, token_from=url)


def stored(fresh_db, window_id):
    return fresh_db.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse)
                           .where(FeedbackResponse.window_id == window_id))


def one_person_meeting(facilitator):
    from meetings.models import Meeting, MeetingParticipant

    client_row = make_client(name="Asiakas Yksi")
    start = datetime.now(UTC) - timedelta(hours=1)
    meeting = Meeting(client_id=client_row.id, starts_at=start, ends_at=start + timedelta(hours=1),
                      created_by_id=facilitator.id, status="held")
    db.session.add(meeting)
    db.session.flush()
    db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="staff", user_id=facilitator.id))
    db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="client", attended=True))
    db.session.commit()
    return meeting


def test_attack_a_staff_cannot_top_a_window_up_to_k(app, auth_client, facilitator, fresh_db):
    """A facilitator opens a meeting's window, lets the one real participant answer, answers
    four times with zeros from fresh browsers and closes it: before the fix the page showed
    n=5 with means that ×5 gave back the participant's exact scores, and their comment."""
    meeting = one_person_meeting(facilitator)
    show = f"/feedback/meetings/{meeting.id}/show"
    assert auth_client.post_form(f"/feedback/meetings/{meeting.id}/window", {}, token_from=show).status_code == 302
    window = services.window_for_meeting(meeting)
    assert answer(app, window, (9, 2, 7, 4), "Minua ei kuunneltu lainkaan").status_code == 302

    # The facilitator's own signed-in browser is refused outright.
    own = auth_client.get(f"/f/{window.code}")
    assert own.status_code == 403 and "Työntekijä ei voi vastata" in own.get_data(as_text=True)
    # Fresh browsers: one late arrival (MARGIN) is taken, then the window is full.
    statuses = [answer(app, window, (0, 0, 0, 0)).status_code for _ in range(4)]
    assert statuses == [302] + [409] * 3
    full = answer(app, window, (0, 0, 0, 0)).get_data(as_text=True)
    assert "Kaikki tämän kerran vastaukset on jo annettu" in full
    assert stored(fresh_db, window.id) == 1 + people.MARGIN

    assert auth_client.post_form(f"/feedback/windows/{window.id}/adjust", {"action": "close"},
                                 token_from=show).status_code == 302
    html = auth_client.get(f"/feedback/meetings/{meeting.id}/results").get_data(as_text=True)
    # Answers against people, the flag, and no figure and no comment at all.
    assert "2 vastausta, 1 paikalla" in html
    assert "Enemmän vastauksia kuin paikalla olleita" in html
    assert not MEAN.findall(html) and "Minua ei kuunneltu" not in html
    flagged = fresh_db.scalar(sa.select(FeedbackWindow.overfilled).where(FeedbackWindow.id == window.id))
    assert flagged is True


def test_a_participant_without_the_cookie_is_not_counted_sixty_times(app, facilitator, fresh_db):
    group = make_group([facilitator], sessions=1, enrolled=4)
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(window)
    attend(group.sessions[0], group.enrolments[:3], group.enrolments[3:])
    codes = [answer(app, window, (5, 5, 5, 5)).status_code for _ in range(10)]
    assert codes == [302] * (3 + people.MARGIN) + [409] * (10 - 3 - people.MARGIN)
    assert stored(fresh_db, window.id) == 3 + people.MARGIN


def test_a_window_over_its_people_is_flagged_and_left_out(app, auth_client, facilitator, fresh_db):
    """Four present, four answers plus one late arrival: the session is flagged for good and its
    answers are left out of the round, which then rests on the other sessions only."""
    group = make_group([facilitator], sessions=2, enrolled=6)
    w1, w2 = (services.open_session_window(s) for s in group.sessions)
    db.session.commit()
    attend(group.sessions[0], group.enrolments[:4])
    attend(group.sessions[1], group.enrolments[1:6])
    open_now(w1)
    for _ in range(5):
        assert answer(app, w1, (0, 0, 0, 0)).status_code == 302
    add_responses(w2, [[7, 7, 7, 7]] * 5)
    close_window(w1)
    close_window(w2)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "5 vastausta, 4 paikalla" in html
    assert "tämän kerran vastaukset jätetään pois" in html
    assert "5 vastausta 5 ihmiseltä" in html and MEAN.findall(html) == ["7,0"] * 4
    # Roll call corrected upwards afterwards: the flag stays.
    attend(group.sessions[0], group.enrolments[4:5])
    assert fresh_db.scalar(sa.select(FeedbackWindow.overfilled).where(FeedbackWindow.id == w1.id)) is True


def test_attack_b_no_figure_can_be_differenced_over_time(app, auth_client, facilitator):
    """S1 and S3 closed with 5 answers each (means 6.0 and 8.0) and were shown; S2 then closed
    with 3 answers. Before the fix the page then showed the total (n=13, mean 5.6) and anyone who
    saw both pages had S2's sum: 13 × 5.6 − 30 − 40, resting on 3 people."""
    group = make_group([facilitator], sessions=3, enrolled=6)
    w1, w2, w3 = (services.open_session_window(s) for s in group.sessions)
    db.session.commit()
    attend(group.sessions[0], group.enrolments[:5])
    attend(group.sessions[1], group.enrolments[:3])
    attend(group.sessions[2], group.enrolments[1:6])
    add_responses(w1, [[6, 6, 6, 6]] * 5)
    add_responses(w3, [[8, 8, 8, 8]] * 5)
    close_window(w1)
    close_window(w3)
    open_now(w2)
    url = f"/feedback/groups/{group.id}"
    before = auth_client.get(url).get_data(as_text=True)
    for _ in range(3):
        assert answer(app, w2, (1, 1, 1, 1)).status_code == 302
    show = f"/feedback/sessions/{group.sessions[1].id}/show"
    assert auth_client.post_form(f"/feedback/windows/{w2.id}/adjust", {"action": "close"},
                                 token_from=show).status_code == 302
    after = auth_client.get(url).get_data(as_text=True)
    # Nothing was shown while the round was under way; afterwards one figure for the whole round
    # (13 answers from 6 people): one equation, three unknown session sums.
    assert MEAN.findall(before) == []
    assert "13 vastausta 6 ihmiseltä" in after
    assert set(MEAN.findall(after)) == {"5,6"}   # (30 + 3 + 40) / 13 on every item
    for per_session in ("6,0", "8,0", "1,0", "6.0", "8.0", "1.0"):
        assert per_session not in before + after
    # And it never changes: an answer added later (by hand, in S1) moves nothing that was shown.
    add_responses(w1, [[0, 0, 0, 0]])
    assert MEAN.findall(auth_client.get(url).get_data(as_text=True)) == MEAN.findall(after)


def test_small_group_sees_its_results_after_the_last_session(app, auth_client, facilitator):
    """A group of 6 with 4 present each week (not always the same 4) never has 5 answers in a
    session, but its round has: shown after the last session."""
    group = make_group([facilitator], sessions=4, enrolled=6)
    windows = [services.open_session_window(s) for s in group.sessions]
    db.session.commit()
    e = group.enrolments
    for i, (session, window) in enumerate(zip(group.sessions, windows, strict=True)):
        here = [e[(i + j) % 6] for j in range(4)]
        attend(session, here, [x for x in e if x not in here])
        add_responses(window, [[7, 8, 6, 9]] * 4)
    *done, last = windows
    for w in done:
        close_window(w)
    open_now(last)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert MEAN.findall(html) == [] and "4 vastausta, 4 paikalla" in html
    close_window(last)
    html = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    assert "16 vastausta 6 ihmiseltä" in html
    assert MEAN.findall(html) == ["7,0", "8,0", "6,0", "9,0"]


# Every thread connects from 127.0.0.1: the per-address limit (tested on its own in
# test_feedback_address_limit.py) is lifted so that the capacity alone is tested here.
@pytest.mark.parametrize("app_config", [{"FEEDBACK_PER_ADDRESS_LIMIT": 1000}])
def test_simultaneous_answers_never_pass_the_capacity(app, live_server, facilitator, fresh_db):
    """Many phones at once on a window for 4 people: exactly 4 + MARGIN are stored (the window
    row is locked while its answers are counted)."""
    import threading
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    group = make_group([facilitator], sessions=1, enrolled=6)
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(window)
    attend(group.sessions[0], group.enrolments[:4], group.enrolments[4:])
    data = {f"item_{item.id}": "5" for item in window.item_set.items}
    data.update(window_id=str(window.id), comment="")
    url = f"{live_server.url}/f/{window.code}"
    window_id = window.id
    db.session.close()
    phones, barrier, results = 10, threading.Barrier(10), []

    def post():
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = opener.open(url).read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        barrier.wait(timeout=30)
        try:
            with opener.open(urllib.request.Request(url, data=body)) as response:
                results.append(response.status)
        except urllib.error.HTTPError as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=post) for _ in range(phones)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [200] * (4 + people.MARGIN) + [409] * (phones - 4 - people.MARGIN)
    assert stored(fresh_db, window_id) == 4 + people.MARGIN


def test_another_tab_of_a_staff_browser_cannot_answer(app, facilitator, fresh_db):
    group = make_group([facilitator], sessions=1, enrolled=6)
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(window)
    browser = app.test_client()
    login(browser, facilitator)
    url = f"/f/{window.code}"
    page = browser.get(url)
    assert page.status_code == 403 and "Työntekijä ei voi vastata" in page.get_data(as_text=True)
    data = {f"item_{item.id}": "0" for item in window.item_set.items}
    data.update(window_id=str(window.id))
    refused = browser.post_form(url, data, token_from="/")
    assert refused.status_code == 403
    assert stored(fresh_db, window.id) == 0
