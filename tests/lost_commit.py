"""The lost-commit check of ``make test``: a test that stores something through a request must
fail when the request's commit is lost.

Two modes, chosen by environment variables (see docs/ARCHITECTURE.md, "The lost-commit check"):

- ``KOHTAAMO_RECORD_WRITES=<dir>`` (the ordinary SQLite run of ``make test``): each test whose
  requests (other than the ``login()`` helper's) include a POST, PUT, PATCH or DELETE whose
  commit, the framework's one commit (``core.transaction.commit_request``), carried at least
  one INSERT, UPDATE or DELETE is written, one node id a line, to ``<dir>/<worker>.txt``. The
  set is derived from what the requests did, so a new test that writes joins it by itself.
- ``KOHTAAMO_LOST_COMMIT=<file>`` (the check): the framework's commit is replaced by a flush
  followed by a rollback (the writes are made, constraint errors still surface, and nothing is
  stored, as when a view's commit is lost), except for the ``login()`` helper's request, which
  is the test's setup. The tests named in ``<file>`` are run, and each must fail: a failure
  is reported as passed, a pass as a failure, and a named test that was not collected is an
  error, so the run is green only when every recorded test failed. Tests known not to look at
  what they stored are listed in ``tests/lost_commit_known.txt``: each must still pass (so a
  fixed one must leave the list) and must still be recorded; the list can only shrink.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest

RECORD_DIR = os.environ.get("KOHTAAMO_RECORD_WRITES")
LOST_COMMIT = os.environ.get("KOHTAAMO_LOST_COMMIT")
# The run's mode for the hooks below (RECORD_DIR and LOST_COMMIT are what install() uses, which
# tests/test_requests_run_in_their_own_session.py changes for one test).
_RUN_RECORDS, _RUN_CHECKS = RECORD_DIR, LOST_COMMIT

_DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_WRITING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

_state = {"setup_request": False, "client_request": False, "test_writes": False, "committing_request": False,
          "request_wrote": False}
_recorded: list[str] = []


@contextlib.contextmanager
def client_request():
    """A request of the test client (tests.conftest.CsrfClient); the browser tests' live server
    answers in threads of its own, and their requests are not recorded."""
    _state["client_request"] = True
    try:
        yield
    finally:
        _state["client_request"] = False


@contextlib.contextmanager
def setup_request():
    """A request that is the test's setup (the ``login()`` helper's): its commit is kept in the
    check and it does not count as the test's own write."""
    _state["setup_request"] = True
    try:
        yield
    finally:
        _state["setup_request"] = False


def install(app, monkeypatch) -> None:
    """Called by the ``app`` fixture: count the request's writes or lose its commit."""
    if not (RECORD_DIR or LOST_COMMIT):
        return
    import sqlalchemy as sa
    from flask import request

    import core.transaction
    from core.extensions import db

    real_commit = core.transaction.commit_request

    if LOST_COMMIT:
        def lost_commit():
            if _state["setup_request"]:
                return real_commit()
            db.session.flush()
            db.session.rollback()

        monkeypatch.setattr(core.transaction, "commit_request", lost_commit)
        return

    with app.app_context():
        engine = db.engine

    # Writes are counted per connection and belong to the commit that ends them; only the
    # framework's commit of a writing request counts (not the test's setup, not writing()).
    def on_execute(conn, _cursor, statement, _parameters, _context, _many):
        # conn is None for core.db's raw autocommit statements: they are not the request's commit.
        if conn is not None and _DML.match(statement):
            conn.info["uow_writes"] = True

    def on_commit(conn):
        if conn.info.pop("uow_writes", False) and _state["committing_request"]:
            _state["request_wrote"] = True

    def on_rollback(conn):
        conn.info.pop("uow_writes", None)

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", on_commit)
    sa.event.listen(engine, "rollback", on_rollback)

    def counting_commit():
        _state["committing_request"], _state["request_wrote"] = True, False
        try:
            real_commit()
        finally:
            _state["committing_request"] = False
        if (_state["request_wrote"] and _state["client_request"] and not _state["setup_request"]
                and request.method in _WRITING_METHODS):
            _state["test_writes"] = True

    monkeypatch.setattr(core.transaction, "commit_request", counting_commit)


def pytest_runtest_setup(item):
    _state["test_writes"] = False
    _state["setup_request"] = False


def pytest_runtest_teardown(item):
    if _RUN_RECORDS and _state["test_writes"]:
        _recorded.append(item.nodeid)
    _state["test_writes"] = False


def pytest_sessionfinish(session):
    if not _RUN_RECORDS:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    directory = Path(_RUN_RECORDS)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{worker}.txt").write_text("".join(f"{nodeid}\n" for nodeid in _recorded))


KNOWN = Path(__file__).with_name("lost_commit_known.txt")
_known: set[str] = set()


def expected() -> list[str]:
    return [line for line in Path(_RUN_CHECKS).read_text().splitlines() if line.strip()]


def known() -> list[str]:
    """Tests known to pass with their request's commit lost (they store through a request and do
    not look at it), one node id a line; each needs an assertion on what it stored. The list can
    only shrink: an entry that the recording run no longer records is an error."""
    if not KNOWN.exists():
        return []
    return [line.strip() for line in KNOWN.read_text().splitlines() if line.strip() and not line.startswith("#")]


def pytest_collection_modifyitems(config, items):
    if not _RUN_CHECKS:
        return
    names = expected()
    if not names:
        raise pytest.UsageError(f"{_RUN_CHECKS} names no test: the recording run found no test that writes")
    stale = [name for name in known() if name not in names]
    if stale:
        raise pytest.UsageError(f"{KNOWN.name} names tests that were not recorded as writing (remove them): "
                                + ", ".join(stale[:20]))
    collected = {item.nodeid for item in items}
    missing = [name for name in names if name not in collected]
    if missing:
        raise pytest.UsageError("recorded tests not collected in the lost-commit check: " + ", ".join(missing[:20]))
    _known.update(known())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if not _RUN_CHECKS:
        return
    report = outcome.get_result()
    if report.when == "setup" and report.failed:
        # A fixture that stores through a request failed: the lost write was seen.
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, "lost-commit check: failed in setup, as it must")
    elif report.when == "call" and item.nodeid in _known:
        # A known test must still pass (not look at its write); once it fails, it is caught.
        if report.failed:
            report.longrepr = (f"this test now fails with its request's commit lost, as it should: remove it "
                               f"from tests/{KNOWN.name}")
    elif report.when == "call":
        if report.failed:
            report.outcome = "passed"
            report.longrepr = None
        elif report.passed:
            report.outcome = "failed"
            report.longrepr = ("this test stored something through a request (recorded in the ordinary run), "
                               "yet it passed with the request's commit lost: assert on what reached the "
                               "database (fresh_db, or a later request that reads it)")
