"""Giving feedback without an account: code entry, the form, thank-you, friendly pages for
unknown and closed codes, bad input, replays, and anonymity of what is stored."""
from __future__ import annotations

import html as html_lib
import logging
import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from feedback import services
from feedback.models import FeedbackAnswer, FeedbackResponse, SubmissionBucket
from tests.test_feedback_factories import close_window, open_session_window, phone


@pytest.fixture
def window(app, facilitator):
    return open_session_window([facilitator])


def form_data(window, scores=(7, 8, 6, 9), comment=""):
    data = {f"item_{item.id}": str(v) for item, v in zip(window.item_set.items, scores, strict=True)}
    data.update(window_id=str(window.id), comment=comment)
    return data


def post(client, window, data):
    url = f"/f/{window.code}"
    return client.post_form(url, data, token_from=url)


def count_responses():
    return db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse))


def test_code_entry_leads_to_the_form_in_plain_finnish(client, window):
    page = client.get("/f")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<label for="code">Palautekoodi</label>' in html
    # Lower case with a space typed on a phone still finds the code.
    typed = window.code[:3].lower() + " " + window.code[3:].lower()
    response = client.get("/f", query_string={"code": typed})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/f/{window.code}")
    form = client.get(f"/f/{window.code}").get_data(as_text=True)
    assert "Viihdyitkö ryhmässä tänään?" in form and "Oliko tämän päivän aiheesta sinulle hyötyä?" in form
    assert "Auttoivatko ohjaajat sinua tänään?" in form and "Oletko tyytyväinen tämän päivän ryhmäkertaan?" in form
    # Eleven labelled radio buttons per item and "don't know", inside a fieldset with a legend;
    # the ends are named in the options' own labels, in the same words as the visible line.
    first = window.item_set.items[0]
    assert len(re.findall(rf'type="radio"[^>]*name="item_{first.id}"|name="item_{first.id}"[^>]*type="radio"', form)) == 12
    assert f'<label for="item_{first.id}-10"><span class="score-name">10, erittäin paljon</span></label>' in form
    assert f'<label for="item_{first.id}-x"><span class="score-name">En osaa sanoa</span></label>' in form
    assert "0, ei lainkaan … 10, erittäin paljon" in form


def test_swedish_and_english_forms(client, window):
    sv = client.get(f"/f/{window.code}", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Trivdes du i gruppen i dag?" in sv and "Skicka respons" in sv
    en = html_lib.unescape(client.get(f"/f/{window.code}", headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert "Was today's topic useful to you?" in en and "Send feedback" in en


def test_answer_is_stored_anonymously_and_thanks(client, window, caplog):
    caplog.set_level(logging.DEBUG)
    response = post(client, window, form_data(window, comment="Hyvä kahvi ja salainen-lause-123"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/f/thanks")
    thanks = client.get("/f/thanks").get_data(as_text=True)
    assert "Kiitos palautteestasi!" in thanks
    stored = db.session.scalars(sa.select(FeedbackResponse)).all()
    assert len(stored) == 1
    r = stored[0]
    assert re.fullmatch(r"[0-9a-f]{32}", r.id)
    assert sorted(a.value for a in r.answers) == [6, 7, 8, 9]
    # No column could hold a person, an address, a browser or a time of day.
    columns = set(FeedbackResponse.__table__.columns.keys())
    assert columns == {"id", "window_id", "answered_on", "comment"}
    assert set(FeedbackAnswer.__table__.columns.keys()) == {"response_id", "item_id", "value"}
    assert not any(isinstance(c.type, sa.DateTime) for c in FeedbackResponse.__table__.columns)
    # The request body is never logged.
    assert "salainen-lause-123" not in caplog.text


def test_out_of_range_scores_are_refused(client, window):
    data = form_data(window)
    items = window.item_set.items
    del data[f"item_{items[0].id}"]   # a question left unanswered is "don't know", not an error
    data[f"item_{items[1].id}"] = "11"
    data[f"item_{items[2].id}"] = "-1"
    response = post(client, window, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("Valitse yksi vaihtoehdoista.") == 2 * 2  # beside each field and in the summary
    # What was chosen stays chosen.
    assert re.search(rf'id="item_{items[3].id}-9"[^>]*checked|checked[^>]*id="item_{items[3].id}-9"', html)
    assert count_responses() == 0


def test_over_long_comment_is_refused_and_kept(client, window):
    response = post(client, window, form_data(window, comment="x" * 1001))
    html = response.get_data(as_text=True)
    assert "Kommentti on liian pitkä" in html
    assert "x" * 1001 in html
    assert count_responses() == 0


def test_forged_form_without_or_with_bad_csrf_stores_nothing(client, window):
    data = form_data(window)
    assert client.post(f"/f/{window.code}", data=data).status_code == 400
    data["csrf_token"] = "forged"
    assert client.post(f"/f/{window.code}", data=data).status_code == 400
    assert count_responses() == 0


def test_window_id_of_another_session_is_refused(client, window, facilitator):
    other = services.open_session_window(window.session.group.sessions[1])
    db.session.commit()
    data = form_data(window)
    data["window_id"] = str(other.id)
    html = post(client, window, data).get_data(as_text=True)
    assert "Lomake kuuluu toiseen palautekoodiin" in html
    assert count_responses() == 0


def test_second_answer_from_same_browser_is_refused(client, window):
    assert post(client, window, form_data(window)).status_code == 302
    again = post(client, window, form_data(window))
    assert "Olet jo vastannut" in again.get_data(as_text=True)
    assert "Olet jo vastannut" in client.get(f"/f/{window.code}").get_data(as_text=True)
    assert count_responses() == 1
    # The marker is a signed list of window ids, nothing that points at the stored response.
    cookie = client.get_cookie("kohtaamo_feedback_given", path="/f")
    response_id = db.session.scalar(sa.select(FeedbackResponse.id))
    assert cookie is not None and response_id not in cookie.value


@pytest.mark.parametrize("app_config", [{"FEEDBACK_RATE_LIMIT": 2}])
def test_rate_limit_per_code_is_kept_in_the_database(app, window):
    for _ in range(2):
        fresh = phone(app)  # a new browser each time: no marker cookie
        assert post(fresh, window, form_data(window)).status_code == 302
    blocked = post(phone(app), window, form_data(window, comment="kolmas"))
    assert blocked.status_code == 429
    assert "Odota muutama minuutti" in blocked.get_data(as_text=True)
    assert "kolmas" in blocked.get_data(as_text=True)
    assert count_responses() == 2
    assert db.session.scalar(sa.select(SubmissionBucket.count)) == 2


def test_unknown_code_gets_a_friendly_page(client, window):
    response = client.get("/f/XXXXXX")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Emme löytäneet tätä koodia" in html
    assert 'name="code"' in html  # try again right there
    assert client.get("/f/---").status_code == 302
    html = client.get("/f", query_string={"code": "--"}).get_data(as_text=True)
    assert "Tarkista koodi ja yritä uudelleen." in html
    assert "Kirjoita koodi, jonka sait." in client.get("/f", query_string={"code": ""}).get_data(as_text=True)


def test_closed_window_gets_a_friendly_page_and_takes_no_answers(client, window):
    token_page = client.get(f"/f/{window.code}")
    assert token_page.status_code == 200
    close_window(window)
    page = client.get(f"/f/{window.code}")
    assert page.status_code == 200 and "Palauteaika on päättynyt" in page.get_data(as_text=True)
    post(client, window, form_data(window))
    assert count_responses() == 0


def test_window_not_open_yet(client, window):
    from datetime import UTC, datetime, timedelta

    window.opens_at = datetime.now(UTC) + timedelta(days=2)
    window.closes_at = window.opens_at + timedelta(hours=48)
    db.session.commit()
    html = client.get(f"/f/{window.code}").get_data(as_text=True)
    assert "Palaute ei ole vielä auki" in html and "Voit antaa palautetta" in html
    assert 'name="item_' not in html


# Every thread connects from 127.0.0.1: the per-address limit is lifted here (see
# test_feedback_address_limit.py).
@pytest.mark.parametrize("app_config", [{"FEEDBACK_PER_ADDRESS_LIMIT": 1000}])
def test_simultaneous_answers_all_stored_without_errors(app, live_server, window):
    """Participants answering at the same moment (separate connections, as separate workers
    would have) are all stored: the rate-limit counter is one atomic upsert, so the first
    answers of a new ten-minute bucket do not collide on its key (PostgreSQL answered 500
    to one of 200 before)."""
    import threading
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    data = form_data(window)
    url = f"{live_server.url}/f/{window.code}"
    db.session.commit()
    db.session.close()
    people, barrier, results = 12, threading.Barrier(12), []

    def answer():
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

    threads = [threading.Thread(target=answer) for _ in range(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [200] * people  # the redirect to the thank-you page was followed
    assert count_responses() == people
    bucket = db.session.scalars(sa.select(SubmissionBucket)).one()
    assert bucket.count == people
