"""One client address cannot fill a feedback window for everyone: each address may give
feedback.services.PER_ADDRESS (2) answers to a window, counted in the database (so across
workers and instances); beyond that a polite page, and nothing is stored. The address is the one
the app sees (request.remote_addr, after ProxyFix when TRUSTED_PROXIES is set), kept only as a
keyed hash salted with the window."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from feedback import people, services
from feedback.models import AddressCount, FeedbackResponse, FeedbackWindow
from tests.test_feedback_factories import attend, make_group, open_now


def browser(app, address, **environ):
    c = app.test_client()
    c.environ_base.update(REMOTE_ADDR=address, **environ)
    return c


def send(c, window, score=5):
    url = f"/f/{window.code}"
    data = {f"item_{item.id}": str(score) for item in window.item_set.items}
    data.update(window_id=str(window.id), comment="")
    return c.post_form(url, data, token_from=url)


def stored(fresh_db, window_id):
    return fresh_db.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse)
                           .where(FeedbackResponse.window_id == window_id))


@pytest.fixture
def window(app, facilitator):
    """A session with 6 present: it takes 6 + MARGIN answers."""
    group = make_group([facilitator], sessions=1, enrolled=6)
    w = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(w)
    attend(group.sessions[0], group.enrolments)
    return w


def test_one_address_flooding_cannot_fill_the_window(app, window, fresh_db):
    flood = [send(browser(app, "203.0.113.7"), window) for _ in range(10)]   # a fresh browser each time
    assert [r.status_code for r in flood] == [302] * services.PER_ADDRESS + [429] * (10 - services.PER_ADDRESS)
    refused = flood[-1].get_data(as_text=True)
    assert "Tästä puhelimesta on jo vastattu" in refused
    assert "Vastaustasi ei tallennettu" in refused
    assert stored(fresh_db, window.id) == services.PER_ADDRESS
    # The count stays at the limit (refused attempts are rolled back with the answer), and the
    # row holds no address.
    rows = fresh_db.execute(sa.select(AddressCount.address_key, AddressCount.count)
                            .where(AddressCount.window_id == window.id))
    assert [count for _key, count in rows] == [services.PER_ADDRESS]
    assert "203.0.113" not in rows[0][0]
    # Other addresses still answer, up to the window's capacity.
    others = [send(browser(app, f"198.51.100.{i}"), window).status_code for i in range(1, 7)]
    assert others == [302] * (6 + people.MARGIN - services.PER_ADDRESS) + [409]
    assert stored(fresh_db, window.id) == 6 + people.MARGIN
    assert fresh_db.scalar(sa.select(FeedbackWindow.overfilled).where(FeedbackWindow.id == window.id)) is True


def test_the_count_is_per_window(app, facilitator, window, fresh_db):
    group = make_group([facilitator], title="Toinen", sessions=1, enrolled=6)
    other = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(other)
    attend(group.sessions[0], group.enrolments)
    for w in (window, other):
        assert [send(browser(app, "203.0.113.7"), w).status_code for _ in range(3)] == [302, 302, 429]
    keys = [k for (k,) in fresh_db.execute(sa.select(AddressCount.address_key))]
    assert len(set(keys)) == 2   # the same address is not recognisable across windows


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_the_forwarded_address_counts(app, window, fresh_db):
    """Behind the proxy every request comes from the proxy's address; ProxyFix gives the app the
    client's own address, so phones behind one proxy are not counted as one."""
    codes = [send(browser(app, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}"), window).status_code
             for i in range(1, 5)]
    assert codes == [302] * 4
    same = [send(browser(app, "10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1"), window).status_code for _ in range(2)]
    assert same == [302, 429]
    assert stored(fresh_db, window.id) == 5


@pytest.mark.browser
def test_the_refusal_page_in_a_phone_browser(page, window, fresh_db):
    """The phone's address (the live server sees 127.0.0.1) has given its answers already: the
    form is filled and sent, and the refusal page is readable at 360 px and passes axe."""
    from tests.browser import assert_accessible, click_through

    db.session.add(AddressCount(window_id=window.id, address_key=services.address_key(window.id, "127.0.0.1"),
                                count=services.PER_ADDRESS))
    db.session.commit()
    code, window_id, legends = window.code, window.id, [item.label("fi") for item in window.item_set.items]
    db.session.close()
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/f/{code}")
    for legend in legends:
        page.get_by_role("group", name=legend).get_by_role("radio", name="7", exact=True).check()
    click_through(page, page.get_by_role("button", name="Lähetä palaute"))
    assert page.get_by_role("heading", level=1).inner_text() == "Tästä puhelimesta on jo vastattu"
    assert "mobiilidatalla" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page, context="answers from this address are in")
    assert stored(fresh_db, window_id) == 0


def test_closed_while_answering_or_full_stores_nothing_not_even_a_count(app, auth_client, window, fresh_db):
    """A participant opens the form, the facilitator closes the window, the participant sends:
    a polite page, no answer and no address count. A full window likewise leaves no count."""
    participant = browser(app, "203.0.113.9")
    url = f"/f/{window.code}"
    token = participant.csrf_token(url)
    show = f"/feedback/sessions/{window.session_id}/show"
    assert auth_client.post_form(f"/feedback/windows/{window.id}/adjust", {"action": "close"},
                                 token_from=show).status_code == 302
    data = {f"item_{item.id}": "5" for item in window.item_set.items}
    data.update(window_id=str(window.id), comment="", csrf_token=token)
    closed = participant.post(url, data=data)
    assert closed.status_code == 200 and "Palauteaika on päättynyt" in closed.get_data(as_text=True)
    assert stored(fresh_db, window.id) == 0
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AddressCount)) == 0

    assert auth_client.post_form(f"/feedback/windows/{window.id}/adjust", {"action": "open"},
                                 token_from=show).status_code == 302
    for i in range(6 + people.MARGIN):
        assert send(browser(app, f"198.51.100.{i + 1}"), window).status_code == 302
    full = send(browser(app, "203.0.113.9"), window)
    assert full.status_code == 409
    counted = fresh_db.execute(sa.select(AddressCount.address_key))
    assert services.address_key(window.id, "203.0.113.9") not in [k for (k,) in counted]
