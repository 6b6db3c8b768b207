"""Appointment pages: book (from the client's page or "new appointment"), show, move, cancel,
mark held or no-show, book the next time, rebook a no-show. Every scheduling form warns before
saving (the one conflict check, holidays, a home visit alone) and saves only with "save anyway"."""
from __future__ import annotations

from collections.abc import Set as AbstractSet

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.units import staff_choices
from calendar_export.sources import register_source
from core.agenda import register_agenda_source, register_exception_source, register_to_record_source
from core.conflicts import register_busy_source
from core.db import utcnow
from core.demo import register_demo
from core.extensions import db
from core.formatting import local_date
from core.forms import ConfirmForm
from core.security import read_only
from core.templating import translated_labels
from core.timeutil import finnish_holiday, to_local
from register.access import accessible_client_ids, get_client_or_404, log_access, log_access_many, register_access_rule
from register.models import Client
from register.sections import register_client_section
from reminders.queue import register_reminder_source
from reminders.services import register_reminder_target

from . import agenda, calendar_source, demo, notices, panels, services
from .forms import KIND_LABELS, STATUS_LABELS, AppointmentForm, CancelForm, NextForm, StatusForm
from .models import Appointment, AppointmentKind, AppointmentStatus
from .services import AppointmentError

bp = Blueprint("appointments", __name__, template_folder="templates")


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    app = state.app
    register_agenda_source(app, agenda.agenda_items)
    register_to_record_source(app, agenda.to_record_source)
    register_exception_source(app, agenda.exception_source)
    register_access_rule(app, services._appointment_worker_rule)
    register_busy_source(app, services.BUSY)
    register_client_section(app, panels.client_appointments_section)
    register_source(app, calendar_source.SOURCE)
    register_reminder_source(app, notices.queue_appointment_reminders)
    register_reminder_target(app, notices.TARGET)
    register_demo(app, demo.seed)


@bp.app_context_processor
def _labels():
    return {"appointment_labels": {"kind": translated_labels(KIND_LABELS),
                                   "status": translated_labels(STATUS_LABELS)}}


def get_appointment_or_404(appointment_id) -> Appointment:
    try:
        key = int(appointment_id)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < key < 2**63:
        abort(404)
    appointment = services.load(key)
    if appointment is None or not services.can_open(current_user, appointment):
        abort(404)
    return appointment


def _fill_workers(form: AppointmentForm, keep: AbstractSet[int] = frozenset()) -> None:
    staff = staff_choices(current_user.id, keep)
    form.worker1.choices = [(str(uid), name) for uid, name in staff]
    form.worker2.choices = [("", _("No second worker"))] + [(str(uid), name) for uid, name in staff]


def _worker_ids(form: AppointmentForm) -> list[int]:
    return [int(x) for x in (form.worker1.data, form.worker2.data) if x]


def _warnings(form: AppointmentForm, starts, ends, exclude_id=None) -> list[str]:
    """What the worker should know before saving: who or which room is busy, a public holiday,
    a home visit without a pair."""
    found = [c.message for c in services.conflicts(starts_at=starts, ends_at=ends, worker_ids=_worker_ids(form),
                                                   place=form.place.data or "", kind=form.kind.data,
                                                   viewer=current_user, exclude_id=exclude_id)]
    holiday = finnish_holiday(form.day.data)
    if holiday:
        found.append(_("Note: %(date)s is a public holiday (%(holiday)s).", date=local_date(form.day.data),
                       holiday=holiday))
    if form.kind.data == AppointmentKind.HOME_VISIT.value and not form.worker2.data:
        found.append(_("A home visit is made in pairs (work safety). Choose a second worker, or save anyway "
                       "to go alone."))
    return found


def _time_errors(form: AppointmentForm):
    """The times, or None with the error at the field (the input is kept)."""
    starts, ends = services.appointment_times(form.day.data, form.start.data, form.minutes.data)
    if starts < utcnow():
        form.day.errors = [*form.day.errors, _("The time is in the past. Choose a time that is still to come.")]
        return None
    return starts, ends


def _book_kwargs(form: AppointmentForm) -> dict:
    return dict(kind=form.kind.data, worker_ids=_worker_ids(form), place=form.place.data or "",
                interpreter=form.interpreter.data, interpreter_language=form.interpreter_language.data or "")


# --- booking -------------------------------------------------------------------------------------

@bp.route("/appointments/new")
@login_required
def choose_client():
    chosen = request.args.get("client_id")
    if chosen:
        return redirect(url_for("appointments.new", client_id=chosen))
    stmt = sa.select(Client).where(Client.active.is_(True)).order_by(Client.name, Client.id)
    ids = accessible_client_ids(current_user)
    if ids is not None:
        stmt = stmt.where(Client.id.in_(ids))
    clients = db.session.scalars(stmt.limit(500)).all()
    log_access_many([c.id for c in clients], "list", "new appointment")
    return render_template("appointments/choose_client.html", clients=clients)


@bp.route("/appointments/new/<client_id>", methods=["GET", "POST"])
@login_required
def new(client_id):
    client = get_client_or_404(client_id)
    # Rebooking: the earlier appointment (a no-show) gives the settings and the link.
    previous = None
    if request.args.get("after"):
        previous = get_appointment_or_404(request.args.get("after"))
        if previous.client_id != client.id:
            abort(404)
    form = AppointmentForm()
    _fill_workers(form, previous.worker_ids if previous else set())
    warnings: list[str] = []
    if request.method == "GET":
        form.worker1.data = str(current_user.id)
        if previous is not None:
            form.kind.data = previous.kind.value
            form.minutes.data = previous.minutes
            form.place.data = previous.place
            form.worker1.data = str(previous.worker1_id)
            form.worker2.data = str(previous.worker2_id or "")
            form.interpreter.data = previous.interpreter
            form.interpreter_language.data = previous.interpreter_language
    elif form.validate_on_submit() and (times := _time_errors(form)) is not None:
        starts, ends = times
        warnings = _warnings(form, starts, ends)
        if not warnings or form.confirm.data:
            try:
                appointment = services.book(client=client, starts_at=starts, ends_at=ends, created_by=current_user,
                                            previous=previous, **_book_kwargs(form))
            except AppointmentError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                log_access(client.id, "create", f"appointment {appointment.id}")
                flash(_("Appointment booked."), "success")
                return redirect(url_for("appointments.show", appointment_id=appointment.id))
    log_access(client.id, "view", "new appointment form")
    return render_template("appointments/form.html", form=form, client=client, appointment=None,
                           previous=previous, warnings=warnings)


# --- one appointment ---------------------------------------------------------------------------

@bp.route("/appointments/<appointment_id>")
@login_required
@read_only
def show(appointment_id):
    appointment = get_appointment_or_404(appointment_id)
    log_access(appointment.client_id, "view", f"appointment {appointment.id}")
    return render_template("appointments/show.html", appointment=appointment, cancel_form=CancelForm(),
                           confirm=ConfirmForm(), now=utcnow())


@bp.route("/appointments/<appointment_id>/move", methods=["GET", "POST"])
@login_required
def move(appointment_id):
    appointment = get_appointment_or_404(appointment_id)
    if appointment.status != AppointmentStatus.BOOKED:
        flash(_("This appointment is no longer booked and cannot be changed."), "error")
        return redirect(url_for("appointments.show", appointment_id=appointment.id))
    form = AppointmentForm()
    _fill_workers(form, appointment.worker_ids)
    warnings: list[str] = []
    if request.method == "GET":
        local = to_local(appointment.starts_at)
        form.day.data, form.start.data = local.date(), local.time().replace(second=0, microsecond=0, tzinfo=None)
        form.minutes.data = appointment.minutes
        form.kind.data = appointment.kind.value
        form.worker1.data = str(appointment.worker1_id)
        form.worker2.data = str(appointment.worker2_id or "")
        form.place.data = appointment.place
        form.interpreter.data = appointment.interpreter
        form.interpreter_language.data = appointment.interpreter_language
        form.version.data = str(appointment.version)
    elif (form.validate_on_submit() and form.check_version(appointment.version)
          and (times := _time_errors(form)) is not None):
        starts, ends = times
        warnings = _warnings(form, starts, ends, exclude_id=appointment.id)
        if not warnings or form.confirm.data:
            old_start = appointment.starts_at
            try:
                moved = services.move(appointment, starts_at=starts, ends_at=ends, **_book_kwargs(form))
            except AppointmentError as exc:
                db.session.rollback()
                form.form_errors.append(str(exc))
            else:
                log_access(appointment.client_id, "change", f"appointment {appointment.id}")
                notices.drop_pending_reminders(appointment)
                if moved and form.send_notice.data:
                    _notice_flash(notices.tell_client(appointment, "moved", old_start))
                flash(_("Changes saved."), "success")
                return redirect(url_for("appointments.show", appointment_id=appointment.id))
    log_access(appointment.client_id, "view", f"appointment {appointment.id} move form")
    return render_template("appointments/form.html", form=form, client=appointment.client, appointment=appointment,
                           previous=None, warnings=warnings)


def _notice_flash(reason: str | None) -> None:
    if reason:
        flash(_("The client could not be told: %(reason)s", reason=reason), "warning")
    else:
        flash(_("A message to the client is on its way."), "success")


@bp.route("/appointments/<appointment_id>/cancel", methods=["POST"])
@login_required
def cancel(appointment_id):
    appointment = get_appointment_or_404(appointment_id)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.cancel(appointment)
    except AppointmentError as exc:
        flash(str(exc), "error")
        return redirect(url_for("appointments.show", appointment_id=appointment.id))
    log_access(appointment.client_id, "change", f"appointment {appointment.id} cancelled")
    notices.drop_pending_reminders(appointment)
    if form.send_notice.data:
        _notice_flash(notices.tell_client(appointment, "cancelled", appointment.starts_at))
    flash(_("Appointment cancelled."), "success")
    return redirect(url_for("appointments.show", appointment_id=appointment.id))


@bp.route("/appointments/<appointment_id>/status", methods=["POST"])
@login_required
def status(appointment_id):
    appointment = get_appointment_or_404(appointment_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.mark(appointment, form.status.data)
    except AppointmentError as exc:
        flash(str(exc), "error")
        return redirect(url_for("appointments.show", appointment_id=appointment.id))
    notices.record_attendance(appointment)
    log_access(appointment.client_id, "change", f"appointment {appointment.id} {form.status.data}")
    flash(_("Saved."), "success")
    return redirect(url_for("appointments.show", appointment_id=appointment.id))


@bp.route("/appointments/<appointment_id>/next", methods=["POST"])
@login_required
def book_next(appointment_id):
    appointment = get_appointment_or_404(appointment_id)
    form = NextForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        starts, ends = services.next_times(appointment, int(form.weeks.data))
    except AppointmentError:
        abort(400)
    # Warned BEFORE saving, as every scheduling form: with a clash or a holiday the click opens the
    # booking form filled in with the same settings and the new time, the warnings and "save anyway".
    prefilled = AppointmentForm(formdata=None)
    _fill_workers(prefilled, appointment.worker_ids)
    local = to_local(starts)
    prefilled.kind.data, prefilled.day.data = appointment.kind.value, local.date()
    prefilled.start.data, prefilled.minutes.data = local.time().replace(tzinfo=None), appointment.minutes
    prefilled.worker1.data, prefilled.worker2.data = str(appointment.worker1_id), str(appointment.worker2_id or "")
    prefilled.place.data, prefilled.interpreter.data = appointment.place, appointment.interpreter
    prefilled.interpreter_language.data = appointment.interpreter_language
    warnings = _warnings(prefilled, starts, ends)
    if warnings:
        log_access(appointment.client_id, "view", "new appointment form")
        return render_template("appointments/form.html", form=prefilled, client=appointment.client, appointment=None,
                               previous=appointment, warnings=warnings,
                               action=url_for("appointments.new", client_id=appointment.client_id,
                                              after=appointment.id))
    try:
        nxt = services.book_next(appointment, weeks=int(form.weeks.data), user=current_user)
    except AppointmentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("appointments.show", appointment_id=appointment.id))
    log_access(appointment.client_id, "create", f"appointment {nxt.id}")
    flash(_("The next appointment is booked."), "success")
    return redirect(url_for("appointments.show", appointment_id=nxt.id))

