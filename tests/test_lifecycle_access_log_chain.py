"""The access log is tamper-evident: every row is a link of a hash chain, and
``flask access-log verify`` (run as a command, reading the database afresh) names the first row
that was changed, removed or inserted out of order. Edits are made as an attacker with database
access would make them: plain SQL on an engine of the test's own, outside the app."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.extensions import db
from register import chain
from register.access import log_access, log_access_many
from register.models import AccessLog
from tests.factories import make_client

ROOT = Path(__file__).resolve().parent.parent


def _verify(runner, *args):
    result = runner.invoke(args=["access-log", "verify", *args])
    assert "Traceback" not in result.output
    return result


def _attack(app, sql: str, **params) -> None:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def _ids(fresh_db) -> list[int]:
    return fresh_db.scalars(sa.select(AccessLog.id).order_by(AccessLog.id))


def _seed_log(app, auth_client, lead_client, facilitator, n_clients=3):
    clients = [make_client(name=f"Ketju Asiakas {i}", worker=facilitator) for i in range(n_clients)]
    db.session.commit()
    for c in clients:
        assert auth_client.get(f"/clients/{c.id}").status_code == 200      # read-only: its own write transaction after the reads
        assert auth_client.get(f"/clients/{c.id}/edit").status_code == 200  # writing view: in session
    assert lead_client.get("/clients").status_code == 200                    # many rows at once
    log_access_many([c.id for c in clients], "export", "test", user=facilitator)
    db.session.commit()
    return clients


def test_empty_log_passes(app, runner):
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact: 0 rows" in result.output


def test_rows_from_every_write_path_form_one_chain(app, runner, auth_client, lead_client, facilitator, fresh_db):
    _seed_log(app, auth_client, lead_client, facilitator)
    rows = fresh_db.execute(sa.select(AccessLog).order_by(AccessLog.id))
    assert len(rows) >= 12
    # An independent recomputation (hashlib and json here, not the app's code).
    import hashlib
    import json

    prev = "0" * 64
    for (row,) in rows:
        content = [prev, row.user_id, row.user_name, row.client_id, row.action, row.detail,
                   row.at.astimezone(UTC).isoformat(timespec="microseconds")]
        own = hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
        assert (row.prev_hash, row.row_hash) == (prev, own), row.id
        prev = own
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert f"intact: {len(rows)} rows" in result.output


def test_changed_row_is_named(app, runner, auth_client, lead_client, facilitator, fresh_db):
    _seed_log(app, auth_client, lead_client, facilitator)
    target = _ids(fresh_db)[4]
    _attack(app, "UPDATE access_log SET user_name = 'Someone Else' WHERE id = :id", id=target)
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"row {target} was changed" in result.output


def test_removed_row_is_named_by_the_row_after_it(app, runner, auth_client, lead_client, facilitator, fresh_db):
    _seed_log(app, auth_client, lead_client, facilitator)
    ids = _ids(fresh_db)
    _attack(app, "DELETE FROM access_log WHERE id = :id", id=ids[3])
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"row {ids[4]} does not follow the row before it" in result.output


def test_row_inserted_out_of_order_is_named(app, runner, auth_client, lead_client, facilitator, fresh_db):
    _seed_log(app, auth_client, lead_client, facilitator)
    ids = _ids(fresh_db)
    # A forged row that hashes correctly as the successor of row 2, slipped in after the end.
    second = fresh_db.get(AccessLog, ids[1])
    forged = {"user_id": None, "user_name": "Ghost", "client_id": second.client_id, "action": "view",
              "detail": "", "at": datetime(2026, 1, 1, tzinfo=UTC)}
    own = chain.row_hash(second.row_hash, forged)
    _attack(app, "INSERT INTO access_log (id, user_name, client_id, action, detail, at, prev_hash, row_hash) "
                 "VALUES (:id, 'Ghost', :client, 'view', '', :at, :prev, :own)",
            id=ids[-1] + 10, client=second.client_id, at=forged["at"] if db.engine.dialect.name == "postgresql"
            else "2026-01-01 00:00:00.000000", prev=second.row_hash, own=own)
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"row {ids[-1] + 10} does not follow the row before it" in result.output


def test_row_written_outside_the_app_without_a_hash_is_named(app, runner, auth_client, lead_client, facilitator,
                                                             fresh_db):
    _seed_log(app, auth_client, lead_client, facilitator)
    _attack(app, "INSERT INTO access_log (user_name, client_id, action, detail, at) "
                 "VALUES ('Ghost', 1, 'view', '', CURRENT_TIMESTAMP)")
    last = _ids(fresh_db)[-1]
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"row {last} has no hash" in result.output


def test_rewritten_chain_is_caught_by_an_earlier_anchor(app, runner, auth_client, lead_client, facilitator,
                                                        fresh_db, caplog):
    _seed_log(app, auth_client, lead_client, facilitator)
    with caplog.at_level("INFO"):
        anchored = runner.invoke(args=["access-log", "anchor"])
    assert anchored.exit_code == 0, anchored.output
    hash_ = anchored.output.strip().rsplit("hash=", 1)[1]
    assert hash_ == fresh_db.scalar(sa.select(AccessLog.row_hash).order_by(AccessLog.id.desc()).limit(1))
    assert any(f"hash={hash_}" in r.getMessage() for r in caplog.records)  # in the server log
    # The attacker removes a row and recomputes every hash after it: the chain itself is whole.
    ids = _ids(fresh_db)
    _attack(app, "DELETE FROM access_log WHERE id = :id", id=ids[2])
    rows = fresh_db.execute(sa.select(AccessLog).order_by(AccessLog.id))
    prev = chain.GENESIS
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as conn:
        for (row,) in rows:
            own = chain.row_hash(prev, row)
            conn.execute(sa.text("UPDATE access_log SET prev_hash = :p, row_hash = :o WHERE id = :id"),
                         {"p": prev, "o": own, "id": row.id})
            prev = own
    engine.dispose()
    assert _verify(runner).exit_code == 0
    result = _verify(runner, "--anchor", hash_)
    assert result.exit_code == 1
    assert "no longer passes through the anchor" in result.output


def test_anchor_refuses_a_broken_chain(app, runner, auth_client, lead_client, facilitator, fresh_db):
    _seed_log(app, auth_client, lead_client, facilitator)
    _attack(app, "UPDATE access_log SET detail = 'x' WHERE id = :id", id=_ids(fresh_db)[0])
    result = runner.invoke(args=["access-log", "anchor"])
    assert result.exit_code == 1 and "FAILED" in result.output and "Traceback" not in result.output


def test_unreadable_log_fails_clearly(app, runner):
    _attack(app, "ALTER TABLE access_log RENAME TO access_log_away")
    try:
        result = _verify(runner)
        assert result.exit_code == 1
        assert "could not be read" in result.output
    finally:
        _attack(app, "ALTER TABLE access_log_away RENAME TO access_log")


def test_corrupted_sqlite_file_fails_clearly_without_a_traceback(tmp_path):
    if os.environ.get("KOHTAAMO_TEST_DB") == "postgres":
        pytest.skip("a damaged database file is SQLite's case; PostgreSQL's is the renamed table above")
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not an SQLite database" * 200)
    env = {**os.environ, "KOHTAAMO_ENV": "development", "DATABASE_URL": f"sqlite:///{path}",
           "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "access-log", "verify"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "could not be read" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


WRITER = textwrap.dedent("""
    import sys
    import time
    from pathlib import Path
    from register import chain
    from register.access import log_access
    from core.db import immediate_transactions, utcnow
    from core.extensions import db
    from tests.conftest import _make_test_app

    url, name, n, gate = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    app = _make_test_app(url)
    with app.app_context():
        db.session.execute(db.select(1)); db.session.rollback()   # connected and ready
        (gate.parent / f"ready-{name}").touch()
        while not gate.exists():   # both start writing at the same moment
            time.sleep(0.005)
        class Who:
            id, name = None, name
        for i in range(n):
            with immediate_transactions():   # as a writing request: BEGIN IMMEDIATE on SQLite
                log_access(1, "view", f"{name} session {i}", user=Who())
                db.session.commit()
            with immediate_transactions():   # a read-only page's rows, written after its reads
                chain.append_in_session([{"user_id": None, "user_name": name, "client_id": 1, "action": "list",
                                          "detail": f"{name} list {i}", "at": utcnow()},
                                         {"user_id": None, "user_name": name, "client_id": 2, "action": "list",
                                          "detail": f"{name} list {i}", "at": utcnow()}])
                db.session.commit()
            # Requests are not back to back: without a pause SQLite's busy handler (it sleeps and
            # retries) lets one writer take the lock again and again, and no overlap is tested.
            time.sleep(0.003)
        db.engine.dispose()
""")


def test_two_processes_writing_at_once_keep_one_valid_chain(app, runner, fresh_db, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    n = 60
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    gate = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(script), url, name, str(n), str(gate)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("A", "B")]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{name}").exists() for name in ("A", "B")):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "a writer did not start"
        time.sleep(0.01)
    gate.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLog)) == 2 * n * 3
    # Both really ran at once: their rows interleave in the chain.
    names = [r for r in fresh_db.scalars(sa.select(AccessLog.user_name).order_by(AccessLog.id))]
    switches = sum(1 for a, b in zip(names, names[1:], strict=False) if a != b)
    assert switches > 2, "the writers did not overlap; the test proves nothing"
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert f"intact: {2 * n * 3} rows" in result.output


def test_migration_chains_existing_rows(empty_database_url):
    from flask_migrate import upgrade

    from tests.conftest import _make_test_app

    app = _make_test_app(empty_database_url)
    with app.app_context():
        upgrade(revision="5e1f0a7c2b94")
        with db.engine.begin() as conn:
            for i in range(7):
                conn.execute(sa.text("INSERT INTO access_log (user_id, user_name, client_id, action, detail, at) "
                                     "VALUES (NULL, 'Old', :c, 'view', :d, :at)"),
                             {"c": i, "d": f"before the chain {i}",
                              "at": datetime(2026, 5, 1, 12, 0, i, 123456, tzinfo=UTC)
                              if db.engine.dialect.name == "postgresql" else f"2026-05-01 12:00:0{i}.123456"})
        upgrade()
        with db.engine.connect() as conn:
            assert chain.verify(conn).ok
            assert chain.verify(conn).rows == 7
        # New rows continue the migrated chain.
        log_access(3, "view", "after the chain", user=type("U", (), {"id": None, "name": "New"})())
        db.session.commit()
        with db.engine.connect() as conn:
            verdict = chain.verify(conn)
        assert verdict.ok and verdict.rows == 8, verdict.message
        db.session.remove()
        db.engine.dispose()


def test_appends_in_savepoints_keep_the_chain(app, runner, facilitator):
    """One transaction logging row by row, with savepoints released and rolled back between."""
    clients = [make_client(name=f"Sp {i}") for i in range(4)]
    log_access(clients[0].id, "view", "root 1", user=facilitator)
    with db.session.begin_nested():
        log_access(clients[1].id, "view", "kept savepoint", user=facilitator)
    log_access(clients[2].id, "view", "root 2", user=facilitator)
    nested = db.session.begin_nested()
    log_access(clients[3].id, "view", "rolled back", user=facilitator)
    nested.rollback()
    log_access(clients[3].id, "view", "root 3", user=facilitator)
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact: 4 rows" in result.output
