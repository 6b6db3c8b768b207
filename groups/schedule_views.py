"""Views of a group's sessions (routes of the groups blueprint, ``views.bp``): the schedule, topics,
one session's page, its changes and its status."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.extensions import db
from core.security import read_only
from core.templating import weekday_date
from core.timeutil import local_to_utc, to_local

from . import (
    schedule as groups_schedule,
    services,
)
from .forms import (
    ScheduleForm,
    SessionForm,
    SessionStatusForm,
    topics_form,
)
from .services import GroupError
from .views import _apply_error, _editable_group, _group_or_404, _session_of, bp

# --- schedule -----------------------------------------------------------------------------------

@bp.route("/<group_id>/schedule", methods=["GET", "POST"])
def schedule(group_id):
    group = _editable_group(group_id)
    form = ScheduleForm()
    if request.method == "GET":
        form.minutes.data = group.session_minutes
        form.break_weeks.data = groups_schedule.format_break_weeks(group)
        if group.sessions:
            # Start from the current series, so a small change does not mean retyping everything.
            first = to_local(group.sessions[0].starts_at)
            form.first_date.data = first.date()
            form.weekday.data = first.weekday()
            form.start_time.data = first.time().replace(tzinfo=None)
            form.weeks.data = len(group.sessions)
    preview, conflicts, warnings = [], [], []
    if form.validate_on_submit():
        try:
            breaks = groups_schedule.parse_break_weeks(form.break_weeks.data or "")
            preview = groups_schedule.plan_dates(first_date=form.first_date.data, weekday=form.weekday.data,
                                          start=form.start_time.data, minutes=form.minutes.data,
                                          weeks=form.weeks.data, break_weeks=breaks)
            conflicts = groups_schedule.find_conflicts(group, [(p.starts_at, p.ends_at) for p in preview])
            if not conflicts or form.confirm.data:
                groups_schedule.generate_schedule(group, preview, minutes=form.minutes.data, break_weeks=breaks)
                flash(_("The schedule was created: %(n)s sessions.", n=len(preview)), "success")
                return redirect(url_for("groups.group", group_id=group.id))
            warnings = [c.message for c in conflicts]
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
    return render_template("groups/schedule_form.html", form=form, group=group, preview=preview, warnings=warnings)


# The topics of all sessions on one page: a plan is written in one go, not six edit pages.
@bp.route("/<group_id>/topics", methods=["GET", "POST"])
def topics(group_id):
    group = _editable_group(group_id)
    total = len(group.sessions)
    labels = {s.id: _("Session %(n)s/%(total)s, %(day)s", n=s.number, total=total, day=weekday_date(s.starts_at))
              for s in group.sessions}
    form = topics_form(group.sessions, labels)
    if form.validate_on_submit():
        changed = groups_schedule.set_topics(group, {s.id: form[f"topic_{s.id}"].data or "" for s in group.sessions},
                                      user=current_user)
        flash(_("Topics saved: %(n)s changed.", n=changed), "success")
        return redirect(url_for("groups.group", group_id=group.id))
    return render_template("groups/topics_form.html", group=group, form=form,
                           fields=[form[f"topic_{s.id}"] for s in group.sessions])


@bp.route("/<group_id>/sessions/<session_id>")
@read_only
def session(group_id, session_id):
    group = _group_or_404(group_id)
    sess = _session_of(group, session_id)
    return render_template("groups/session.html", group=group, session=sess, total=len(group.sessions),
                           can_edit=services.can_edit(current_user, group), status_form=SessionStatusForm(),
                           can_restore=groups_schedule.can_restore_session(sess))


@bp.route("/<group_id>/sessions/<session_id>/edit", methods=["GET", "POST"])
def session_edit(group_id, session_id):
    group = _editable_group(group_id)
    sess = _session_of(group, session_id)
    form = SessionForm()
    warnings = []
    if request.method == "GET":
        local_start, local_end = to_local(sess.starts_at), to_local(sess.ends_at)
        form.day.data = local_start.date()
        form.start_time.data = local_start.time().replace(tzinfo=None)
        form.end_time.data = local_end.time().replace(tzinfo=None)
        form.topic.data, form.room.data, form.plan_notes.data = sess.topic, sess.room, sess.plan_notes
        form.version.data = str(sess.version)
    elif form.validate_on_submit() and form.check_version(sess.version):
        starts = local_to_utc(form.day.data, form.start_time.data)
        ends = local_to_utc(form.day.data, form.end_time.data)
        moved = (starts, ends) != (sess.starts_at, sess.ends_at) or (form.room.data or "") != sess.room
        if moved:
            warnings = groups_schedule.holiday_warnings([(starts, ends)]) + [
                c.message for c in groups_schedule.find_conflicts(group, [(starts, ends)], room=form.room.data or "")]
        if not warnings or form.confirm.data:
            try:
                groups_schedule.update_session(sess, starts_at=starts, ends_at=ends, topic=form.topic.data or "",
                                        room=form.room.data or "", plan_notes=form.plan_notes.data or "",
                                        user=current_user, notify=form.send_notice.data)
            except GroupError as exc:
                db.session.rollback()
                _apply_error(form, exc)
            else:
                flash(_("Session saved."), "success")
                return redirect(url_for("groups.session", group_id=group.id, session_id=sess.id))
    return render_template("groups/session_form.html", form=form, group=group, session=sess,
                           total=len(group.sessions), warnings=warnings)


@bp.route("/<group_id>/sessions/<session_id>/status", methods=["POST"])
def session_status(group_id, session_id):
    group = _editable_group(group_id)
    sess = _session_of(group, session_id)
    form = SessionStatusForm()
    if not form.validate_on_submit() or form.status.data not in ("scheduled", "cancelled"):
        abort(400)  # only a forged request sends anything else
    try:
        groups_schedule.set_session_status(sess, form.status.data or "", user=current_user, notify=form.send_notice.data)
    except GroupError as exc:
        # Nothing was changed (the service refuses before it flushes): the reason, on the session page.
        flash(exc.message, "error")
        return redirect(url_for("groups.session", group_id=group.id, session_id=sess.id))
    flash(_("The session was cancelled.") if sess.is_cancelled else _("The session is back on the schedule."),
          "success")
    return redirect(url_for("groups.session", group_id=group.id, session_id=sess.id))
