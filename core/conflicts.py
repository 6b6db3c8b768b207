"""Who and which room is busy when: one conflict check for every kind of booking.

Core must not import the features, so each feature that books people or rooms registers a busy
source on the app (``register_busy_source(app, source)`` in its blueprint's ``record_once``; see
``core.registry``): appointments, group sessions, network meetings, outreach visits. ``find_conflicts`` asks all of them in ONE statement (a UNION of
their selects) and returns one ``Conflict`` type, whatever the booking is. Cancelled bookings are
never busy (each source leaves them out).

A source is an object with
- ``kind``: "appointment", "group", "meeting", "outreach";
- ``busy(people, room) -> list[Select]``: selects of the columns (record_id, user_id, room, title,
  starts_at, ends_at) of its bookings overlapping [``BUSY_PARAMS.lo``, ``BUSY_PARAMS.hi``): when ``people``, one
  row per booked person among ``BUSY_PARAMS.user_ids`` (user_id set); when ``room`` and the kind has rooms,
  one row per booking of the room whose trimmed, lower-cased name is ``BUSY_PARAMS.room`` (user_id NULL).
  The selects use only the parameters of ``BUSY_PARAMS``: the union of every source is built once per
  shape and reused (building and keying it afresh was a third of a meeting page's time).
- ``openable(viewer, record_ids) -> set[int]``: of these records, those whose title the viewer
  (None: nobody in particular) may see (a colleague's meeting with another client is that
  client's business; that the colleague is busy is enough);
- ``describe(conflict) -> str``: the translated warning.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from flask import Flask

from .db import aware_utc
from .extensions import db
from .formatting import local_dt
from .registry import register, registered

# Longer than any booking can be (the forms offer up to a day at most): lets every source bound
# its start times from below, so the database walks a starts_at index instead of all history.
LONGEST_BOOKING = timedelta(days=1)


@dataclass(frozen=True)
class Conflict:
    kind: str  # the busy source's kind
    record_id: int
    starts_at: datetime  # the other booking's time
    ends_at: datetime
    user_id: int | None = None  # set: this person is busy; None: the room is
    user_name: str = ""
    room: str = ""
    title: str = ""  # "" when the viewer may not see what the booking is

    @property
    def is_room(self) -> bool:
        return self.user_id is None

    @property
    def when(self) -> str:
        # In the reader's language (core.formatting): "7.12.2026 10.15", "07/12/2026, 10.15".
        return local_dt(self.starts_at)

    @property
    def message(self) -> str:
        source = _sources().get(self.kind)
        return source.describe(self) if source else ""


class BusySource(Protocol):
    kind: str

    def busy(self, people: bool, room: bool) -> list[sa.Select]: ...

    def openable(self, viewer, record_ids: set[int]) -> set[int]: ...

    def describe(self, conflict: Conflict) -> str: ...


_COLUMNS = ("record_id", "user_id", "room", "title", "starts_at", "ends_at")


class BusyParameters:
    """The parameters of every source's busy selects, given values by ``find_conflicts``. Untyped:
    each takes the type of the column it is compared with (a UTC time, an id)."""

    user_ids: sa.BindParameter = sa.bindparam("busy_user_ids", expanding=True)
    room: sa.BindParameter = sa.bindparam("busy_room", type_=sa.String)
    lo: sa.BindParameter = sa.bindparam("busy_lo")
    hi: sa.BindParameter = sa.bindparam("busy_hi")
    # lo less the longest booking: lets every source bound its start times from below too, so
    # the database walks a starts_at index instead of all history.
    earliest_start: sa.BindParameter = sa.bindparam("busy_earliest_start")


BUSY_PARAMS = BusyParameters()


def register_busy_source(app: Flask, source: BusySource) -> BusySource:
    return register(app, "busy_sources", source)


def _sources() -> dict[str, BusySource]:
    """The current app's busy sources by kind."""
    return {source.kind: source for source in registered("busy_sources")}


def busy_sources() -> list[BusySource]:
    return list(_sources().values())


def room_key(room: str | None) -> str:
    return (room or "").strip().lower()


def find_conflicts(slots: Iterable[tuple[datetime, datetime]], *, user_ids: Iterable[int] = (), room: str | None = "",
                   viewer=None, exclude: Iterable[tuple[str, int]] = ()) -> list[Conflict]:
    """Other bookings of these people or of this room overlapping any of ``slots``, in one query,
    soonest first. ``exclude`` holds (kind, record_id) pairs of the bookings being changed."""
    slots = [(s, e) for s, e in slots if s is not None and e is not None]
    ids = sorted({int(u) for u in user_ids if u})
    key = room_key(room)
    sources = _sources()
    if not slots or (not ids and not key) or not sources:
        return []
    lo, hi = min(s for s, _e in slots), max(e for _s, e in slots)
    statement = _busy_statement(tuple(sources.values()), bool(ids), bool(key))
    if statement is None:
        return []
    rows = db.session.execute(statement, {"busy_user_ids": ids, "busy_room": key, "busy_lo": lo, "busy_hi": hi,
                                          "busy_earliest_start": lo - LONGEST_BOOKING}).all()
    skip = {(k, int(i)) for k, i in exclude}
    found = []
    for kind, record_id, user_id, room_name, title, starts, ends in rows:
        # aware_utc: a UNION's columns lose their column type (and so UTC) on SQLite.
        starts, ends = aware_utc(starts), aware_utc(ends)
        assert starts is not None and ends is not None  # every source's times are NOT NULL columns
        if (kind, record_id) in skip or not any(starts < e and ends > s for s, e in slots):
            continue
        if user_id is not None and user_id not in ids:
            continue
        found.append((kind, record_id, user_id, room_name or "", title or "", starts, ends))
    visible: dict[str, set[int]] = {}
    for kind in {f[0] for f in found}:
        record_ids = {f[1] for f in found if f[0] == kind}
        # Without a viewer, a source shows only titles that are no one's secret (a group's).
        visible[kind] = sources[kind].openable(viewer, record_ids)
    names = _user_names({f[2] for f in found if f[2] is not None})
    result, seen = [], set()
    for kind, record_id, user_id, room_name, title, starts, ends in found:
        if (kind, record_id, user_id) in seen:
            continue
        seen.add((kind, record_id, user_id))
        result.append(Conflict(kind, record_id, starts, ends, user_id, names.get(user_id, "") if user_id else "",
                               room_name, title if record_id in visible[kind] else ""))
    return result


@functools.cache
def _busy_statement(sources: tuple[BusySource, ...], people: bool, room: bool) -> sa.Select | None:
    """The union of every source's busy selects, soonest first: built once per app's sources and
    shape (people, a room or both), then executed with ``BUSY_PARAMS``'s values."""
    parts = []
    for source in sources:
        for stmt in source.busy(people, room):
            cols = list(stmt.subquery().c)
            parts.append(sa.select(sa.literal(source.kind, sa.String).label("kind"),
                                   *(col.label(name) for col, name in zip(cols, _COLUMNS, strict=True))))
    if not parts:
        return None
    both = sa.union_all(*parts).subquery()
    return sa.select(both).order_by(both.c.starts_at, both.c.kind, both.c.record_id)


def _user_names(ids) -> dict[int, str]:
    if not ids:
        return {}
    user = sa.table("user", sa.column("id"), sa.column("name"))
    rows = db.session.execute(sa.select(user.c.id, user.c.name).where(user.c.id.in_(sorted(ids))))
    return {user_id: name for user_id, name in rows}
