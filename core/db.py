"""Column types and helpers shared by all models.

Times are stored in UTC. SQLite has no time-zone type, so ``UTCDateTime`` stores naive UTC and
hands back aware UTC datetimes; on PostgreSQL it uses ``timestamp with time zone``. Code never
sees a naive datetime from the database.
"""
from __future__ import annotations

import contextlib
import contextvars
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


# On SQLite, command-line jobs that read and then write (send-reminders, seeding) take the write
# lock when their transaction begins, as requests do; see core.setup._sqlite_listeners.
IMMEDIATE_OUTSIDE_REQUESTS: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)


@contextlib.contextmanager
def immediate_transactions():
    token = IMMEDIATE_OUTSIDE_REQUESTS.set(True)
    try:
        yield
    finally:
        IMMEDIATE_OUTSIDE_REQUESTS.reset(token)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; convert it with core.timeutil first")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def const(value: str) -> sa.ColumnElement[str]:
    """A fixed string (a kind, a status) written into the SQL instead of sent as a parameter.

    psycopg prepares the statements a connection runs often, and PostgreSQL then reuses one
    generic plan for them, but only when its parameters could not change the plan. Constants
    sent as parameters can (the planner might skip a join for one value), so PostgreSQL kept
    planning such a statement afresh on every execution: 1.6 ms of planning for a 0.3 ms feed
    lookup. Use it for the constants of statements on hot paths."""
    if not value.replace("_", "").isalnum():
        raise ValueError(f"not a plain constant: {value!r}")
    return sa.literal_column(f"'{value}'", sa.String)


def get_or_404(model, ident):
    """Fetch by primary key; anything that is not a positive integer is a 404, never a 500."""
    from flask import abort

    from .extensions import db

    try:
        key = int(ident)
    except (TypeError, ValueError):
        abort(404)
    if key < 1 or key > 2**63 - 1:
        abort(404)
    obj = db.session.get(model, key)
    if obj is None:
        abort(404)
    return obj


def aware_utc(value) -> datetime | None:
    """An aggregate's datetime as aware UTC: MAX() and friends bypass UTCDateTime on SQLite
    and come back naive or as a string."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
