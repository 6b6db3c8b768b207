"""One ``register_*`` function per concern, called in order by ``create_app``."""
from __future__ import annotations

import contextlib
import gc
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from flask import Flask, g, has_request_context

from .db import IMMEDIATE_OUTSIDE_REQUESTS
from .extensions import babel, csrf, db, login_manager, migrate
from .registry import register

ROOT = Path(__file__).resolve().parent.parent


OPTIMIZE_EVERY = 500  # connection check-ins between PRAGMA optimize runs (SQLite)
SQLITE_CACHE_KIB = 32 * 1024  # page cache per connection (PRAGMA cache_size takes -KiB)
# Address space, not memory: the whole file is mapped up to SQLite's own limit (2 GiB here).
# A page outside the map is read into the connection's cache, and SQLite drops that whole cache
# when another connection has written since: with every request writing its access-log row, a
# worker re-read whatever lay beyond the first 256 MiB on each request (the 665 MB county-scale
# file, bench/RESULTS.md). Pages in the map are shared and survive another worker's commit.
SQLITE_MMAP_BYTES = 2 * 1024 * 1024 * 1024


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def _sqlite_listeners(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed in the file, so an erased client's name is
        # not left in free space for a backup to copy (lifecycle.erasure). Debian builds SQLite
        # with this on; other builds do not, so it is said here.
        cursor.execute("PRAGMA secure_delete=ON")
        # A county's tables outgrow SQLite's default 2 MiB page cache per connection: a unit's
        # 5,000 clients sit on ten times as many pages among 50,000, and each page came back
        # through a read() and was decoded again on every request (the client list cost 3x at
        # scale 10, bench/RESULTS.md). A 32 MiB cache per connection and reads through a memory
        # map keep the pages a worker uses in memory.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()
        # SQLite's own lower() folds ASCII only, so a search for "äijälä" would miss "Äijälä"
        # (ILIKE is lower() LIKE lower() here); Python's folds every letter, as PostgreSQL's does.
        # No index or constraint uses lower(), so none was built with the built-in one.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @sa.event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection, record):
        # SQLite's planner needs table statistics to pick the selective index (e.g. a user's
        # meeting participations rather than every open action item), and SQLite never
        # gathers them by itself. PRAGMA optimize runs ANALYZE only on tables whose query plans
        # on this connection needed statistics that are missing or stale (the table grew
        # 25-fold); otherwise it is a no-op. Pooled connections live long, so it runs often on
        # a new connection (after its 1st, 2nd, 4th, 8th... use, as the tables it has used
        # grow) and then every OPTIMIZE_EVERY uses.
        if dbapi_connection is None:
            return
        uses = record.info.get("uses", 0) + 1
        record.info["uses"] = uses
        if uses & (uses - 1) == 0 or uses % OPTIMIZE_EVERY == 0:
            with contextlib.suppress(sqlite3.OperationalError):  # busy: next time
                # No analysis_limit: sampled statistics misjudged low-cardinality columns
                # (statuses) badly enough to pick the wrong index; a full pass over the tables
                # that need it takes a fraction of a second at five years of data.
                dbapi_connection.execute("PRAGMA optimize")

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn):
        # A deferred transaction that reads and then writes fails at once with "database is
        # locked" when another worker committed in between (busy_timeout cannot help there).
        # BEGIN IMMEDIATE takes the write lock up front and waits for it, so writers queue
        # instead of failing. Views that never write opt out with @read_only for concurrency.
        # Outside requests (tests, shell) transactions are deferred unless a command asks for
        # the write lock with core.db.immediate_transactions().
        immediate = (not getattr(g, "read_only", False)) if has_request_context() else IMMEDIATE_OUTSIDE_REQUESTS.get()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def freeze_long_lived_objects() -> None:
    """For a server process once the app is loaded (gunicorn.conf.py's post_worker_init, and the
    benchmark's in-process measurements, which should cost what a worker's requests cost).
    Freezing moves the app's ~200,000 long-lived objects (modules, metadata, translations) out
    of the garbage collector's view, and a larger first generation means fewer collections in a
    request that loads many rows: without it a full collection walked them all every few
    requests, and a lead's report took 250 ms every other time instead of 65."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def register_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # A database error's message would quote the statement's parameters (a searched name, a
    # token's hash) into the error log; the statement itself is enough to find the bug.
    options.setdefault("hide_parameters", True)
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {})
        options["connect_args"].setdefault("timeout", 30)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    # The features' models are imported by now (app.py imports every feature's views, which import
    # their models), so the metadata knows every table for create_all and Alembic.
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    with app.app_context():
        if uri.startswith("sqlite"):
            _sqlite_listeners(db.engine)
        elif not options.get("pool_pre_ping"):
            _ping_when_idle(db.engine)


PING_WHEN_IDLE = 2.0  # seconds a pooled connection may sit unused before it is tested on checkout


def _ping_when_idle(engine: sa.Engine) -> None:
    """Survive a database restart (or a dropped idle connection) without restarting the app.

    SQLAlchemy's pool_pre_ping tests every connection on every checkout: one extra round trip per
    request, which was a third of the cost of a feed answered 304 under load. A connection used
    within the last PING_WHEN_IDLE seconds is tested by the request itself instead: if the server
    went away meanwhile, that statement fails as a disconnect, SQLAlchemy then invalidates every
    connection of the pool, and the next checkouts connect afresh. A connection idle for longer
    (the usual case in an office, where an idle timeout or a restart may have closed it) is pinged
    first, as pre-ping would, and replaced silently if the ping fails.
    """
    @sa.event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_WHEN_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # what pre-ping runs (it leaves no transaction open)
        except Exception as error:  # noqa: BLE001 - any failure means the connection is unusable
            # The pool discards this connection and checks out (or makes) another one.
            raise sa.exc.DisconnectionError() from error


def register_extensions(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)


def register_i18n(app: Flask, features: Iterable[ModuleType]) -> None:
    from .i18n import init_i18n

    dirs = [str(ROOT / "translations")]
    for feature in features:
        candidate = Path(feature.__path__[0]) / "translations"
        if candidate.is_dir() and feature.__name__ != "core":
            dirs.append(str(candidate))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(dirs)
    init_i18n(app, babel)


def register_security(app: Flask) -> None:
    from .security import init_security

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Client addresses (login throttling) and https URLs come right only behind a proxy
        # that is trusted explicitly; otherwise X-Forwarded-For could be forged.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap it
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    init_security(app)


def register_templating(app: Flask) -> None:
    from .templating import init_templating

    init_templating(app)


def register_features(app: Flask, features: Iterable[ModuleType]) -> None:
    """Register each feature's blueprint (``<feature>.views.bp``), in order. Registering it runs
    the blueprint's ``record_once`` functions, which fill the app's registries (core.registry)."""
    for feature in features:
        register(app, "features", feature)
        app.register_blueprint(feature.views.bp)


def register_errors(app: Flask) -> None:
    from .errors import init_errors

    init_errors(app)


def register_cli(app: Flask) -> None:
    from .cli import init_cli

    init_cli(app)
