"""`flask backup` under write load and `flask restore`: the restored database is intact and holds
exactly a committed prefix of what the writer wrote (on SQLite and, with
KOHTAAMO_TEST_DB=postgres, on PostgreSQL)."""
from __future__ import annotations

import sqlite3
import threading
import time

import sqlalchemy as sa

from core.extensions import db
from register.models import AccessLog

ACTION = "backup-test"


class Writer(threading.Thread):
    """Inserts access-log rows numbered 1, 2, 3… one committed transaction each, on its own
    engine, until stopped. ``committed`` is the highest number known to be committed."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        self.committed = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                with self.engine.begin() as conn:
                    conn.execute(sa.insert(AccessLog.__table__).values(
                        user_name="writer", client_id=n, action=ACTION, detail=f"row {n}",
                        at=sa.func.current_timestamp()))
                self.committed = n
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            self.error = exc
        finally:
            self.engine.dispose()

    def wait_for(self, count: int, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while self.committed < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"writer reached only {self.committed} rows"
            time.sleep(0.01)


def _numbers() -> list[int]:
    return list(db.session.scalars(sa.select(AccessLog.client_id).where(AccessLog.action == ACTION)
                                   .order_by(AccessLog.client_id)))


def test_backup_under_write_load_restores_a_committed_prefix(app, runner, tmp_path, database_url):
    # Some bulk so the copy takes a moment while the writer keeps committing.
    db.session.execute(sa.insert(AccessLog), [
        {"user_name": "bulk", "client_id": i, "action": "bulk", "detail": "x" * 150} for i in range(20_000)])
    db.session.commit()
    db.session.remove()

    writer = Writer(database_url)
    writer.start()
    try:
        writer.wait_for(50)
        before = writer.committed
        path = tmp_path / "backups" / "under-load.bak"
        result = runner.invoke(args=["backup", str(path)])
        assert result.exit_code == 0, result.output
        assert "backup written to" in result.output
        during = writer.committed
        writer.wait_for(during + 50)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.error is None, writer.error
    final = writer.committed
    assert final > during >= before
    assert path.is_file() and not path.with_name(path.name + ".partial").exists()

    if database_url.startswith("sqlite"):
        con = sqlite3.connect(path)
        try:
            # The backup file on its own (no -wal) is a complete, intact database.
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert con.execute("SELECT count(*) FROM access_log WHERE action='bulk'").fetchone()[0] == 20_000
        finally:
            con.close()

    # Without confirmation nothing happens.
    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert len(_numbers()) == final
    db.session.remove()

    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output

    numbers = _numbers()
    n = len(numbers)
    # Exactly the rows 1..n: a committed prefix, nothing torn, nothing from after the snapshot.
    assert numbers == list(range(1, n + 1))
    assert before <= n <= during
    assert n < final  # the rows written after the backup are gone again
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog)
                             .where(AccessLog.action == "bulk")) == 20_000
    if database_url.startswith("sqlite"):
        assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
        assert db.session.execute(sa.text("PRAGMA foreign_key_check")).fetchall() == []

    # The restored database is the app's database again: it can be written to.
    db.session.add(AccessLog(user_name="after", client_id=0, action="after-restore"))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog)
                             .where(AccessLog.action == "after-restore")) == 1


def test_restore_refuses_a_missing_or_damaged_file(app, runner, tmp_path, database_url):
    missing = runner.invoke(args=["restore", str(tmp_path / "nope.bak"), "--yes"])
    assert missing.exit_code != 0 and "no backup file" in missing.output
    if database_url.startswith("sqlite"):
        damaged = tmp_path / "damaged.bak"
        damaged.write_bytes(b"not a database at all" * 100)
        result = runner.invoke(args=["restore", str(damaged), "--yes"])
        assert result.exit_code != 0 and "not a usable SQLite backup" in result.output
    # The live database is untouched and usable.
    db.session.add(AccessLog(user_name="x", client_id=1, action="still-here"))
    db.session.commit()


def test_backup_default_path_goes_to_instance_backups(app, runner):
    from pathlib import Path

    result = runner.invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    written = Path(result.output.split("backup written to ", 1)[1].rsplit(" (", 1)[0])
    try:
        assert written.parent == Path(app.instance_path) / "backups"
        assert written.name.startswith("kohtaamo-") and written.stat().st_size > 0
    finally:
        written.unlink(missing_ok=True)
