"""Views of a group's roll call and attendance, its evaluation, copying a new round and the printable
plan and attendance sheet (routes of the groups blueprint, ``views.bp``)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.extensions import db
from core.forms import ConfirmForm
from core.security import read_only
from core.timeutil import local_today
from register.access import (
    log_access_many,
)

from . import (
    attendance as groups_attendance,
    schedule as groups_schedule,
    services,
)
from .forms import (
    CopyForm,
    EvaluationForm,
)
from .models import (
    Attendance,
    GroupSession,
)
from .services import GroupError
from .views import _apply_error, _editable_group, _group_or_404, _participants_group, _session_of, bp

# --- attendance ---------------------------------------------------------------------------------

@bp.route("/<group_id>/sessions/<session_id>/roll-call", methods=["GET", "POST"])
def roll_call(group_id, session_id):
    group = _participants_group(group_id)
    sess = _session_of(group, session_id)
    form = ConfirmForm()
    enrolments = groups_attendance.roll_call_enrolments(group)
    current = {a.enrolment_id: a.status for a in sess.attendance}
    error = None
    if form.validate_on_submit():
        chosen = {}
        for e in enrolments:
            value = request.form.get(f"att-{e.id}", "")
            if value:
                chosen[e.id] = value
        try:
            groups_attendance.record_attendance(sess, chosen, user=current_user)
        except GroupError as exc:
            db.session.rollback()
            error = exc.message
        else:
            log_access_many([e.client_id for e in enrolments], "change", f"attendance, session {sess.id}")
            flash(_("Attendance saved."), "success")
            return redirect(url_for("groups.attendance", group_id=group.id))
        current.update({k: v for k, v in chosen.items()})
    log_access_many([e.client_id for e in enrolments], "view", f"roll call, session {sess.id}")
    return render_template("groups/roll_call.html", group=group, session=sess, enrolments=enrolments,
                           current=current, form=form, error=error, total=len(group.sessions),
                           refusal=groups_attendance.roll_call_refusal(sess))


@bp.route("/<group_id>/attendance")
def attendance(group_id):
    group = _group_or_404(group_id)
    figures = groups_attendance.attendance_figures(group)
    names = services.can_see_names(current_user, group)
    if names:
        log_access_many([e.client_id for e, _c in figures.per_participant], "view", f"group {group.id} attendance")
    return render_template("groups/attendance.html", group=group, figures=figures, names=names,
                           total=len(group.sessions))


# --- evaluation and new rounds ------------------------------------------------------------------

@bp.route("/<group_id>/evaluation", methods=["GET", "POST"])
def evaluation(group_id):
    group = _group_or_404(group_id)
    editable = services.can_edit(current_user, group)
    form = EvaluationForm(obj=group.evaluation)
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate_on_submit():
            try:
                groups_attendance.save_evaluation(group, interesting=form.interesting.data,
                                         continue_decision=form.continue_decision.data,
                                         what_worked=form.what_worked.data or "",
                                         improvements=form.improvements.data or "", user=current_user)
            except GroupError as exc:
                db.session.rollback()
                _apply_error(form, exc)
            else:
                flash(_("Evaluation saved."), "success")
                return redirect(url_for("groups.evaluation", group_id=group.id))
    figures = groups_attendance.attendance_figures(group)
    # The participants' feedback follows the group's own rule for its participants (facilitators
    # and leads), as on the feedback pages; other staff see the attendance figures only.
    return render_template("groups/evaluation.html", group=group, form=form, figures=figures, editable=editable,
                           total=len(group.sessions), show_feedback=services.can_see_names(current_user, group))


@bp.route("/<group_id>/copy", methods=["GET", "POST"])
def copy(group_id):
    group = _editable_group(group_id)
    form = CopyForm()
    if request.method == "GET":
        form.title.data = group.title
        form.first_date.data = local_today() + timedelta(days=60)
    if form.validate_on_submit():
        try:
            new_group = groups_schedule.copy_round(group, title=form.title.data, first_date=form.first_date.data,
                                            user=current_user)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            flash(_("A new round was created. Check the plan and the dates."), "success")
            return redirect(url_for("groups.group", group_id=new_group.id))
    return render_template("groups/copy_form.html", form=form, group=group)


# --- printables ---------------------------------------------------------------------------------

@bp.route("/<group_id>/print")
@read_only
def print_plan(group_id):
    group = _group_or_404(group_id)
    return render_template("groups/print_plan.html", group=group, total=len(group.sessions))


@bp.route("/<group_id>/sheet")
def print_sheet(group_id):
    group = _participants_group(group_id)
    figures = groups_attendance.attendance_figures(group)
    marks = dict(((sid, eid), st) for sid, eid, st in db.session.execute(
        sa.select(Attendance.session_id, Attendance.enrolment_id, Attendance.status)
        .join(GroupSession, GroupSession.id == Attendance.session_id).where(GroupSession.group_id == group.id)).all())
    log_access_many([e.client_id for e, _c in figures.per_participant], "view", f"group {group.id} attendance sheet")
    return render_template("groups/print_sheet.html", group=group, figures=figures, marks=marks,
                           total=len(group.sessions))
