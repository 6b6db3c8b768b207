"""Appointments in the agenda (core.agenda, registered in views.py): the signed-in worker's
appointments in a window, the past appointments still "booked" (the "to record" list), and for a
lead the coming home visits booked with one worker. Titles carry the client's initials only. A
fixed number of queries."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from accounts.units import led_unit_ids_select
from core.agenda import AGENDA, Worker, agenda_values, among, exception_values, is_staff, to_record_values
from core.db import Viewer, utcnow
from core.extensions import db
from register.access import log_access_many
from register.models import Client

from .forms import KIND_LABELS
from .models import Appointment, AppointmentKind, AppointmentStatus
from .notices import TARGET_KIND


def _mine(user):
    return sa.or_(Appointment.worker1_id == user.id, Appointment.worker2_id == user.id)


def _failed_ids(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    from reminders.models import MessageStatus, OutboxMessage

    return set(db.session.scalars(sa.select(OutboxMessage.target_id).where(
        OutboxMessage.target_kind == TARGET_KIND, OutboxMessage.target_id.in_(ids),
        OutboxMessage.status == MessageStatus.FAILED.value)))


def _item(a: Appointment, now: datetime, failed: set[int]) -> dict:
    needs = []
    if a.status == AppointmentStatus.BOOKED and a.ends_at <= now:
        needs.append(_("record to write"))
    if a.id in failed:
        needs.append(_("reminder failed"))
    return {"start": a.starts_at, "end": a.ends_at, "kind": "appointment",
            "title": _("Appointment, %(kind)s", kind=str(KIND_LABELS[a.kind.value]).lower()) + " " + a.client.initials,
            "url": url_for("appointments.show", appointment_id=a.id), "needs": needs}


@functools.cache
def _agenda_statement() -> sa.Select:
    return (sa.select(Appointment).where(_mine(Viewer()), Appointment.status != AppointmentStatus.CANCELLED,
                                         Appointment.starts_at < AGENDA.end, Appointment.ends_at > AGENDA.start)
            .options(selectinload(Appointment.client)).order_by(Appointment.starts_at, Appointment.id))


def agenda_items(user, start_utc: datetime, end_utc: datetime) -> list[dict]:
    """The user's appointments (not cancelled) overlapping [start_utc, end_utc), in time order:
    three queries (appointments, their clients, failed messages)."""
    rows = db.session.scalars(_agenda_statement(), agenda_values(user, start_utc, end_utc)).all()
    now = utcnow()
    failed = _failed_ids([a.id for a in rows])
    # The titles carry the clients' initials: showing them is processing their data.
    log_access_many([a.client_id for a in rows], "agenda")
    return [_item(a, now, failed) for a in rows]


def unrecorded_for(user) -> list[dict]:
    """The user's past appointments still "booked" (neither held nor no-show marked), oldest first."""
    now = utcnow()
    rows = db.session.scalars(
        sa.select(Appointment).where(_mine(user), Appointment.status == AppointmentStatus.BOOKED,
                                     Appointment.ends_at <= now)
        .options(selectinload(Appointment.client)).order_by(Appointment.starts_at, Appointment.id).limit(200)).all()
    failed = _failed_ids([a.id for a in rows])
    return [_item(a, now, failed) for a in rows]


@functools.cache
def _to_record_statement(staff: bool) -> sa.Select:
    return (sa.select(Appointment).where(Appointment.status == AppointmentStatus.BOOKED,
                                         Appointment.ends_at <= AGENDA.before, Appointment.starts_at >= AGENDA.since,
                                         among(staff, Appointment.worker1_id, Appointment.worker2_id))
            .options(selectinload(Appointment.client)).order_by(Appointment.starts_at, Appointment.id))


def to_record_source(worker: Worker, before: datetime) -> list[dict]:
    """core.agenda's "to record": appointments over but still "booked", of one worker or a lead's staff."""
    rows = db.session.scalars(_to_record_statement(is_staff(worker)), to_record_values(worker, before)).all()
    if not is_staff(worker):  # the worker's own list shows initials; the lead's counts show nothing
        log_access_many([a.client_id for a in rows], "agenda")
    items = []
    for a in rows:
        item = _item(a, before, set())
        item["worker_ids"] = [i for i in (a.worker1_id, a.worker2_id) if i is not None]
        items.append(item)
    return items


SINGLE_WORKER_AHEAD = timedelta(days=14)


@functools.cache
def _exception_statement(viewer: Viewer) -> sa.Select:
    return (sa.select(Appointment.id, Appointment.starts_at)
            .join(Client, Client.id == Appointment.client_id)  # the lead's units' clients, per appointment
            .where(Appointment.status == AppointmentStatus.BOOKED, Appointment.kind == AppointmentKind.HOME_VISIT,
                   Appointment.worker2_id.is_(None), Appointment.starts_at >= AGENDA.now,
                   Appointment.starts_at < AGENDA.soon, Client.unit_id.in_(led_unit_ids_select(viewer)))
            .order_by(Appointment.starts_at, Appointment.id))


def exception_source() -> list[dict]:
    """Home visits in the next two weeks booked with one worker (work safety, seed 003)."""
    rows = db.session.execute(_exception_statement(Viewer.of(current_user)),
                              exception_values(current_user, SINGLE_WORKER_AHEAD)).all()
    return [{"text": _("Home visit with one worker"), "when": row.starts_at,
             "url": url_for("appointments.show", appointment_id=row.id)} for row in rows]
