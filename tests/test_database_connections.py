"""Database connections: surviving connections the server closed, and the SQL of hot statements."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from core.db import const
from core.extensions import db
from tests.conftest import BACKEND

postgres_only = pytest.mark.skipif(BACKEND != "postgres",
                                   reason="needs PostgreSQL (run with KOHTAAMO_TEST_DB=postgres): closes server connections")


def _close_app_connections_from_the_server() -> int:
    """What a database restart (or an idle timeout) does to the app's pooled connections."""
    admin = sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        closed = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )).scalar_one()
    admin.dispose()
    return closed


def _server_closes_the_pool(monkeypatch, *, idle_after: float) -> None:
    """Close the pooled connections the requests so far have left, and make pooled connections
    count as idle (so pinged on checkout) after ``idle_after`` seconds."""
    import core.setup

    db.session.remove()
    assert _close_app_connections_from_the_server() >= 1
    monkeypatch.setattr(core.setup, "PING_WHEN_IDLE", idle_after)


@postgres_only
def test_an_idle_connection_closed_by_the_server_is_replaced_unseen(app, client, monkeypatch):
    assert client.get("/healthz").status_code == 200
    # Idle longer than the limit: the checkout pings, the ping fails, the pool connects anew.
    _server_closes_the_pool(monkeypatch, idle_after=0.0)
    assert client.get("/healthz").status_code == 200


@postgres_only
def test_a_busy_connection_closed_by_the_server_fails_one_request_then_the_pool_recovers(app, client, monkeypatch):
    assert client.get("/healthz").status_code == 200
    # Used a moment ago, so not pinged: the request meets the dead connection and fails with the
    # "briefly unavailable" page (503); SQLAlchemy then discards the whole pool, and the next
    # request connects.
    _server_closes_the_pool(monkeypatch, idle_after=3600.0)
    failed = client.get("/healthz")
    page = failed.get_data(as_text=True)
    assert failed.status_code == 503 and "<h1" in page and failed.headers["Retry-After"] == "5"
    assert "psycopg" not in page and "Traceback" not in page and "terminat" not in page
    db.session.remove()
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200


def test_const_writes_plain_constants_only():
    assert str(const("partner").compile(dialect=postgresql.dialect())) == "'partner'"
    for bad in ("it's", "a b", "x;--", ""):
        with pytest.raises(ValueError):
            const(bad)


def test_the_feed_lookup_sends_only_the_token_as_a_parameter(app):
    # PostgreSQL re-plans a prepared statement whose parameters could change its plan; the
    # feed lookup runs on every calendar poll and must keep one generic plan.
    from calendar_export.services import _active_feed_statement
    from feedback.summary import _facts_query

    assert set(_active_feed_statement().compile(dialect=postgresql.dialect()).params) == {"token_hash"}
    assert set(_facts_query().compile(dialect=postgresql.dialect()).params) == {"group_id"}


def _partner_feed(facilitator):
    from calendar_export import services as feeds
    from tests.factories import make_partner

    partner = make_partner()
    _sub, token = feeds.create_subscription(kind="partner", target_id=partner.id, created_by=facilitator)
    db.session.commit()
    return f"/calendar/{token}.ics"


def test_a_feed_poll_leaves_its_connection_transactional(app, client, facilitator):
    # The poll reads outside the session, in autocommit mode on PostgreSQL (core.db.read_row);
    # the connection must go back to the pool as it came, or a later request's writes would
    # each commit on their own.
    url = _partner_feed(facilitator)
    seen = []

    def on_checkin(dbapi_connection, _record):
        if BACKEND == "postgres":
            seen.append(dbapi_connection.autocommit)
        else:  # pysqlite: None is autocommit, which is how the app keeps it (core.setup)
            seen.append(dbapi_connection.isolation_level is not None)

    db.session.remove()
    sa.event.listen(db.engine, "checkin", on_checkin)
    try:
        etag = client.get(url).headers["ETag"]
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    finally:
        sa.event.remove(db.engine, "checkin", on_checkin)
    assert seen and not any(seen)


@postgres_only
def test_a_feed_poll_on_a_dead_connection_is_answered_on_a_new_one(app, client, facilitator, monkeypatch):
    """The early answer (calendar_export.fastpath) meets the dead connection, which discards the
    pool, and leaves the poll to the view, which reads on a fresh connection: a read retried."""
    url = _partner_feed(facilitator)
    etag = client.get(url).headers["ETag"]
    _server_closes_the_pool(monkeypatch, idle_after=3600.0)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


@postgres_only
def test_the_feed_view_on_a_dead_connection_fails_once_then_recovers(app, facilitator, monkeypatch):
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    view_only = Client(app.wsgi_app.wsgi_app, Response)  # Flask without the early answer
    url = _partner_feed(facilitator)
    etag = view_only.get(url).headers["ETag"]
    _server_closes_the_pool(monkeypatch, idle_after=3600.0)
    failed = view_only.get(url, headers={"If-None-Match": etag})
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "5"
    assert view_only.get(url, headers={"If-None-Match": etag}).status_code == 304
