"""Views of one network meeting (routes of the meetings blueprint, ``views.bp``): its page, editing,
cancelling and restoring, notes, participants and who took part."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from accounts.models import User
from core.extensions import db
from core.forms import ConfirmForm
from core.security import read_only
from core.timeutil import local_today, to_local
from register.access import log_access

from . import arranging, plan as meetings_plan, services
from .forms import (
    KIND_LABELS,
    AddParticipantForm,
    CancelForm,
    ItemForm,
    MeetingDetailsForm,
    NotesForm,
    ParticipationForm,
)
from .models import Meeting, MeetingParticipant, ParticipantKind
from .services import MeetingError
from .views import (
    _clashes,
    _length_minutes,
    _meeting_or_404,
    _names_need_confirming,
    _people_choices,
    _refused_if_cancelled,
    _warn_conflicts,
    bp,
)

# --- one meeting -------------------------------------------------------------------------------

def _add_participant_choices(meeting: Meeting) -> list:
    """Who could still be invited, grouped by kind (optgroups)."""
    present = {(p.kind, p.user_id or p.contact_id or p.relative_id) for p in meeting.participants}
    staff, contacts = _people_choices()
    groups = {
        str(KIND_LABELS["staff"]): [(f"staff:{uid}", name) for uid, name in staff if ("staff", uid) not in present],
        str(KIND_LABELS["partner"]): [(f"partner:{cid}", label) for cid, label in contacts
                                      if ("partner", cid) not in present],
        str(KIND_LABELS["relative"]): [(f"relative:{r.id}", r.name) for r in meeting.client.relatives
                                       if ("relative", r.id) not in present],
        str(KIND_LABELS["client"]): [] if ("client", None) in present else [("client", meeting.client.name)],
    }
    return [(label, options) for label, options in groups.items() if options]


def _render_meeting(meeting: Meeting, *, item_form: ItemForm | None = None, notes_form: NotesForm | None = None,
                    status=200):
    item_form = item_form or ItemForm(formdata=None)
    item_form.responsible.choices = [("", _("Choose…"))] + [(str(p.id), p.display_name) for p in meeting.participants]
    if notes_form is None:
        notes_form = NotesForm(formdata=None, obj=meeting)
        notes_form.version.data = str(meeting.version)
    review = meetings_plan.items_for_review(meeting)
    histories = meetings_plan.item_histories(list(meeting.items) + review)
    links_by_contact = {p.contact_id: p.contact_links for p in meeting.participants
                        if p.kind == ParticipantKind.PARTNER.value and p.contact_id}
    next_meetings = meeting.follow_ups
    changed_by = {c.changed_by_id for c in meeting.changes if c.changed_by_id}
    users: dict[int, str] = ({uid: name for uid, name in db.session.execute(
        sa.select(User.id, User.name).where(User.id.in_(changed_by)))} if changed_by else {})
    # The plan items' status changes, shown on each item and merged into the change history.
    status_changes = meetings_plan.status_history(meeting)
    item_status_changes: dict[int, list] = {}
    for change in status_changes:
        item_status_changes.setdefault(change.item_id, []).append(change)
    change_rows = sorted([("meeting", c.changed_at, c) for c in meeting.changes]
                         + [("item_status", c.changed_at, c) for c in status_changes], key=lambda row: row[1])
    log_access(meeting.client_id, "view", f"meeting {meeting.id}")
    return render_template(
        "meetings/show.html", meeting=meeting, item_form=item_form, notes_form=notes_form,
        carried_to=meetings_plan.carried_to(meeting.items),
        review=review,
        histories=histories, links_by_contact=links_by_contact, next_meetings=next_meetings,
        conflicts=services.meeting_conflicts(meeting, viewer=current_user),
        single_worker=services.is_single_worker(meeting),
        change_users=users, change_rows=change_rows, item_status_changes=item_status_changes,
        items_by_id={i.id: i for i in meeting.items}, overdue=meetings_plan.is_overdue, confirm=ConfirmForm(), today=local_today(),
        cancel_form=CancelForm(formdata=None),
        can_restore=arranging.can_restore(meeting),
    ), status


@bp.route("/meetings/<meeting_id>")
@login_required
@read_only
def show(meeting_id):
    return _render_meeting(_meeting_or_404(meeting_id))


@bp.route("/meetings/<meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    form = MeetingDetailsForm(obj=meeting)
    clashes: list[str] = []
    if request.method == "GET":
        local = to_local(meeting.starts_at)
        form.day.data, form.start.data = local.date(), local.time().replace(second=0, microsecond=0)
        form.length.data = _length_minutes(meeting)
        form.version.data = str(meeting.version)
    elif (form.validate_on_submit() and form.check_version(meeting.version)
          and not _names_need_confirming(form, meeting.client, form.place)
          and not (clashes := _clashes(form, services.staff_user_ids(meeting),
                                       *arranging.meeting_times(form.day.data, form.start.data, int(form.length.data)),
                                       place_kind=form.place_kind.data, place=form.place.data or "",
                                       exclude_meeting_id=meeting.id))):
        starts, ends = arranging.meeting_times(form.day.data, form.start.data, int(form.length.data))
        try:
            arranging.update_meeting(meeting, user=current_user, purpose=form.purpose.data, starts_at=starts,
                                    ends_at=ends, place_kind=form.place_kind.data, place=form.place.data or "",
                                    remote_link=form.remote_link.data or "",
                                    client_identification=form.client_identification.data,
                                    notify=form.send_notice.data)
        except MeetingError as exc:
            form.form_errors.append(str(exc))
        else:
            log_access(meeting.client_id, "change", f"meeting {meeting.id}")
            conflicts = services.meeting_conflicts(meeting, viewer=current_user)
            flash(_("Changes saved."), "success")
            _warn_conflicts(conflicts)
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    log_access(meeting.client_id, "view", f"meeting {meeting.id} edit form")
    return render_template("meetings/edit.html", form=form, meeting=meeting, warnings=clashes)


def _who_is_told(meeting: Meeting) -> list[MeetingParticipant]:
    """The participants outside the staff, whom a change reaches by message (with an email)."""
    return [p for p in meeting.participants if p.kind != ParticipantKind.STAFF.value]


# Destructive actions ask first, on a page of their own (no JavaScript needed): what will happen
# and to whom. The button on the meeting page is a link here; the POST does it.
@bp.route("/meetings/<meeting_id>/cancel", methods=["GET"])
@login_required
@read_only
def cancel_confirm(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if meeting.is_cancelled:
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    log_access(meeting.client_id, "view", f"meeting {meeting.id} cancel confirmation")
    return render_template("meetings/confirm.html", meeting=meeting, form=CancelForm(), what="cancel",
                           told=_who_is_told(meeting), action=url_for("meetings.cancel", meeting_id=meeting.id))


@bp.route("/meetings/<meeting_id>/restore", methods=["POST"])
@login_required
def restore(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        arranging.restore_meeting(meeting, user=current_user)
    except MeetingError as exc:
        flash(str(exc), "error")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    log_access(meeting.client_id, "change", f"meeting {meeting.id} restored")
    flash(_("The meeting was restored. Those invited are sent the invitation again."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.route("/meetings/<meeting_id>/cancel", methods=["POST"])
@login_required
def cancel(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        arranging.cancel_meeting(meeting, user=current_user, notify=form.send_notice.data)
    except MeetingError as exc:
        flash(str(exc), "error")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    log_access(meeting.client_id, "change", f"meeting {meeting.id} cancelled")
    flash(_("Meeting cancelled."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.route("/meetings/<meeting_id>/notes", methods=["POST"])
@login_required
def notes(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    form = NotesForm()
    if form.validate_on_submit() and form.check_version(meeting.version):
        try:
            arranging.save_notes(meeting, user=current_user, worries=form.worries.data or "",
                                summary=form.summary.data or "", held=form.held.data)
        except MeetingError as exc:
            (form[exc.field].errors if exc.field else form.form_errors).append(str(exc))
        else:
            log_access(meeting.client_id, "change", f"meeting {meeting.id} record")
            flash(_("Record saved."), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return _render_meeting(meeting, notes_form=form)


def _render_invite(meeting: Meeting, form: AddParticipantForm):
    log_access(meeting.client_id, "view", f"meeting {meeting.id} invite form")
    return render_template("meetings/invite.html", meeting=meeting, add_form=form,
                           add_groups=_add_participant_choices(meeting))


# Inviting has a page of its own: its list holds every staff member and partner contact of the
# unit, which the meeting page (opened far more often) need not build and send each time.
@bp.route("/meetings/<meeting_id>/participants", methods=["GET"])
@login_required
@read_only
def invite(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    return _render_invite(meeting, AddParticipantForm(formdata=None))


@bp.route("/meetings/<meeting_id>/participants", methods=["POST"])
@login_required
def add_participant(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    form = AddParticipantForm()
    if form.validate_on_submit():
        kind, _sep, raw_id = form.person.data.partition(":")
        try:
            person_id = int(raw_id) if raw_id else None
            participant = arranging.add_participant(meeting, kind=kind, person_id=person_id)
        except (ValueError, MeetingError) as exc:
            message = str(exc) if isinstance(exc, MeetingError) else _("Choose only from the list.")
            form.person.errors = list(form.person.errors) + [message]
        else:
            log_access(meeting.client_id, "change", f"meeting {meeting.id} participant added")
            flash(_("%(name)s was invited.", name=participant.display_name), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return _render_invite(meeting, form)


@bp.route("/meetings/<meeting_id>/participants/<participant_id>/remove", methods=["GET"])
@login_required
@read_only
def remove_participant_confirm(meeting_id, participant_id):
    meeting = _meeting_or_404(meeting_id)
    participant = arranging.participant_of(meeting, participant_id)
    if participant is None:
        abort(404)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    log_access(meeting.client_id, "view", f"meeting {meeting.id} remove confirmation")
    return render_template("meetings/confirm.html", meeting=meeting, form=ConfirmForm(), what="remove",
                           participant=participant,
                           action=url_for("meetings.remove_participant", meeting_id=meeting.id,
                                          participant_id=participant.id))


@bp.route("/meetings/<meeting_id>/participants/<participant_id>/remove", methods=["POST"])
@login_required
def remove_participant(meeting_id, participant_id):
    meeting = _meeting_or_404(meeting_id)
    participant = arranging.participant_of(meeting, participant_id)
    if participant is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = participant.display_name
    try:
        arranging.remove_participant(meeting, participant, user=current_user)
    except MeetingError as exc:
        flash(str(exc), "error")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    log_access(meeting.client_id, "change", f"meeting {meeting.id} participant removed")
    flash(_("%(name)s was removed from the meeting.", name=name), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


def _name_row(who: str, *fields) -> None:
    """Each control of a row's edit form says whose or which row it is for a screen reader
    ("Kutsu: Matti K.", issue 27.5); the visible label stays short."""
    for f in fields:
        f.label.text = Markup('{}<span class="visually-hidden">: {}</span>').format(str(f.label.text), who)


# The meeting page lists participants, plan items and items to review compactly, one "edit"
# link per row (a form per row did not fit a phone, issue 22); each row is edited on a page of
# its own, where a refused save comes back with the error at its field.
@bp.route("/meetings/<meeting_id>/participants/<participant_id>", methods=["GET", "POST"])
@login_required
def participation(meeting_id, participant_id):
    meeting = _meeting_or_404(meeting_id)
    participant = arranging.participant_of(meeting, participant_id)
    if participant is None:
        abort(404)
    if (refused := _refused_if_cancelled(meeting)) is not None:
        return refused
    form = ParticipationForm(prefix=f"p{participant.id}")
    if request.method == "GET":
        form.invitation_status.data = participant.invitation_status
        form.attended.data = "" if participant.attended is None else ("yes" if participant.attended else "no")
    elif form.validate_on_submit():
        attended = {"yes": True, "no": False}.get(form.attended.data)
        try:
            arranging.record_participation(meeting, participant, invitation_status=form.invitation_status.data,
                                          attended=attended)
        except MeetingError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            log_access(meeting.client_id, "change", f"meeting {meeting.id} participant")
            flash(_("Saved."), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#participants-heading")
    log_access(meeting.client_id, "view", f"meeting {meeting.id} participant form")
    _name_row(participant.display_name, form.invitation_status, form.attended)
    return render_template("meetings/participant_edit.html", form=form, meeting=meeting, participant=participant)
