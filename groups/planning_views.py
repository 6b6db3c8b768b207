"""Views of planning a group (routes of the groups blueprint, ``views.bp``): a new group, editing,
cancelling, deleting one planned by mistake, its page and its status."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.units import units_of
from core.extensions import db
from core.forms import ConfirmForm
from core.security import read_only
from register.access import (
    log_access,
    log_access_many,
    partner_visible_condition,
)
from register.models import PartnerOrganisation

from . import (
    enrolment as groups_enrolment,
    planning,
    schedule as groups_schedule,
    services,
)
from .forms import (
    CancelGroupForm,
    GroupForm,
    StatusForm,
)
from .models import (
    Enrolment,
    Group,
    GroupPartner,
)
from .services import STATUS_LABELS, GroupError
from .views import _apply_error, _editable_group, _group_or_404, _staff_choices, bp

# --- planning -----------------------------------------------------------------------------------

def _group_form(group: Group | None) -> GroupForm:
    form = GroupForm(obj=group)
    current = (group.facilitator1_id, group.facilitator2_id) if group is not None else ()
    form.facilitator1_id.choices = form.facilitator2_id.choices = _staff_choices(current)
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
    return planning.save_group(
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
                warnings = [c.message for c in groups_schedule.upcoming_conflicts(group)]
            if warnings and not form.confirm.data:
                db.session.rollback()
                db.session.refresh(group)
            else:
                # A larger capacity frees places for the waiting list, as a withdrawal does.
                offered = groups_enrolment.offer_free_places(group)
                for enrolment in offered:
                    log_access(enrolment.client_id, "change", f"offered a place in group {group.id}")
                flash(_("Changes saved."), "success")
                if offered:
                    flash(_("%(n)s places were offered to the waiting list. Confirm them on the participants page.",
                            n=len(offered)), "info")
                return redirect(url_for("groups.group", group_id=group.id))
    # Made from an idea a moment ago and never saved: "Cancel" deletes it (see delete()).
    from_idea = request.args.get("from_idea") == "1" and planning.delete_refusal(group) is None
    return render_template("groups/group_form.html", form=form, group=group,
                           previous=group.previous_round, warnings=warnings, from_idea=from_idea)


# A group past planning is cancelled, not deleted: with a reason, on a page of its own that says
# which sessions go and who is told.
@bp.route("/<group_id>/cancel", methods=["GET", "POST"])
def cancel(group_id):
    group = _editable_group(group_id)
    form = CancelGroupForm()
    refusal = planning.cancel_refusal(group)
    if refusal is None and form.validate_on_submit():
        try:
            cancelled = planning.cancel_group(group, reason=form.reason.data, user=current_user)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            log_access_many([e.client_id for e in group.enrolments], "change", f"group {group.id} cancelled")
            flash(_("The group was cancelled: %(n)s sessions called off. Enrolled clients are sent a message.",
                    n=len(cancelled)), "success")
            return redirect(url_for("groups.group", group_id=group.id))
    audience = planning.cancel_audience(group) if refusal is None else []
    if audience:
        log_access_many([e.client_id for e in group.enrolments], "view", f"group {group.id} cancel question")
    return render_template("groups/cancel_confirm.html", group=group, form=form, refusal=refusal,
                           sessions=planning.sessions_to_cancel(group), audience=audience)


# Undo of a mistake: a group still being planned can be deleted, after a question on a page of
# its own. The form made from an idea has its "Cancel" post here (back=ideas), so giving up
# leaves no group behind.
@bp.route("/<group_id>/delete", methods=["GET"])
@read_only
def delete_confirm(group_id):
    group = _editable_group(group_id)
    return render_template("groups/delete_confirm.html", group=group, refusal=planning.delete_refusal(group),
                           form=ConfirmForm())


@bp.route("/<group_id>/delete", methods=["POST"])
def delete(group_id):
    group = _editable_group(group_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    title = group.title
    try:
        planning.delete_group(group)
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
    next_steps = [(target, planning.transition_refusal(group, target))
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
        planning.change_status(group, form.target.data or "")
    except GroupError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The group is now: %(status)s.", status=STATUS_LABELS[group.status]), "success")
    return redirect(url_for("groups.group", group_id=group.id))
