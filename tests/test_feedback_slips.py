"""Single-use answer slips: the facilitators print a sheet of one slip per person who can answer
(present in the roll call, or enrolled before it); each slip answers once and is linked to no
one (only a hash is stored); with slips on, the shared code takes no answers; used, tampered,
unknown and expired slips all get the same page and store nothing; wrong slips from one address
are slowed."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from feedback import services
from feedback.models import AnswerSlip, FeedbackResponse, FeedbackWindow
from tests.test_feedback_factories import attend, make_group, open_now, phone

SLIP_URL = re.compile(r'<p class="slip-url">http://localhost(/f/[A-Z0-9]+/[A-Z0-9]+)</p>')


def slips_stored(fresh_db, window_id):
    return fresh_db.scalar(sa.select(sa.func.count()).select_from(AnswerSlip).where(AnswerSlip.window_id == window_id))


def stored(fresh_db, window_id):
    return fresh_db.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse)
                           .where(FeedbackResponse.window_id == window_id))


def send(c, window, url, score=5):
    data = {f"item_{item.id}": str(score) for item in window.item_set.items}
    data.update(window_id=str(window.id), comment="")
    return c.post_form(url, data, token_from=url)


@pytest.fixture
def window(app, facilitator):
    group = make_group([facilitator], sessions=1, enrolled=6)
    w = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(w)
    attend(group.sessions[0], group.enrolments[:4], group.enrolments[4:])
    return w


def make_sheet(auth_client, window):
    show = f"/feedback/sessions/{window.session_id}/show"
    page = auth_client.get(show).get_data(as_text=True)
    assert "Tulosta vastauslaput" in page or "Tee uusi lappuarkki" in page
    sheet = auth_client.post_form(f"/feedback/windows/{window.id}/slips", {"action": "slips"}, token_from=show)
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    html = sheet.get_data(as_text=True)
    assert html.count('<svg ') == html.count('class="slip"')
    return SLIP_URL.findall(html)


def test_one_slip_per_person_present_each_answers_once(app, auth_client, window, fresh_db):
    urls = make_sheet(auth_client, window)
    assert len(urls) == 4                               # four present in the roll call
    hashes = [h for (h,) in fresh_db.execute(sa.select(AnswerSlip.code_hash).where(AnswerSlip.window_id == window.id))]
    assert len(hashes) == 4 and not any(u.rsplit("/", 1)[1] in "".join(hashes) for u in urls)
    # The shared code is refused with a clear page.
    shared = phone(app).get(f"/f/{window.code}")
    assert shared.status_code == 403 and "Vastaa omalla vastauslapullasi" in shared.get_data(as_text=True)
    assert send(phone(app), window, f"/f/{window.code}").status_code == 403
    # All four from one address (a venue's wifi): slips are not held to the per-address limit.
    for url in urls:
        venue_wifi = app.test_client()
        venue_wifi.environ_base["REMOTE_ADDR"] = "192.0.2.50"
        assert send(venue_wifi, window, url).status_code == 302
    assert stored(fresh_db, window.id) == 4
    # Replayed (a fresh browser), tampered and unknown slips: the same page, nothing stored.
    replay = phone(app).get(urls[0])
    tampered = phone(app).get(urls[1][:-1] + ("A" if urls[1][-1] != "A" else "C"))
    unknown = phone(app).get(f"/f/{window.code}/AAAAAAAAAA")
    pages = {r.status_code for r in (replay, tampered, unknown)}
    assert pages == {404}
    bodies = {r.get_data(as_text=True).split('<main')[1] for r in (replay, tampered, unknown)}
    assert len(bodies) == 1 and "Tätä lappua ei voi käyttää" in bodies.pop()
    assert stored(fresh_db, window.id) == 4
    # Once a slip is used the sheet cannot be replaced (it would give more answers).
    show = f"/feedback/sessions/{window.session_id}/show"
    again = auth_client.post_form(f"/feedback/windows/{window.id}/slips", {"action": "slips"}, token_from=show)
    assert again.status_code == 302
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AnswerSlip)) == 4


def test_a_new_sheet_voids_the_old_one_while_none_is_used(app, auth_client, window, fresh_db):
    first = make_sheet(auth_client, window)
    second = make_sheet(auth_client, window)
    assert set(first).isdisjoint(second)
    assert phone(app).get(first[0]).status_code == 404
    assert send(phone(app), window, second[0]).status_code == 302
    assert stored(fresh_db, window.id) == 1


def test_closed_while_answering_the_slip_stays_unused_and_nothing_is_stored(app, auth_client, window, fresh_db):
    urls = make_sheet(auth_client, window)
    participant = phone(app)
    token = participant.csrf_token(urls[0])                       # the form is open on the phone
    show = f"/feedback/sessions/{window.session_id}/show"
    assert auth_client.post_form(f"/feedback/windows/{window.id}/adjust", {"action": "close"},
                                 token_from=show).status_code == 302
    closed = fresh_db.get(FeedbackWindow, window.id)
    assert closed.closes_at <= utcnow() and slips_stored(fresh_db, window.id) == len(urls)
    data = {f"item_{item.id}": "5" for item in window.item_set.items}
    data.update(window_id=str(window.id), comment="", csrf_token=token)
    late = participant.post(urls[0], data=data)
    assert late.status_code == 404 and "Tätä lappua ei voi käyttää" in late.get_data(as_text=True)
    assert stored(fresh_db, window.id) == 0
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AnswerSlip).where(AnswerSlip.used.is_(True))) == 0


def test_wrong_slips_from_one_address_are_slowed(app, auth_client, window, fresh_db):
    urls = make_sheet(auth_client, window)
    guesser = [phone(app) for _ in range(1)][0].environ_base["REMOTE_ADDR"]
    for i in range(services.SLIP_FAILURES):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = guesser
        assert c.get(f"/f/{window.code}/WRONG{i:05d}").status_code == 404
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = guesser
    blocked = c.get(urls[0])                                   # even a good slip waits now
    assert blocked.status_code == 429 and "Liian monta yritystä" in blocked.get_data(as_text=True)
    # Another address answers with it.
    assert send(phone(app), window, urls[0]).status_code == 302
    assert stored(fresh_db, window.id) == 1


def test_back_to_the_shared_code_while_no_slip_is_used(app, auth_client, window, fresh_db):
    urls = make_sheet(auth_client, window)
    assert slips_stored(fresh_db, window.id) == len(urls) > 0
    show = f"/feedback/sessions/{window.session_id}/show"
    assert auth_client.post_form(f"/feedback/windows/{window.id}/slips", {"action": "no_slips"},
                                 token_from=show).status_code == 302
    assert slips_stored(fresh_db, window.id) == 0     # the unused sheet is gone
    assert send(phone(app), window, f"/f/{window.code}").status_code == 302
    assert stored(fresh_db, window.id) == 1


@pytest.mark.browser
def test_slip_pages_in_a_phone_browser(page, facilitator, window, fresh_db):
    """The facilitator prints the sheet (axe, 360 px, its print layout is A4), a participant
    answers with a slip, then the used slip, the shared code and too many wrong slips each get
    their clear page (axe at 360 px)."""
    from tests.browser import assert_accessible, browser_login, click_through
    from tests.factories import PASSWORD

    code, window_id, session_id = window.code, window.id, window.session_id
    legends = [item.label("fi") for item in window.item_set.items]
    email = facilitator.email
    db.session.close()
    page.set_viewport_size({"width": 360, "height": 740})
    browser_login(page, email, PASSWORD)
    page.goto(f"/feedback/sessions/{session_id}/show")
    assert_accessible(page, context="feedback page with slips offer")
    click_through(page, page.get_by_role("button", name="Tulosta vastauslaput"))
    assert page.get_by_role("heading", level=1).inner_text() == "Vastauslaput"
    assert page.locator(".slip").count() == 4 and page.locator(".slip svg").count() == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, context="slip sheet at 360 px")
    page.emulate_media(media="print")
    assert not page.locator(".slips-intro").is_visible() and page.locator(".slip").first.is_visible()
    page.emulate_media(media="screen")
    urls = [u.replace("http://localhost", "") for u in page.locator(".slip-url").all_inner_texts()]
    page.context.clear_cookies()   # the participant's phone

    page.goto(urls[0])
    for legend in legends:
        page.get_by_role("group", name=legend).get_by_role("radio", name="6", exact=True).check()
    click_through(page, page.get_by_role("button", name="Lähetä palaute"))
    page.wait_for_url("**/f/thanks")
    page.goto(urls[0])
    assert page.get_by_role("heading", level=1).inner_text() == "Tätä lappua ei voi käyttää"
    assert_accessible(page, context="used slip")
    page.goto(f"/f/{code}")
    assert page.get_by_role("heading", level=1).inner_text() == "Vastaa omalla vastauslapullasi"
    assert_accessible(page, context="shared code refused")
    for i in range(services.SLIP_FAILURES):
        page.goto(f"/f/{code}/WRONG{i:05d}")
    page.goto(urls[1])
    assert page.get_by_role("heading", level=1).inner_text() == "Liian monta yritystä"
    assert_accessible(page, context="too many wrong slips")
    assert stored(fresh_db, window_id) == 1


def test_a_slip_never_reaches_the_logs():
    from core.logging import redact

    line = redact('"POST /f/ACDEF3/KMNPRTUVWX HTTP/1.1" 302 -')
    assert "ACDEF3" not in line and "KMNPRTUVWX" not in line and "/f/[redacted]" in line
