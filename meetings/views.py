"""Network meeting pages for staff (under /meetings) and partners' personal links (/p/<token>).

This module holds the blueprint, the loading helpers every view module shares, the lists and
arranging a new meeting; one meeting's pages are in ``meeting_views``, its plan in ``plan_views``
and the partner links in ``partner_views``, all on ``bp``."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.units import staff_choices
from core.agenda import register_agenda_source, register_exception_source, register_to_record_source
from core.conflicts import register_busy_source
from core.dashboard import register_panel
from core.db import get_or_404
from core.demo import register_demo
from core.extensions import db
from core.formatting import local_date, local_time
from core.security import read_only
from core.templating import translated_labels
from core.timeutil import finnish_holiday, local_today
from core.web import page_arg, paginate, search_arg
from register.access import (
    accessible_client_ids,
    get_client_or_404,
    log_access,
    log_access_many,
    partner_visible_condition,
    register_access_rule,
)
from register.models import Client, PartnerContact, PartnerOrganisation
from register.sections import register_client_section
from register.services import names_in_text

from . import agenda, arranging, demo, panels, plan as meetings_plan, services
from .forms import (
    IDENTIFICATION_LABELS,
    INVITATION_LABELS,
    ITEM_STATUS_LABELS,
    KIND_LABELS,
    PLACE_LABELS,
    STATUS_LABELS,
    MeetingForm,
)
from .models import ActionItem, Meeting

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
    existing = meetings_plan.duplicate_item(meeting, responsible_id=form.responsible.data, what=form.what.data,
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
        return paginate(services.meetings_statement(current_user, upcoming=upcoming, search=q, client_id=client_id,
                                                    first=page_arg() * LIST_PAGE),
                        per_page=LIST_PAGE,
                        total=lambda: db.session.scalar(services.meetings_count_statement(
                            current_user, upcoming=upcoming, search=q, client_id=client_id)) or 0)

    # The default view pages the upcoming meetings and shows the latest past ones below them.
    upcoming = paged(True) if show != "past" else None
    past = paged(False) if show == "past" else None
    recent = (list(db.session.scalars(services.meetings_statement(current_user, upcoming=False, search=q,
                                                                  client_id=client_id, first=RECENT_PAST)
                                      .limit(RECENT_PAST)))
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
    items = meetings_plan.open_items_for_user(current_user.id)
    log_access_many([i.client_id for i in items], "view", "my tasks")
    return render_template("meetings/my_tasks.html", items=items, today=local_today(), overdue=meetings_plan.is_overdue)


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
    """The staff of the user's units (accounts.units.staff_choices) and the active contacts of
    the partners the user may see (shared ones and their units', register.access), as (id,
    label) rows: only the columns the choices need."""
    contacts = db.session.execute(
        sa.select(PartnerContact.id, PartnerContact.name, PartnerOrganisation.name)
        .join(PartnerOrganisation, PartnerContact.organisation_id == PartnerOrganisation.id)
        .where(PartnerContact.active.is_(True), PartnerOrganisation.active.is_(True),
               partner_visible_condition(current_user))
        .order_by(PartnerOrganisation.name, PartnerContact.name)).all()
    return staff_choices(current_user.id), [(cid, f"{name} ({org})") for cid, name, org in contacts]


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
                                         *arranging.meeting_times(form.day.data, form.start.data, int(form.length.data)),
                                         place_kind=form.place_kind.data, place=form.place.data or ""))):
        starts, ends = arranging.meeting_times(form.day.data, form.start.data, int(form.length.data))
        meeting = arranging.create_meeting(
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


# The routes of one meeting, its plan and the partner links are in view modules of their own, on
# this blueprint: importing them registers their routes (they import ``bp`` and the helpers above).
from . import meeting_views, partner_views, plan_views  # noqa: E402,F401
