"""Read-only pages: on SQLite they read in a shared transaction (page views do not queue for the
write lock), and the access-log rows of the client data they show are written with one INSERT,
a transaction of its own, before the page is sent."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from register.models import AccessLog
from tests.factories import make_client
from tests.sqlcapture import captured_statements
from tests.test_meetings_support import make_meeting


def _statements(client, path):
    with captured_statements() as seen:
        response = client.get(path)
    return response, seen


def _autocommit(conn, cursor) -> bool:
    """Whether a statement about to run is a transaction of its own: SQLAlchemy's connections
    say so in their execution options, core.db's raw ones (conn None) by the driver's state."""
    if conn is not None:
        return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    driver = cursor.connection
    return bool(driver.autocommit) if db.engine.dialect.name == "postgresql" else not driver.in_transaction


def _log_rows(client_id):
    """(user id, action) of the client's log rows, read in a transaction that is closed again,
    so the next request starts its own (the tests share the app's session)."""
    db.session.rollback()
    rows = db.session.execute(sa.select(AccessLog.user_id, AccessLog.action)
                              .where(AccessLog.client_id == client_id).order_by(AccessLog.id)).all()
    db.session.rollback()
    return rows


NO_CLIENT_DATA = {"/", "/groups/"}


@pytest.mark.parametrize("path", ["/meetings/{meeting}", "/meetings/", "/clients/{client}", "/clients",
                                  "/meetings/{meeting}/plan", "/", "/groups/"])
def test_read_only_page_reads_without_the_write_lock_and_logs_after(app, auth_client, facilitator, path):
    person = make_client(name="Matti Kuusela", worker=facilitator)
    meeting = make_meeting([facilitator], client=person)
    db.session.commit()
    user_id = facilitator.id
    url = path.format(meeting=meeting.id, client=person.id)
    auth_client.get(url)  # first use (session touch, statistics) out of the way
    before = len(_log_rows(person.id))
    response, statements = _statements(auth_client, url)
    assert response.status_code == 200
    if db.engine.dialect.name == "sqlite":
        begins = [i for i, s in enumerate(statements) if s.startswith("BEGIN")]
        # The page is read in a plain BEGIN (shared), never under the write lock; the log
        # write, after every read, takes the lock only for its own short transaction: the
        # chain's previous hash and one INSERT (core.transaction.writing; its COMMIT is the
        # driver's, not a statement).
        inserts = [i for i, s in enumerate(statements) if s.startswith("INSERT")]
        if url not in NO_CLIENT_DATA:
            assert [statements[i] for i in begins[:-1]] == ["BEGIN"] * (len(begins) - 1), statements
            assert statements[begins[-1]] == "BEGIN IMMEDIATE", statements
            assert len(statements) - begins[-1] == 3, statements  # BEGIN IMMEDIATE, SELECT, INSERT
            assert len(inserts) == 1 and "access_log" in statements[inserts[0]], statements
            assert inserts[0] == len(statements) - 1, statements
        else:
            assert {statements[i] for i in begins} == {"BEGIN"}, statements
            assert inserts == [], statements
    if url not in NO_CLIENT_DATA:
        rows = _log_rows(person.id)
        assert len(rows) == before + 1
        assert rows[-1][0] == user_id


def test_writing_views_still_take_the_write_lock_first(app, auth_client, facilitator):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's transaction modes")
    person = make_client(name="Matti Kuusela", worker=facilitator)
    db.session.commit()
    url = f"/clients/{person.id}/edit"
    db.session.rollback()
    response, statements = _statements(auth_client, url)
    assert response.status_code == 200
    assert [s for s in statements if s.startswith("BEGIN")][0] == "BEGIN IMMEDIATE"


def test_error_page_logs_nothing(app, auth_client, facilitator):
    other = make_client(name="Toisen asiakas")  # not this worker's client
    db.session.commit()
    assert auth_client.get(f"/clients/{other.id}").status_code == 404
    assert _log_rows(other.id) == []


def test_the_log_write_is_a_transaction_of_its_own_after_the_reads(app, auth_client, facilitator):
    person = make_client(name="Matti Kuusela", worker=facilitator)
    meeting = make_meeting([facilitator], client=person)
    db.session.commit()
    url = f"/meetings/{meeting.id}"
    auth_client.get(url)
    db.session.rollback()
    seen: list[tuple[str, bool]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement.split()[0], statement))

    sa.event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        assert auth_client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", on_execute)
    # After the reads, a short write transaction of its own (core.transaction.writing): on SQLite
    # BEGIN IMMEDIATE (the write lock up front), then the chain's previous hash and the INSERT of
    # the log row; the view's reads all came before it.
    inserts = [i for i, (verb, sql) in enumerate(seen) if verb == "INSERT"]
    assert len(inserts) == 1 and "access_log" in seen[inserts[0]][1], seen
    reads_before = [verb for verb, _sql in seen[:inserts[0]] if verb == "SELECT"]
    assert len(reads_before) >= 2, seen  # the page's reads, then the chain's previous hash
    if db.engine.dialect.name == "sqlite":
        begins = [sql for verb, sql in seen if verb == "BEGIN"]
        assert begins and begins[-1] == "BEGIN IMMEDIATE", seen


def test_the_log_rows_keep_their_types(app, auth_client, facilitator):
    """A read-only page's log row keeps its types: the time reads back as aware UTC."""
    person = make_client(name="Matti Kuusela", worker=facilitator)
    db.session.commit()
    before = utcnow()
    assert auth_client.get(f"/clients/{person.id}").status_code == 200
    db.session.rollback()
    row = db.session.scalars(sa.select(AccessLog).where(AccessLog.client_id == person.id)
                             .order_by(AccessLog.id.desc())).first()
    assert row.user_id == facilitator.id and row.user_name == facilitator.name and row.action == "view"
    assert row.at.tzinfo is not None and before <= row.at <= utcnow()


def test_page_is_not_sent_when_its_log_cannot_be_written(app, auth_client, facilitator):
    person = make_client(name="Matti Kuusela", worker=facilitator)
    db.session.commit()
    # A real failure of the log write: its table is gone for the moment.
    db.session.execute(sa.text("ALTER TABLE access_log RENAME TO access_log_away"))
    db.session.commit()
    try:
        # Tests propagate exceptions; in production the generic 500 page is sent instead.
        with pytest.raises(sa.exc.DBAPIError):
            auth_client.get(f"/clients/{person.id}")
    finally:
        db.session.rollback()
        db.session.execute(sa.text("ALTER TABLE access_log_away RENAME TO access_log"))
        db.session.commit()


def test_read_only_page_reads_in_autocommit_on_postgresql(app, auth_client, facilitator):
    """No BEGIN/ROLLBACK round trips for reads on PostgreSQL; the access-log rows go in after
    them, in a short transaction of their own (the chain's lock, the previous hash, one INSERT),
    committed before the page is sent."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    person = make_client(name="Matti Kuusela", worker=facilitator)
    meeting = make_meeting([facilitator], client=person)
    db.session.commit()
    url = f"/meetings/{meeting.id}"
    db.session.rollback()
    modes: list[tuple[str, str]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        modes.append((statement.split()[0], "AUTOCOMMIT" if _autocommit(conn, cursor) else "transaction"))

    sa.event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        response = auth_client.get(url)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", on_execute)
    assert response.status_code == 200
    first_write = next(i for i, (_verb, mode) in enumerate(modes) if mode == "transaction")
    reads = [mode for verb, mode in modes[:first_write] if verb == "SELECT"]
    assert reads and set(reads) == {"AUTOCOMMIT"}, modes  # the page's reads
    log_write = modes[first_write:]
    assert {mode for _verb, mode in log_write} == {"transaction"}, modes
    assert [verb for verb, _mode in log_write].count("INSERT") == 1 and log_write[-1][0] == "INSERT", modes
    # Committed: another connection sees the row.
    other = sa.create_engine(db.engine.url)
    with other.connect() as conn:
        logged = conn.execute(sa.text("SELECT count(*) FROM access_log WHERE client_id = :c AND detail = :d"),
                              {"c": person.id, "d": f"meeting {meeting.id}"}).scalar_one()
    other.dispose()
    assert logged == 1
