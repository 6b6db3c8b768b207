"""Pair safety's pages: the tap page of a home visit or an outreach visit (for the pair only), the
lead's and contact person's "reached them, all fine", the start page's panels, the hook shown on
the visit's own page, and the overdue e-mails run by ``flask send-reminders``."""
from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from accounts.views import client_address
from appointments.views import get_appointment_or_404
from core.dashboard import Panel, register_panel
from core.db import get_or_404, utcnow
from core.demo import register_demo
from core.forms import ConfirmForm
from core.registry import register
from core.security import read_only
from outreach.views import get_visit_or_404

from . import demo, services, worker
from .forms import ArriveForm, minutes_label
from .models import CheckKind, FieldCheck

bp = Blueprint("safety", __name__, template_folder="templates", url_prefix="/safety")


# --- the visit, for its pair only --------------------------------------------------------------

def _visit_for_pair_or_404(kind: str, record_id):
    """The visit through its own feature's rule (appointments: a worker or a lead of the unit;
    outreach: any staff member), narrowed to the pair: anyone else gets 404, as for a missing id."""
    if kind == CheckKind.HOME_VISIT:
        visit = get_appointment_or_404(record_id)
    elif kind == CheckKind.OUTREACH:
        visit = get_visit_or_404(record_id)
    else:
        abort(404)
    if current_user.id not in services.pair_ids(kind, visit) or not services.is_open_visit(kind, visit):
        abort(404)
    return visit


def _visit_url(kind: str, visit) -> str:
    if kind == CheckKind.HOME_VISIT:
        return url_for("appointments.show", appointment_id=visit.id)
    return url_for("outreach.visit", visit_id=visit.id)


def _arrive_form(kind: str, visit) -> ArriveForm:
    form = ArriveForm()
    margins = sorted({*services.MARGIN_CHOICES, services.default_margin()})
    form.margin.choices = [(n, minutes_label(n)) for n in margins]
    contacts = services.contact_choices(kind, visit)
    form.contact.choices = [(0, _("Nobody but the unit's lead"))] + [(u.id, u.name) for u in contacts]
    if form.margin.data is None:
        form.margin.data = services.default_margin()
    if form.contact.data is None:
        lead = services.default_contact(kind, visit)
        form.contact.data = lead.id if lead else 0
    return form


def _render(kind: str, visit, form: ArriveForm | None = None):
    check = services.check_for(kind, visit)
    return render_template("safety/check.html", kind=kind, kind_label=services.KIND_LABELS[kind], visit=visit,
                           check=check, pair=visit.workers if kind == CheckKind.HOME_VISIT else visit.staff,
                           form=form or _arrive_form(kind, visit), confirm=ConfirmForm(),
                           visit_url=_visit_url(kind, visit), alert=services.get_alert(check) if check else None,
                           due_at=visit.ends_at + timedelta(minutes=check.margin_minutes) if check else None)


@bp.route("/<kind>/<record_id>")
@login_required
@read_only
def check(kind, record_id):
    return _render(kind, _visit_for_pair_or_404(kind, record_id))


@bp.route("/<kind>/<record_id>/arrived", methods=["POST"])
@login_required
def arrived(kind, record_id):
    visit = _visit_for_pair_or_404(kind, record_id)
    form = _arrive_form(kind, visit)
    if not form.validate_on_submit():
        return _render(kind, visit, form)
    contact = next((u for u in services.contact_choices(kind, visit) if u.id == form.contact.data), None)
    services.arrive(kind, visit, current_user, margin=form.margin.data, contact=contact,
                    address=client_address())
    flash(_("Saved: you are there."), "success")
    return redirect(url_for("safety.check", kind=kind, record_id=visit.id))


@bp.route("/<kind>/<record_id>/done", methods=["POST"])
@login_required
def done(kind, record_id):
    visit = _visit_for_pair_or_404(kind, record_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    found = services.check_for(kind, visit)
    if found is None or found.arrived_at is None:
        flash(_("Tap \"we are there\" first."), "error")
        return redirect(url_for("safety.check", kind=kind, record_id=visit.id))
    services.done(found, current_user, address=client_address())
    flash(_("Saved: the visit has ended."), "success")
    return redirect(url_for("safety.check", kind=kind, record_id=visit.id))


@bp.route("/checks/<check_id>/resolve", methods=["POST"])
@login_required
def resolve(check_id):
    """"Reached them, all fine": for the contact person and the leads of the visit's units, while
    the check is overdue; anyone else gets 404."""
    found = get_or_404(FieldCheck, check_id)
    alert = services.get_alert(found)
    if alert is None or not services.may_resolve(current_user, alert):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.resolve(found, current_user, address=client_address())
    flash(_("Marked: the pair was reached and all is fine."), "success")
    return redirect(url_for("core.index"))


# --- the start page and the visit's page ---------------------------------------------------------

def alerts_panel(user) -> Panel | None:
    alerts = services.alerts_for(user)
    if not alerts:
        return None
    # Plain values: nothing of the ORM rows is read after the page's transaction.
    rows = [{"id": a.check.id, "kind": a.label, "starts_at": a.starts_at, "ends_at": a.ends_at,
             "pair": ", ".join(a.pair), "arrived_at": a.check.arrived_at, "due_at": a.due_at} for a in alerts]
    # Before the agenda (core/templates/core/index.html shows negative orders at the top).
    return Panel("safety/_alerts.html", {"safety_alerts": rows, "safety_confirm": ConfirmForm()}, order=-20)


def my_visits_panel(user) -> Panel | None:
    visits = services.my_visits_today(user)
    if not visits:
        return None
    rows = [{"kind": v.kind, "label": v.label, "record_id": v.record_id, "starts_at": v.starts_at,
             "ends_at": v.ends_at, "arrived": bool(v.check and v.check.arrived_at),
             "done": bool(v.check and v.check.done_at)} for v in visits]
    return Panel("safety/_my_visits.html", {"safety_visits": rows}, order=-10)


@bp.app_context_processor
def _hook():
    def safety_hook(kind: str, visit) -> Markup:
        """The pair's way to the tap page, on the visit's own page (appointments, outreach)."""
        if not getattr(current_user, "is_authenticated", False) or current_user.id not in services.pair_ids(kind, visit) \
                or not services.is_open_visit(kind, visit):
            return Markup("")
        return Markup(render_template("safety/_hook.html", kind=kind, record_id=visit.id,
                                      check=services.check_for(kind, visit)))
    return {"safety_hook": safety_hook}


# --- the cron run ----------------------------------------------------------------------------------

def send_alerts_job(now: datetime) -> str:
    """Run by ``flask send-reminders`` (its "send_reminders_jobs" registry): the overdue e-mails."""
    sent = worker.send_alerts(now)
    return f"safety alerts e-mailed {sent}"


@bp.cli.command("send-safety-alerts")
def send_safety_alerts() -> None:
    """Send the overdue pair-safety e-mails now (also part of ``flask send-reminders``)."""
    click.echo(send_alerts_job(utcnow()))


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    app = state.app
    register_panel(app, alerts_panel)
    register_panel(app, my_visits_panel)
    register(app, "send_reminders_jobs", send_alerts_job)
    register_demo(app, demo.seed)
