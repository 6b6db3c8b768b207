"""Unchanged calendar polls answered before Flask (calendar_export.fastpath): only when the answer
is certainly 304, with the same headers as the view's 304, and everything else left to the view."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.test import Client
from werkzeug.wrappers import Response

import calendar_export.views as views
from calendar_export.fastpath import NotModifiedFeeds
from calendar_export.models import CalendarSubscription
from core.db import utcnow
from core.extensions import db
from tests.factories import make_partner
from tests.test_calendar_export_data import make_group, make_session, soon, subscribe


@pytest.fixture
def feed(app, facilitator, lead):
    partner = make_partner(name="Sovatek-säätiö")
    group = make_group("Raharyhmä", (facilitator, lead), partners=[partner])
    make_session(group, 1, soon(7), topic="Budjetti")
    db.session.commit()
    return {"url": subscribe("partner", partner.id), "partner": partner}


@pytest.fixture
def view_calls(app):
    """How many requests reached the feed view."""
    calls = {"n": 0}
    real = app.view_functions["calendar_export.feed"]

    def counting(**kwargs):
        calls["n"] += 1
        return real(**kwargs)

    app.view_functions["calendar_export.feed"] = counting
    yield calls
    app.view_functions["calendar_export.feed"] = real


def first_get(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.headers["ETag"]


def subscription_of(url: str) -> CalendarSubscription:
    from calendar_export.services import hash_token

    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    return db.session.scalar(sa.select(CalendarSubscription).where(CalendarSubscription.token_hash == hash_token(token)))


@pytest.mark.parametrize("header", ["same", "weak", "in_a_list", "star"])
def test_an_unchanged_poll_is_answered_without_the_view(client, feed, view_calls, header):
    etag = first_get(client, feed["url"])
    view_calls["n"] = 0
    value = {"same": etag, "weak": f"W/{etag}", "in_a_list": f'"other", {etag}', "star": "*"}[header]
    for method in (client.get, client.head):
        response = method(feed["url"], headers={"If-None-Match": value})
        assert response.status_code == 304
        assert response.get_data() == b""
        assert response.headers["ETag"] == etag
    assert view_calls["n"] == 0


def test_the_early_304_has_the_views_headers(app, client, feed):
    full = client.get(feed["url"])
    etag = full.headers["ETag"]
    assert full.headers["Vary"] == "Cookie"  # a 304 repeats the 200's Vary
    assert isinstance(app.wsgi_app, NotModifiedFeeds)
    early = client.get(feed["url"], headers={"If-None-Match": etag})
    # The same request through Flask alone (the middleware's inner app).
    late = Client(app.wsgi_app.wsgi_app, Response).get(feed["url"], headers={"If-None-Match": etag})
    assert early.status_code == late.status_code == 304
    assert sorted(early.headers.items()) == sorted(late.headers.items())
    assert early.headers["Referrer-Policy"] == "no-referrer"
    assert "Content-Security-Policy" in early.headers and early.headers["Vary"] == "Cookie"
    assert early.headers["Cache-Control"].startswith("private")


def test_a_changed_feed_goes_to_the_view(client, feed, view_calls):
    etag = first_get(client, feed["url"])
    feed["partner"].name = "Sovatek"  # the calendar's name changes
    db.session.commit()
    response = client.get(feed["url"], headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert b"Sovatek" in response.get_data()
    assert view_calls["n"] == 2  # the first GET and this one


def test_revoked_rotated_and_ended_feeds_go_to_the_view(client, feed, view_calls):
    from calendar_export import services

    etag = first_get(client, feed["url"])
    sub = subscription_of(feed["url"])
    new_token = services.rotate(sub)
    db.session.commit()
    assert client.get(feed["url"], headers={"If-None-Match": etag}).status_code == 404
    # The rotated URL serves the same feed, so the same ETag; its first use is recorded by the view.
    new_url = f"/calendar/{new_token}.ics"
    assert client.get(new_url, headers={"If-None-Match": etag}).status_code == 304

    feed["partner"].active = False  # the cooperation ended: its feeds stop
    db.session.commit()
    assert client.get(new_url, headers={"If-None-Match": etag}).status_code == 404
    assert view_calls["n"] == 3


def test_a_poll_whose_use_is_due_to_be_recorded_goes_to_the_view(client, feed, view_calls):
    etag = first_get(client, feed["url"])
    sub = subscription_of(feed["url"])
    long_ago = utcnow() - timedelta(hours=1)
    sub.last_used_at = long_ago
    db.session.commit()
    view_calls["n"] = 0
    assert client.get(feed["url"], headers={"If-None-Match": etag}).status_code == 304
    assert view_calls["n"] == 1
    db.session.expire_all()
    assert subscription_of(feed["url"]).last_used_at > long_ago
    # Recorded now, so the next poll is answered early again.
    assert client.get(feed["url"], headers={"If-None-Match": etag}).status_code == 304
    assert view_calls["n"] == 1


def test_only_conditional_feed_gets_are_answered_early(client, feed, view_calls):
    etag = first_get(client, feed["url"])
    view_calls["n"] = 0
    assert client.get(feed["url"]).status_code == 200                                    # no validator
    assert client.get(feed["url"], headers={"If-None-Match": '"something else"'}).status_code == 200
    assert client.get(feed["url"], headers={"If-Modified-Since": "Wed, 01 Jan 2125 00:00:00 GMT"}).status_code == 304
    assert client.post(feed["url"], headers={"If-None-Match": etag}).status_code in (400, 405)  # CSRF or method
    assert view_calls["n"] == 3
    # Tokens the view would refuse are refused by it, never by the middleware.
    for path in ("/calendar/" + "x" * 150 + ".ics", "/calendar/nope.ics", "/calendar/a%2Fb.ics"):
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 404


def test_a_database_error_in_the_early_answer_leaves_the_poll_to_the_view(client, feed, view_calls, monkeypatch,
                                                                         caplog):
    etag = first_get(client, feed["url"])
    view_calls["n"] = 0
    real = views.feed_state
    failures = {"n": 0}

    def failing_once(token):
        if failures["n"] == 0:
            failures["n"] += 1
            raise sa.exc.OperationalError("SELECT", {}, Exception("database is locked"))
        return real(token)

    monkeypatch.setattr(views, "feed_state", failing_once)
    assert client.get(feed["url"], headers={"If-None-Match": etag}).status_code == 304
    assert failures["n"] == 1 and view_calls["n"] == 1
    assert "early answer of a calendar poll failed (OperationalError)" in caplog.text
    assert feed["url"].rsplit("/", 1)[1] not in caplog.text
