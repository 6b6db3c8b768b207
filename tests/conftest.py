"""Shared fixtures: a fresh app and database per test, a test client that does real CSRF,
login helpers and small factories.

The database is SQLite by default. ``KOHTAAMO_TEST_DB=postgres`` runs the same tests against a
real PostgreSQL server (``TEST_POSTGRES_URL``, default the role ``.ci/run`` creates); when none
answers the tests are skipped, unless ``REQUIRE_POSTGRES=1`` makes that a failure.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from argon2 import PasswordHasher
from flask.testing import FlaskClient

import accounts.passwords
from tests import lost_commit
from tests.lost_commit import (  # noqa: F401 - the lost-commit check's hooks (tests/lost_commit.py)
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    pytest_sessionfinish,
)

# argon2id with small costs keeps the suite fast; production uses argon2-cffi's defaults.
accounts.passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
accounts.passwords._DUMMY_HASH = accounts.passwords._hasher.hash("dummy")

BACKEND = os.environ.get("KOHTAAMO_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://kohtaamo:kohtaamo@127.0.0.1:5432/postgres")

_CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def pytest_configure(config):
    from core.i18n_tools import compile_all

    compile_all()


def pytest_collection_modifyitems(config, items):
    lost_commit.pytest_collection_modifyitems(config, items)
    # The PostgreSQL run repeats the database tests; browser tests run once, on SQLite.
    if BACKEND == "postgres":
        skip = pytest.mark.skip(reason="browser tests run in the SQLite pass")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


class CsrfClient(FlaskClient):
    """A test client that fetches a real CSRF token the way a browser does: from a page.

    Each request runs as in production: in an app context (and so a ``g`` and a database session)
    of its own, pushed for the request and popped after it, when Flask-SQLAlchemy removes the
    session. The test's own app context (the ``app`` fixture's, for setup and assertions) is
    committed first, so the request sees the test's setup and the test's session holds no open
    transaction (no stale snapshot, no lock); its objects are expired, so after the request the
    test reads back only what the request committed.
    """

    def open(self, *args, **kwargs):
        from flask import has_app_context

        from core.extensions import db

        if has_app_context():
            db.session.commit()  # the test's setup, not the request's: see the class comment
        with self.application.app_context(), lost_commit.client_request():
            return super().open(*args, **kwargs)

    def csrf_token(self, url: str = "/login") -> str:
        response = self.get(url, follow_redirects=True)
        match = _CSRF_RE.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {url} (status {response.status_code})"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, *, token_from: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from or "/login"))
        return self.post(url, data=data, **kwargs)


def _make_test_app(uri: str, extra: dict | None = None):
    from app import create_app

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": uri,
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": None,
        "BASE_URL": "http://localhost",
    }
    config.update(extra or {})
    return create_app(config)


def drop_database(admin: sa.Engine, name: str) -> None:
    """DROP DATABASE ... WITH (FORCE), again after a moment when PostgreSQL refuses to end a
    connection of another role: an autovacuum worker (a superuser's) that started on the freshly
    seeded database (the error was "must be a member of the role whose process is being
    terminated", now and then, after the query-plan test's ANALYZE)."""
    import time

    for attempt in range(10):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.ProgrammingError as error:
            if "InsufficientPrivilege" not in type(error.orig).__name__ or attempt == 9:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    from core.extensions import db

    path = tmp_path_factory.mktemp("template") / "template.db"
    app = _make_test_app(f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_url():
    if BACKEND != "postgres":
        return None
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"kohtaamo_test_{uuid.uuid4().hex[:8]}"
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    from core.extensions import db

    app = _make_test_app(url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    drop_database(engine, name)
    engine.dispose()


@pytest.fixture
def empty_database_url(tmp_path):
    """A new, empty database of the backend under test (for `flask db upgrade`), dropped after."""
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"kohtaamo_mig_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    drop_database(admin, name)
    admin.dispose()


def _empty_postgres(conn, metadata: sa.MetaData) -> None:
    """Every table back to empty and every sequence back to 1, as after ``TRUNCATE ... RESTART
    IDENTITY``, but only the tables the test wrote to are touched: TRUNCATE of all of them gave
    each table new files, 250-450 ms a test, about a minute of the PostgreSQL run. The tables
    with rows are found in one statement and emptied children first. The dead rows DELETE leaves
    let autovacuum analyse the tables now and then; no test relies on the statistics of its few
    rows (test_client_list_units.py analyses a county-shaped table of its own)."""
    # The installation's calendar identity is set up with the schema, like alembic_version.
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name != "calendar_installation"]
    probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT FROM \"{name}\")" for name in tables)
    written = set(conn.exec_driver_sql(probe).scalars())
    for name in tables:
        if name in written:
            conn.exec_driver_sql(f'DELETE FROM "{name}"')
    # A sequence moves on with a rolled-back insert too, so every table's is set back.
    conn.exec_driver_sql(
        "SELECT setval(d.objid::regclass, 1, false) FROM pg_depend d"
        " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
        " JOIN pg_class t ON t.oid = d.refobjid AND t.relname <> 'calendar_installation'")


@pytest.fixture
def database_url(request, tmp_path, _sqlite_template):
    if BACKEND == "postgres":
        url = request.getfixturevalue("_postgres_url")
        yield url
        from core.extensions import db

        engine = sa.create_engine(url)
        with engine.begin() as conn:
            _empty_postgres(conn, db.metadata)
        engine.dispose()
    else:
        path = tmp_path / "test.db"
        shutil.copy(_sqlite_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app_config():
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def app(database_url, app_config, monkeypatch):
    from core.extensions import db

    app = _make_test_app(database_url, app_config)
    app.test_client_class = CsrfClient
    lost_commit.install(app, monkeypatch)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app) -> CsrfClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def frozen_time():
    """The app's one clock stopped (time-machine: ``datetime.now``, ``date.today``, ``time.time``,
    so ``core.db.utcnow()`` and every module that reads the clock agree): ``frozen_time(at)`` stops
    it at ``at`` and may be called again to move it; ``frozen_time.shift(**delta)`` moves it on.
    It runs again when the test ends. Signed cookies and CSRF tokens made at a later time are
    refused as "from the future", so freeze before logging in when ``at`` is in the past."""
    class Frozen:
        traveller = None
        coordinates = None

        def __call__(self, at):
            if self.traveller is None:
                self.traveller = time_machine.travel(at, tick=False)
                self.coordinates = self.traveller.start()
            else:
                self.coordinates.move_to(at)
            return self.coordinates

        def shift(self, **delta):
            if self.traveller is None:
                self(datetime.now(UTC))
            self.coordinates.shift(timedelta(**delta))

        def now(self) -> datetime:
            return datetime.now(UTC)

    frozen = Frozen()
    yield frozen
    if frozen.traveller is not None:
        frozen.traveller.stop()


class FreshDB:
    """Reads through an engine and session of its own, so a test sees only what a request really
    committed (the app context's session would also show rows that were flushed but never
    committed). Each call is its own short transaction; returned rows are detached."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url)

    def _run(self, fn):
        from sqlalchemy.orm import Session

        with Session(self.engine, expire_on_commit=False) as session:
            result = fn(session)
            session.expunge_all()
            return result

    def scalar(self, stmt):
        return self._run(lambda s: s.scalar(stmt))

    def scalars(self, stmt) -> list:
        return self._run(lambda s: list(s.scalars(stmt)))

    def execute(self, stmt) -> list:
        return self._run(lambda s: list(s.execute(stmt)))

    def get(self, model, ident):
        return self._run(lambda s: s.get(model, ident))


@pytest.fixture
def fresh_db(app):
    """See ``FreshDB``: assert on what reached the database, not on the test's own session."""
    reader = FreshDB(app.config["SQLALCHEMY_DATABASE_URI"])
    yield reader
    reader.engine.dispose()


@pytest.fixture
def db_session(app):
    from core.extensions import db

    return db.session


from tests.factories import login, make_user  # noqa: E402


@pytest.fixture
def facilitator(app):
    return make_user(role="facilitator", name="Fiia Facilitator", email="fiia@example.fi")


@pytest.fixture
def lead(app):
    return make_user(role="lead", name="Leo Lead", email="leo@example.fi")


@pytest.fixture
def auth_client(client, facilitator):
    """A client logged in as a facilitator."""
    login(client, facilitator)
    return client


@pytest.fixture
def lead_client(app, lead):
    c = app.test_client()
    login(c, lead)
    return c


# Browser fixtures (live_server, browser, page) live in tests/browser.py.
from tests.browser import browser, live_server, page, viewport  # noqa: E402,F401
