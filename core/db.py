"""Column types and helpers shared by all models.

Times are stored in UTC. SQLite has no time-zone type, so ``UTCDateTime`` stores naive UTC and
hands back aware UTC datetimes; on PostgreSQL it uses ``timestamp with time zone``. Code never
sees a naive datetime from the database.
"""
from __future__ import annotations

import contextlib
import contextvars
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, overload

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

from .extensions import db

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


def str_enum(cls: type[enum.StrEnum], name: str, length: int) -> sa.Enum:
    """A status or kind column: its values are ``cls``'s values, stored as plain strings (not a
    native type, so adding a value is a CHECK change, not an ALTER TYPE). Both databases refuse
    any other value (a CHECK constraint named ``ck_<table>_<name>``) and so does Python, before
    the row is sent. ``name`` is the column's name, so each column gets a constraint of its own."""
    return sa.Enum(cls, name=name, native_enum=False, validate_strings=True, create_constraint=True,
                   length=length, values_callable=lambda e: [m.value for m in e])


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


_raw_sql: dict[tuple[int, str], tuple[sa.Select, str, tuple[str, ...] | None]] = {}


@contextlib.contextmanager
def _raw_cursor():
    """A cursor on a pooled DBAPI connection in autocommit mode (SQLite connections always are,
    see core.setup; PostgreSQL ones are switched for the duration): each statement is a
    transaction of its own. Checkout goes through the pool and its events (a long-idle
    PostgreSQL connection is pinged first); a connection found dead is discarded, as SQLAlchemy
    would."""
    engine = db.engine
    dialect = engine.dialect
    postgres = dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        if postgres:
            connection.autocommit = True  # the driver would send BEGIN first otherwise
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            if postgres and not connection.closed:
                connection.autocommit = False
    except (dialect.loaded_dbapi.Error, sa.exc.DBAPIError) as error:
        original = getattr(error, "orig", error)
        if dialect.is_disconnect(original, raw.dbapi_connection, None):
            raw.invalidate(original)
        raise
    finally:
        raw.close()


def _execute_raw(cursor, sql: str, arguments) -> None:
    engine = db.engine
    if engine.dispatch.before_cursor_execute:
        # Statement counters and loggers on the engine (the tests, the benchmark's query
        # counts) see this statement as they see SQLAlchemy's own.
        engine.dispatch.before_cursor_execute(None, cursor, sql, arguments, None, False)
    try:
        cursor.execute(sql, arguments)
    except engine.dialect.loaded_dbapi.Error as error:
        # Raised as SQLAlchemy raises it, so callers and error handlers meet sqlalchemy.exc only.
        raise sa.exc.DBAPIError.instance(sql, arguments, error, engine.dialect.loaded_dbapi.Error,
                                         dialect=engine.dialect) from error


def read_row(statement: sa.Select, params: dict) -> tuple | None:
    """The first row of a prebuilt Core select (built once, module level), read as a single
    autocommit statement on a pooled DBAPI connection: no ORM session, no BEGIN or ROLLBACK,
    and none of SQLAlchemy's result processing, so the caller converts the values itself
    (``aware_utc`` for times; SQLite gives 0/1 for booleans).

    For the one statement of a path polled all day whose usual answer needs nothing else from
    the database: a calendar's conditional GET spent two thirds of its time in the session and
    connection layers around a 30 µs lookup. Needed for the 304 target (≥ 0.5× hello-world),
    bench/RESULTS.md "Special paths in process": the poll took 0.25 ms with it and 0.71 ms with
    the same lookup through the ORM session (bench/pathtimes.py, variant ``orm_reads``).
    """
    dialect = db.engine.dialect
    key = (id(statement), dialect.name)
    cached = _raw_sql.get(key)
    if cached is None or cached[0] is not statement:
        compiled = statement.compile(dialect=dialect)
        cached = _raw_sql[key] = (statement, str(compiled), tuple(compiled.positiontup or ()) if compiled.positional else None)
    _statement, sql, positions = cached
    arguments = tuple(params[name] for name in positions) if positions is not None else params
    with _raw_cursor() as cursor:
        _execute_raw(cursor, sql, arguments)
        return cursor.fetchone()


def positive_id_or_404(ident) -> int:
    """A record id from a URL: anything that is not a positive integer that fits the database's
    BIGINT is a 404, never a 500."""
    from flask import abort

    try:
        key = int(ident)
    except (TypeError, ValueError):
        abort(404)
    if key < 1 or key > 2**63 - 1:
        abort(404)
    return key


def get_or_404(model, ident):
    """Fetch by primary key; anything that is not a positive integer is a 404, never a 500."""
    from flask import abort

    obj = db.session.get(model, positive_id_or_404(ident))
    if obj is None:
        abort(404)
    return obj


@overload
def aware_utc(value: None) -> None: ...


@overload
def aware_utc(value: datetime | str) -> datetime: ...


def aware_utc(value: datetime | str | None) -> datetime | None:
    """An aggregate's datetime as aware UTC: MAX() and friends bypass UTCDateTime on SQLite
    and come back naive or as a string. None (no rows) stays None, so a NOT NULL column's value
    comes back as a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class _Likely(sa.sql.expression.ColumnElement[bool]):
    # The condition is part of the statement's cache key, its bound values included: without
    # this a cached statement would run with the first request's values.
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement),
                           ("probability", InternalTraversal.dp_plain_obj)]
    inherit_cache = True
    # Not Boolean: SQLite's compiler would write "likelihood(...) = 1", which hides the hint.
    type: sa.types.TypeEngine = sa.types.NullType()

    def __init__(self, condition: sa.ColumnElement[bool], probability: float):
        self.condition = condition
        self.probability = probability


@compiles(_Likely)
def _likely_default(element: _Likely, compiler, **kw) -> str:
    return compiler.process(element.condition, **kw)


@compiles(_Likely, "sqlite")
def _likely_sqlite(element: _Likely, compiler, **kw) -> str:
    return f"likelihood({compiler.process(element.condition, **kw)}, {float(element.probability)!r})"


class _HourOfDay(sa.sql.expression.ColumnElement[datetime]):
    _traverse_internals = [("day", InternalTraversal.dp_clauseelement), ("hour", InternalTraversal.dp_plain_obj)]
    inherit_cache = True
    type = UTCDateTime()

    def __init__(self, day: sa.ColumnElement[date], hour: int):
        if not 0 <= hour <= 23:
            raise ValueError(hour)
        self.day = day
        self.hour = hour


@compiles(_HourOfDay, "sqlite")
def _hour_of_day_sqlite(element: _HourOfDay, compiler, **kw) -> str:
    # 'YYYY-MM-DD HH:00:00', compared as text with UTCDateTime's 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return f"datetime({compiler.process(element.day, **kw)}, '+{element.hour} hours')"


@compiles(_HourOfDay, "postgresql")
def _hour_of_day_postgresql(element: _HourOfDay, compiler, **kw) -> str:
    return f"(({compiler.process(element.day, **kw)} + time '{element.hour:02}:00') AT TIME ZONE 'UTC')"


def utc_hour_of(day: sa.ColumnExpressionArgument[date | None], hour: int) -> sa.ColumnElement[datetime]:
    """The UTC instant ``hour``:00 on a date column's day, to compare a UTCDateTime column with
    per row in SQL (the date arithmetic is each database's own)."""
    return _HourOfDay(sa.type_coerce(day, sa.Date()), hour)


def broad(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """``condition``, told to SQLite's planner to hold for most rows (``likelihood(x, 0.9)``), so
    that it starts from another, narrower index. SQLite has no statistics of value ranges and
    takes any range for a narrow one: a lead's yearly report walked the county's year of action
    items by due date instead of the unit's meetings. PostgreSQL, which has them, gets the
    condition as it is."""
    return _Likely(condition, 0.9)


def exists_per_row(*conditions: sa.ColumnElement[bool]) -> sa.Exists:
    """``EXISTS (SELECT 1 ... WHERE conditions)``, correlated to the outer row, that PostgreSQL
    checks row by row through the inner table's keys. An EXISTS under an OR is otherwise turned
    into a hashed set of every row the subquery could match (every session of the county's
    groups, to test a few hundred reminders); the ``OFFSET 0`` is PostgreSQL's documented fence
    that keeps a subquery as written. SQLite plans it the same either way."""
    return sa.select(sa.literal(1)).where(*conditions).offset(0).exists()


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run with ``db.session.execute`` matched.

    The session's ``execute`` is typed as returning a plain ``Result``; for a DML statement it is
    a ``CursorResult``, the class that carries the count."""
    if not isinstance(result, sa.CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount


def copied_from(parent: str, link: str, column: str = "unit_id") -> Callable[[Any], Any]:
    """A column default that copies ``column`` of the ``parent`` row the inserted row links to by
    ``link`` (a meeting's unit from its client), for an insert that does not give it. With
    ``keep_copies`` on the parent, the copy stays right if the parent's value ever changes."""
    statement = sa.text(f"SELECT {column} FROM {parent} WHERE id = :id")  # names from code, not input

    def default(context) -> Any:
        return context.connection.scalar(statement, {"id": context.get_current_parameters()[link]})

    return default


def keep_copies(source: type, column: str, updates: Callable[[Any], list[sa.Update]]) -> None:
    """Keep the copies of a source row's ``column`` right when it changes through the ORM: the
    ``updates(source_row)`` statements run in the same flush, right after the source's UPDATE.
    A copy (a meeting's unit, copied from its client) lets a list read one index instead of a
    join; the app never changes the source, but a copy must not silently disagree if it does."""

    @sa.event.listens_for(source, "after_update")
    def _follow(_mapper, connection, target) -> None:
        if sa.inspect(target).attrs[column].history.has_changes():
            for statement in updates(target):
                connection.execute(statement)


# The signed-in user's id in a statement built once for every user (``Viewer``): executed with
# ``{"viewer_id": user.id}``.
VIEWER_ID = sa.bindparam("viewer_id", type_=sa.Integer)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as an access rule sees them when its statement is built once per role
    and reused for every user (``functools.cache`` on a function of the ``Viewer``): the role,
    which changes the rule's SQL, is a value; the id, which does not, is the bind parameter
    ``viewer_id``. The rules take a user object and use only these, so they take this in its
    place. Building and keying the start page's two dozen statements on every request was a third
    of its CPU (bench/RESULTS.md)."""

    is_lead: bool = False
    is_county_admin: bool = False
    is_authenticated: bool = True
    id: ClassVar[sa.BindParameter[int]] = VIEWER_ID

    @classmethod
    def of(cls, user) -> Viewer:
        # An anonymous user has no role: the rules then select nothing of theirs, as before.
        return cls(is_lead=bool(getattr(user, "is_lead", False)),
                   is_county_admin=bool(getattr(user, "is_county_admin", False)),
                   is_authenticated=bool(getattr(user, "is_authenticated", False)))
