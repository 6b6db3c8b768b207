"""Network meeting pages for staff (under /meetings) and partners' personal links (/p/<token>)."""
from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import force_locale, gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from accounts.models import User
from core.agenda import register_agenda_source, register_exception_source, register_to_record_source
from core.conflicts import register_busy_source
from core.dashboard import register_panel
from core.db import get_or_404, utcnow
from core.demo import register_demo
from core.extensions import db
from core.formatting import local_date, local_time
from core.forms import ConfirmForm
from core.security import read_only
from core.templating import translated_labels
from core.timeutil import finnish_holiday, local_today, to_local
from core.web import paginate, search_arg
from register.access import accessible_client_ids, get_client_or_404, log_access, log_access_many, register_access_rule
from register.models import Client, PartnerContact, PartnerOrganisation
from register.sections import register_client_section
from register.services import names_in_text

from . import agenda, demo, panels, services
from .forms import (
    IDENTIFICATION_LABELS,
    INVITATION_LABELS,
    ITEM_STATUS_LABELS,
    KIND_LABELS,
    PLACE_LABELS,
    STATUS_LABELS,
    AddParticipantForm,
    CancelForm,
    FollowUpForm,
    ItemEditForm,
    ItemForm,
    ItemStatusForm,
    MeetingDetailsForm,
    MeetingForm,
    NotesForm,
    ParticipationForm,
    ReviewForm,
)
from .models import ActionItem, Meeting, MeetingParticipant, ParticipantKind, PartnerLink
from .services import MeetingError

bp = Blueprint("meetings", __name__, template_folder="templates")


@bp.after_request
def _partner_pages_no_referrer(response):
    # Also error pages of /p/<token> (404 for an unknown token) keep the token out of Referer.
    if request.endpoint in ("meetings.partner_view", "meetings.partner_done") or request.path.startswith("/p/"):
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


class _Labels:
    """The label dicts for templates, each translated once per request (translated_labels)."""

    _sources = {"place": PLACE_LABELS, "status": STATUS_LABELS, "invitation": INVITATION_LABELS,
                "item": ITEM_STATUS_LABELS, "kind": KIND_LABELS, "identification": IDENTIFICATION_LABELS}

    def __getattr__(self, name: str) -> dict[str, str]:
        if name not in self._sources:
            raise AttributeError(name)
        labels = translated_labels(self._sources[name])
        setattr(self, name, labels)  # one instance per render: later lookups find the attribute
        return labels


@bp.app_context_processor
def _labels():
    return {"meeting_labels": _Labels()}


def _meeting_or_404(meeting_id) -> Meeting:
    # Parse like core.db.get_or_404 (malformed id -> 404), then load the meeting with everything
    # its pages show in a fixed number of queries, however many participants and items it has.
    try:
        key = int(meeting_id)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < key < 2**63:
        abort(404)
    meeting = services.load_meeting_page(key)
    if meeting is None:
        abort(404)
    if not services.can_open(current_user, meeting):
        abort(404)
    return meeting


def _item_of(meeting: Meeting, item_id) -> ActionItem:
    item = get_or_404(ActionItem, item_id)
    if item.meeting_id != meeting.id:
        abort(404)
    return item


def _refused_if_cancelled(meeting: Meeting):
    """A redirect with the reason when the meeting is cancelled (its forms are gone from the page)."""
    if not meeting.is_cancelled:
        return None
    flash(_("This meeting has been cancelled and can no longer be changed."), "error")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


def _length_minutes(meeting: Meeting) -> str:
    return str(int((meeting.ends_at - meeting.starts_at).total_seconds() // 60))


def _warn_conflicts(conflicts) -> None:
    for c in conflicts:
        flash(_("%(name)s is already booked then: %(title)s %(start)s–%(end)s.", name=c.user_name,
                title=c.title or _("meeting"),
                start=local_time(c.starts_at), end=local_time(c.ends_at)), "warning")


def _clashes(form, staff_ids, starts, ends, *, place_kind="", place="", exclude_meeting_id=None) -> list[str]:
    """The one check BEFORE saving (as appointments and outreach do): who (or which room) is
    already busy then, and a public holiday on the day. Empty when there is nothing, or when the
    user ticked "save anyway" after seeing the list."""
    if form.confirm_clash.data:
        return []
    room = place if place_kind == "office" else ""
    found = [c.message for c in services.staff_conflicts(staff_ids, starts, ends, viewer=current_user, room=room,
                                                         exclude_meeting_id=exclude_meeting_id)]
    holiday = finnish_holiday(form.day.data)
    if holiday:
        found.append(_("Note: %(date)s is a public holiday (%(holiday)s).", date=local_date(form.day.data),
                       holiday=holiday))
    return found


def _names_need_confirming(form, client: Client, *fields) -> bool:
    """Warn, not refuse, when a text that partners see seems to name the client or a relative:
    the form comes back with the input, the warning and a "save anyway" box; with the box
    ticked the save goes ahead. (Initials are no names here: partners may see them.)"""
    found = [(f, names) for f in fields if (names := names_in_text(client, f.data or ""))]
    if not found or form.save_anyway.data:
        return False
    form.name_warnings = found
    return True


def _duplicate_needs_confirming(form, meeting: Meeting) -> bool:
    """Warn, not refuse, when the same item is already in the plan; "add it anyway" saves it."""
    existing = services.duplicate_item(meeting, responsible_id=form.responsible.data, what=form.what.data,
                                       due_date=form.due_date.data)
    if existing is None or form.save_duplicate.data:
        return False
    form.duplicate_of = existing
    return True


# --- lists -------------------------------------------------------------------------------------

# The list's "show" choices: both (upcoming, then the latest past ones), or one kind, paged.
LIST_SHOWS = ("", "upcoming", "past")
LIST_PAGE = 50
RECENT_PAST = 20


@bp.route("/meetings/")
@login_required
@read_only
def index():
    show = request.args.get("show", "")
    show = show if show in LIST_SHOWS else ""
    q = search_arg("q")
    # One client's meetings (linked from the client's page); a client the user may not see is
    # a 404, as on the client's page.
    client = get_client_or_404(request.args["client"]) if request.args.get("client") else None
    client_id = client.id if client else None

    def paged(upcoming: bool):
        return paginate(services.meetings_statement(current_user, upcoming=upcoming, search=q, client_id=client_id),
                        per_page=LIST_PAGE)

    # The default view pages the upcoming meetings and shows the latest past ones below them.
    upcoming = paged(True) if show != "past" else None
    past = paged(False) if show == "past" else None
    recent = (list(db.session.scalars(services.meetings_statement(current_user, upcoming=False, search=q,
                                                                  client_id=client_id).limit(RECENT_PAST)))
              if not show else [])
    rows = [*(upcoming.items if upcoming else ()), *(past.items if past else ()), *recent]
    log_access_many([m.client_id for m in rows], "list", "meetings")
    staff = services.staff_counts(m.id for m in rows)
    # The list's own arguments, for its links (pages, "all past meetings").
    args = {"show": show or None, "q": q or None, "client": client_id}
    return render_template("meetings/index.html", upcoming=upcoming, past=past, recent=recent, show=show, q=q,
                           client=client, args=args, single_worker=lambda m: staff.get(m.id, 0) < 2)


@bp.route("/meetings/tasks")
@login_required
@read_only
def my_tasks():
    items = services.open_items_for_user(current_user.id)
    log_access_many([i.client_id for i in items], "view", "my tasks")
    return render_template("meetings/my_tasks.html", items=items, today=local_today(), overdue=services.is_overdue)


# --- arranging ---------------------------------------------------------------------------------

@bp.route("/meetings/new")
@login_required
def choose_client():
    stmt = sa.select(Client).where(Client.active.is_(True)).order_by(Client.name)
    ids = accessible_client_ids(current_user)
    if ids is not None:
        stmt = stmt.where(Client.id.in_(ids))
    clients = db.session.scalars(stmt.limit(500)).all()
    chosen = request.args.get("client_id")
    if chosen:
        return redirect(url_for("meetings.new", client_id=chosen))
    log_access_many([c.id for c in clients], "list", "new meeting")
    return render_template("meetings/choose_client.html", clients=clients)


def _people_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Active staff and partner contacts as (id, label) rows: only the columns the choices need,
    not whole ORM objects (the lists hold every staff member and contact of the unit)."""
    staff = db.session.execute(
        sa.select(User.id, User.name).where(User.active.is_(True)).order_by(User.name)).all()
    contacts = db.session.execute(
        sa.select(PartnerContact.id, PartnerContact.name, PartnerOrganisation.name)
        .join(PartnerOrganisation, PartnerContact.organisation_id == PartnerOrganisation.id)
        .where(PartnerContact.active.is_(True), PartnerOrganisation.active.is_(True))
        .order_by(PartnerOrganisation.name, PartnerContact.name)).all()
    return [(uid, name) for uid, name in staff], [(cid, f"{name} ({org})") for cid, name, org in contacts]


def _fill_participant_choices(form: MeetingForm, client: Client) -> None:
    staff, contacts = _people_choices()
    form.staff.choices = [(str(uid), name) for uid, name in staff]
    form.contacts.choices = [(str(cid), label) for cid, label in contacts]
    form.relatives.choices = [(str(r.id), f"{r.name} ({r.relation})" if r.relation else r.name)
                              for r in client.relatives]


@bp.route("/meetings/new/<client_id>", methods=["GET", "POST"])
@login_required
def new(client_id):
    client = get_client_or_404(client_id)
    form = MeetingForm()
    _fill_participant_choices(form, client)
    if request.method == "GET":
        form.staff.data = [str(current_user.id)]
        form.include_client.data = True
    clashes: list[str] = []
    if (form.validate_on_submit() and not _names_need_confirming(form, client, form.place)
            and not (clashes := _clashes(form, [int(x) for x in form.staff.data],
                                         *services.meeting_times(form.day.data, form.start.data, int(form.length.data)),
                                         place_kind=form.place_kind.data, place=form.place.data or ""))):
        starts, ends = services.meeting_times(form.day.data, form.start.data, int(form.length.data))
        meeting = services.create_meeting(
            client=client, purpose=form.purpose.data, starts_at=starts, ends_at=ends,
            place_kind=form.place_kind.data, place=form.place.data or "", remote_link=form.remote_link.data or "",
            staff_ids=[int(x) for x in form.staff.data], contact_ids=[int(x) for x in form.contacts.data],
            relative_ids=[int(x) for x in form.relatives.data], include_client=form.include_client.data,
            client_identification=form.client_identification.data, created_by=current_user)
        log_access(client.id, "create", f"meeting {meeting.id}")
        conflicts = services.meeting_conflicts(meeting, viewer=current_user)
        flash(_("Meeting arranged."), "success")
        _warn_conflicts(conflicts)
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    log_access(client.id, "view", "new meeting form")
    return render_template("meetings/new.html", form=form, client=client, warnings=clashes)


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
    review = services.items_for_review(meeting)
    histories = services.item_histories(list(meeting.items) + review)
    links_by_contact = {p.contact_id: p.contact_links for p in meeting.participants
                        if p.kind == ParticipantKind.PARTNER.value and p.contact_id}
    next_meetings = meeting.follow_ups
    changed_by = {c.changed_by_id for c in meeting.changes if c.changed_by_id}
    users = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(changed_by))).all()) if changed_by else {}
    # The plan items' status changes, shown on each item and merged into the change history.
    status_changes = services.status_history(meeting)
    item_status_changes: dict[int, list] = {}
    for change in status_changes:
        item_status_changes.setdefault(change.item_id, []).append(change)
    change_rows = sorted([("meeting", c.changed_at, c) for c in meeting.changes]
                         + [("item_status", c.changed_at, c) for c in status_changes], key=lambda row: row[1])
    log_access(meeting.client_id, "view", f"meeting {meeting.id}")
    return render_template(
        "meetings/show.html", meeting=meeting, item_form=item_form, notes_form=notes_form,
        carried_to=services.carried_to(meeting.items),
        review=review,
        histories=histories, links_by_contact=links_by_contact, next_meetings=next_meetings,
        conflicts=services.meeting_conflicts(meeting, viewer=current_user),
        single_worker=services.is_single_worker(meeting),
        change_users=users, change_rows=change_rows, item_status_changes=item_status_changes,
        items_by_id={i.id: i for i in meeting.items}, overdue=services.is_overdue, confirm=ConfirmForm(), today=local_today(),
        cancel_form=CancelForm(formdata=None),
        can_restore=services.can_restore(meeting),
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
                                       *services.meeting_times(form.day.data, form.start.data, int(form.length.data)),
                                       place_kind=form.place_kind.data, place=form.place.data or "",
                                       exclude_meeting_id=meeting.id))):
        starts, ends = services.meeting_times(form.day.data, form.start.data, int(form.length.data))
        try:
            services.update_meeting(meeting, user=current_user, purpose=form.purpose.data, starts_at=starts,
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
        services.restore_meeting(meeting, user=current_user)
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
        services.cancel_meeting(meeting, user=current_user, notify=form.send_notice.data)
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
            services.save_notes(meeting, user=current_user, worries=form.worries.data or "",
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
            participant = services.add_participant(meeting, kind=kind, person_id=person_id)
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
    participant = services.participant_of(meeting, participant_id)
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
    participant = services.participant_of(meeting, participant_id)
    if participant is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = participant.display_name
    try:
        services.remove_participant(meeting, participant, user=current_user)
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
    participant = services.participant_of(meeting, participant_id)
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
            services.record_participation(meeting, participant, invitation_status=form.invitation_status.data,
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
            result = services.add_item(meeting, responsible_id=form.responsible.data, what=form.what.data,
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
                           status_changes=[c for c in services.status_history(meeting) if c.item_id == item.id])


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
            result = services.update_item(meeting, item, user=current_user, responsible_id=form.responsible.data,
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
        services.set_item_status(item, status_form.status.data, by_name=current_user.name, by_user=current_user)
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
            services.review_item(meeting, item, form.action.data, by_name=current_user.name,
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
            *services.meeting_times(form.day.data, form.start.data, int(form.length.data)),
            place_kind=meeting.place_kind, place=meeting.place)):
        starts, ends = services.meeting_times(form.day.data, form.start.data, int(form.length.data))
        new_meeting = services.schedule_follow_up(meeting, user=current_user, starts_at=starts, ends_at=ends,
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


# --- partner links (staff side) ----------------------------------------------------------------

def _partner_participant(meeting: Meeting, participant_id) -> MeetingParticipant:
    participant = services.participant_of(meeting, participant_id)
    if participant is None or participant.kind != ParticipantKind.PARTNER.value or participant.contact is None:
        abort(404)
    return participant


@bp.route("/meetings/<meeting_id>/participants/<participant_id>/link", methods=["POST"])
@login_required
def create_link(meeting_id, participant_id):
    meeting = _meeting_or_404(meeting_id)
    participant = _partner_participant(meeting, participant_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    link, token = services.create_partner_link(participant.contact, user=current_user)
    log_access(meeting.client_id, "change", f"meeting {meeting.id} partner link for contact {participant.contact_id}")
    # The token is shown once, in this response, and never stored in clear (not even in the flash).
    url = url_for("meetings.partner_view", token=token, _external=True)
    return render_template("meetings/link_created.html", meeting=meeting, participant=participant, url=url)


@bp.route("/meetings/<meeting_id>/links/<link_id>/revoke", methods=["POST"])
@login_required
def revoke_link(meeting_id, link_id):
    meeting = _meeting_or_404(meeting_id)
    link = get_or_404(PartnerLink, link_id)
    if link.contact_id not in {p.contact_id for p in meeting.participants if p.kind == ParticipantKind.PARTNER.value}:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.revoke_partner_link(link)
    log_access(meeting.client_id, "change", f"meeting {meeting.id} partner link {link.id} revoked")
    flash(_("The link was revoked. It no longer works."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


# --- partner links (partner side, no login) ----------------------------------------------------

def _no_referrer(response):
    # The token is in the URL: no page may pass it on to another site in a Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_or_404(token: str) -> PartnerLink:
    link = services.link_for_token(token)
    if link is None:
        abort(404)
    return link


def _partner_language(link: PartnerLink) -> str:
    """The partner's own language unless they chose another with the language switch."""
    language = session.get("lang") or link.contact.language
    return language if language in ("fi", "sv", "en") else "fi"


def _partner_actor(link: PartnerLink):
    contact = link.contact
    return SimpleNamespace(id=None, name=f"{contact.name} ({contact.organisation.name}), partner link")


@bp.route("/p/<token>")
def partner_view(token):
    link = _link_or_404(token)
    items = services.partner_open_items(link.contact_id)
    next_meetings = services.partner_next_meetings(link.contact_id)
    # One heading per client, naming the client as the strictest of the meetings under it
    # allows: a meeting whose staff chose "not at all" (or initials) never has its items or time
    # shown under a heading that another meeting's setting filled with more.
    groups: dict[int, dict] = {}
    for item in items:
        g = groups.setdefault(item.meeting.client_id, {"meetings": [], "items": [], "next": None})
        g["items"].append(item)
        g["meetings"].append(item.meeting)
    for client_id, m in next_meetings.items():
        g = groups.setdefault(client_id, {"meetings": [], "items": [], "next": None})
        g["next"] = m
        g["meetings"].append(m)
    for g in groups.values():
        g["label"] = services.client_label_of(g["meetings"])
    actor = _partner_actor(link)
    for client_id in sorted(groups):
        log_access(client_id, "view", "partner link", user=actor)
    link.last_used_at = utcnow()
    with force_locale(_partner_language(link)):
        html = render_template("meetings/partner.html", link=link, groups=list(groups.values()), token=token,
                               today=local_today(), recent=services.partner_recently_done(link))
    return _no_referrer(make_response(html))


@bp.route("/p/<token>/items/<item_id>/undo", methods=["POST"])
def partner_undo(token, item_id):
    link = _link_or_404(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        item = services.partner_undo_done(link, item_id)
    except LookupError:
        abort(404)
    log_access(item.meeting.client_id, "change", f"partner link: item {item.id} reopened", user=_partner_actor(link))
    link.last_used_at = utcnow()
    with force_locale(_partner_language(link)):
        flash(_("The task is open again."), "success")
    return _no_referrer(redirect(url_for("meetings.partner_view", token=token)))


@bp.route("/p/<token>/items/<item_id>/done", methods=["POST"])
def partner_done(token, item_id):
    link = _link_or_404(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        item = services.partner_mark_done(link, item_id)
    except LookupError:
        abort(404)
    log_access(item.meeting.client_id, "change", f"partner link: item {item.id} done", user=_partner_actor(link))
    link.last_used_at = utcnow()
    with force_locale(_partner_language(link)):
        flash(_("Thank you. The task is marked done."), "success")
    return _no_referrer(redirect(url_for("meetings.partner_view", token=token)))


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    app = state.app
    register_agenda_source(app, agenda.agenda_source)
    register_to_record_source(app, agenda.to_record_source)
    register_exception_source(app, agenda.exception_source)
    register_access_rule(app, services._meeting_staff_rule)
    register_busy_source(app, services.BUSY)
    register_panel(app, panels.my_tasks_panel)
    register_client_section(app, panels.client_meetings_section)
    register_demo(app, demo.seed)
