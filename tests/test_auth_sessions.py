"""A login ends after SESSION_IDLE_MINUTES without a request, as well as at its absolute lifetime
(issue #20, point 11), enforced on the server-side session row; activity keeps it alive at the
cost of at most one small write a minute."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from accounts.models import LoginAttempt, UserSession
from tests.factories import PASSWORD, login

IDLE_MESSAGE = "Sinut kirjattiin ulos, koska palvelua ei käytetty hetkeen"


@pytest.fixture
def clock(frozen_time):
    """The whole app's clock, stopped now and moved forward by the test (``clock.forward``)."""
    class Clock:
        def forward(self, **delta):
            frozen_time.shift(**delta)

        def now(self):
            return frozen_time.now()

    frozen_time(frozen_time.now())
    return Clock()


def _last_seen(fresh_db, user):
    return fresh_db.scalar(sa.select(UserSession.last_seen_at).where(UserSession.user_id == user.id))


def test_an_idle_login_ends_and_the_user_comes_back_where_they_were(app, client, facilitator, clock, fresh_db):
    login(client, facilitator)
    assert client.get("/meetings/?show=past").status_code == 200
    clock.forward(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    response = client.get("/meetings/?show=past")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/meetings/?show=past"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert IDLE_MESSAGE in page
    # Logging in again leads back to the page.
    again = client.post_form(response.headers["Location"], {"email": facilitator.email, "password": PASSWORD})
    assert again.status_code == 302 and again.headers["Location"] == "/meetings/?show=past"
    # The new login's attempt and session rows were committed.
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(LoginAttempt).where(
        LoginAttempt.email == facilitator.email, LoginAttempt.success.is_(True))) == 2
    assert fresh_db.scalar(sa.select(UserSession.last_seen_at).where(UserSession.user_id == facilitator.id)
                           .order_by(UserSession.id.desc()).limit(1)) == clock.now()


def test_activity_keeps_the_login_alive_read_only_pages_too(app, client, facilitator, clock, fresh_db):
    login(client, facilitator)
    idle = app.config["SESSION_IDLE_MINUTES"]
    start = _last_seen(fresh_db, facilitator)
    # Read-only pages (@read_only) and pages that never commit both count as activity.
    for url in ("/meetings/", "/groups/new", "/clients", "/"):
        clock.forward(minutes=idle - 5)
        assert client.get(url).status_code == 200, url
    assert _last_seen(fresh_db, facilitator) >= start + timedelta(minutes=4 * (idle - 5))


def test_requests_within_a_minute_do_not_write_the_session_row(app, client, facilitator, clock, fresh_db):
    login(client, facilitator)
    seen = _last_seen(fresh_db, facilitator)
    clock.forward(seconds=30)
    for url in ("/", "/meetings/", "/clients"):
        assert client.get(url).status_code == 200
    assert _last_seen(fresh_db, facilitator) == seen
    clock.forward(seconds=40)
    assert client.get("/").status_code == 200
    assert _last_seen(fresh_db, facilitator) > seen


def test_the_idle_time_is_configurable(app, client, facilitator, clock):
    app.config["SESSION_IDLE_MINUTES"] = 5
    login(client, facilitator)
    clock.forward(minutes=4)
    assert client.get("/").status_code == 200
    clock.forward(minutes=6)
    assert client.get("/").status_code == 302


def test_the_absolute_lifetime_still_ends_an_active_login(app, client, facilitator, clock):
    login(client, facilitator)
    lifetime = app.permanent_session_lifetime
    steps = int(lifetime / timedelta(minutes=20)) + 1
    ended = False
    for _ in range(steps):
        clock.forward(minutes=20)
        if client.get("/").status_code == 302:
            ended = True
            break
    assert ended


def test_idle_minutes_come_from_the_environment(monkeypatch, tmp_path):
    from core import config

    monkeypatch.setenv("KOHTAAMO_ENV", "development")
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "15")
    assert config.from_environment(str(tmp_path))["SESSION_IDLE_MINUTES"] == 15
    monkeypatch.delenv("SESSION_IDLE_MINUTES")
    assert config.from_environment(str(tmp_path))["SESSION_IDLE_MINUTES"] == 30
    assert config.DEFAULTS["SESSION_IDLE_MINUTES"] == 30
