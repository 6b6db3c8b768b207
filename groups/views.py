"""Pages of the groups feature: ideas, planning, schedule, sessions, enrolment, roll call,
attendance figures, evaluation, finding groups and printable plans."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, load_only, selectinload

from accounts.models import User
from accounts.units import units_of
from core.agenda import register_agenda_source, register_exception_source, register_to_record_source
from core.conflicts import register_busy_source
from core.db import get_or_404
from core.demo import register_demo
from core.extensions import db
from core.forms import ConfirmForm
from core.security import read_only
from core.templating import translated_labels, weekday_date
from core.timeutil import local_to_utc, local_today, to_local
from core.web import id_arg, paginate, search_arg
from register.access import (
    accessible_client_ids,
    get_client_or_404,
    log_access,
    log_access_many,
    partner_visible_condition,
    register_access_rule,
)
from register.models import Client, PartnerOrganisation
from register.sections import register_client_section

from . import agenda, demo, panels, services
from .forms import (
    IDEA_SOURCES,
    CancelGroupForm,
    CopyForm,
    DeclineReferralForm,
    EnrolForm,
    EvaluationForm,
    GroupForm,
    IdeaForm,
    ReferralForm,
    ScheduleForm,
    SessionForm,
    SessionStatusForm,
    StatusForm,
    topics_form,
)
from .models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    Group,
    GroupIdea,
    GroupPartner,
    GroupSession,
    GroupStatus,
    Referral,
)
from .services import STATUS_LABELS, GroupError

bp = Blueprint("groups", __name__, template_folder="templates", url_prefix="/groups")

WHEN_STATUSES = {
    "upcoming": (GroupStatus.IDEA.value, GroupStatus.PLANNING.value, GroupStatus.ENROLLING.value),
    "running": (GroupStatus.RUNNING.value,),
    "past": (GroupStatus.FINISHED.value, GroupStatus.EVALUATED.value),
}


@bp.before_request
@login_required
def _require_login():
    return None


@bp.app_template_filter("group_status")
def _group_status_filter(value):
    return translated_labels(STATUS_LABELS).get(value, value)


@bp.app_context_processor
def _group_helpers():
    return {"group_can_edit": lambda group: services.can_edit(current_user, group)}


# --- loading helpers ----------------------------------------------------------------------------

def _group_or_404(group_id) -> Group:
    group = get_or_404(Group, group_id)
    if not services.can_see_group(current_user, group):
        abort(404)  # another unit's group, as if there were none
    return group


def _editable_group(group_id) -> Group:
    group = _group_or_404(group_id)
    if not services.can_edit(current_user, group):
        abort(403)
    return group


def _participants_group(group_id) -> Group:
    """The participants' names are client records: for anyone but the group's facilitators and
    leads the page does not exist (404, as for any record one may not see), not "forbidden".
    Every page that shows or changes enrolments (participants, roll call, attendance sheet,
    withdrawing and confirming a place, referrals) loads its group through this."""
    group = _group_or_404(group_id)
    if not services.can_see_names(current_user, group):
        abort(404)
    return group


def _session_of(group: Group, session_id) -> GroupSession:
    session = get_or_404(GroupSession, session_id)
    if session.group_id != group.id:
        abort(404)
    return session


def _enrolment_of(group: Group, enrolment_id) -> Enrolment:
    enrolment = get_or_404(Enrolment, enrolment_id)
    if enrolment.group_id != group.id:
        abort(404)
    return enrolment


def _apply_error(form, error: GroupError) -> None:
    if error.field and error.field in form._fields:
        form[error.field].errors = list(form[error.field].errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def _staff_choices():
    users = db.session.execute(sa.select(User.id, User.name).where(User.active.is_(True)).order_by(User.name)).all()
    return [(0, _("– Choose –"))] + [(uid, name) for uid, name in users]


# --- finding groups -----------------------------------------------------------------------------

@bp.route("/")
@read_only
def index():
    when = request.args.get("when", "")
    when = when if when in WHEN_STATUSES else ""
    theme = search_arg("theme")
    facilitator = id_arg("facilitator")
    # Only the columns the list shows: a group row also carries its descriptions and notes.
    stmt = (sa.select(Group).order_by(Group.created_at.desc(), Group.id.desc())
            .options(load_only(Group.title, Group.theme, Group.status, Group.facilitator1_id, Group.facilitator2_id,
                               Group.created_at),
                     joinedload(Group.facilitator1).load_only(User.name),
                     joinedload(Group.facilitator2).load_only(User.name)))
    stmt = stmt.where(Group.id.in_(services.visible_group_ids(current_user)))
    if when:
        stmt = stmt.where(Group.status.in_(WHEN_STATUSES[when]))
    if facilitator:
        stmt = stmt.where(sa.or_(Group.facilitator1_id == facilitator, Group.facilitator2_id == facilitator))
    if theme:
        stmt = stmt.where(sa.or_(Group.theme.icontains(theme, autoescape=True),
                                 Group.title.icontains(theme, autoescape=True)))
    page = paginate(stmt, per_page=50)
    return render_template("groups/index.html", page=page, when=when, theme=theme, facilitator=facilitator,
                           staff=_staff_choices()[1:], spans=services.session_spans(g.id for g in page.items))


# --- ideas --------------------------------------------------------------------------------------

@bp.route("/ideas", methods=["GET", "POST"])
def ideas():
    form = IdeaForm()
    if form.validate_on_submit():
        services.create_idea(theme=form.theme.data, description=form.description.data or "",
                             suggested_by=form.suggested_by.data or "", source=form.source.data,
                             target_clients=form.target_clients.data or "", created_by=current_user)
        flash(_("Idea saved."), "success")
        return redirect(url_for("groups.ideas"))
    items = db.session.scalars(sa.select(GroupIdea).order_by(GroupIdea.group_id.is_not(None), GroupIdea.created_at.desc())).all()
    return render_template("groups/ideas.html", form=form, ideas=items, sources=dict(IDEA_SOURCES),
                           confirm=ConfirmForm(), referred=services.referral_counts_by_idea())


@bp.route("/ideas/<idea_id>/plan", methods=["POST"])
def idea_plan(idea_id):
    idea = get_or_404(GroupIdea, idea_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        group = services.group_from_idea(idea, current_user)
    except GroupError as exc:
        flash(exc.message, "error")
        return redirect(url_for("groups.ideas"))
    flash(_("A group was created from the idea. Fill in the plan."), "success")
    return redirect(url_for("groups.edit", group_id=group.id, from_idea=1))


# --- planning -----------------------------------------------------------------------------------

def _group_form(group: Group | None) -> GroupForm:
    form = GroupForm(obj=group)
    form.facilitator1_id.choices = _staff_choices()
    form.facilitator2_id.choices = _staff_choices()
    partners = db.session.scalars(sa.select(PartnerOrganisation).where(PartnerOrganisation.active.is_(True),
                                                                      partner_visible_condition(current_user))
                                  .order_by(PartnerOrganisation.name)).all()
    form.partner_ids.choices = [(p.id, p.name) for p in partners]
    units = units_of(current_user) if group is None else []
    if len(units) > 1:
        form.unit_id.choices = [(u.id, u.name) for u in units]
    else:
        del form.unit_id  # one unit: a new group goes there; a group keeps its unit
    if request.method == "GET":
        if group is not None:
            form.version.data = str(group.version)
            form.facilitator1_id.data = group.facilitator1_id or 0
            form.facilitator2_id.data = group.facilitator2_id or 0
            form.partner_ids.data = [p.partner_id for p in group.partners]
        else:
            form.facilitator1_id.data = current_user.id
    return form


def _save_group_from(form: GroupForm, group: Group | None) -> Group:
    return services.save_group(
        group, title=form.title.data, theme=form.theme.data or "", description=form.description.data or "",
        target_clients=form.target_clients.data or "", venue=form.venue.data or "", room=form.room.data or "",
        capacity=form.capacity.data, language=form.language.data, planning_notes=form.planning_notes.data or "",
        facilitator1_id=form.facilitator1_id.data or None, facilitator2_id=form.facilitator2_id.data or None,
        partner_ids=form.partner_ids.data or [], created_by=current_user,
        unit_id=form.unit_id.data if "unit_id" in form else None)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = _group_form(None)
    if form.validate_on_submit():
        try:
            group = _save_group_from(form, None)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            flash(_("Group saved."), "success")
            return redirect(url_for("groups.group", group_id=group.id))
    return render_template("groups/group_form.html", form=form, group=None)


@bp.route("/<group_id>/edit", methods=["GET", "POST"])
def edit(group_id):
    group = _editable_group(group_id)
    form = _group_form(group)
    warnings: list[str] = []
    if request.method == "POST" and form.validate_on_submit() and form.check_version(group.version):
        before = (group.facilitator_ids, (group.room or "").strip().casefold())
        try:
            _save_group_from(form, group)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            # New facilitators or a new room may clash with the coming sessions: say so before
            # saving, as the schedule and session forms do; the facilitator may still proceed.
            if (group.facilitator_ids, (group.room or "").strip().casefold()) != before:
                warnings = [c.message for c in services.upcoming_conflicts(group)]
            if warnings and not form.confirm.data:
                db.session.rollback()
                db.session.refresh(group)
            else:
                # A larger capacity frees places for the waiting list, as a withdrawal does.
                offered = services.offer_free_places(group)
                for enrolment in offered:
                    log_access(enrolment.client_id, "change", f"offered a place in group {group.id}")
                flash(_("Changes saved."), "success")
                if offered:
                    flash(_("%(n)s places were offered to the waiting list. Confirm them on the participants page.",
                            n=len(offered)), "info")
                return redirect(url_for("groups.group", group_id=group.id))
    # Made from an idea a moment ago and never saved: "Cancel" deletes it (see delete()).
    from_idea = request.args.get("from_idea") == "1" and services.delete_refusal(group) is None
    return render_template("groups/group_form.html", form=form, group=group,
                           previous=group.previous_round, warnings=warnings, from_idea=from_idea)


# A group past planning is cancelled, not deleted: with a reason, on a page of its own that says
# which sessions go and who is told.
@bp.route("/<group_id>/cancel", methods=["GET", "POST"])
def cancel(group_id):
    group = _editable_group(group_id)
    form = CancelGroupForm()
    refusal = services.cancel_refusal(group)
    if refusal is None and form.validate_on_submit():
        try:
            cancelled = services.cancel_group(group, reason=form.reason.data, user=current_user)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            log_access_many([e.client_id for e in group.enrolments], "change", f"group {group.id} cancelled")
            flash(_("The group was cancelled: %(n)s sessions called off. Enrolled clients are sent a message.",
                    n=len(cancelled)), "success")
            return redirect(url_for("groups.group", group_id=group.id))
    audience = services.cancel_audience(group) if refusal is None else []
    if audience:
        log_access_many([e.client_id for e in group.enrolments], "view", f"group {group.id} cancel question")
    return render_template("groups/cancel_confirm.html", group=group, form=form, refusal=refusal,
                           sessions=services.sessions_to_cancel(group), audience=audience)


# Undo of a mistake: a group still being planned can be deleted, after a question on a page of
# its own. The form made from an idea has its "Cancel" post here (back=ideas), so giving up
# leaves no group behind.
@bp.route("/<group_id>/delete", methods=["GET"])
@read_only
def delete_confirm(group_id):
    group = _editable_group(group_id)
    return render_template("groups/delete_confirm.html", group=group, refusal=services.delete_refusal(group),
                           form=ConfirmForm())


@bp.route("/<group_id>/delete", methods=["POST"])
def delete(group_id):
    group = _editable_group(group_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    title = group.title
    try:
        services.delete_group(group)
    except GroupError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("groups.group", group_id=group_id))
    if request.args.get("back") == "ideas":
        flash(_("No group was planned; the idea is still on the list."), "success")
        return redirect(url_for("groups.ideas"))
    flash(_("The group “%(title)s” was deleted.", title=title), "success")
    return redirect(url_for("groups.index"))


@bp.route("/<group_id>")
@read_only
def group(group_id):
    group = _group_or_404(group_id)
    partners = db.session.scalars(sa.select(PartnerOrganisation).join(GroupPartner)
                                  .where(GroupPartner.group_id == group.id).order_by(PartnerOrganisation.name)).all()
    counts = dict(db.session.execute(
        sa.select(Enrolment.status, sa.func.count(Enrolment.id)).where(Enrolment.group_id == group.id)
        .group_by(Enrolment.status)).all())
    next_steps = [(target, services.transition_refusal(group, target))
                  for target in sorted(services.TRANSITIONS.get(group.status, ()),
                                       key=lambda t: list(STATUS_LABELS).index(t))]
    return render_template("groups/group.html", group=group, partners=partners, counts=counts,
                           next_steps=next_steps, status_form=StatusForm(), previous=group.previous_round,
                           can_edit=services.can_edit(current_user, group), total=len(group.sessions))


@bp.route("/<group_id>/status", methods=["POST"])
def status(group_id):
    group = _editable_group(group_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.change_status(group, form.target.data or "")
    except GroupError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The group is now: %(status)s.", status=STATUS_LABELS[group.status]), "success")
    return redirect(url_for("groups.group", group_id=group.id))


# --- schedule -----------------------------------------------------------------------------------

@bp.route("/<group_id>/schedule", methods=["GET", "POST"])
def schedule(group_id):
    group = _editable_group(group_id)
    form = ScheduleForm()
    if request.method == "GET":
        form.minutes.data = group.session_minutes
        form.break_weeks.data = services.format_break_weeks(group)
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
            breaks = services.parse_break_weeks(form.break_weeks.data or "")
            preview = services.plan_dates(first_date=form.first_date.data, weekday=form.weekday.data,
                                          start=form.start_time.data, minutes=form.minutes.data,
                                          weeks=form.weeks.data, break_weeks=breaks)
            conflicts = services.find_conflicts(group, [(p.starts_at, p.ends_at) for p in preview])
            if not conflicts or form.confirm.data:
                services.generate_schedule(group, preview, minutes=form.minutes.data, break_weeks=breaks)
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
        changed = services.set_topics(group, {s.id: form[f"topic_{s.id}"].data or "" for s in group.sessions},
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
                           can_restore=services.can_restore_session(sess))


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
            warnings = services.holiday_warnings([(starts, ends)]) + [
                c.message for c in services.find_conflicts(group, [(starts, ends)], room=form.room.data or "")]
        if not warnings or form.confirm.data:
            try:
                services.update_session(sess, starts_at=starts, ends_at=ends, topic=form.topic.data or "",
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
        services.set_session_status(sess, form.status.data or "", user=current_user, notify=form.send_notice.data)
    except GroupError as exc:
        # Nothing was changed (the service refuses before it flushes): the reason, on the session page.
        flash(exc.message, "error")
        return redirect(url_for("groups.session", group_id=group.id, session_id=sess.id))
    flash(_("The session was cancelled.") if sess.is_cancelled else _("The session is back on the schedule."),
          "success")
    return redirect(url_for("groups.session", group_id=group.id, session_id=sess.id))


# --- enrolment ----------------------------------------------------------------------------------

def _enrol_choices(group: Group):
    taken = sa.select(Enrolment.client_id).where(Enrolment.group_id == group.id,
                                                 Enrolment.status != EnrolmentStatus.WITHDRAWN.value)
    stmt = sa.select(Client).where(Client.active.is_(True), Client.id.not_in(taken)).order_by(Client.name)
    ids = accessible_client_ids(current_user)
    if ids is not None:
        stmt = stmt.where(Client.id.in_(ids))
    return [(0, _("– Choose –"))] + [(c.id, c.name) for c in db.session.scalars(stmt).all()]


def _render_participants(group: Group, form: EnrolForm):
    enrolments = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id).options(selectinload(Enrolment.client))
        .order_by(Enrolment.created_at, Enrolment.id)).all()
    log_access_many([e.client_id for e in enrolments], "view", f"group {group.id} participants")
    # A referral shows the facilitators the client's name and the reason, as the enrolment list
    # does, and no link to the client's page: it grants no access to the record.
    referrals = services.pending_referrals(group)
    log_access_many([r.client_id for r in referrals], "view", f"group {group.id} referrals")
    # The enrol menu shows names too, as a list (like the client register's list page).
    log_access_many([cid for cid, _label in form.client_id.choices if cid], "list", f"group {group.id} enrol menu")
    by_status = {s.value: [e for e in enrolments if e.status == s.value] for s in EnrolmentStatus}
    return render_template("groups/participants.html", group=group, form=form, by_status=by_status,
                           confirm=ConfirmForm(), enrolled=services.count_enrolled(group), referrals=referrals)


@bp.route("/<group_id>/participants", methods=["GET", "POST"])
def participants(group_id):
    group = _participants_group(group_id)
    form = EnrolForm()
    form.client_id.choices = _enrol_choices(group)
    if form.validate_on_submit():
        try:
            # The choice list already proves access; a client on it may still be enrolled elsewhere.
            enrolment = services.enrol(group, form.client_id.data)
        except GroupError as exc:
            db.session.rollback()
            form.client_id.choices = _enrol_choices(group)
            _apply_error(form, exc)
        else:
            log_access(enrolment.client_id, "change", f"enrolled in group {group.id} ({enrolment.status})")
            flash(_("Enrolled.") if enrolment.status == EnrolmentStatus.ENROLLED.value
                  else _("The group is full: the client was put on the waiting list."), "success")
            return redirect(url_for("groups.participants", group_id=group.id))
    return _render_participants(group, form)


# Withdrawing asks first, on a page of its own: the place is lost (a re-enrolment joins the end
# of the queue) and may go at once to the first on the waiting list.
@bp.route("/<group_id>/enrolments/<enrolment_id>/withdraw", methods=["GET"])
@read_only
def withdraw_confirm(group_id, enrolment_id):
    group = _participants_group(group_id)
    enrolment = _enrolment_of(group, enrolment_id)
    if enrolment.status == EnrolmentStatus.WITHDRAWN.value:
        return redirect(url_for("groups.participants", group_id=group.id))
    waiting = services.waiting_list(group)
    next_in_line = waiting[0] if waiting and enrolment.status != EnrolmentStatus.WAITING.value else None
    log_access_many([enrolment.client_id] + ([next_in_line.client_id] if next_in_line else []), "view",
                    f"withdraw confirmation, group {group.id}")
    return render_template("groups/withdraw_confirm.html", group=group, enrolment=enrolment,
                           next_in_line=next_in_line, form=ConfirmForm())


@bp.route("/<group_id>/enrolments/<enrolment_id>/withdraw", methods=["POST"])
def withdraw(group_id, enrolment_id):
    group = _participants_group(group_id)
    enrolment = _enrolment_of(group, enrolment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        offered = services.withdraw(enrolment)
    except GroupError as exc:
        flash(exc.message, "error")
        return redirect(url_for("groups.participants", group_id=group.id))
    log_access(enrolment.client_id, "change", f"withdrew from group {group.id}")
    if offered is not None:
        log_access(offered.client_id, "change", f"offered a place in group {group.id}")
    flash(_("Withdrawn. The place was offered to the first on the waiting list.") if offered
          else _("Withdrawn."), "success")
    return redirect(url_for("groups.participants", group_id=group.id))


@bp.route("/<group_id>/enrolments/<enrolment_id>/confirm", methods=["POST"])
def confirm_offer(group_id, enrolment_id):
    group = _participants_group(group_id)
    enrolment = _enrolment_of(group, enrolment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.confirm_offer(enrolment)
    except GroupError as exc:
        flash(exc.message, "error")
        return redirect(url_for("groups.participants", group_id=group.id))
    log_access(enrolment.client_id, "change", f"accepted a place in group {group.id}")
    flash(_("The place was confirmed."), "success")
    return redirect(url_for("groups.participants", group_id=group.id))


# --- attendance ---------------------------------------------------------------------------------

@bp.route("/<group_id>/sessions/<session_id>/roll-call", methods=["GET", "POST"])
def roll_call(group_id, session_id):
    group = _participants_group(group_id)
    sess = _session_of(group, session_id)
    form = ConfirmForm()
    enrolments = services.roll_call_enrolments(group)
    current = {a.enrolment_id: a.status for a in sess.attendance}
    error = None
    if form.validate_on_submit():
        chosen = {}
        for e in enrolments:
            value = request.form.get(f"att-{e.id}", "")
            if value:
                chosen[e.id] = value
        try:
            services.record_attendance(sess, chosen, user=current_user)
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
                           refusal=services.roll_call_refusal(sess))


@bp.route("/<group_id>/attendance")
def attendance(group_id):
    group = _group_or_404(group_id)
    figures = services.attendance_figures(group)
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
                services.save_evaluation(group, interesting=form.interesting.data,
                                         continue_decision=form.continue_decision.data,
                                         what_worked=form.what_worked.data or "",
                                         improvements=form.improvements.data or "", user=current_user)
            except GroupError as exc:
                db.session.rollback()
                _apply_error(form, exc)
            else:
                flash(_("Evaluation saved."), "success")
                return redirect(url_for("groups.evaluation", group_id=group.id))
    figures = services.attendance_figures(group)
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
            new_group = services.copy_round(group, title=form.title.data, first_date=form.first_date.data,
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
    figures = services.attendance_figures(group)
    marks = dict(((sid, eid), st) for sid, eid, st in db.session.execute(
        sa.select(Attendance.session_id, Attendance.enrolment_id, Attendance.status)
        .join(GroupSession, GroupSession.id == Attendance.session_id).where(GroupSession.group_id == group.id)).all())
    log_access_many([e.client_id for e, _c in figures.per_participant], "view", f"group {group.id} attendance sheet")
    return render_template("groups/print_sheet.html", group=group, figures=figures, marks=marks,
                           total=len(group.sessions))


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    app = state.app
    register_agenda_source(app, agenda.agenda_source)
    register_to_record_source(app, agenda.to_record_source)
    register_exception_source(app, agenda.exception_source)
    register_access_rule(app, services._facilitator_rule)
    register_busy_source(app, services.BUSY)
    register_client_section(app, panels.client_groups_section)
    register_client_section(app, panels.client_referrals_section)
    register_demo(app, demo.seed)


# --- referrals ----------------------------------------------------------------------------------

def _referral_choices():
    groups, ideas = services.referral_targets()
    return [("", _("– Choose –"))] + [(f"group:{g.id}", _("Group: %(title)s", title=g.title)) for g in groups] \
        + [(f"idea:{i.id}", _("Idea: %(theme)s", theme=i.theme)) for i in ideas]


@bp.route("/referrals/new/<client_id>", methods=["GET", "POST"])
def refer(client_id):
    client = get_client_or_404(client_id)
    form = ReferralForm()
    form.target.choices = _referral_choices()
    if form.validate_on_submit():
        try:
            referral = services.refer(client.id, target=form.target.data, reason=form.reason.data, user=current_user)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            log_access(client.id, "change", f"referred to group {referral.group_id} / idea {referral.idea_id}")
            flash(_("Referral sent. The group's facilitators will see it."), "success")
            return redirect(url_for("register.client", client_id=client.id))
    log_access(client.id, "view", "referral form")
    return render_template("groups/refer.html", form=form, client=client)


def _referral_of(group: Group, referral_id) -> Referral:
    referral = get_or_404(Referral, referral_id)
    if referral.group_id != group.id:
        abort(404)
    return referral


@bp.route("/<group_id>/referrals/<referral_id>/take", methods=["POST"])
def take_referral(group_id, referral_id):
    group = _participants_group(group_id)
    referral = _referral_of(group, referral_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        enrolment = services.take_referral(referral, current_user)
    except GroupError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("groups.participants", group_id=group.id))
    log_access(referral.client_id, "change", f"enrolled in group {group.id} from a referral ({enrolment.status})")
    flash(_("Enrolled.") if enrolment.status == EnrolmentStatus.ENROLLED.value
          else _("The group is full: the client was put on the waiting list."), "success")
    return redirect(url_for("groups.participants", group_id=group.id))


@bp.route("/<group_id>/referrals/<referral_id>/decline", methods=["GET", "POST"])
def decline_referral(group_id, referral_id):
    group = _participants_group(group_id)
    referral = _referral_of(group, referral_id)
    form = DeclineReferralForm()
    if form.validate_on_submit():
        try:
            services.decline_referral(referral, form.reason.data, current_user)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            log_access(referral.client_id, "change", f"referral to group {group.id} declined")
            flash(_("Referral declined."), "success")
            return redirect(url_for("groups.participants", group_id=group.id))
    log_access(referral.client_id, "view", f"referral to group {group.id}")
    return render_template("groups/decline_referral.html", form=form, group=group, referral=referral)
