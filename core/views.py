"""Start page, language switch and health check."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l, lazy_pgettext
from flask_login import current_user, login_required
from wtforms import HiddenField, SelectField, SubmitField

from .dashboard import panels_for
from .extensions import db
from .forms import Form
from .security import is_safe_next, read_only

bp = Blueprint("core", __name__, template_folder="templates")


class LanguageForm(Form):
    language = SelectField(_l("Language"), choices=[("fi", "suomi"), ("sv", "svenska"), ("en", "English")])
    next = HiddenField()
    submit = SubmitField(lazy_pgettext("switch language", "Change"))


@bp.route("/")
@login_required
@read_only
def index():
    return render_template("core/index.html", panels=panels_for(current_user))


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
