"""Appointments in the calendar feeds (``calendar_export.sources`` registry): a staff member's
feed shows the appointments they work on, the unit feed all of them. Never the client: the summary is the kind of appointment, a home visit's place is "Home visit"
(the address is the client's home), nothing else. ``appointments.views`` registers
``SOURCE`` with the blueprint."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from calendar_export.ical import EventRecord
from calendar_export.sources import UID_DOMAIN
from core.extensions import db
from register.models import Client

from .forms import KIND_LABELS
from .models import Appointment, AppointmentKind, AppointmentStatus


def appointment_record(appointment: Appointment):
    kind = appointment.kind
    location = (appointment.place or _("Office")) if kind == AppointmentKind.OFFICE else str(KIND_LABELS[kind.value])
    names = ", ".join(w.name for w in appointment.workers)
    return EventRecord(
        uid=f"appointment-{appointment.id}@{UID_DOMAIN}",
        summary=_("Appointment, %(kind)s", kind=str(KIND_LABELS[kind.value]).lower()),
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        updated_at=appointment.updated_at,
        created_at=appointment.created_at,
        sequence=appointment.sequence,
        cancelled=appointment.status == AppointmentStatus.CANCELLED,
        location=location,
        description=_("Client appointment. Staff: %(names)s", names=names),
    )


class AppointmentSource:
    name = "appointment"
    tables = ("appointment", "user")

    def events(self, scope, window) -> list:
        stmt = sa.select(Appointment).where(
            Appointment.starts_at < window.end, Appointment.ends_at > window.start,
            sa.or_(Appointment.status != AppointmentStatus.CANCELLED, Appointment.updated_at >= window.cancelled_since))
        if scope.kind == "staff":
            stmt = stmt.where(sa.or_(Appointment.worker1_id == scope.target_id,
                                     Appointment.worker2_id == scope.target_id))
        elif scope.kind == "unit":
            # The appointments of the unit's clients.
            stmt = stmt.where(Appointment.client_id.in_(sa.select(Client.id).where(Client.unit_id == scope.target_id)))
        else:
            return []  # partners and groups have nothing to do with one-to-one appointments
        rows = db.session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id).options(
            selectinload(Appointment.worker1), selectinload(Appointment.worker2))).all()
        return [appointment_record(a) for a in rows]


SOURCE = AppointmentSource()
