"""Business rules of appointments: booking, moving, cancelling, held / no-show, the next time.

Services change data and flush; the framework commits the request. One rule says who may open an
appointment (``can_open``: a worker on it, or a lead); booking makes the workers' reason to see the
client (``register_access_rule`` in views.py), as meetings do. Every change of time, place or status raises
``sequence`` (calendar feeds)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy.orm import selectinload

from accounts.units import leads_unit, led_unit_ids_select
from core.conflicts import BUSY_PARAMS, Conflict, find_conflicts
from core.db import utcnow
from core.extensions import db
from core.timeutil import local_to_utc, to_local
from register.models import Client

from .forms import KIND_LABELS
from .models import Appointment, AppointmentKind, AppointmentStatus


class AppointmentError(Exception):
    """A rule refused the change; the message is translated and shown to the user."""


def _appointment_worker_rule(user_id: int) -> sa.Select:
    # The workers of a client's appointments have a reason to open the client's record.
    return sa.select(Appointment.client_id).where(
        sa.or_(Appointment.worker1_id == user_id, Appointment.worker2_id == user_id))


# --- who may open --------------------------------------------------------------------------------

def can_open(user, appointment: Appointment) -> bool:
    """The one rule for an appointment: a worker on it (whatever the unit), or a lead of the unit
    of the appointment's client. Anyone else gets 404."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.id in appointment.worker_ids or leads_unit(user, appointment.client.unit_id)


def openable_appointment_ids(user) -> sa.CompoundSelect:
    """``can_open`` as a SELECT of ids, for lists: one branch per reason, each served by its own
    index (an OR with a subquery in it makes PostgreSQL read the whole table)."""
    branches = [sa.select(Appointment.id).where(Appointment.worker1_id == user.id),
                sa.select(Appointment.id).where(Appointment.worker2_id == user.id)]
    if user.is_lead:
        branches.append(sa.select(Appointment.id).where(Appointment.client_id.in_(
            sa.select(Client.id).where(Client.unit_id.in_(led_unit_ids_select(user))))))
    return sa.union(*branches)


def open_rule(user, appointment) -> sa.ColumnElement[bool]:
    """``can_open`` as a condition on a row of ``appointment`` (the entity or an alias), for a
    check per row where a list reaches appointments through another table (a reminder's
    target): by the row's own columns and the client's primary key."""
    branches = [appointment.worker1_id == user.id, appointment.worker2_id == user.id]
    if user.is_lead:
        branches.append(sa.exists().where(Client.id == appointment.client_id,
                                          Client.unit_id.in_(led_unit_ids_select(user))))
    return sa.or_(*branches)


def openable_condition(user):
    """``can_open`` as a WHERE condition, for lists."""
    return Appointment.id.in_(openable_appointment_ids(user))


def load(appointment_id: int) -> Appointment | None:
    return db.session.scalar(sa.select(Appointment).where(Appointment.id == appointment_id).options(
        selectinload(Appointment.client), selectinload(Appointment.worker1), selectinload(Appointment.worker2)))


def client_appointments(client_id: int, user, limit: int = 20) -> list[Appointment]:
    """A client's appointments that the user may open: upcoming first (soonest first), then the
    latest past ones."""
    now = utcnow()
    base = (sa.select(Appointment).where(Appointment.client_id == client_id, openable_condition(user))
            .options(selectinload(Appointment.worker1), selectinload(Appointment.worker2)))
    upcoming = db.session.scalars(base.where(Appointment.ends_at >= now)
                                  .order_by(Appointment.starts_at, Appointment.id).limit(limit)).all()
    past = db.session.scalars(base.where(Appointment.ends_at < now)
                              .order_by(Appointment.starts_at.desc(), Appointment.id.desc()).limit(limit)).all()
    return list(upcoming) + list(past)


# --- times -----------------------------------------------------------------------------------------

def appointment_times(day: date, at: time, minutes: int) -> tuple[datetime, datetime]:
    starts = local_to_utc(day, at)
    return starts, starts + timedelta(minutes=minutes)


def _check(starts_at: datetime, ends_at: datetime, worker_ids: list[int]) -> None:
    if starts_at < utcnow():
        raise AppointmentError(_l("The time is in the past. Choose a time that is still to come."))
    minutes = (ends_at - starts_at).total_seconds() / 60
    if minutes > 24 * 60:
        raise AppointmentError(_l("An appointment cannot be longer than a day."))
    if not 15 <= minutes <= 120:
        raise AppointmentError(_l("An appointment lasts 15 to 120 minutes."))
    if not worker_ids or len(set(worker_ids)) != len(worker_ids) or len(worker_ids) > 2:
        raise AppointmentError(_l("Choose two different workers."))


def conflicts(*, starts_at: datetime, ends_at: datetime, worker_ids, place: str, kind: str, viewer,
              exclude_id: int | None = None) -> list[Conflict]:
    """Who or which room is already busy then (the one conflict check). A room counts only at
    the office: a home visit's address or a phone call books no room."""
    room = place if kind == AppointmentKind.OFFICE.value else ""
    exclude = [("appointment", exclude_id)] if exclude_id else []
    return find_conflicts([(starts_at, ends_at)], user_ids=worker_ids, room=room, viewer=viewer, exclude=exclude)


# --- changes -----------------------------------------------------------------------------------

def book(*, client, kind: str, starts_at: datetime, ends_at: datetime, worker_ids: list[int], place: str = "",
         interpreter: bool = False, interpreter_language: str = "", created_by=None,
         previous: Appointment | None = None) -> Appointment:
    _check(starts_at, ends_at, worker_ids)
    appointment = Appointment(
        client_id=client.id, client=client, kind=AppointmentKind(kind), starts_at=starts_at, ends_at=ends_at,
        worker1_id=worker_ids[0], worker2_id=worker_ids[1] if len(worker_ids) > 1 else None, place=place,
        interpreter=interpreter, interpreter_language=interpreter_language if interpreter else "",
        created_by_id=getattr(created_by, "id", None), previous_id=previous.id if previous else None)
    db.session.add(appointment)
    db.session.flush()
    return appointment


def _refuse_unless_booked(appointment: Appointment) -> None:
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentError(_l("This appointment is no longer booked and cannot be changed."))


def move(appointment: Appointment, *, kind: str, starts_at: datetime, ends_at: datetime, worker_ids: list[int],
         place: str, interpreter: bool, interpreter_language: str) -> bool:
    """Change the time, place or workers; returns whether the time or place changed (what the
    client is told of)."""
    _refuse_unless_booked(appointment)
    _check(starts_at, ends_at, worker_ids)
    moved = (starts_at, ends_at, kind, place) != (appointment.starts_at, appointment.ends_at,
                                                 appointment.kind.value, appointment.place)
    appointment.kind = AppointmentKind(kind)
    appointment.starts_at, appointment.ends_at, appointment.place = starts_at, ends_at, place
    appointment.worker1_id = worker_ids[0]
    appointment.worker2_id = worker_ids[1] if len(worker_ids) > 1 else None
    appointment.interpreter = interpreter
    appointment.interpreter_language = interpreter_language if interpreter else ""
    appointment.sequence += 1
    appointment.version += 1
    db.session.flush()
    return moved


def cancel(appointment: Appointment) -> None:
    _refuse_unless_booked(appointment)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.sequence += 1
    appointment.version += 1
    db.session.flush()


def mark(appointment: Appointment, status: str) -> None:
    """Held or did not come: only once the appointment has begun, and only a booked one (or a
    correction between the two)."""
    new = AppointmentStatus(status)
    if new not in (AppointmentStatus.HELD, AppointmentStatus.NO_SHOW):
        raise AppointmentError(_l("Choose only from the list."))
    if appointment.status == AppointmentStatus.CANCELLED:
        raise AppointmentError(_l("This appointment is no longer booked and cannot be changed."))
    if appointment.starts_at > utcnow():
        raise AppointmentError(_l("The appointment has not begun yet."))
    appointment.status = new
    appointment.sequence += 1
    appointment.version += 1
    db.session.flush()


def next_times(appointment: Appointment, weeks: int) -> tuple[datetime, datetime]:
    """The same local clock time one or two weeks on, whatever the daylight saving change between."""
    if weeks not in (1, 2):
        raise AppointmentError(_l("Choose only from the list."))
    local = to_local(appointment.starts_at)
    starts = local_to_utc(local.date() + timedelta(weeks=weeks), local.time().replace(tzinfo=None))
    return starts, starts + (appointment.ends_at - appointment.starts_at)


def book_next(appointment: Appointment, *, weeks: int, user) -> Appointment:
    """The next time with the same settings one or two weeks on (one click)."""
    starts, ends = next_times(appointment, weeks)
    return book(client=appointment.client, kind=appointment.kind.value, starts_at=starts, ends_at=ends,
                worker_ids=[i for i in (appointment.worker1_id, appointment.worker2_id) if i],
                place=appointment.place, interpreter=appointment.interpreter,
                interpreter_language=appointment.interpreter_language, created_by=user, previous=appointment)


# --- the one conflict check: appointments as a busy source ---------------------------------------

class AppointmentBusy:
    kind = "appointment"

    def busy(self, people, room):
        live = sa.and_(Appointment.status != AppointmentStatus.CANCELLED, Appointment.starts_at < BUSY_PARAMS.hi,
                       Appointment.ends_at > BUSY_PARAMS.lo, Appointment.starts_at > BUSY_PARAMS.earliest_start)
        # The title is the kind only: never the client.
        parts = []
        for column in (Appointment.worker1_id, Appointment.worker2_id):
            if people:
                parts.append(sa.select(Appointment.id, column.label("user_id"), Appointment.place,
                                       sa.type_coerce(Appointment.kind, sa.String(20)).label("title"), Appointment.starts_at, Appointment.ends_at)
                             .where(live, column.in_(BUSY_PARAMS.user_ids)))
        if room:
            parts.append(sa.select(Appointment.id, sa.cast(sa.null(), sa.Integer).label("user_id"), Appointment.place,
                                   sa.type_coerce(Appointment.kind, sa.String(20)).label("title"), Appointment.starts_at, Appointment.ends_at)
                         .where(live, Appointment.kind == AppointmentKind.OFFICE,
                                sa.func.lower(sa.func.trim(Appointment.place)) == BUSY_PARAMS.room))
        return parts

    def openable(self, viewer, record_ids):
        return set(record_ids)  # the title is the kind of appointment, nothing of the client

    def describe(self, c: Conflict) -> str:
        kind = str(KIND_LABELS.get(c.title, _("appointment")))
        if c.is_room:
            return _("%(when)s: the room %(room)s is booked for an appointment (%(kind)s).", when=c.when,
                     room=c.room, kind=kind)
        return _("%(when)s: %(name)s has an appointment (%(kind)s) at the same time.", when=c.when,
                 name=c.user_name, kind=kind)


BUSY = AppointmentBusy()  # registered on the app by views.py
