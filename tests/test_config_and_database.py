"""Configuration from the environment, and SQLite set up for concurrent workers."""
from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa

from core import config
from core.extensions import db


def test_secret_key_required_outside_development(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("KOHTAAMO_ENV", raising=False)
    with pytest.raises(config.ConfigError):
        config.from_environment(str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "from-env")
    settings = config.from_environment(str(tmp_path))
    assert settings["SECRET_KEY"] == "from-env"
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_development_generates_and_keeps_a_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("KOHTAAMO_ENV", "development")
    first = config.from_environment(str(tmp_path))["SECRET_KEY"]
    second = config.from_environment(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_url(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.database_url(str(tmp_path)) == f"sqlite:///{tmp_path}/kohtaamo.db"
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@h/db")
    assert config.database_url(str(tmp_path)) == "postgresql+psycopg://u:p@h/db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@h/db")
    assert config.database_url(str(tmp_path)) == "postgresql+psycopg://u:p@h/db"


def test_create_app_refuses_to_start_without_secret(monkeypatch):
    from app import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("KOHTAAMO_ENV", raising=False)
    with pytest.raises(config.ConfigError):
        create_app()


def test_sqlite_pragmas(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_sqlite_gathers_planner_statistics_by_itself(app, facilitator):
    """Without sqlite_stat1 SQLite may pick an unselective index (every open action item instead
    of one user's participations) and a page slows down with the data. Pooled connections run
    PRAGMA optimize, which analyses the tables they used."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only (PostgreSQL's autovacuum analyses tables)")
    from meetings import plan
    from tests.test_meetings_support import make_meeting, participant

    meeting = make_meeting([facilitator])
    plan.add_item(meeting, responsible_id=participant(meeting, "staff").id, what="Soita")
    db.session.commit()
    db.engine.dispose()
    # The planner has to choose between two indexes here: the kind of query that needs stats.
    query = sa.text("SELECT count(*) FROM action_item JOIN meeting_participant"
                    " ON action_item.responsible_id = meeting_participant.id"
                    " WHERE meeting_participant.user_id = 1 AND action_item.status = 'open'")
    for _ in range(2):
        with db.engine.connect() as conn:
            conn.execute(query).scalar()
    with db.engine.connect() as conn:
        analysed = {row[0] for row in conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1")}
    assert {"action_item", "meeting_participant"} <= analysed


def _hammer(uri: str, worker: int, rounds: int, queue) -> None:
    """One 'gunicorn worker': read-then-write requests through the real app."""
    from tests.conftest import CsrfClient, _make_test_app

    # The address limit would (rightly) answer 429 to this many failures from one address.
    app = _make_test_app(uri, {"LOGIN_MAX_FAILURES_PER_ADDRESS": 10_000})
    app.test_client_class = CsrfClient
    errors = 0
    with app.app_context():
        client = app.test_client()
        for i in range(rounds):
            # A failed login reads the failure counts, then writes an attempt row.
            response = client.post_form("/login", {"email": f"w{worker}-{i}@example.fi", "password": "x" * 12})
            if response.status_code != 200:
                errors += 1
    queue.put(errors)


def test_concurrent_writers_never_see_database_is_locked(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    from accounts.models import LoginAttempt

    db.session.commit()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers, rounds = 4, 15
    procs = [ctx.Process(target=_hammer, args=(database_url, w, rounds, queue)) for w in range(workers)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert results == [0] * workers
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(LoginAttempt.id))) == workers * rounds
