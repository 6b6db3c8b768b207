"""Login, logout, own password and language, and the lead's staff administration."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from core.db import get_or_404
from core.extensions import db
from core.security import is_safe_next
from core.transaction import keep_writes

from . import services
from .forms import ActiveForm, ChangePasswordForm, LoginForm, NewStaffForm, StaffForm
from .models import User
from .permissions import lead_required
from .session_auth import end_current_session, start_session

bp = Blueprint("accounts", __name__, template_folder="templates")


def client_address() -> str:
    # Behind a reverse proxy configure ProxyFix (README); never trust X-Forwarded-For blindly.
    return request.remote_addr or "unknown"


def throttled_message(retry_after: int) -> str:
    # A hard limit waits out the window; the per-account delay is seconds.
    if retry_after > current_app.config["LOGIN_MAX_DELAY_SECONDS"]:
        return _("Too many failed attempts. Wait 15 minutes and try again.")
    return _("Too many failed attempts. Wait %(seconds)d seconds and try again.", seconds=retry_after)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data, client_address())
        if result.throttled:
            keep_writes()  # the refused attempt is recorded although the answer is 429
            form.form_errors.append(throttled_message(result.retry_after))
            return render_template("accounts/login.html", form=form), 429, {"Retry-After": str(result.retry_after)}
        if result.user is None:
            form.form_errors.append(_("Wrong email or password."))
            status = 200
        else:
            start_session(result.user)
            login_user(result.user)
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("core.index"))
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    from core.forms import ConfirmForm

    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    end_current_session()
    logout_user()
    flash(_("You have logged out."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        check = services.check_current_password(current_user, form.current_password.data, client_address())
        if check.throttled:
            keep_writes()  # the refused guess is recorded although the answer is 429
            form.current_password.errors.append(throttled_message(check.retry_after))
            return (render_template("accounts/password.html", form=form), 429,
                    {"Retry-After": str(check.retry_after)})
        if check.user is None:
            # The failed guess counts towards the throttle: the request's commit stores it.
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            services.change_password(current_user, form.new_password.data)
            flash(_("Password changed. Your other logins have been ended."), "success")
            return redirect(url_for("core.index"))
    return render_template("accounts/password.html", form=form)


@bp.route("/staff")
@lead_required
def staff_list():
    users = db.session.scalars(sa.select(User).order_by(User.active.desc(), User.name)).all()
    return render_template("accounts/staff_list.html", users=users, toggle_form=ActiveForm())


@bp.route("/staff/new", methods=["GET", "POST"])
@lead_required
def staff_new():
    form = NewStaffForm()
    if request.method == "GET":
        form.language.data = "fi"
    if form.validate_on_submit():
        if services.email_taken(form.email.data):
            form.email.errors.append(_("A staff member with this email already exists."))
        else:
            user = services.create_staff(
                email=form.email.data, name=form.name.data, password=form.password.data, role=form.role.data,
                language=form.language.data, title=form.title.data or "", phone=form.phone.data or "",
            )
            flash(_("Staff member %(name)s added.", name=user.name), "success")
            return redirect(url_for("accounts.staff_list"))
    return render_template("accounts/staff_form.html", form=form, user=None)


@bp.route("/staff/<user_id>/edit", methods=["GET", "POST"])
@lead_required
def staff_edit(user_id):
    user = get_or_404(User, user_id)
    form = StaffForm(obj=user)
    if request.method == "GET":
        form.version.data = str(user.version)
    if form.validate_on_submit() and form.check_version(user.version):
        if services.email_taken(form.email.data, exclude_id=user.id):
            form.email.errors.append(_("A staff member with this email already exists."))
        elif user.id == current_user.id and form.role.data != "lead":
            form.role.errors.append(_("You cannot remove your own lead role."))
        else:
            user.name = form.name.data
            user.email = services.normalise_email(form.email.data)
            user.title = form.title.data or ""
            user.phone = form.phone.data or ""
            user.role = form.role.data
            user.language = form.language.data
            user.version += 1
            flash(_("Changes saved."), "success")
            return redirect(url_for("accounts.staff_list"))
    return render_template("accounts/staff_form.html", form=form, user=user)


@bp.route("/staff/<user_id>/active", methods=["POST"])
@lead_required
def staff_toggle_active(user_id):
    user = get_or_404(User, user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash(_("You cannot deactivate yourself."), "error")
        return redirect(url_for("accounts.staff_list"))
    services.set_active(user, not user.active)
    if user.active:
        flash(_("%(name)s can log in again.", name=user.name), "success")
    else:
        flash(_("%(name)s was deactivated and logged out everywhere.", name=user.name), "success")
    return redirect(url_for("accounts.staff_list"))
