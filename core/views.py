"""Start page, language switch and health check."""
from __future__ import annotations

import functools
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l, lazy_pgettext
from flask_login import current_user, login_required
from wtforms import HiddenField, SelectField, SubmitField

from . import agenda as agenda_
from .dashboard import panels_for
from .extensions import db
from .forms import Form, date_in_range
from .security import is_safe_next, read_only
from .timeutil import local_today, to_local

bp = Blueprint("core", __name__, template_folder="templates")


class LanguageForm(Form):
    language = SelectField(_l("Language"), choices=[("fi", "suomi"), ("sv", "svenska"), ("en", "English")])
    next = HiddenField()
    submit = SubmitField(lazy_pgettext("switch language", "Change"))


@functools.cache
def _names_statement() -> sa.Select:
    # The staff table by name: core does not import the features' models (core.layers).
    user = sa.table("user", sa.column("id"), sa.column("name"))
    return sa.select(user.c.id, user.c.name).where(user.c.id.in_(sa.bindparam("ids", expanding=True)))


@bp.route("/")
@login_required
@read_only
def index():
    """The agenda (core/agenda.py): the day or week of ``?day=YYYY-MM-DD&view=day|week``, what is
    still to record, a lead's view of the unit; then the features' remaining panels."""
    # The day and the view come from the URL (links, bookmarks): anything else is today's day.
    view = "week" if request.args.get("view") == "week" else "day"
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = local_today()
    if not date_in_range(day):
        day = local_today()
    first, last = agenda_.period_bounds(day, view)
    step = timedelta(days=7 if view == "week" else 1)
    items = agenda_.agenda(current_user, first, last)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    by_day = {d: [] for d in days}
    for item in items:
        local_day = to_local(item["start"]).date()
        by_day.setdefault(max(first, min(last, local_day)), []).append(item)
    pending = None
    overview = None
    if current_user.is_lead:
        overview = agenda_.lead_overview(agenda_.Staff(current_user.id))
        # A record shared with another unit's worker counts for the lead's own staff only.
        own = set(db.session.scalars(agenda_.staff_select(), {"viewer_id": current_user.id}))
        # A lead is one of the staff of the units they lead: their own list is part of the staff's
        # (a lead of no unit yet is asked for their own).
        staff_pending = overview.pop("pending")
        if current_user.id in own:
            pending = agenda_.own_of(staff_pending, current_user.id)
        for key in ("open_counts", "overdue_counts"):
            overview[key] = type(overview[key])({k: v for k, v in overview[key].items() if k in own})
    if pending is None:
        pending = agenda_.to_record(current_user.id)
    names = {}
    if overview and overview["open_counts"]:
        names = dict(db.session.execute(_names_statement(), {"ids": sorted(overview["open_counts"])}).all())
    return render_template("core/index.html", panels=panels_for(current_user), view=view, day=day,
                           first=first, last=last, by_day=by_day, today=local_today(),
                           previous_day=day - step, next_day=day + step,
                           to_record=pending[:agenda_.TO_RECORD_SHOWN], to_record_total=len(pending),
                           is_overdue=agenda_.is_overdue, overview=overview, worker_names=names)


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    lang = form.language.data
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.language = lang
    target = form.next.data
    return redirect(target if is_safe_next(target) else url_for("core.index"))


@bp.route("/healthz")
@read_only
def healthz():
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
