"""Pages of the groups feature: ideas, planning, schedule, sessions, enrolment, roll call,
attendance figures, evaluation, finding groups and printable plans.

This module holds the blueprint, the loading helpers every view module shares, finding groups
and ideas; the rest are in ``planning_views``, ``schedule_views``, ``enrolment_views`` and
``attendance_views``, all on ``bp``."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, load_only

from accounts.models import User
from accounts.units import staff_choices
from core.agenda import register_agenda_source, register_exception_source, register_to_record_source
from core.conflicts import register_busy_source
from core.db import get_or_404
from core.demo import register_demo
from core.extensions import db
from core.forms import ConfirmForm
from core.security import read_only
from core.templating import translated_labels
from core.web import id_arg, paginate, search_arg
from register.access import (
    register_access_rule,
)
from register.sections import register_client_section

from . import (
    agenda,
    demo,
    enrolment as groups_enrolment,
    finding,
    panels,
    schedule as groups_schedule,
    services,
)
from .forms import (
    IDEA_SOURCES,
    IdeaForm,
)
from .models import (
    Enrolment,
    Group,
    GroupIdea,
    GroupSession,
    GroupStatus,
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


def _staff_choices(keep: Iterable[int | None] = ()):
    """The active staff of the user's units, and whoever already facilitates the group (``keep``),
    even from another unit, so that saving the group does not drop them."""
    return [(0, _("– Choose –"))] + staff_choices(current_user.id, keep)


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
    conditions = []
    if when:
        conditions.append(Group.status.in_(WHEN_STATUSES[when]))
    if facilitator:
        conditions.append(sa.or_(Group.facilitator1_id == facilitator, Group.facilitator2_id == facilitator))
    if theme:
        conditions.append(sa.or_(Group.theme.icontains(theme, autoescape=True),
                                 Group.title.icontains(theme, autoescape=True)))
    # The rows newest first with the rule per row; the total unit by unit (services.visible_count).
    stmt = stmt.where(services.visible_condition(current_user), *conditions)
    page = paginate(stmt, per_page=50, total=lambda: services.visible_count(current_user, *conditions))
    return render_template("groups/index.html", page=page, when=when, theme=theme, facilitator=facilitator,
                           staff=_staff_choices()[1:], spans=finding.session_spans(g.id for g in page.items))


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
                           confirm=ConfirmForm(), referred=groups_enrolment.referral_counts_by_idea())


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


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    app = state.app
    register_agenda_source(app, agenda.agenda_source)
    register_to_record_source(app, agenda.to_record_source)
    register_exception_source(app, agenda.exception_source)
    register_access_rule(app, services._facilitator_rule)
    register_busy_source(app, groups_schedule.BUSY)
    register_client_section(app, panels.client_groups_section)
    register_client_section(app, panels.client_referrals_section)
    register_demo(app, demo.seed)


# The routes of planning, sessions, participants and attendance are in view modules of their own,
# on this blueprint: importing them registers their routes (they import ``bp`` and the helpers above).
from . import attendance_views, enrolment_views, planning_views, schedule_views  # noqa: E402,F401
