"""The signed-in worker's agenda (the start page): their day or week in time order, a "to record"
list of past events whose attendance, "was held" or record is still open, and for a lead the
unit's exceptions.

The core knows nothing of the features. Each feature registers its functions on the app when its
blueprint is registered (``bp.record_once``), kept per app (``core.registry``):

- ``register_agenda_source(app, fn)``: ``fn(user, start_utc, end_utc) -> list[dict]`` with keys
  start, end (aware UTC), kind, title (translated; never a client's full name), url, needs (list
  of translated strings), and optionally target (a ("session" | "meeting", id) pair that
  annotators use).
- ``register_agenda_annotator(app, fn)``: ``fn(items) -> None`` adds needs to other features'
  items (the reminders feature marks the events whose reminder failed).
- ``register_to_record_source(app, fn)``: ``fn(worker, before_utc) -> list[dict]`` with
  keys start, kind, title, url, needs and worker_ids (the staff responsible): the past events
  still to record, of one worker (an id) or of a lead's staff (``Staff``: the overview's scope,
  so its cost is that of one unit, not of the county). ``among(is_staff(worker), *cols)`` writes
  the filter and ``to_record_values(worker, before)`` gives its values.
- ``register_exception_source(app, fn)``: ``fn() -> list[dict]`` with keys text (translated) and
  url: the unit's exceptions a lead sees.

Every function reads a fixed number of times whatever the data (tests/test_query_counts.py).
Each builds its statements once per shape (``functools.cache``) on the bind parameters of
``AGENDA`` and ``core.db.Viewer``, and runs them with their values (docs/DEVELOPING.md).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import QueryableAttribute

from .db import VIEWER_ID
from .registry import register, registered
from .timeutil import finnish_holiday, local_day_bounds_utc, local_today, now_utc, to_local

TO_RECORD_DAYS = 90          # how far back the "to record" list looks
OVERDUE_WORKING_DAYS = 3     # a record open for longer is an exception the lead sees
TO_RECORD_SHOWN = 30

AgendaSource = Callable[[object, datetime, datetime], list[dict]]


def _register(app: Flask, kind: str, fn) -> None:
    register(app, kind, fn)


def register_agenda_source(app: Flask, fn: AgendaSource) -> None:
    _register(app, "agenda", fn)


def register_agenda_annotator(app: Flask, fn) -> None:
    _register(app, "annotators", fn)


def register_to_record_source(app: Flask, fn) -> None:
    _register(app, "to_record", fn)


def register_exception_source(app: Flask, fn) -> None:
    _register(app, "exceptions", fn)


class AgendaParameters:
    """The bind parameters of the agenda's statements (times in UTC). Untyped: each takes the
    type of the column it is compared with."""

    start: sa.BindParameter = sa.bindparam("agenda_start")    # the period shown
    end: sa.BindParameter = sa.bindparam("agenda_end")
    before: sa.BindParameter = sa.bindparam("agenda_before")  # "to record": over before this
    since: sa.BindParameter = sa.bindparam("agenda_since")    # ... and started since this (TO_RECORD_DAYS earlier)
    now: sa.BindParameter = sa.bindparam("agenda_now")        # exceptions: from now
    soon: sa.BindParameter = sa.bindparam("agenda_soon")      # ... to this
    worker_id: sa.BindParameter = sa.bindparam("agenda_worker_id", type_=sa.Integer)


AGENDA = AgendaParameters()


@dataclass(frozen=True)
class Staff:
    """The staff of the units ``lead_id`` leads (a lead leads the units they are a member of,
    accounts.units): the lead overview's scope."""

    lead_id: int


Worker = int | Staff  # one worker's id, or a lead's staff


def is_staff(worker: Worker) -> bool:
    return isinstance(worker, Staff)


@cache
def staff_select() -> sa.Select:
    """The user ids of the staff of the units the viewer (``viewer_id``) leads. By table: core
    does not import accounts."""
    membership = sa.table("unit_membership", sa.column("user_id"), sa.column("unit_id"))
    led = sa.select(membership.c.unit_id).where(membership.c.user_id == VIEWER_ID)
    return sa.select(membership.c.user_id).where(membership.c.unit_id.in_(led))


def among(staff: bool, *columns: sa.ColumnElement[Any] | QueryableAttribute[Any]) -> sa.ColumnElement[bool]:
    """Any of ``columns`` (staff user id columns) is the worker (``AGENDA.worker_id``), or one of
    the lead's staff (``staff``)."""
    if staff:
        return sa.or_(*(column.in_(staff_select()) for column in columns))
    return sa.or_(*(column == AGENDA.worker_id for column in columns))


def agenda_values(user, start: datetime, end: datetime) -> dict[str, Any]:
    """The values of an agenda statement's parameters: the user's events in [start, end)."""
    return {"viewer_id": user.id, "agenda_start": start, "agenda_end": end}


def exception_values(user, ahead: timedelta) -> dict[str, Any]:
    """The values of an exception statement's parameters: the lead's units' events from now to
    ``ahead`` from now."""
    now = now_utc()
    return {"viewer_id": user.id, "agenda_now": now, "agenda_soon": now + ahead}


def to_record_values(worker: Worker, before: datetime) -> dict[str, Any]:
    """The values of a "to record" statement's parameters."""
    values: dict[str, Any] = {"agenda_before": before, "agenda_since": before - timedelta(days=TO_RECORD_DAYS)}
    if isinstance(worker, Staff):
        values["viewer_id"] = worker.lead_id
    else:
        values["agenda_worker_id"] = worker
    return values


def _functions(kind: str) -> list:
    return list(registered(kind))


def period_bounds(day: date, view: str) -> tuple[date, date]:
    """The first and last local day shown: the day itself, or its Monday-to-Sunday week."""
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    return day, day


def agenda(user, first: date, last: date) -> list[dict]:
    start, _ = local_day_bounds_utc(first)
    _, end = local_day_bounds_utc(last)
    items = [item for fn in _functions("agenda") for item in fn(user, start, end)]
    for annotate in _functions("annotators"):
        annotate(items)
    # Time order; the kind and title break ties so the order is the same on every load.
    return sorted(items, key=lambda i: (i["start"], i["kind"], i["title"]))


def to_record(worker: Worker, before: datetime | None = None) -> list[dict]:
    """Past events still to record, oldest first: one worker's, or those of a lead's staff."""
    before = before or now_utc()
    items = [item for fn in _functions("to_record") for item in fn(worker, before)]
    return sorted(items, key=lambda i: (i["start"], i["kind"], i["url"]))


def working_days_between(first: date, last: date) -> int:
    """Working days after ``first`` up to and including ``last`` (weekends and Finnish public
    holidays are not working days)."""
    days, day = 0, first
    while day < last:
        day += timedelta(days=1)
        if day.weekday() < 5 and not finnish_holiday(day):
            days += 1
    return days


@lru_cache(maxsize=8)
def overdue_before(today: date) -> date:
    """The day such that a record started before it has been open for more than
    OVERDUE_WORKING_DAYS working days on ``today``: the working day that, counted back from
    ``today``, is the (OVERDUE_WORKING_DAYS + 1)th. Counted once per day, not once per record
    (a county lead's overview judged thousands of records by walking each one's days)."""
    day, seen = today, 0
    while True:
        if day.weekday() < 5 and not finnish_holiday(day):
            seen += 1
            if seen == OVERDUE_WORKING_DAYS + 1:
                return day
        day -= timedelta(days=1)


def is_overdue(item: dict, today: date | None = None) -> bool:
    # Same as working_days_between(start, today) > OVERDUE_WORKING_DAYS.
    return to_local(item["start"]).date() < overdue_before(today or local_today())


def lead_overview(staff: Staff, today: date | None = None) -> dict:
    """What a lead sees of the unit: the features' exceptions, and per worker how many records
    are open and how many of them are overdue (counts only, never the content). Only the records
    of the staff of the units the lead leads are read (the county's were read and filtered here
    once, a cost that grew with every unit added)."""
    today = today or local_today()
    pending = to_record(staff)
    open_counts: Counter = Counter()
    overdue_counts: Counter = Counter()
    for item in pending:
        late = is_overdue(item, today)
        for worker_id in set(item["worker_ids"]):
            open_counts[worker_id] += 1
            if late:
                overdue_counts[worker_id] += 1
    exceptions = [e for fn in _functions("exceptions") for e in fn()]
    return {"exceptions": exceptions, "open_counts": open_counts, "overdue_counts": overdue_counts,
            "overdue_total": sum(1 for item in pending if is_overdue(item, today)), "pending": pending}


def own_of(pending: list[dict], worker_id: int) -> list[dict]:
    """``to_record(worker_id)`` taken from the staff's list that includes the worker: every source
    selects a worker's records by the same ids it lists as ``worker_ids``, so the lead's start
    page asks the features once, not twice."""
    return [item for item in pending if worker_id in item["worker_ids"]]
