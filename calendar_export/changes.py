"""Knowing that a feed may have changed without reading its events.

One counter row (``calendar_data_version``, name "calendar") is raised in the same transaction as
every change to a table that any feed is built from. A stored feed body is current while the
counter (and the day, see ``sources.Window``) is what it was rendered at (``views.feed_state_key``),
so a conditional GET reads one row instead of scanning sessions and meetings. The ETag itself is
made from the body's bytes: after a change elsewhere in the unit a feed is rendered once more,
comes out the same and keeps its ETag, so its subscribers still get 304.

Which tables count: ``FEED_TABLES`` below (what the feed itself shows besides events) and each
registered event source's ``tables``. Inserts, updates and deletes of their rows raise the
counter; so do deletes of rows they point at with ``ON DELETE CASCADE`` / ``SET NULL`` (deleting a
client deletes its meetings inside the database, where the ORM never sees them).

How changes are seen:

- ORM changes: ``after_flush`` looks at the session's new, dirty and deleted objects (it still
  sees the pre-flush state and attribute history there);
- ``session.execute(sa.insert/update/delete(...))``: these bypass flush events, so
  ``do_orm_execute`` checks the statement's table;
- anything else (``sa.text`` SQL, a bare ``Connection``) is invisible. An audit found none on
  these tables in the application (only ``bench/seed.py`` uses ``sa.text``, for sequences); code
  that adds such a write must call ``bump()`` itself.

A change only marks the session; the counter is raised once, in ``before_commit``, so its row
lock is the last lock a transaction takes and is held only for the commit. On PostgreSQL that
still serialises the commits of transactions that change feed data (they queue on this one
row); for one social-work unit that is a few writes a minute, which is fine. A unit-wide
per-source or per-scope counter would spread the load if it ever is not.

The counter is raised conservatively: a change to any column of a watched row counts, even one
no feed shows. That costs a re-render per subscription, never a stale feed, and (the ETag being
made from the bytes) never a changed ETag for a feed whose bytes did not change.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from flask import Flask, has_app_context
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.db import utcnow
from core.extensions import db
from core.registry import register, registered

from .models import CalendarDataVersion
from .sources import sources

COUNTER = "calendar"

# Besides its events, a feed shows its target's name (a staff member, a group, a partner
# organisation) and exists only while the target is active.
FEED_TABLES = ("user", "client_group", "partner_organisation")

_CHANGED = "calendar_export.changed"


def watched_tables() -> tuple[frozenset[str], frozenset[str]]:
    """(tables whose inserts, updates and deletes may change a feed, tables whose deletes may)."""
    names = set(FEED_TABLES)
    for source in sources():
        names.update(getattr(source, "tables", None) or ())
    return _with_parents(frozenset(names))


@lru_cache(maxsize=8)
def _with_parents(names: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    deletes = set(names)
    for table in db.metadata.tables.values():
        if table.name not in names:
            continue
        for fk in table.foreign_keys:
            if (fk.ondelete or "").upper() in ("CASCADE", "SET NULL", "SET DEFAULT"):
                deletes.add(fk.target_fullname.rsplit(".", 1)[0])
    return names, frozenset(deletes)


def _tables_of(obj) -> frozenset[str]:
    return _mapper_tables(sa.inspect(obj).mapper)


@lru_cache(maxsize=256)
def _mapper_tables(mapper) -> frozenset[str]:
    return frozenset(table.name for table in mapper.tables)


def mark_changed(session: Session) -> None:
    session.info[_CHANGED] = True


def _after_flush(session: Session, _context) -> None:
    if session.info.get(_CHANGED) or not _installed():
        return
    changes, deletes = watched_tables()
    if (any(_tables_of(obj) & changes for obj in session.new)
            or any(_tables_of(obj) & deletes for obj in session.deleted)
            or any(_tables_of(obj) & changes and session.is_modified(obj, include_collections=False)
                   for obj in session.dirty)):
        mark_changed(session)


def _do_orm_execute(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete) or state.session.info.get(_CHANGED):
        return
    if not _installed():
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    changes, deletes = watched_tables()
    if name in (deletes if state.is_delete else changes):
        mark_changed(state.session)


def _before_commit(session: Session) -> None:
    # Flush first: commit's own flush comes after this hook, and its changes must count.
    if session.new or session.dirty or session.deleted:
        session.flush()
    if session.info.pop(_CHANGED, False):
        bump(session.connection())


def _after_transaction_end(session: Session, transaction) -> None:
    # Only the outermost transaction's end clears the mark: after a savepoint is rolled back,
    # changes made before it are still waiting to be committed.
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


def bump(connection: sa.Connection, now: datetime | None = None) -> None:
    """Raise the counter in ``connection``'s transaction: one atomic upsert, so concurrent
    writers never lose an increment and the row is created if it is missing (both SQLite and
    PostgreSQL take ``ON CONFLICT``). ``changed_at`` never goes back, even if app servers'
    clocks differ, because it becomes the feeds' Last-Modified."""
    table = CalendarDataVersion.__table__
    now = now or utcnow()
    insert = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)
    connection.execute(insert.values(name=COUNTER, value=1, changed_at=now).on_conflict_do_update(
        index_elements=[table.c.name],
        set_={"value": table.c.value + 1,
              "changed_at": sa.case((insert.excluded.changed_at > table.c.changed_at, insert.excluded.changed_at),
                                    else_=table.c.changed_at)}))


def install(app: Flask) -> None:
    """Keep the counter for ``app`` (called when the blueprint is registered).

    The listeners are attached to the app's session (``db.session``, Flask-SQLAlchemy's own
    session class), never to SQLAlchemy's global ``Session`` class, so a session made elsewhere
    (a test's ``fresh_db``, a script's own engine) is left alone. ``db.session`` is shared by
    every app of the process, so the listeners act only for an app that installed them."""
    register(app, "session_listeners", __name__)
    for name, fn in (("after_flush", _after_flush), ("do_orm_execute", _do_orm_execute),
                     ("before_commit", _before_commit), ("after_transaction_end", _after_transaction_end)):
        if not sa.event.contains(db.session, name, fn):
            sa.event.listen(db.session, name, fn)


def _installed() -> bool:
    return has_app_context() and __name__ in registered("session_listeners")
