"""Outreach pages: rota, venues and their schedules, one visit (pair, move, cancel, counts) and
the lead's report with its charts."""
from __future__ import annotations

import hashlib
import json
from datetime import date, time, timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from accounts.permissions import lead_required
from accounts.units import UnitChoiceError, staff_choices
from calendar_export.sources import register_source
from core.agenda import register_agenda_source, register_exception_source, register_to_record_source
from core.conflicts import find_conflicts, register_busy_source
from core.db import get_or_404
from core.demo import register_demo
from core.extensions import db
from core.formatting import format_locale, local_date, month_year, number, time_range
from core.forms import ConfirmForm
from core.security import read_only
from core.timeutil import holiday_label, local_to_utc, local_today, now_utc, to_local
from core.transaction import writing
from register.access import partner_visible_condition
from register.forms import NO_SUCH_UNIT, unit_choices
from register.models import PartnerOrganisation

from . import agenda, calendar_source, demo, report as outreach_report, services
from .chart import topics_chart_png, venue_chart_png
from .forms import (
    MONTHS,
    NOT_HELD_LABELS,
    NTH,
    REVIEW_LABELS,
    TOPIC_LABELS,
    WEEKDAYS,
    MoveForm,
    PairForm,
    ReportForm,
    ReportPeriodForm,
    RuleForm,
    VenueFeedForm,
    VenueForm,
)
from .models import TOPICS, OutreachVenue, OutreachVisit, RuleFrequency, VisitStatus
from .notecheck import identifying_bits

bp = Blueprint("outreach", __name__, template_folder="templates", url_prefix="/outreach", cli_group="outreach")


@bp.cli.command("generate")
def generate_command():
    """Create the coming months' visits of every active venue (run daily, e.g. from cron)."""
    import click

    from core.db import immediate_transactions

    with immediate_transactions():
        venues = db.session.scalars(sa.select(OutreachVenue).where(OutreachVenue.active.is_(True))
                                    .options(selectinload(OutreachVenue.rule))).all()
        created = sum(len(services.generate_visits(venue)) for venue in venues)
        db.session.commit()  # own commit: a CLI command (no request, so no request commit)
    click.echo(f"{created} new outreach visits")


# The public venue page (the poster's QR code) is the one page open without a login.
PUBLIC_ENDPOINTS = frozenset({"outreach.public_venue", "outreach.public_venue_feed"})


@bp.before_request
def _require_login():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return login_required(lambda: None)()


def _staff_choices(keep=()):
    """The staff of the user's units, and the visit's pair (``keep``) whatever their unit."""
    # "" not None: WTForms would write value="None" (a dead end for anyone reading the form).
    return [("", _("— nobody yet —"))] + staff_choices(current_user.id, keep)


def rule_summary(rule) -> str:
    """'Second Tuesday of the month, 13:00–15:00' in the user's language."""
    if rule is None:
        return _("No schedule yet")
    times = time_range(rule.start_time, rule.end_time)
    weekday = str(WEEKDAYS[rule.weekday])
    if rule.frequency == RuleFrequency.WEEKLY.value:
        text = (_("Every %(weekday)s", weekday=weekday) if rule.interval_weeks == 1
                else _("Every other %(weekday)s", weekday=weekday))
    else:
        nth = str(dict(NTH)[rule.nth])
        text = _("The %(nth)s %(weekday)s of the month", nth=nth, weekday=weekday)
    parts = [f"{text}, {times}"]
    if rule.break_month_list:
        parts.append(_("no visits in %(months)s", months=", ".join(str(MONTHS[m - 1]) for m in rule.break_month_list)))
    if rule.break_from and rule.break_until:
        parts.append(_("break %(start)s–%(end)s", start=local_date(rule.break_from), end=local_date(rule.break_until)))
    parts.append(_("public holidays skipped"))
    return "; ".join(parts)


@bp.app_template_global("outreach_rule_summary")
def _rule_summary_global(rule):
    return rule_summary(rule)


def get_venue_or_404(venue_id) -> OutreachVenue:
    """A venue the current user may see (``services.can_see_venue``, the one rule); another
    unit's venue is a 404, as a malformed or unknown id is, so ids cannot be probed."""
    venue = get_or_404(OutreachVenue, venue_id)
    if not services.can_see_venue(current_user, venue):
        abort(404)
    return venue


def get_visit_or_404(visit_id) -> OutreachVisit:
    """A visit at a venue the current user may see (the venue's rule: a visit follows its venue)."""
    visit = get_or_404(OutreachVisit, visit_id)
    if not services.can_see_venue(current_user, visit.venue):
        abort(404)
    return visit


# --- rota ---------------------------------------------------------------------------------------

@bp.route("/")
@read_only
def index():
    start_utc, end_utc = services.rota_window()
    now = now_utc()
    # The rota without the counts (the page does not show them); the recent visits still
    # waiting for counts on their own: loading every visit of the last 60 days for the few
    # still waiting was most of the page's rows.
    visits = services.visits_between(start_utc, end_utc, user=current_user, reports=False)
    flags = services.visit_flags(visits)
    mine = request.args.get("mine") == "1"
    if mine:
        visits = [v for v in visits if current_user.id in v.staff_ids]
    months = []
    for visit in visits:
        local = to_local(visit.starts_at)
        key = (local.year, local.month)
        if not months or months[-1][0] != key:
            months.append((key, local.date().replace(day=1), []))
        months[-1][2].append(visit)
    # Visits that have started (today's too) and still wait for their counts.
    needs_counts = services.visits_between(now - timedelta(days=60), now, user=current_user,
                                           status=VisitStatus.SCHEDULED.value, reports=False)
    return render_template("outreach/index.html", months=months, flags=flags, mine=mine, needs_counts=needs_counts,
                           holiday=lambda v: holiday_label(to_local(v.starts_at).date()))


# --- venues -------------------------------------------------------------------------------------

@bp.route("/venues")
@read_only
def venues():
    rows = db.session.scalars(
        sa.select(OutreachVenue).where(services.venue_visible_condition(current_user))
        .order_by(OutreachVenue.active.desc(), OutreachVenue.name, OutreachVenue.id)
        .options(selectinload(OutreachVenue.partner), selectinload(OutreachVenue.rule))
    ).all()
    return render_template("outreach/venues.html", venues=rows)


def _partner_choices(current_id: int | None = None):
    stmt = (sa.select(PartnerOrganisation).where(sa.or_(partner_visible_condition(current_user),
                                                        PartnerOrganisation.id == (current_id or 0)))
            .order_by(PartnerOrganisation.name, PartnerOrganisation.id))
    orgs = [o for o in db.session.scalars(stmt) if o.active or o.id == current_id]
    return [("", _("— choose —"))] + [(o.id, o.name) for o in orgs]


@bp.route("/venues/new", methods=["GET", "POST"])
@bp.route("/venues/<venue_id>/edit", methods=["GET", "POST"])
def venue_form(venue_id=None):
    venue = get_venue_or_404(venue_id) if venue_id is not None else None
    form = VenueForm(obj=venue)
    form.partner_id.choices = _partner_choices(venue.partner_id if venue else None)
    form.unit_id.choices = unit_choices(current_user)
    if request.method == "GET" and venue is not None:
        form.version.data = str(venue.version)
    elif request.method == "GET":
        # A new venue is the user's own unit's unless they choose "shared".
        form.unit_id.data = next((value for value, _label in form.unit_id.choices[1:2]), None)
    if form.validate_on_submit() and (venue is None or form.check_version(venue.version)):
        partner = db.session.get(PartnerOrganisation, form.partner_id.data)
        try:
            venue = services.save_venue(venue, partner_id=partner.id, name=form.name.data,
                                        address=form.address.data or partner.address or "", active=form.active.data,
                                        unit_id=form.unit_id.data, user=current_user)
        except UnitChoiceError:
            form.unit_id.errors.append(str(NO_SUCH_UNIT))
        else:
            flash(_("Venue saved."), "success")
            if venue.rule is None:
                return redirect(url_for("outreach.rule_form", venue_id=venue.id))
            return redirect(url_for("outreach.venue", venue_id=venue.id))
    return render_template("outreach/venue_form.html", form=form, venue=venue)


@bp.route("/venues/<venue_id>")
@read_only
def venue(venue_id):
    return render_venue(get_venue_or_404(venue_id))


def render_venue(venue: OutreachVenue, *, feed_form=None):
    """The venue's page; ``feed_form`` when a new calendar link's form comes back with an error."""
    from .feeds import venue_subscriptions

    today_utc = services.rota_window()[0]
    visits = services.visits_between(today_utc - timedelta(days=400), today_utc + timedelta(days=400),
                                     venue_id=venue.id)
    coming = [v for v in visits if v.starts_at >= today_utc]
    past = [v for v in visits if v.starts_at < today_utc][::-1][:24]
    flags = services.visit_flags(coming)
    return render_template("outreach/venue.html", venue=venue, coming=coming, past=past, flags=flags,
                           confirm=ConfirmForm(), review_labels=REVIEW_LABELS,
                           feed_form=feed_form or VenueFeedForm(formdata=None),
                           subscriptions=venue_subscriptions(venue))


@bp.route("/venues/<venue_id>/rule", methods=["GET", "POST"])
def rule_form(venue_id):
    venue = get_venue_or_404(venue_id)
    rule = venue.rule
    # The form's break_month_list reads the rule's property of the same name (a list of ints).
    form = RuleForm(obj=rule)
    if request.method == "GET":
        if rule is None:
            form.valid_from.data = local_today()
            form.start_time.data, form.end_time.data = time(13, 0), time(15, 0)
        else:
            form.version.data = str(rule.version)
    if form.validate_on_submit() and (rule is None or form.check_version(rule.version)):
        spec = services.RuleSpec(
            frequency=form.frequency.data, weekday=form.weekday.data, nth=form.nth.data,
            interval_weeks=form.interval_weeks.data, valid_from=form.valid_from.data,
            valid_until=form.valid_until.data, break_months=tuple(form.break_month_list.data or ()),
            break_from=form.break_from.data, break_until=form.break_until.data,
        )
        today = local_today()
        first = max(today, spec.valid_from)
        if not services.rule_dates(spec, first, services.add_months(first, 12)):
            form.form_errors.append(_(
                "This schedule gives no visit dates in the next 12 months. Check the weekday, the dates "
                "and the breaks (public holidays are always skipped)."))
        else:
            services.save_rule(venue, spec=spec, start_time=form.start_time.data, end_time=form.end_time.data,
                               today=today)
            created = services.generate_visits(venue, today=today)
            flash(_("Schedule saved. %(count)d new visits added to the rota.", count=len(created)), "success")
            return redirect(url_for("outreach.venue", venue_id=venue.id))
    return render_template("outreach/rule_form.html", form=form, venue=venue)


@bp.route("/venues/<venue_id>/generate", methods=["POST"])
def generate(venue_id):
    venue = get_venue_or_404(venue_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    created = services.generate_visits(venue)
    if created:
        flash(_("%(count)d new visits added to the rota.", count=len(created)), "success")
    else:
        flash(_("The rota already has every visit of this schedule for the coming months."), "success")
    return redirect(url_for("outreach.venue", venue_id=venue.id))


# --- one visit ----------------------------------------------------------------------------------

def _clashes(form, visit, starts, ends, staff_ids) -> list[str]:
    """The one conflict check BEFORE saving: the workers' other bookings then. Empty when there
    are none, or when "save anyway" was ticked after seeing them."""
    if form.confirm_clash.data:
        return []
    return [c.message for c in find_conflicts([(starts, ends)], user_ids=[i for i in staff_ids if i],
                                              viewer=current_user, exclude=[("outreach", visit.id)])]


def _render_visit(visit, pair_form=None, status=200, warnings=()):
    if pair_form is None:
        pair_form = PairForm(data={"staff1_id": visit.staff1_id, "staff2_id": visit.staff2_id})
        pair_form.staff1_id.choices = pair_form.staff2_id.choices = _staff_choices((visit.staff1_id, visit.staff2_id))
    flags = services.visit_flags([visit])[visit.id]
    holiday = holiday_label(to_local(visit.starts_at).date())
    from .public import expected_topics

    return render_template("outreach/visit.html", visit=visit, pair_form=pair_form, flags=flags, holiday=holiday,
                           expected=expected_topics(visit), topic_labels=TOPIC_LABELS,
                           confirm=ConfirmForm(), started=visit.starts_at <= now_utc(), warnings=list(warnings),
                           not_held_labels=NOT_HELD_LABELS), status


@bp.route("/visits/<visit_id>")
@read_only
def visit(visit_id):
    return _render_visit(get_visit_or_404(visit_id))


@bp.route("/visits/<visit_id>/pair", methods=["POST"])
def visit_pair(visit_id):
    visit = get_visit_or_404(visit_id)
    form = PairForm()
    form.staff1_id.choices = form.staff2_id.choices = _staff_choices((visit.staff1_id, visit.staff2_id))
    warnings: list[str] = []
    if form.validate_on_submit() and not (warnings := _clashes(form, visit, visit.starts_at, visit.ends_at,
                                                               [form.staff1_id.data, form.staff2_id.data])):
        try:
            services.assign_pair(visit, form.staff1_id.data, form.staff2_id.data)
        except services.OutreachError as exc:
            form.staff2_id.errors.append(str(exc))
        else:
            flags = services.visit_flags([visit])[visit.id]
            flash(_("Workers saved."), "success")
            if flags.no_workers or flags.single_worker:
                flash(_("This visit has only one worker. Outreach visits are made in pairs."), "warning")
            for user in flags.new_to:
                flash(_("The venue is new to %(name)s: make sure they go with someone who has been there.",
                        name=user.name), "warning")
            return redirect(url_for("outreach.visit", visit_id=visit.id))
    return _render_visit(visit, form, warnings=warnings)


@bp.route("/visits/<visit_id>/move", methods=["GET", "POST"])
def visit_move(visit_id):
    visit = get_visit_or_404(visit_id)
    if visit.status == VisitStatus.DONE.value:
        flash(_("A visit that has taken place cannot be moved."), "error")
        return redirect(url_for("outreach.visit", visit_id=visit.id))
    form = MoveForm()
    holiday = None
    warnings: list[str] = []
    if request.method == "GET":
        local_start, local_end = to_local(visit.starts_at), to_local(visit.ends_at)
        form.day.data, form.start_time.data, form.end_time.data = (local_start.date(), local_start.time(),
                                                                   local_end.time())
        form.version.data = str(visit.version)
    elif form.validate_on_submit() and form.check_version(visit.version):
        holiday = holiday_label(form.day.data)
        warnings = _clashes(form, visit, local_to_utc(form.day.data, form.start_time.data),
                            local_to_utc(form.day.data, form.end_time.data), [visit.staff1_id, visit.staff2_id])
        if warnings:
            pass  # shown above the form with "save anyway"
        elif holiday and not form.confirm_holiday.data:
            form.day.errors.append(_("%(day)s is a public holiday (%(name)s). Many venues are closed. Choose another "
                                     "day, or tick the box below to move the visit anyway.",
                                     day=local_date(form.day.data), name=holiday))
        else:
            services.move_visit(visit, form.day.data, form.start_time.data, form.end_time.data)
            flash(_("The visit was moved."), "success")
            if holiday:
                flash(_("Note: the new date is a public holiday (%(name)s).", name=holiday), "warning")
            return redirect(url_for("outreach.visit", visit_id=visit.id))
    return render_template("outreach/move.html", form=form, visit=visit, holiday=holiday, warnings=warnings)


@bp.route("/visits/<visit_id>/cancel", methods=["POST"])
def visit_cancel(visit_id):
    visit = get_visit_or_404(visit_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.cancel_visit(visit)
    except services.OutreachError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The visit was cancelled. It stays in the venue's calendar marked as cancelled."), "success")
    return redirect(url_for("outreach.visit", visit_id=visit.id))


@bp.route("/visits/<visit_id>/restore", methods=["POST"])
def visit_restore(visit_id):
    visit = get_visit_or_404(visit_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.restore_visit(visit)
    flash(_("The visit is back on the rota."), "success")
    return redirect(url_for("outreach.visit", visit_id=visit.id))


@bp.route("/visits/<visit_id>/counts", methods=["GET", "POST"])
def visit_report(visit_id):
    visit = get_visit_or_404(visit_id)
    report = visit.report
    form = ReportForm(obj=report)
    if request.method == "GET":
        form.version.data = str(report.version if report else 0)
        if report is None:
            # Topics and follow-ups start at 0 so only what happened needs typing on a phone;
            # people met stays empty so it is always entered on purpose.
            for name in services.COUNT_FIELDS[1:]:
                getattr(form, name).data = 0
        else:
            form.held.data = "yes" if report.held else "no"
    elif form.validate_on_submit() and form.check_version(report.version if report else 0):
        held = form.held.data != "no"
        found = identifying_bits(form.note.data or "", known=(visit.venue.name, visit.venue.partner.name))
        if found and not form.save_anyway.data:
            # A warning, not a refusal: the form comes back with the input and "save anyway".
            form.note_warning = found
        else:
            counts = {name: getattr(form, name).data for name in services.COUNT_FIELDS}
            try:
                services.save_report(visit, current_user, counts, held=held,
                                     not_held_reason=form.not_held_reason.data if not held else "",
                                     queue=form.queue.data, note=form.note.data or "")
            except services.OutreachError as exc:
                form.form_errors.append(str(exc))
            else:
                flash(_("Counts saved. Thank you!") if held else _("Recorded: the visit did not take place."),
                      "success")
                return redirect(url_for("outreach.visit", visit_id=visit.id))
    return render_template("outreach/report_form.html", form=form, visit=visit)


# --- lead's report ------------------------------------------------------------------------------

def _period_months():
    form = ReportPeriodForm(request.args)
    if not form.validate():
        form.months.data = 12
    return form, services.report_months(local_today(), form.months.data)


def _report_venues(ids) -> list[OutreachVenue]:
    """The venues a report lists: active ones, and any with visits in the period."""
    stmt = sa.select(OutreachVenue).where(sa.or_(OutreachVenue.active, OutreachVenue.id.in_(ids or [0])),
                                          services.venue_visible_condition(current_user))
    return list(db.session.scalars(stmt.order_by(OutreachVenue.name, OutreachVenue.id)))


@bp.route("/report")
@lead_required
@read_only
def report():
    """Every figure comes from ``report.suppressed``, the same rule as the CSV and the yearly page."""
    form, months = _period_months()
    per_venue = outreach_report.by_venue(months)
    per_month = outreach_report.by_period(months, "month")
    venues = _report_venues(list(per_venue))
    empty = outreach_report.empty_row()
    k = outreach_report.threshold()
    hidden = outreach_report.hidden_text(k)

    locale = format_locale()  # once, not per cell: the page has a thousand

    def cell(value):
        return hidden if value is None else number(value, 0, locale=locale)

    def ratio(value):
        return hidden if value is None else number(value, 1, locale=locale)

    return render_template("outreach/report.html", form=form, months=months, venues=venues, k=k,
                           per_venue={v.id: per_venue.get(v.id, empty) for v in venues},
                           per_month={(v.id, m): per_month.get((v.id, m), empty) for v in venues for m in months},
                           totals=outreach_report.overall(months), per_visit=outreach_report.per_visit,
                           topics=TOPICS, topic_labels=TOPIC_LABELS, cell=cell,
                           month_labels={m: month_year(m, start=True, locale=locale) for m in months},
                           ratio=ratio)


@bp.route("/report.csv")
@lead_required
@read_only
def report_csv():
    _form, months = _period_months()
    by = "quarter" if request.args.get("by") == "quarter" else "month"
    body = outreach_report.report_csv(months, by)
    name = f"outreach-{by}-{months[0]:%Y-%m}-{months[-1]:%Y-%m}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/report/year")
@lead_required
@read_only
def report_year():
    """A year's figures on one printable page for the social services board (suppressed as the CSV)."""
    this_year = local_today().year
    year = request.args.get("year", type=int) or this_year
    year = year if 2000 <= year <= this_year else this_year
    months = [date(year, m, 1) for m in range(1, 13)]
    header, rows = outreach_report.table(months, "year")
    return render_template("outreach/report_year.html", year=year, this_year=this_year, header=header, rows=rows,
                           k=outreach_report.threshold())


# Charts are drawn from the suppressed figures only and kept in feedback's chart cache under a
# hash of exactly what they show (kind, language, title, labels, figures), as feedback's charts.
CHART_DRAWING = "outreach-charts-1"   # raise when the drawing code changes


def _chart(parts: list, render) -> Response:
    from feedback import services as chart_cache

    key = hashlib.sha256(json.dumps([CHART_DRAWING, str(get_locale()), *parts], default=str,
                                    ensure_ascii=False).encode()).hexdigest()
    if request.if_none_match.contains(key) and chart_cache.chart_is_cached(key):
        body = None
    else:
        cached = chart_cache.cached_chart(key)
        if cached is not None:
            body = cached[0]
        else:
            body = render()
            with writing():
                chart_cache.store_chart(key, body, "image/png")
    response = Response(body, status=200 if body is not None else 304, mimetype="image/png")
    response.set_etag(key)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/report/venues/<venue_id>/chart.png")
@lead_required
@read_only
def report_chart(venue_id):
    venue = get_venue_or_404(venue_id)
    _form, months = _period_months()
    # The same suppressed monthly figures as the table beside it: a hidden month has no bar.
    series = outreach_report.by_period(months, "month", venue_id=venue.id)
    empty = outreach_report.empty_row()
    rows = [series.get((venue.id, m), empty) for m in months]
    labels = [month_year(m, start=True, short=True) for m in months]
    people, booked = [r["people_met"] for r in rows], [r["appointments_booked"] for r in rows]
    texts = (_("People met"), _("Appointments booked"), _("fewer than %(k)d", k=outreach_report.threshold()))
    return _chart(["months", venue.name, labels, people, booked, texts], lambda: venue_chart_png(
        venue.name, labels, people, booked, people_label=texts[0], appointments_label=texts[1], hidden_label=texts[2]))


@bp.route("/report/venues/<venue_id>/topics.png")
@lead_required
@read_only
def report_topics_chart(venue_id):
    venue = get_venue_or_404(venue_id)
    _form, months = _period_months()
    row = outreach_report.by_venue(months, venue_id=venue.id).get(venue.id) or outreach_report.empty_row()
    labels = [str(TOPIC_LABELS[t]) for t in TOPICS]
    values = [row[f"topic_{t}"] for t in TOPICS]
    title = _("Topics discussed per venue (people)") + ": " + venue.name
    hidden = _("fewer than %(k)d", k=outreach_report.threshold())
    return _chart(["topics", title, labels, values, hidden],
                  lambda: topics_chart_png(title, labels, values, hidden_label=hidden))


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    app = state.app
    register_agenda_source(app, agenda.agenda_source)
    register_to_record_source(app, agenda.to_record_source)
    register_exception_source(app, agenda.exception_source)
    register_busy_source(app, services.BUSY)
    register_source(app, calendar_source.SOURCE)
    register_demo(app, demo.seed)


from . import (
    feeds as _feed_routes,  # noqa: E402,F401  (the venue's calendar links)
    public,  # noqa: E402,F401  (the poster and the public venue page)
    venues as _venue_routes,  # noqa: E402,F401  (the venue's site details and trial review)
)
