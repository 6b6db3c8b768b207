"""Who and which room is busy when: one conflict check for every kind of booking.

Core must not import the features, so each feature that books people or rooms registers a busy
source on the app (``register_busy_source(app, source)`` in its blueprint's ``record_once``; see
``core.registry``): appointments, group sessions, network meetings, outreach visits. ``find_conflicts`` asks all of them in ONE statement (a UNION of
their selects) and returns one ``Conflict`` type, whatever the booking is. Cancelled bookings are
never busy (each source leaves them out).

A source is an object with
- ``kind``: "appointment", "group", "meeting", "outreach";
- ``busy(user_ids, room_key, lo, hi) -> list[Select]``: selects of the columns (record_id, user_id,
  room, title, starts_at, ends_at) of its bookings overlapping [lo, hi): one row per booked
  person among ``user_ids`` (user_id set) and, when ``room_key`` is given and the kind has rooms,
  one row per booking of that room (user_id NULL). ``room_key`` is trimmed and lower-cased.
- ``openable(viewer, record_ids) -> set[int]``: of these records, those whose title the viewer
  (None: nobody in particular) may see (a colleague's meeting with another client is that
  client's business; that the colleague is busy is enough);
- ``describe(conflict) -> str``: the translated warning.
"""
from __future__ import annotations

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

    def busy(self, user_ids: list[int], room_key: str, lo: datetime, hi: datetime) -> list[sa.Select]: ...

    def openable(self, viewer, record_ids: set[int]) -> set[int]: ...

    def describe(self, conflict: Conflict) -> str: ...


_COLUMNS = ("record_id", "user_id", "room", "title", "starts_at", "ends_at")


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
    parts = []
    for source in sources.values():
        for stmt in source.busy(ids, key, lo, hi):
            cols = list(stmt.subquery().c)
            parts.append(sa.select(sa.literal(source.kind, sa.String).label("kind"),
                                   *(col.label(name) for col, name in zip(cols, _COLUMNS, strict=True))))
    if not parts:
        return []
    both = sa.union_all(*parts).subquery()
    rows = db.session.execute(sa.select(both).order_by(both.c.starts_at, both.c.kind, both.c.record_id)).all()
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


def _user_names(ids) -> dict[int, str]:
    if not ids:
        return {}
    user = sa.table("user", sa.column("id"), sa.column("name"))
    rows = db.session.execute(sa.select(user.c.id, user.c.name).where(user.c.id.in_(sorted(ids))))
    return {user_id: name for user_id, name in rows}
