"""Views of a meeting's plan (routes of the meetings blueprint, ``views.bp``): action items, their
status, reviewing carried items, the follow-up meeting and the printable plan."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from core.db import get_or_404, utcnow
from core.extensions import db
from core.security import read_only
from register.access import log_access

from . import arranging, plan as meetings_plan, services
from .forms import (
    FollowUpForm,
    ItemEditForm,
    ItemForm,
    ItemStatusForm,
    ReviewForm,
)
from .meeting_views import _name_row, _render_meeting
from .models import ActionItem, Meeting
from .services import MeetingError
from .views import (
    _clashes,
    _duplicate_needs_confirming,
    _item_of,
    _length_minutes,
    _meeting_or_404,
    _names_need_confirming,
    _refused_if_cancelled,
    _warn_conflicts,
    bp,
)


@bp.route("/meetings/<meeting_id>/items", methods=["POST"])
@login_required
def add_item(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    form = ItemForm()
    form.responsible.choices = [(str(p.id), p.display_name) for p in meeting.participants]
    if (form.validate_on_submit() and not _names_need_confirming(form, meeting.client, form.what, form.with_whom)
            and not _duplicate_needs_confirming(form, meeting)):
        try:
            result = meetings_plan.add_item(meeting, responsible_id=form.responsible.data, what=form.what.data,
                                       with_whom=form.with_whom.data or "", due_date=form.due_date.data)
        except MeetingError as exc:
            form.responsible.errors = list(form.responsible.errors) + [str(exc)]
        else:
            log_access(meeting.client_id, "change", f"meeting {meeting.id} plan")
            flash(_("Item added to the plan."), "success")
            for w in result.warnings:
                flash(str(w), "warning")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return _render_meeting(meeting, item_form=form)


def _item_edit_form(meeting: Meeting, item: ActionItem, formdata=None) -> ItemEditForm:
    form = ItemEditForm(formdata=formdata, obj=item)
    form.responsible.choices = [(str(p.id), p.display_name) for p in meeting.participants]
    if formdata is None:
        form.responsible.data = str(item.responsible_id)
        form.version.data = str(item.version)
    return form


def _render_item_edit(meeting: Meeting, item: ActionItem, form: ItemEditForm, status_form: ItemStatusForm | None = None):
    if status_form is None:
        status_form = ItemStatusForm(prefix=f"i{item.id}", formdata=None)
        status_form.status.data = item.status
    _name_row(item.what, status_form.status)
    log_access(meeting.client_id, "view", f"meeting {meeting.id} item edit form")
    return render_template("meetings/item_edit.html", form=form, status_form=status_form, meeting=meeting, item=item,
                           status_changes=[c for c in meetings_plan.status_history(meeting) if c.item_id == item.id])


@bp.route("/meetings/<meeting_id>/items/<item_id>/edit", methods=["GET", "POST"])
@login_required
def edit_item(meeting_id, item_id):
    meeting = _meeting_or_404(meeting_id)
    item = _item_of(meeting, item_id)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    if item.status == "carried":
        flash(_("This item was carried forward; change it in the later meeting."), "error")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    if request.method == "GET":
        return _render_item_edit(meeting, item, _item_edit_form(meeting, item))
    form = _item_edit_form(meeting, item, formdata=request.form)
    if (form.validate_on_submit() and form.check_version(item.version)
            and not _names_need_confirming(form, meeting.client, form.what, form.with_whom)):
        try:
            result = meetings_plan.update_item(meeting, item, user=current_user, responsible_id=form.responsible.data,
                                          what=form.what.data, with_whom=form.with_whom.data or "",
                                          due_date=form.due_date.data)
        except MeetingError as exc:
            db.session.rollback()
            form.responsible.errors = list(form.responsible.errors) + [str(exc)]
        else:
            log_access(meeting.client_id, "change", f"meeting {meeting.id} item {item.id}")
            flash(_("Changes saved."), "success")
            for w in result.warnings:
                flash(str(w), "warning")
            return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#plan-heading")
    return _render_item_edit(meeting, item, form)


@bp.route("/meetings/<meeting_id>/items/<item_id>/status", methods=["POST"])
@login_required
def item_status(meeting_id, item_id):
    meeting = _meeting_or_404(meeting_id)
    item = _item_of(meeting, item_id)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    if item.status == "carried":
        flash(_("This item was carried forward; change it in the later meeting."), "error")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    status_form = ItemStatusForm(prefix=f"i{item.id}")
    if status_form.validate_on_submit():
        meetings_plan.set_item_status(item, status_form.status.data, by_name=current_user.name, by_user=current_user)
        log_access(meeting.client_id, "change", f"meeting {meeting.id} item {item.id}")
        flash(_("Status changed."), "success")
        return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#plan-heading")
    return _render_item_edit(meeting, item, _item_edit_form(meeting, item), status_form)


@bp.route("/meetings/<meeting_id>/review/<item_id>", methods=["GET", "POST"])
@login_required
def review(meeting_id, item_id):
    meeting = _meeting_or_404(meeting_id)
    item = get_or_404(ActionItem, item_id)
    if item.meeting_id != meeting.previous_meeting_id:
        abort(404)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    # No default decision: it is made on purpose. A missing one comes back at its field.
    form = ReviewForm(prefix=f"r{item.id}")
    if form.validate_on_submit():
        try:
            meetings_plan.review_item(meeting, item, form.action.data, by_name=current_user.name,
                                 due_date=form.due_date.data, by_user=current_user)
        except MeetingError as exc:
            db.session.rollback()
            form.action.errors = list(form.action.errors) + [str(exc)]
        else:
            log_access(meeting.client_id, "change", f"meeting {meeting.id} review item {item.id}")
            flash(_("Item reviewed."), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#review-heading")
    log_access(meeting.client_id, "view", f"meeting {meeting.id} review form")
    _name_row(item.what, form.action, form.due_date)
    return render_template("meetings/review_item.html", form=form, meeting=meeting, item=item)


@bp.route("/meetings/<meeting_id>/follow-up", methods=["GET", "POST"])
@login_required
def follow_up(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    form = FollowUpForm()
    if request.method == "GET":
        form.purpose.data = meeting.purpose
        form.length.data = _length_minutes(meeting)
    clashes: list[str] = []
    if form.validate_on_submit() and not (clashes := _clashes(
            form, services.staff_user_ids(meeting),
            *arranging.meeting_times(form.day.data, form.start.data, int(form.length.data)),
            place_kind=meeting.place_kind, place=meeting.place)):
        starts, ends = arranging.meeting_times(form.day.data, form.start.data, int(form.length.data))
        new_meeting = meetings_plan.schedule_follow_up(meeting, user=current_user, starts_at=starts, ends_at=ends,
                                                  purpose=form.purpose.data)
        log_access(meeting.client_id, "create", f"meeting {new_meeting.id} (follow-up of {meeting.id})")
        conflicts = services.meeting_conflicts(new_meeting, viewer=current_user)
        flash(_("The next meeting is scheduled."), "success")
        _warn_conflicts(conflicts)
        return redirect(url_for("meetings.show", meeting_id=new_meeting.id))
    log_access(meeting.client_id, "view", f"meeting {meeting.id} follow-up form")
    return render_template("meetings/follow_up.html", form=form, meeting=meeting, warnings=clashes)


@bp.route("/meetings/<meeting_id>/plan")
@login_required
@read_only
def plan(meeting_id):
    """The plan for handing to the client and relatives, in the client's language."""
    meeting = _meeting_or_404(meeting_id)
    # Everything agreed at this meeting except what was later dropped; carried items are still
    # tasks for the client and relatives, continued at the next meeting.
    items = [i for i in meeting.items if i.status != "dropped"]
    log_access(meeting.client_id, "view", f"meeting {meeting.id} printable plan")
    next_meeting = db.session.scalar(
        sa.select(Meeting).where(Meeting.previous_meeting_id == meeting.id, Meeting.status == "planned")
        .order_by(Meeting.starts_at).limit(1))
    language = meeting.client.language if meeting.client.language in ("fi", "sv", "en") else "fi"
    # Only the handout is in the client's language (and says so with lang); the page around it,
    # staff header included, stays in the staff member's language.
    with force_locale(language):
        # Time sense: "we met on" only once the meeting has begun.
        handout = Markup(render_template("meetings/_plan_handout.html", meeting=meeting, items=items,
                                         next_meeting=next_meeting, has_met=meeting.starts_at <= utcnow()))
    return render_template("meetings/plan.html", meeting=meeting, handout=handout, handout_lang=language)
