"""Login, logout, own password and language, and the lead's staff administration."""
from __future__ import annotations

import requests
import sqlalchemy as sa
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import OAuthError
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from joserfc.errors import JoseError
from sqlalchemy.orm import selectinload

from core.db import get_or_404
from core.extensions import db
from core.forms import ConfirmForm
from core.security import is_safe_next, read_only
from core.transaction import keep_writes
from core.web import paginate

from . import mfa, oidc, services, units
from .forms import (
    ActiveForm,
    ChangePasswordForm,
    CodeForm,
    EnrolForm,
    LoginForm,
    NewStaffForm,
    PolicyForm,
    RemoveSecondFactorForm,
    StaffForm,
    UnitForm,
)
from .models import PasskeyCredential, Role, SecurityEvent, TotpCredential, Unit, UnitMembership, User
from .permissions import county_admin_required, staff_admin_required
from .session_auth import end_current_session, start_session

bp = Blueprint("accounts", __name__, template_folder="templates")
bp.record_once(lambda state: oidc.init_app(state.app))


def client_address() -> str:
    # Behind a reverse proxy configure ProxyFix (README); never trust X-Forwarded-For blindly.
    return request.remote_addr or "unknown"


def throttled_message(retry_after: int) -> str:
    # A hard limit waits out the window; the per-account delay is seconds.
    if retry_after > current_app.config["LOGIN_MAX_DELAY_SECONDS"]:
        return _("Too many failed attempts. Wait 15 minutes and try again.")
    return _("Too many failed attempts. Wait %(seconds)d seconds and try again.", seconds=retry_after)


def _sso_context() -> dict:
    return {"sso": oidc.configured(), "sso_name": current_app.config.get("OIDC_NAME") or _("your organisation"),
            "local_login": str(current_app.config.get("LOCAL_LOGIN", "1")).lower() not in ("0", "false", "no", "off")}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        if not oidc.local_login_allowed(form.email.data):
            # Passwords are off: only the break-glass administrator may use one. The same answer
            # for every address, so it reveals no account.
            form.form_errors.append(_("Sign in with your organisation's account."))
            return render_template("accounts/login.html", form=form, **_sso_context()), 403
        result = services.authenticate(form.email.data, form.password.data, client_address())
        if result.throttled:
            keep_writes()  # the refused attempt is recorded although the answer is 429
            form.form_errors.append(throttled_message(result.retry_after))
            return (render_template("accounts/login.html", form=form, **_sso_context()), 429,
                    {"Retry-After": str(result.retry_after)})
        if result.user is None:
            form.form_errors.append(_("Wrong email or password."))
            status = 200
        else:
            target = request.args.get("next")
            target = target if is_safe_next(target) else None
            if mfa.has_second_factor(result.user):
                # Not logged in yet: the code step must follow (accounts.mfa).
                mfa.begin_pending(result.user, target)
                return redirect(url_for("accounts.second_factor"))
            return _log_in(result.user, target)
    return render_template("accounts/login.html", form=form, **_sso_context()), status


SSO_NEXT = "sso_next"
SSO_ID_TOKEN = "sso_id_token"


def _sso_refused(message: str, status: int):
    current_app.logger.info("single sign-on refused (%s)", status)
    return render_template("accounts/sso_error.html", message=message), status


@bp.route("/login/sso")
def sso_start():
    """Off to the organisation's sign-in page (authorization code flow with PKCE, state, nonce)."""
    if not oidc.configured():
        abort(404)
    target = request.args.get("next")
    try:
        redirect_uri = url_for("accounts.sso_callback", _external=True)
        response = oidc.client().authorize_redirect(redirect_uri)
    except requests.RequestException:
        return _sso_refused(_("The sign-in service is not available right now. Try again in a moment."), 503)
    session[SSO_NEXT] = target if is_safe_next(target) else ""
    return response


@bp.route("/login/sso/callback")
def sso_callback():
    if not oidc.configured():
        abort(404)
    try:
        token = oidc.client().authorize_access_token(leeway=oidc.LEEWAY_SECONDS)
        claims = token.get("userinfo")
        if not claims:
            raise OAuthError(description="no ID token")
    except requests.RequestException:
        return _sso_refused(_("The sign-in service is not available right now. Try again in a moment."), 503)
    except (AuthlibBaseError, JoseError, KeyError, ValueError, TypeError):  # OAuth and ID-token (JOSE) errors
        # A wrong or replayed state or code, a token that is expired, not for us or not signed by
        # the provider: nothing is logged in, and the person starts again.
        return _sso_refused(_("The sign-in could not be completed. Start again from the login page."), 400)
    match = oidc.match_user(dict(claims))
    if match.user is None:
        if match.reason == "inactive":
            return _sso_refused(_("This account is not in use. Ask your lead."), 403)
        return _sso_refused(_("There is no Kohtaamo account for you yet. Ask your lead to add you."), 403)
    target = session.pop(SSO_NEXT, "") or None
    id_token = token.get("id_token", "")
    start_session(match.user)
    login_user(match.user)
    # Kept for signing out at the provider too (its id_token_hint); the person's own token.
    session[SSO_ID_TOKEN] = id_token
    current_app.logger.info("single sign-on succeeded for user %s", match.user.id)
    return redirect(target or url_for("core.index"))


def _log_in(user: User, target: str | None):
    start_session(user)
    login_user(user)
    if mfa.second_factor_required() and not mfa.has_second_factor(user):
        # The lead requires a second factor: this login leads to enrolment first.
        session[mfa.MUST_ENROL_KEY] = True
        flash(_("Your organisation requires a second factor. Set it up to continue."), "info")
        return redirect(url_for("accounts.second_factor_settings"))
    return redirect(target or url_for("core.index"))


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    """The login's second step: a code from the authenticator app or a recovery code."""
    user, target = mfa.pending()
    if user is None:
        flash(_("The sign-in took too long or was not started. Start again."), "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        email, address = user.email, client_address()
        throttle = services.check_throttle(email, address)
        if throttle.refused:
            services.record_attempt(email, address, False)
            keep_writes()  # the refused attempt is recorded although the answer is 429
            form.code.errors.append(throttled_message(throttle.retry_after))
            return (render_template("accounts/second_factor.html", form=form, has_passkey=False), 429,
                    {"Retry-After": str(throttle.retry_after)})
        if mfa.verify(user, form.code.data, address):
            services.record_attempt(email, address, True)
            mfa.finish_pending()
            return _log_in(user, target or None)
        # A wrong code is a failed login for the account and the address (throttling).
        services.record_attempt(email, address, False)
        form.code.errors.append(_("The code is wrong or was already used. Check the code in your app and try again."))
    return render_template("accounts/second_factor.html", form=form, has_passkey=bool(mfa.passkeys(user))), status


@bp.before_app_request
def _enrolment_first():
    # Set at login when the lead requires a second factor and the user has none: until it is set
    # up, every page leads to the setup (a session flag, so ordinary pages cost no query).
    if session.get(mfa.MUST_ENROL_KEY) and request.endpoint not in (
            "accounts.second_factor_settings", "accounts.passkey_registration_options", "accounts.passkey_register",
            "accounts.logout", "static", "core.set_language", None):
        return redirect(url_for("accounts.second_factor_settings"))
    return None


@bp.route("/logout", methods=["POST"])
def logout():
    from core.forms import ConfirmForm

    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    id_token = session.get(SSO_ID_TOKEN)
    end_current_session()
    logout_user()
    flash(_("You have logged out."), "success")
    end_session = _provider_logout_url(id_token) if id_token else None
    return redirect(end_session or url_for("accounts.login"))


def _provider_logout_url(id_token: str) -> str | None:
    """RP-initiated logout: also end the session at the provider, where it supports that."""
    from urllib.parse import urlencode

    try:
        metadata = oidc.client().load_server_metadata()
    except requests.RequestException:
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    back = url_for("accounts.login", _external=True)
    return f"{endpoint}?{urlencode({'id_token_hint': id_token, 'post_logout_redirect_uri': back})}"


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


# --- staff and units (leads for the units they lead, county administrators for all) -----------

def _manageable_unit_ids() -> list[int]:
    """The units the current administrator may put staff in and see the staff of."""
    if current_user.is_county_admin:
        return [u.id for u in units.all_units()]
    return sorted(units.led_unit_ids(current_user))


def _staff_scope(stmt):
    """A lead sees and edits the staff of the units they lead; a county administrator everyone."""
    if current_user.is_county_admin:
        return stmt
    return stmt.where(User.id.in_(sa.select(UnitMembership.user_id)
                                  .where(UnitMembership.unit_id.in_(units.led_unit_ids_select(current_user)))))


def _staff_or_404(user_id) -> User:
    user = get_or_404(User, user_id)
    if db.session.scalar(_staff_scope(sa.select(User.id).where(User.id == user.id))) is None:
        abort(404)  # another unit's staff member
    return user


def _setup_staff_form(form, user: User | None) -> None:
    manageable = set(_manageable_unit_ids())
    if not current_user.is_county_admin:
        # Only a county administrator makes county administrators.
        form.role.choices = [c for c in form.role.choices if c[0] != Role.COUNTY_ADMIN.value]
    if len(manageable) == 1:
        del form.unit_ids  # one unit to manage (a one-team installation): nothing to choose
        return
    form.unit_ids.choices = [(u.id, u.name) for u in units.all_units() if u.id in manageable]
    if request.method == "GET":
        form.unit_ids.data = ([u.id for u in user.units if u.id in manageable] if user is not None
                              else sorted(manageable)[:1])


def _check_staff_form(form, user: User | None) -> bool:
    ok = True
    if form.role.data == Role.COUNTY_ADMIN.value and not current_user.is_county_admin:
        form.role.errors.append(_("Only a county administrator can give this role."))
        ok = False
    if "unit_ids" in form and form.role.data != Role.COUNTY_ADMIN.value and not form.unit_ids.data:
        form.unit_ids.errors.append(_("Choose at least one unit."))
        ok = False
    return ok


def _new_unit_ids(form, user: User | None) -> list[int]:
    """The memberships after the save: the chosen ones among those the administrator manages,
    and the person's other units untouched (a lead cannot see or change those)."""
    manageable = set(_manageable_unit_ids())
    others = [u.id for u in user.units if u.id not in manageable] if user is not None else []
    chosen = form.unit_ids.data if "unit_ids" in form else manageable
    return sorted(set(others) | {i for i in chosen if i in manageable})


@bp.route("/staff")
@staff_admin_required
def staff_list():
    users = db.session.scalars(_staff_scope(sa.select(User)).order_by(User.active.desc(), User.name)
                               .options(selectinload(User.units))).all()
    return render_template("accounts/staff_list.html", users=users, toggle_form=ActiveForm())


@bp.route("/staff/new", methods=["GET", "POST"])
@staff_admin_required
def staff_new():
    form = NewStaffForm()
    _setup_staff_form(form, None)
    if request.method == "GET":
        form.language.data = "fi"
    if form.validate_on_submit() and _check_staff_form(form, None):
        if services.email_taken(form.email.data):
            form.email.errors.append(_("A staff member with this email already exists."))
        else:
            user = services.create_staff(
                email=form.email.data, name=form.name.data, password=form.password.data, role=form.role.data,
                language=form.language.data, title=form.title.data or "", phone=form.phone.data or "",
                unit_ids=_new_unit_ids(form, None),
            )
            flash(_("Staff member %(name)s added.", name=user.name), "success")
            return redirect(url_for("accounts.staff_list"))
    return render_template("accounts/staff_form.html", form=form, user=None)


@bp.route("/staff/<user_id>/edit", methods=["GET", "POST"])
@staff_admin_required
def staff_edit(user_id):
    user = _staff_or_404(user_id)
    form = StaffForm(obj=user)
    _setup_staff_form(form, user)
    if request.method == "GET":
        form.version.data = str(user.version)
    if form.validate_on_submit() and form.check_version(user.version) and _check_staff_form(form, user):
        if services.email_taken(form.email.data, exclude_id=user.id):
            form.email.errors.append(_("A staff member with this email already exists."))
        elif user.id == current_user.id and form.role.data != current_user.role:
            form.role.errors.append(_("You cannot change your own role."))
        else:
            user.name = form.name.data
            user.email = services.normalise_email(form.email.data)
            user.title = form.title.data or ""
            user.phone = form.phone.data or ""
            user.role = form.role.data
            user.language = form.language.data
            user.version += 1
            units.set_memberships(user, _new_unit_ids(form, user))
            flash(_("Changes saved."), "success")
            return redirect(url_for("accounts.staff_list"))
    return render_template("accounts/staff_form.html", form=form, user=user)


@bp.route("/staff/<user_id>/active", methods=["POST"])
@staff_admin_required
def staff_toggle_active(user_id):
    user = _staff_or_404(user_id)
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


@bp.route("/units")
@county_admin_required
@read_only
def unit_list():
    counts = dict(db.session.execute(sa.select(UnitMembership.unit_id, sa.func.count())
                                     .group_by(UnitMembership.unit_id)).all())
    return render_template("accounts/units.html", units=units.all_units(), counts=counts)


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<unit_id>/edit", methods=["GET", "POST"])
@county_admin_required
def unit_form(unit_id=None):
    unit = get_or_404(Unit, unit_id) if unit_id is not None else None
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        slug = units.slugify(form.slug.data or form.name.data)
        if units.name_taken(form.name.data, slug, exclude_id=unit.id if unit else None):
            form.name.errors.append(_("A unit with this name or short name already exists."))
        else:
            if unit is None:
                units.create_unit(form.name.data, slug)
            else:
                unit.name, unit.slug = form.name.data, slug
            flash(_("Changes saved."), "success")
            return redirect(url_for("accounts.unit_list"))
    return render_template("accounts/unit_form.html", form=form, unit=unit)


@bp.route("/account/second-factor", methods=["GET", "POST"])
@login_required
def second_factor_settings():
    """Set up, renew or turn off the authenticator app; the recovery codes are shown once."""
    cred = mfa.credential(current_user)
    enrol_form = EnrolForm(prefix="enrol")
    remove_form = RemoveSecondFactorForm(prefix="remove")
    # Two forms on one page, told apart by their prefixed fields.
    if "enrol-code" in request.form and enrol_form.validate_on_submit():
        codes = mfa.confirm_enrolment(current_user, enrol_form.code.data, client_address())
        if codes is not None:
            flash(_("The second factor is on. Keep the recovery codes somewhere safe."), "success")
            # Shown in the answer to this POST only: never stored in the clear, never shown again.
            return render_template("accounts/recovery_codes.html", codes=codes)
        enrol_form.code.errors.append(_("The code does not match. Check that the app's clock is right and "
                                        "enter the newest code."))
    elif "remove-code" in request.form and remove_form.validate_on_submit() and cred is not None:
        if mfa.verify(current_user, remove_form.code.data, client_address()):
            mfa.remove(current_user, actor=current_user, address=client_address())
            flash(_("The second factor is off."), "success")
            return redirect(url_for("accounts.second_factor_settings"))
        remove_form.code.errors.append(_("The code is wrong or was already used. Check the code in your app and "
                                         "try again."))
    enrolment = mfa.start_enrolment(current_user) if cred is None or request.args.get("renew") else None
    return render_template("accounts/second_factor_settings.html", cred=cred, enrolment=enrolment,
                           passkeys=mfa.passkeys(current_user), confirm=ConfirmForm(),
                           enrol_form=enrol_form, remove_form=remove_form,
                           codes_left=mfa.recovery_codes_left(current_user) if cred else 0,
                           required=mfa.second_factor_required())


@bp.route("/staff/security", methods=["GET", "POST"])
@staff_admin_required
def security():
    """The lead's sign-in policy and the security log."""
    form = PolicyForm()
    if request.method == "GET":
        form.require_second_factor.data = mfa.second_factor_required()
    if form.validate_on_submit():
        mfa.set_requirement(bool(form.require_second_factor.data), current_user, client_address())
        flash(_("Changes saved."), "success")
        return redirect(url_for("accounts.security"))
    # A lead sees the staff of the units they lead and the log rows about them (the staff list's
    # rule, _staff_scope); a county administrator everyone's.
    events_stmt = sa.select(SecurityEvent)
    if not current_user.is_county_admin:
        events_stmt = events_stmt.where(SecurityEvent.user_id.in_(_staff_scope(sa.select(User.id))))
    events = paginate(events_stmt.order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc()), per_page=50)
    enrolled = db.session.scalars(_staff_scope(
        sa.select(User).where(sa.or_(sa.exists().where(TotpCredential.user_id == User.id),
                                     sa.exists().where(PasskeyCredential.user_id == User.id))))
        .order_by(User.name, User.id)).all()
    return render_template("accounts/security.html", form=form, events=events, enrolled=enrolled,
                           reset_form=ConfirmForm())


@bp.route("/staff/<user_id>/second-factor/reset", methods=["POST"])
@staff_admin_required
def second_factor_reset(user_id):
    """A lost phone: the lead removes the user's second factor (logged); they set it up again."""
    user = _staff_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mfa.remove(user, actor=current_user, address=client_address())
    flash(_("The second factor of %(name)s was removed. They set it up again at their next login.", name=user.name),
          "success")
    return redirect(url_for("accounts.security"))


# --- passkeys (the JSON steps behind static/js/passkeys.js) ----------------------------------------

@bp.route("/account/passkeys/options", methods=["POST"])
@login_required
def passkey_registration_options():
    return current_app.response_class(mfa.registration_options(current_user), mimetype="application/json")


@bp.route("/account/passkeys", methods=["POST"])
@login_required
def passkey_register():
    body = request.get_json(silent=True) or {}
    name = str(body.get("name") or "").strip()[:60]
    if mfa.register_passkey(current_user, body.get("credential") or {}, name, client_address()) is None:
        return jsonify(error=_("The passkey could not be added. Try again.")), 400
    session.pop(mfa.MUST_ENROL_KEY, None)
    flash(_("The passkey was added."), "success")
    return jsonify(redirect=url_for("accounts.second_factor_settings"))


@bp.route("/account/passkeys/<int:passkey_id>/remove", methods=["POST"])
@login_required
def passkey_remove(passkey_id):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not mfa.remove_passkey(current_user, passkey_id, client_address()):
        abort(404)
    flash(_("The passkey was removed."), "success")
    return redirect(url_for("accounts.second_factor_settings"))


@bp.route("/login/passkey/options", methods=["POST"])
def passkey_login_options():
    user, _target = mfa.pending()
    if user is None:
        return jsonify(error=_("The sign-in took too long or was not started. Start again.")), 400
    return current_app.response_class(mfa.authentication_options(user), mimetype="application/json")


@bp.route("/login/passkey", methods=["POST"])
def passkey_login():
    """The login's second step with a passkey: throttled and recorded like a code."""
    user, target = mfa.pending()
    if user is None:
        return jsonify(error=_("The sign-in took too long or was not started. Start again.")), 400
    email, address = user.email, client_address()
    throttle = services.check_throttle(email, address)
    if throttle.refused:
        services.record_attempt(email, address, False)
        keep_writes()
        return jsonify(error=throttled_message(throttle.retry_after)), 429
    body = request.get_json(silent=True) or {}
    if not mfa.verify_passkey(user, body.get("credential") or {}):
        services.record_attempt(email, address, False)
        keep_writes()  # the failed attempt counts although the answer is 400
        return jsonify(error=_("The passkey was not accepted. Try again or use a code.")), 400
    services.record_attempt(email, address, True)
    mfa.finish_pending()
    response = _log_in(user, target or None)
    return jsonify(redirect=response.location)
