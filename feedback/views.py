"""Feedback pages: public (no login) code entry, form and thank-you; staff "show to participants"
pages with code and QR, window actions, results with charts; the lead's item sets, group
settings and unit report.

The public form's request bodies are never logged: no view here logs form data, and errors
re-render the form to the participant only.
"""
from __future__ import annotations

import io
from types import SimpleNamespace

import segno
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response as WerkzeugResponse

from accounts.permissions import lead_required
from accounts.units import led_unit_ids_select
from core.db import get_or_404, positive_id_or_404, utcnow
from core.demo import register_demo
from core.extensions import db
from core.forms import ConfirmForm
from core.security import read_only
from core.templating import local_dt
from core.timeutil import local_today
from core.transaction import writing
from groups import services as group_services
from groups.models import Group, GroupSession
from meetings import services as meeting_services
from meetings.models import Meeting

from . import charts, demo, release as release_rule, report as unit_report, scales, services, summary as summaries
from .forms import (
    CodeForm,
    GroupSettingsForm,
    ItemSetEditForm,
    ItemSetForm,
    PeriodForm,
    WindowActionForm,
    response_form,
)
from .models import FeedbackWindow, ItemSet, WindowKind
from .results import format_mean

bp = Blueprint("feedback", __name__, template_folder="templates")


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    register_demo(state.app, demo.seed)

MARKER_COOKIE = "kohtaamo_feedback_given"
MARKER_MAX = 60


def _locale() -> str:
    return str(get_locale() or "fi")


# --- the "already answered" marker -----------------------------------------------------------
# A signed list of window ids this browser has answered. It discourages a second answer; it is
# never stored server-side and holds nothing that identifies the response.

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="feedback-given")


def answered_windows() -> list[int]:
    raw = request.cookies.get(MARKER_COOKIE)
    if not raw:
        return []
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return []
    return [int(v) for v in value if isinstance(v, int)] if isinstance(value, list) else []


def _set_marker(response: WerkzeugResponse, window_id: int) -> None:
    ids = [i for i in answered_windows() if i != window_id][-(MARKER_MAX - 1):] + [window_id]
    response.set_cookie(MARKER_COOKIE, _serializer().dumps(ids), max_age=120 * 24 * 3600, path="/f",
                        httponly=True, samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))


# --- public pages ----------------------------------------------------------------------------

@bp.route("/f", methods=["GET"])
@read_only
def public_entry():
    form = CodeForm(request.args)
    if request.args and form.validate():
        code = services.normalise_code(form.code.data)
        if code:
            return redirect(url_for("feedback.public_form", code=code))
        form.code.errors.append(_("Check the code and try again. The code has six letters or numbers."))
    return render_template("feedback/public_entry.html", form=form)


def _window_title(window: FeedbackWindow) -> str:
    if window.kind == WindowKind.SESSION.value:
        return _("Feedback on today's group session")
    if window.kind == WindowKind.GROUP_END.value:
        return _("Feedback on the whole group")
    return _("Feedback on the network meeting")


@bp.route("/f/<code>", methods=["GET", "POST"])
# Everything up to storing an answer only reads, in a read-only transaction (on SQLite a shared
# one): the write lock is taken only for the few statements that store it (writing()), so
# participants answering at the same moment queue for as short a time as possible.
@read_only(methods=("GET", "HEAD", "POST"))
def public_form(code: str):
    normalised = services.normalise_code(code)
    if not normalised:
        return redirect(url_for("feedback.public_entry"))
    if normalised != code:
        return redirect(url_for("feedback.public_form", code=normalised))
    if current_user.is_authenticated:
        # A signed-in staff browser (any tab) cannot answer: staff could otherwise top a window up
        # with answers of their own. Checked before anything about the code is shown.
        return render_template("feedback/public_staff.html"), 403
    window = services.find_window_by_code(normalised)
    if window is None:
        # A mistyped code is an everyday slip, not an error: a calm page with the box to try again.
        return render_template("feedback/public_unknown.html", form=CodeForm(formdata=None), code=code)
    now = utcnow()
    if not window.is_open(now):
        return _closed_page(window, now)
    if services.window_uses_slips(window.id):
        # Each participant got a slip of their own: the shared code takes no answers.
        return render_template("feedback/public_slips_only.html", form=CodeForm(formdata=None)), 403
    form = response_form(window.item_set, _locale())
    if request.method == "GET":
        form.window_id.data = str(window.id)
    if window.id in answered_windows():
        return render_template("feedback/public_already.html", window=window)
    title = _window_title(window)
    status = 200
    if form.validate_on_submit():
        if form.window_id.data != str(window.id):
            # The form was loaded for another code (an old tab, a mistyped address): nothing is stored.
            form.form_errors.append(_("This form belongs to another feedback code. Open the code you were "
                                      "given again and answer there."))
            form.window_id.data = str(window.id)
        else:
            window_id = window.id
            scores = form.scores()
            try:
                with writing():  # rolled back when refused
                    services.submit_response(window_id, scores, form.comment.data or "",
                                             address=request.remote_addr or "unknown")
            except services.WindowNotOpen:
                # Closed in the moment since it was looked up, or removed with its session,
                # group or meeting (then the code is not there any more): nothing is stored.
                closed = db.session.get(FeedbackWindow, window_id)
                if closed is None:
                    return render_template("feedback/public_unknown.html", form=CodeForm(formdata=None), code=code)
                return _closed_page(closed, utcnow())
            except services.AddressLimited:
                # Stores nothing (writing() rolled the count back with the answer).
                return render_template("feedback/public_limit.html",
                                       limit=current_app.config.get("FEEDBACK_PER_ADDRESS_LIMIT",
                                                                    services.PER_ADDRESS)), 429
            except services.WindowFull:
                return render_template("feedback/public_full.html"), 409
            except services.RateLimited:
                form.form_errors.append(_("Many answers have just arrived with this code. Wait a few minutes and "
                                          "send again; your answers are still here."))
                status = 429
            else:
                response = redirect(url_for("feedback.public_thanks"))
                _set_marker(response, window_id)
                return response
    return render_template("feedback/public_form.html", form=form, title=title, code=normalised), status


@bp.route("/f/<code>/<slip>", methods=["GET", "POST"])
@read_only(methods=("GET", "HEAD", "POST"))  # as public_form: the lock only while storing
def public_slip(code: str, slip: str):
    """The form opened from a single-use answer slip. An unknown, used or tampered slip, and a
    slip of a window that has closed, all get the same page (no way to tell a used slip from a
    wrong one), and nothing is stored. Wrong slips from one address are counted and, past
    services.SLIP_FAILURES, refused before they are even looked up."""
    if current_user.is_authenticated:
        return render_template("feedback/public_staff.html"), 403
    normalised, slip_code = services.normalise_code(code), services.normalise_slip(slip)
    window = services.find_window_by_code(normalised) if normalised else None
    address = request.remote_addr or "unknown"
    if window is None:
        return render_template("feedback/public_slip_invalid.html"), 404
    if services.slip_failures_exceeded(window.id, address):
        return render_template("feedback/public_slip_wait.html"), 429
    if not window.is_open(utcnow()) or not services.slip_usable(window.id, slip_code):
        if window.is_open(utcnow()):
            with writing():  # kept although the page answers 404: the count is the point
                services.count_slip_failure(window.id, address)
        return render_template("feedback/public_slip_invalid.html"), 404
    form = response_form(window.item_set, _locale())
    if request.method == "GET":
        form.window_id.data = str(window.id)
    status = 200
    if form.validate_on_submit():
        if form.window_id.data != str(window.id):
            form.form_errors.append(_("This form belongs to another feedback code. Open the code you were "
                                      "given again and answer there."))
            form.window_id.data = str(window.id)
        else:
            window_id = window.id
            scores = form.scores()
            try:
                # No per-address limit: each slip answers once, so slips already bound the
                # answers, and a venue's wifi (every phone under one address) works with them.
                with writing():  # rolled back when refused: nothing is half-stored
                    services.submit_response(window_id, scores, form.comment.data or "", slip=slip_code)
            except (services.WindowNotOpen, services.SlipInvalid):
                # Closed or used up in the moment since the form was opened: nothing is stored.
                return render_template("feedback/public_slip_invalid.html"), 404
            except services.AddressLimited:
                return render_template("feedback/public_limit.html",
                                       limit=current_app.config.get("FEEDBACK_PER_ADDRESS_LIMIT",
                                                                    services.PER_ADDRESS)), 429
            except services.WindowFull:
                return render_template("feedback/public_full.html"), 409
            except services.RateLimited:
                form.form_errors.append(_("Many answers have just arrived with this code. Wait a few minutes and "
                                          "send again; your answers are still here."))
                status = 429
            else:
                return redirect(url_for("feedback.public_thanks"))
    return render_template("feedback/public_form.html", form=form, title=_window_title(window), code=normalised,
                           action=url_for("feedback.public_slip", code=normalised, slip=slip_code)), status


def _closed_page(window: FeedbackWindow, now):
    return render_template("feedback/public_closed.html", window=window, not_yet=window.opens_at > now,
                           form=CodeForm(formdata=None))


@bp.route("/f/thanks")
@read_only
def public_thanks():
    return render_template("feedback/public_thanks.html")


# --- staff: access checks --------------------------------------------------------------------

# Feedback of a group or meeting is for exactly those who may open the group's participants or
# the meeting: the groups' and meetings' own rules (one function each), never a copy of them.

def _may_see_group(group: Group) -> bool:
    return group_services.can_edit(current_user, group)


def _may_see_group_of(state: summaries.ChartState) -> bool:
    # The chart route has only the facilitators and the unit from its one query; same rule as
    # can_edit, which reads only these two of a Group (a Protocol there would say so).
    facts = SimpleNamespace(facilitator_ids=state.facilitator_ids, unit_id=state.unit_id)
    return group_services.can_edit(current_user, facts)  # type: ignore[arg-type]


def _group_or_404(group_id) -> Group:
    group = get_or_404(Group, group_id)
    if not _may_see_group(group):
        abort(404)
    return group


def _meeting_or_404(meeting_id) -> Meeting:
    meeting = get_or_404(Meeting, meeting_id)
    if not meeting_services.can_open(current_user, meeting):
        abort(404)
    return meeting


def _window_or_404(window_id) -> FeedbackWindow:
    window = get_or_404(FeedbackWindow, window_id)
    if window.meeting_id is not None:
        _meeting_or_404(window.meeting_id)
    elif window.group_id is None or not _may_see_group(window.group):
        abort(404)
    return window


def _back_to(window: FeedbackWindow) -> str:
    if window.kind == WindowKind.SESSION.value:
        return url_for("feedback.session_show", session_id=window.session_id)
    if window.kind == WindowKind.GROUP_END.value:
        return url_for("feedback.group_end_show", group_id=window.group_id)
    return url_for("feedback.meeting_feedback_show", meeting_id=window.meeting_id)


def public_url(window: FeedbackWindow) -> str:
    base = current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
    return base + url_for("feedback.public_form", code=window.code)


def _render_show(window: FeedbackWindow | None, *, heading: str, create_url: str | None, back_url: str | None):
    now = utcnow()
    locked = window is not None and window.is_closed(now) and services.has_responses(window)
    slips = (services.window_uses_slips(window.id), services.slips_used(window.id), services.slip_count(window)) \
        if window is not None else None
    return render_template("feedback/show.html", window=window, heading=heading, create_url=create_url, locked=locked,
                           slips=slips,
                           back_url=back_url, url=public_url(window) if window else None,
                           entry_url=(current_app.config.get("BASE_URL") or request.host_url.rstrip("/"))
                           + url_for("feedback.public_entry"),
                           now=now, action_form=WindowActionForm(), create_form=WindowActionForm())


# --- staff: show to participants ------------------------------------------------------------

@bp.route("/feedback/sessions/<session_id>/show")
@read_only
@login_required
def session_show(session_id):
    session = get_or_404(GroupSession, session_id)
    group = _group_or_404(session.group_id)
    return _render_show(services.window_for_session(session),
                        heading=_("Feedback: %(group)s, session %(number)s", group=group.title, number=session.number),
                        # A cancelled session gets no feedback.
                        create_url=None if session.is_cancelled else
                        url_for("feedback.session_window_create", session_id=session.id),
                        back_url=url_for("feedback.group_results", group_id=group.id))


@bp.route("/feedback/sessions/<session_id>/window", methods=["POST"])
@login_required
def session_window_create(session_id):
    session = get_or_404(GroupSession, session_id)
    _group_or_404(session.group_id)
    if not ConfirmForm().validate_on_submit() or session.is_cancelled:
        abort(400)
    services.open_session_window(session)
    return redirect(url_for("feedback.session_show", session_id=session.id))


@bp.route("/feedback/groups/<group_id>/end")
@read_only
@login_required
def group_end_show(group_id):
    group = _group_or_404(group_id)
    return _render_show(services.end_window_for_group(group),
                        heading=_("End-of-group survey: %(group)s", group=group.title),
                        create_url=url_for("feedback.group_end_create", group_id=group.id),
                        back_url=url_for("feedback.group_results", group_id=group.id))


@bp.route("/feedback/groups/<group_id>/end", methods=["POST"])
@login_required
def group_end_create(group_id):
    group = _group_or_404(group_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.open_group_end_window(group)
    return redirect(url_for("feedback.group_end_show", group_id=group.id))


@bp.route("/feedback/meetings/<meeting_id>/show")
@read_only
@login_required
def meeting_feedback_show(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    # Projected or handed to participants: the meeting's date only, never the client's name.
    return _render_show(services.window_for_meeting(meeting),
                        heading=_("Feedback on the network meeting of %(date)s", date=local_dt(meeting.starts_at)),
                        create_url=url_for("feedback.meeting_window_create", meeting_id=meeting.id),
                        back_url=url_for("feedback.meeting_results", meeting_id=meeting.id))


@bp.route("/feedback/meetings/<meeting_id>/window", methods=["POST"])
@login_required
def meeting_window_create(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.open_meeting_window(meeting)
    return redirect(url_for("feedback.meeting_feedback_show", meeting_id=meeting.id))


@bp.route("/feedback/windows/<window_id>/adjust", methods=["POST"])
@login_required
def window_adjust(window_id):
    window = _window_or_404(window_id)
    form = WindowActionForm()
    if not form.validate_on_submit() or form.action.data not in ("open", "close", "extend"):
        abort(400)
    try:
        services.adjust_window(window, form.action.data)
    except services.WindowLocked:
        flash(_("This feedback has closed and has answers, so it cannot be opened again: its results may "
                "already have been seen, and a later answer could then be picked out. Start a new feedback "
                "round for a later session instead."), "error")
        return redirect(_back_to(window))
    flash({"open": _("Feedback is open."), "close": _("Feedback is closed."),
           "extend": _("Feedback time extended by 24 hours.")}[form.action.data], "success")
    return redirect(_back_to(window))


@bp.route("/feedback/windows/<window_id>/slips", methods=["POST"])
@login_required
def window_slips(window_id):
    """Make a sheet of single-use answer slips (shown once: only their hashes are stored), or go
    back to the shared code; either only while no slip has been used."""
    window = _window_or_404(window_id)
    form = WindowActionForm()
    if not form.validate_on_submit() or form.action.data not in ("slips", "no_slips"):
        abort(400)
    try:
        if form.action.data == "no_slips":
            services.stop_slips(window)
        else:
            codes = services.make_slips(window)
    except services.SlipsInUse:
        flash(_("A slip has already been used, so the slips cannot be changed any more."), "error")
        return redirect(_back_to(window))
    if form.action.data == "no_slips":
        flash(_("Answer slips are off: participants answer with the shared code."), "success")
        return redirect(_back_to(window))
    base = current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
    slips = []
    for code in codes:
        url = base + url_for("feedback.public_slip", code=window.code, slip=code)
        slips.append({"code": code, "url": url, "qr": segno.make(url, error="m").svg_inline(
            scale=3, border=2, title=None, svgclass="slip-qr", lineclass=None, omitsize=True)})
    response = Response(render_template("feedback/slips.html", window=window, slips=slips,
                                        title=_window_title(window), back_url=_back_to(window)))
    # Shown once: neither the browser nor a proxy keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/feedback/windows/<window_id>/qr.svg")
@read_only
@login_required
def window_qr(window_id):
    window = _window_or_404(window_id)
    out = io.BytesIO()
    segno.make(public_url(window), error="m").save(out, kind="svg", scale=10, border=2, xmldecl=False,
                                                    title=None, svgclass=None, lineclass=None)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=300"})


# --- staff: results --------------------------------------------------------------------------

@bp.route("/feedback/groups/<group_id>")
@read_only
@login_required
def group_results(group_id):
    group = _group_or_404(group_id)
    now = utcnow()
    state = release_rule.group_state(group, now=now)
    if state.pending is not None:
        # The group's figures are due: stored now, shown from the store ever after.
        with writing():
            state = release_rule.ensure_group_release(_group_or_404(group_id), now=now)
    data = summaries.group_summary(group, now=now, state=state)
    return render_template("feedback/group_results.html", group=group, s=data, now=now,
                           alts={kind: summaries.chart_alt(kind, d) for kind, d in data.charts.items()},
                           chart_keys={kind: key[:CHART_VERSION_CHARS] for kind, key in data.chart_keys.items()},
                           locale=_locale(), is_lead=current_user.is_lead)


# The results page links each chart with ?v=<start of its key>. While that still names the
# current chart, the browser may keep it for an hour without asking; any other request
# revalidates with the ETag (a 304 costs one small query, never the summary).
CHART_VERSION_CHARS = 16
CHART_MAX_AGE = 3600


def _chart_response(key: str, body: bytes | None, mimetype: str) -> Response:
    fresh_link = request.args.get("v") == key[:CHART_VERSION_CHARS]
    response = Response(body, status=200 if body is not None else 304, mimetype=mimetype)
    response.set_etag(key)
    response.headers["Cache-Control"] = f"private, max-age={CHART_MAX_AGE}" if fresh_link else "private, no-cache"
    return response


@bp.route("/feedback/groups/<group_id>/charts/<kind>.svg")
@read_only  # a cache hit never takes SQLite's write lock; only storing a new chart does
@login_required
def group_chart(group_id, kind):
    group_id = positive_id_or_404(group_id)
    if kind not in charts.RENDERERS:
        abort(404)
    now = utcnow()
    # One query gives who may see the group and the chart's key, so a cache hit costs that
    # query alone. The key names everything the chart is drawn from (summary.chart_key), so a
    # chart stored under it was allowed and drawn from this very state: serve it without the
    # summary.
    state = summaries.current_chart_state(group_id, kind, now=now)
    if state is None or not _may_see_group_of(state):
        abort(404)
    key = state.key
    if request.if_none_match.contains(key) and services.chart_is_cached(key):
        return _chart_response(key, None, charts.SVG)
    cached = services.cached_chart(key)
    if cached is not None:
        return _chart_response(key, *cached)

    group = _group_or_404(group_id)
    data = summaries.group_summary(group, now=now)
    chart = data.charts.get(kind)
    if chart is None:
        # Suppressed or nothing to show: the chart is never rendered.
        abort(404)
    drawn_from = data.chart_keys[kind]
    db.session.rollback()  # ends the read-only transaction: nothing is held while drawing
    body, mimetype = charts.RENDERERS[kind](chart)
    if drawn_from != key:
        # The data changed between reading the key and reading the summary (PostgreSQL reads
        # each statement afresh): the chart is right, but not for the key, so it is not stored
        # and the browser must not keep it.
        return Response(body, mimetype=mimetype, headers={"Cache-Control": "private, no-store"})
    with writing():
        services.store_chart(key, body, mimetype)
    if request.if_none_match.contains(key):
        return _chart_response(key, None, mimetype)
    return _chart_response(key, body, mimetype)


@bp.route("/feedback/meetings/<meeting_id>/results")
@read_only
@login_required
def meeting_results(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    state = release_rule.meeting_state(meeting)
    if state.pending is not None:
        with writing():
            state = release_rule.ensure_meeting_release(_meeting_or_404(meeting_id))
    return render_template("feedback/meeting_results.html", meeting=meeting,
                           s=summaries.meeting_summary(meeting, state=state), locale=_locale())


@bp.app_template_global("feedback_group_summary")
def feedback_group_summary(group):
    """For the groups feature's evaluation page (feedback/_group_summary.html): the released
    figures only, and only for those who may see the group's feedback (None for anyone else)."""
    if not _may_see_group(group):
        return None
    now = utcnow()
    state = release_rule.group_state(group, now=now)
    if state.pending is not None:
        # Due: stored here as on the results page (the same rule), so the evaluation page shows
        # the figures themselves even if nobody has opened the results page.
        with writing():
            state = release_rule.ensure_group_release(_group_or_404(group.id), now=now)
    data = summaries.group_summary(group, now=now, state=state)
    return SimpleNamespace(summary=data, alts={kind: summaries.chart_alt(kind, d) for kind, d in data.charts.items()},
                           keys={kind: key[:CHART_VERSION_CHARS] for kind, key in data.chart_keys.items()})


@bp.app_template_global("feedback_scale")
def feedback_scale(key):
    return scales.scale(key)


@bp.app_template_filter("mean")
def mean_filter(value):
    return format_mean(value)


# --- lead: item sets and group settings --------------------------------------------------------

@bp.route("/feedback/item-sets")
@read_only
@lead_required
def item_sets():
    sets = services.item_sets()
    in_use, chosen = services.item_sets_usage(sets)
    return render_template("feedback/item_sets.html", sets=sets, locale=_locale(), in_use=in_use, chosen=chosen)


def _copy_source() -> ItemSet | None:
    """The set a new one starts as a copy of (?from=<id>, or builtin:<kind> for a built-in set
    not stored yet); None for an empty form."""
    value = request.args.get("from", "")
    if value.startswith("builtin:"):
        found = next((s for s in services.item_sets() if s.builtin_key == value.removeprefix("builtin:")), None)
        if found is None:
            abort(404)
        return found
    return get_or_404(ItemSet, value) if value else None


@bp.route("/feedback/item-sets/new", methods=["GET", "POST"])
@lead_required
def item_set_new():
    source = _copy_source() if request.method == "GET" else None
    data = services.item_set_copy_data(source, _("Copy of %(name)s", name=source.name)) if source else None
    form = ItemSetForm(data=data)
    if form.validate_on_submit():
        services.create_item_set(kind=form.kind.data, name=form.name.data, comment_labels=form.comment_labels(),
                                 item_labels=form.item_labels(), user=current_user, scale=form.scale.data)
        flash(_("Item set saved."), "success")
        return redirect(url_for("feedback.item_sets"))
    return render_template("feedback/item_set_form.html", form=form, item_set=None)


@bp.route("/feedback/item-sets/<set_id>/edit", methods=["GET", "POST"])
@lead_required
def item_set_edit(set_id):
    item_set = get_or_404(ItemSet, set_id)
    if (reason := services.why_item_set_is_fixed(item_set)) is not None:
        flash(str(reason), "error")
        return redirect(url_for("feedback.item_sets"))
    # The stored wording fills the form only when it is first shown: a posted form is taken as
    # sent (a field left out must not come back from the database).
    form = ItemSetEditForm(data=services.item_set_copy_data(item_set, item_set.name) if request.method == "GET"
                           else None)
    if form.validate_on_submit():
        try:
            services.update_item_set(item_set, name=form.name.data, comment_labels=form.comment_labels(),
                                     item_labels=form.item_labels())
        except services.FeedbackError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Item set saved."), "success")
            return redirect(url_for("feedback.item_sets"))
    return render_template("feedback/item_set_form.html", form=form, item_set=item_set)


@bp.route("/feedback/item-sets/<set_id>/delete", methods=["POST"])
@lead_required
def item_set_delete(set_id):
    item_set = get_or_404(ItemSet, set_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.delete_item_set(item_set)
    except services.FeedbackError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The set was removed."), "success")
    return redirect(url_for("feedback.item_sets"))


@bp.route("/feedback/groups/<group_id>/settings", methods=["GET", "POST"])
@login_required
def group_settings(group_id):
    """The group's facilitators (and leads) choose its questions: the 0–10 set or the short form."""
    group = _group_or_404(group_id)
    sets = services.item_sets()
    form = GroupSettingsForm()
    # Built-in sets are named in Finnish: their option says so to a screen reader (lang).
    form.session_set.choices = [(services.set_choice_value(s), s.name, {"lang": "fi"} if s.builtin_key else {})
                                for s in sets if s.kind == WindowKind.SESSION.value]
    form.end_set.choices = [(services.set_choice_value(s), s.name, {"lang": "fi"} if s.builtin_key else {})
                            for s in sets if s.kind == WindowKind.GROUP_END.value]
    if request.method == "GET":
        for field, kind in ((form.session_set, WindowKind.SESSION.value), (form.end_set, WindowKind.GROUP_END.value)):
            current = services.set_for_group(group, kind, create=False)
            field.data = services.set_choice_value(current) if current else f"builtin:{kind}"
    elif form.validate_on_submit():
        session_set = services.resolve_set_choice(form.session_set.data, WindowKind.SESSION.value)
        end_set = services.resolve_set_choice(form.end_set.data, WindowKind.GROUP_END.value)
        try:
            if session_set is None or end_set is None:
                abort(400)  # a forged choice; the select offers only sets of the right kind
            services.choose_group_sets(group, session_set=session_set, end_set=end_set)
        except services.SettingsLocked as locked:
            db.session.rollback()
            field = form.session_set if str(locked) == "session" else form.end_set
            field.errors = list(field.errors) + [_("Feedback with the current set has already started in this "
                                                   "group, so the set can no longer be changed.")]
        else:
            flash(_("Feedback settings saved."), "success")
            return redirect(url_for("feedback.group_results", group_id=group.id))
    return render_template("feedback/group_settings.html", form=form, group=group)


# --- lead: unit report ---------------------------------------------------------------------------

def _report_from_args():
    form = PeriodForm(request.args)
    if not request.args.get("start"):
        start, end = unit_report.default_period(local_today())
        form = PeriodForm(formdata=None, start=start, end=end)
        return form, unit_report.unit_report(start, end, services.threshold(),
                                             units=led_unit_ids_select(current_user))
    if not form.validate():
        return form, None
    _release_due_groups(form.start.data, form.end.data)
    return form, unit_report.unit_report(form.start.data, form.end.data, services.threshold(),
                                         units=led_unit_ids_select(current_user))


def _release_due_groups(start, end) -> None:
    """The report (page and CSV) shows released groups only: a group whose figures are due is
    released here, by the same rule as its results page, so the report never depends on
    someone having opened that page. Only for an ended period (an open one shows no feedback)."""
    if unit_report.period_is_open(end):
        return
    since, until = unit_report.period_bounds(start, end)
    now = utcnow()
    due = release_rule.groups_due(since, until, now=now)
    if due:
        with writing():  # the report only reads, but a due release is stored once, here
            release_rule.release_groups(due, now=now)


@bp.route("/feedback/report")
@read_only
@lead_required
def report():
    form, data = _report_from_args()
    return render_template("feedback/report.html", form=form, r=data)


def csv_labels() -> dict:
    return {
        "measure": _("Measure"), "value": _("Value"), "period": _("Period"), "groups_held": _("Groups held"),
        "sessions_held": _("Sessions held"), "participants": _("Participants (present at least once)"),
        "attendance_rate": _("Attendance rate"), "meetings_held": _("Network meetings held"),
        "items_on_time": _("Action items done on time / due in the period"), "theme": _("Theme"),
        "groups": _("Groups"), "responses": _("Responses"), "mean": _("Mean of feedback scores (0–10)"),
        "responses_short": _("Responses, short form"), "mean_short": _("Mean (1–5), short form"),
        "all_themes": _("All themes"), "hidden_too_few": _("Hidden: too few responses"),
        "hidden_complementary": _("Hidden: would reveal another hidden figure"),
        "hidden_empty": _("No responses"),
        "hidden_period_open": _("Shown when the period has ended"),
        "hidden_not_released": _("No group results released"),
    }


@bp.route("/feedback/report.csv")
@read_only
@lead_required
def report_csv():
    form, data = _report_from_args()
    if data is None:
        abort(400)
    body = unit_report.report_csv(data, csv_labels(), _locale())
    filename = f"kohtaamo-report-{data.start.isoformat()}-{data.end.isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
