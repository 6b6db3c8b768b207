"""Pair safety's rules: a pair member taps "we are there" and "we are done"; a check whose "done"
has not come ``margin_minutes`` after the visit's planned end is overdue; the lead of the visit's
unit and the contact person see it (``alerts_for``) and get one e-mail (``safety.worker.send_alerts``, run by
``flask send-reminders``); a lead or the contact person marks it resolved. Every step goes to the
security log (accounts.mfa.log). Services flush; the e-mails are sent by ``safety.worker.send_alerts``, which commits check by check.

Who may open a check is the visit's own rule (appointments.views / outreach.views, used by
views.py) narrowed to the pair. No client's name, id or address is read into anything shown or
sent: a home visit's unit is read as the bare ``client.unit_id``."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from accounts.mfa import log
from accounts.models import Role, UnitMembership, User
from accounts.units import led_unit_ids
from appointments.models import Appointment, AppointmentKind, AppointmentStatus
from core.db import VIEWER_ID, utcnow
from core.extensions import db
from core.timeutil import local_day_bounds_utc, local_today
from outreach.models import OutreachVisit, VisitStatus
from register.models import Client

from .models import CheckKind, FieldCheck

KIND_LABELS = {CheckKind.HOME_VISIT.value: _l("Home visit"), CheckKind.OUTREACH.value: _l("Outreach visit")}
MARGIN_CHOICES = (15, 30, 45, 60, 90, 120)


def default_margin() -> int:
    return int(current_app.config.get("SAFETY_MARGIN_MINUTES") or 30)


# --- the visit behind a check ---------------------------------------------------------------------

def pair_ids(kind: str, visit) -> list[int]:
    if kind == CheckKind.HOME_VISIT:
        return sorted(visit.worker_ids)
    return list(visit.staff_ids)


def is_open_visit(kind: str, visit) -> bool:
    """A visit a pair may still go to: a booked or held home visit, an outreach visit not cancelled."""
    if kind == CheckKind.HOME_VISIT:
        return visit.kind == AppointmentKind.HOME_VISIT and visit.status in (AppointmentStatus.BOOKED,
                                                                              AppointmentStatus.HELD)
    return visit.status != VisitStatus.CANCELLED.value


def _unit_ids(checks: list[FieldCheck]) -> dict[int, set[int]]:
    """Per check, the units whose lead is told: a home visit's client's unit; an outreach visit's
    venue's unit, or for a venue shared by every unit, the units of the pair. Two queries."""
    client_ids = {c.appointment.client_id for c in checks if c.kind == CheckKind.HOME_VISIT}
    client_units: dict[int, int | None] = {}
    if client_ids:
        for client_id, unit_id in db.session.execute(sa.select(Client.id, Client.unit_id)
                                                     .where(Client.id.in_(sorted(client_ids)))):
            client_units[client_id] = unit_id
    shared_pair = {uid for c in checks if c.kind == CheckKind.OUTREACH and c.outreach_visit.venue.unit_id is None
                   for uid in c.outreach_visit.staff_ids}
    member_units: dict[int, set[int]] = {}
    if shared_pair:
        for user_id, unit_id in db.session.execute(sa.select(UnitMembership.user_id, UnitMembership.unit_id)
                                                   .where(UnitMembership.user_id.in_(sorted(shared_pair)))):
            member_units.setdefault(user_id, set()).add(unit_id)
    result: dict[int, set[int]] = {}
    for c in checks:
        if c.kind == CheckKind.HOME_VISIT:
            unit = client_units.get(c.appointment.client_id)
            result[c.id] = {unit} if unit is not None else set()
        elif c.outreach_visit.venue.unit_id is not None:
            result[c.id] = {c.outreach_visit.venue.unit_id}
        else:
            result[c.id] = {u for uid in c.outreach_visit.staff_ids for u in member_units.get(uid, ())}
    return result


def _leads_of(unit_ids: set[int]) -> list[User]:
    if not unit_ids:
        return []
    return list(db.session.scalars(
        sa.select(User).join(UnitMembership, UnitMembership.user_id == User.id)
        .where(UnitMembership.unit_id.in_(sorted(unit_ids)), User.role == Role.LEAD.value, User.active.is_(True))
        .order_by(User.name, User.id).distinct()))


def visit_unit_ids(kind: str, visit) -> set[int]:
    if kind == CheckKind.HOME_VISIT:
        unit = db.session.scalar(sa.select(Client.unit_id).where(Client.id == visit.client_id))
        return {unit} if unit is not None else set()
    if visit.venue.unit_id is not None:
        return {visit.venue.unit_id}
    ids = visit.staff_ids
    return set(db.session.scalars(sa.select(UnitMembership.unit_id).where(UnitMembership.user_id.in_(ids)))) \
        if ids else set()


def contact_choices(kind: str, visit) -> list[User]:
    """Who may be the pair's contact person: the active staff of the visit's units but the pair
    themselves, leads first."""
    units = visit_unit_ids(kind, visit)
    if not units:
        return []
    pair = pair_ids(kind, visit)
    users = db.session.scalars(
        sa.select(User).join(UnitMembership, UnitMembership.user_id == User.id)
        .where(UnitMembership.unit_id.in_(sorted(units)), User.active.is_(True), User.id.not_in(pair))
        .order_by(User.name, User.id).distinct()).all()
    return sorted(users, key=lambda u: (not u.is_lead, u.name, u.id))


def default_contact(kind: str, visit) -> User | None:
    """The unit's lead (the first by name), when there is one."""
    leads = [u for u in contact_choices(kind, visit) if u.is_lead]
    return leads[0] if leads else None


def check_for(kind: str, visit) -> FieldCheck | None:
    column = FieldCheck.appointment_id if kind == CheckKind.HOME_VISIT else FieldCheck.outreach_visit_id
    return db.session.scalar(sa.select(FieldCheck).where(column == visit.id))


# --- taps ----------------------------------------------------------------------------------------

def arrive(kind: str, visit, user: User, *, margin: int, contact: User | None, address: str = "") -> FieldCheck:
    """"We are there". A second tap (the other worker, a reload) changes nothing."""
    check = check_for(kind, visit)
    if check is not None and check.arrived_at is not None:
        return check
    if check is None:
        check = FieldCheck(kind=kind, appointment_id=visit.id if kind == CheckKind.HOME_VISIT else None,
                           outreach_visit_id=visit.id if kind == CheckKind.OUTREACH else None)
        db.session.add(check)
    check.margin_minutes = margin
    check.contact_id = contact.id if contact is not None else None
    check.arrived_at = utcnow()
    check.arrived_by_id = user.id
    log(user, "safety_arrived", actor=user, address=address)
    db.session.flush()
    return check


def done(check: FieldCheck, user: User, *, address: str = "") -> FieldCheck:
    """"We are done". A second tap changes nothing."""
    if check.done_at is None:
        check.done_at = utcnow()
        check.done_by_id = user.id
        log(user, "safety_done", actor=user, address=address)
        db.session.flush()
    return check


def resolve(check: FieldCheck, user: User, *, address: str = "") -> FieldCheck:
    """"Reached them, all fine": the alert ends (logged; a second click changes nothing)."""
    if check.resolved_at is None:
        check.resolved_at = utcnow()
        check.resolved_by_id = user.id
        pair = pair_ids(check.kind, check.visit)
        about = db.session.get(User, pair[0]) if pair else None
        log(about, "safety_resolved", actor=user, address=address)
        db.session.flush()
    return check


# --- overdue -------------------------------------------------------------------------------------

@dataclass
class Alert:
    check: FieldCheck
    kind: str
    starts_at: datetime
    ends_at: datetime
    due_at: datetime
    pair: list[str]
    unit_ids: set[int] = field(default_factory=set)

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.kind])


@functools.cache
def _open_checks_statement() -> sa.Select:
    """Built once: every start page asks it (its loader options cost more to build than to run)."""
    return (sa.select(FieldCheck).where(FieldCheck.arrived_at.is_not(None), FieldCheck.done_at.is_(None),
                                        FieldCheck.resolved_at.is_(None))
            .options(selectinload(FieldCheck.appointment).selectinload(Appointment.worker1),
                     selectinload(FieldCheck.appointment).selectinload(Appointment.worker2),
                     selectinload(FieldCheck.outreach_visit).selectinload(OutreachVisit.venue),
                     selectinload(FieldCheck.outreach_visit).selectinload(OutreachVisit.staff1),
                     selectinload(FieldCheck.outreach_visit).selectinload(OutreachVisit.staff2),
                     selectinload(FieldCheck.contact))
            .order_by(FieldCheck.arrived_at, FieldCheck.id))


def _open_checks() -> list[FieldCheck]:
    # Arrived, not done, not resolved: only the visits under way and the forgotten ones (few rows).
    return list(db.session.scalars(_open_checks_statement()))


def overdue(now: datetime | None = None) -> list[Alert]:
    """Every overdue check, oldest first."""
    now = now or utcnow()
    alerts = []
    for check in _open_checks():
        visit = check.visit
        due = visit.ends_at + timedelta(minutes=check.margin_minutes)
        # A visit cancelled or marked "did not come" after the pair arrived has no tap page left.
        if due > now or not is_open_visit(check.kind, visit):
            continue
        workers = visit.workers if check.kind == CheckKind.HOME_VISIT else visit.staff
        alerts.append(Alert(check=check, kind=check.kind, starts_at=visit.starts_at, ends_at=visit.ends_at,
                            due_at=due, pair=[w.name for w in workers]))
    units = _unit_ids([a.check for a in alerts])
    for alert in alerts:
        alert.unit_ids = units[alert.check.id]
    return alerts


def may_resolve(user, alert: Alert) -> bool:
    """The contact person and the leads of the visit's units see the alert and may resolve it."""
    if not getattr(user, "is_authenticated", False):
        return False
    return alert.check.contact_id == user.id or bool(led_unit_ids(user) & alert.unit_ids)


def alerts_for(user, now: datetime | None = None) -> list[Alert]:
    return [a for a in overdue(now) if may_resolve(user, a)]


def recipients(alert: Alert) -> list[User]:
    people = {u.id: u for u in _leads_of(alert.unit_ids)}
    contact = alert.check.contact
    if contact is not None and contact.active:
        people.setdefault(contact.id, contact)
    return sorted(people.values(), key=lambda u: (u.name, u.id))


# --- the pair's day ------------------------------------------------------------------------------

@dataclass
class MyVisit:
    kind: str
    record_id: int
    starts_at: datetime
    ends_at: datetime
    check: FieldCheck | None

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.kind])


@functools.cache
def _my_visits_statements() -> tuple[sa.Select, sa.Select, sa.Select]:
    """Built once: every start page asks them."""
    start: sa.BindParameter = sa.bindparam("day_start")
    end: sa.BindParameter = sa.bindparam("day_end")
    appointments = sa.select(Appointment).where(
        sa.or_(Appointment.worker1_id == VIEWER_ID, Appointment.worker2_id == VIEWER_ID),
        Appointment.kind == AppointmentKind.HOME_VISIT,
        Appointment.status.in_((AppointmentStatus.BOOKED, AppointmentStatus.HELD)),
        Appointment.starts_at < end, Appointment.ends_at > start)
    visits = sa.select(OutreachVisit).where(
        sa.or_(OutreachVisit.staff1_id == VIEWER_ID, OutreachVisit.staff2_id == VIEWER_ID),
        OutreachVisit.status != VisitStatus.CANCELLED.value,
        OutreachVisit.starts_at < end, OutreachVisit.ends_at > start)
    checks = sa.select(FieldCheck).where(sa.or_(
        FieldCheck.appointment_id.in_(sa.bindparam("appointment_ids", expanding=True)),
        FieldCheck.outreach_visit_id.in_(sa.bindparam("visit_ids", expanding=True))))
    return appointments, visits, checks


def my_visits_today(user) -> list[MyVisit]:
    """The signed-in worker's home visits and outreach visits today, with their checks (3 queries)."""
    start, end = local_day_bounds_utc(local_today())
    appointments_statement, visits_statement, checks_statement = _my_visits_statements()
    values = {"viewer_id": user.id, "day_start": start, "day_end": end}
    appointments = db.session.scalars(appointments_statement, values).all()
    visits = db.session.scalars(visits_statement, values).all()
    if not appointments and not visits:
        return []
    checks = db.session.scalars(checks_statement, {"appointment_ids": [a.id for a in appointments],
                                                   "visit_ids": [v.id for v in visits]}).all()
    by_appointment = {c.appointment_id: c for c in checks if c.appointment_id}
    by_visit = {c.outreach_visit_id: c for c in checks if c.outreach_visit_id}
    rows = [MyVisit(CheckKind.HOME_VISIT.value, a.id, a.starts_at, a.ends_at, by_appointment.get(a.id))
            for a in appointments]
    rows += [MyVisit(CheckKind.OUTREACH.value, v.id, v.starts_at, v.ends_at, by_visit.get(v.id)) for v in visits]
    return sorted(rows, key=lambda r: (r.starts_at, r.kind, r.record_id))


def get_alert(check: FieldCheck, now: datetime | None = None) -> Alert | None:
    return next((a for a in overdue(now) if a.check.id == check.id), None)

