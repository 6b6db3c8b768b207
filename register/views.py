"""Clients, relatives and partner organisations."""
from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from accounts.models import User
from accounts.permissions import lead_required
from accounts.units import UnitChoiceError, leads_unit, staff_choices, units_of
from core.db import get_or_404
from core.demo import register_demo
from core.extensions import db
from core.forms import ConfirmForm
from core.security import is_safe_next, read_only
from core.web import page_arg, paginate, search_arg

from . import access, demo, services
from .access import (
    get_client_or_404,
    get_partner_or_404,
    log_access,
    log_access_many,
    partner_visible_condition,
)
from .forms import (
    NO_SUCH_UNIT,
    ClientForm,
    ContactForm,
    NewClientForm,
    PartnerForm,
    RelativeForm,
    partner_kind_label,
    unit_choices,
)
from .models import AccessLog, Client, ClientWorker, PartnerContact, PartnerOrganisation, Relative
from .sections import sections_for

bp = Blueprint("register", __name__, template_folder="templates")


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    register_demo(state.app, demo.seed_foundation)
# Read-only views log their page views after reading, before the page is sent.
bp.after_app_request(access.write_deferred)


@bp.app_template_filter("partner_kind")
def _partner_kind_filter(value):
    return partner_kind_label(value)


@bp.before_request
@login_required
def _require_login():
    return None


# --- clients -----------------------------------------------------------------------------------

@bp.route("/clients")
@read_only
def clients():
    q = search_arg("q")
    conditions = [Client.active.is_(True)]
    if q:
        conditions.append(Client.name.icontains(q, autoescape=True))
    # Way in by way in, each by its own index (access.client_list). The id breaks ties between
    # namesakes, so that pages neither repeat nor skip one.
    per_page = 50
    stmt, total = access.client_list(current_user, *conditions, first=page_arg() * per_page)
    page = paginate(stmt, per_page=per_page, total=total)
    log_access_many([c.id for c in page.items], "list")
    return render_template("register/clients.html", page=page, q=q)


@bp.route("/clients/new", methods=["GET", "POST"])
def client_new():
    form = NewClientForm()
    units = units_of(current_user)
    if len(units) > 1:
        form.unit_id.choices = [(u.id, u.name) for u in units]
    else:
        del form.unit_id  # one unit (or none): the client goes there without asking
    if form.validate_on_submit():
        client = services.create_client(
            name=form.name.data, phone=form.phone.data, email=form.email.data, language=form.language.data,
            reminder_consent=form.reminder_consent.data, postal_address=form.postal_address.data or "",
            postal_consent=form.postal_consent.data, created_by=current_user,
            unit_id=form.unit_id.data if "unit_id" in form else None,
        )
        flash(_("Client saved."), "success")
        return redirect(url_for("register.client", client_id=client.id))
    return render_template("register/client_form.html", form=form, client=None)


@bp.route("/clients/<client_id>")
@read_only
def client(client_id):
    client = get_client_or_404(client_id)
    log_access(client.id, "view")
    workers = db.session.scalars(
        sa.select(User).join(ClientWorker, ClientWorker.user_id == User.id).where(ClientWorker.client_id == client.id)
        .order_by(User.name)
    ).all()
    # Only those who may grant a lasting reason see the form (and the list of staff it needs).
    may_grant = access.can_grant_client_access(current_user, client.id)
    staff = [SimpleNamespace(id=uid, name=name) for uid, name in staff_choices(current_user.id)] if may_grant else []
    # Rendered before the commit (which writes the access-log row): a commit first would expire
    # the sections' meetings, and the page would reload them one by one.
    return render_template("register/client.html", client=client, workers=workers, confirm=ConfirmForm(),
                           staff=staff, may_grant=may_grant, sections=sections_for(client, current_user),
                           may_see_log=leads_unit(current_user, client.unit_id))


@bp.route("/clients/<client_id>/edit", methods=["GET", "POST"])
def client_edit(client_id):
    client = get_client_or_404(client_id)
    if client.erased_at is not None:
        # Erased on request (lifecycle.erasure): personal data must not be typed back in.
        flash(_("This client's personal data was erased. It cannot be filled in again."), "error")
        return redirect(url_for("register.client", client_id=client.id))
    form = ClientForm(obj=client)
    if request.method == "GET":
        form.version.data = str(client.version)
        form.postal_consent.data = client.postal_consent_date is not None
    elif form.validate_on_submit() and form.check_version(client.version):
        services.update_client(client, name=form.name.data, phone=form.phone.data, email=form.email.data,
                               language=form.language.data, reminder_consent=form.reminder_consent.data,
                               postal_address=form.postal_address.data or "",
                               postal_consent=form.postal_consent.data)
        flash(_("Changes saved."), "success")
        return redirect(url_for("register.client", client_id=client.id))
    # Every render shows the client's data (a refused save too): each is logged.
    log_access(client.id, "view", "edit form")
    return render_template("register/client_form.html", form=form, client=client)


@bp.route("/clients/<client_id>/workers", methods=["POST"])
def client_add_worker(client_id):
    # Two refusals: 404 when the user may not see the client at all (as on every client URL, so
    # ids cannot be probed); 403 when they may see it but not grant a lasting reason to see it
    # (a group's or a meeting's passing reason). The 403 reveals nothing: its page already
    # shows them the client.
    client = get_client_or_404(client_id)
    if not access.can_grant_client_access(current_user, client.id):
        abort(403)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    user = get_or_404(User, request.form.get("user_id"))
    if not user.active:
        abort(404)  # the form offers active staff only
    services.add_worker(client, user.id, granted_by=current_user)
    flash(_("%(name)s now works with this client.", name=user.name), "success")
    return redirect(url_for("register.client", client_id=client.id))


@bp.route("/clients/<client_id>/access-log")
@lead_required
def client_access_log(client_id):
    client = access.get_led_client_or_404(client_id)
    stmt = sa.select(AccessLog).where(AccessLog.client_id == client.id).order_by(AccessLog.at.desc(), AccessLog.id.desc())
    page = paginate(stmt, per_page=100)
    log_access(client.id, "view_access_log")
    return render_template("register/access_log.html", client=client, page=page)


# --- relatives ---------------------------------------------------------------------------------

def _relative_of(client: Client, relative_id) -> Relative:
    relative = get_or_404(Relative, relative_id)
    if relative.client_id != client.id:
        abort(404)
    return relative


@bp.route("/clients/<client_id>/relatives/new", methods=["GET", "POST"])
@bp.route("/clients/<client_id>/relatives/<relative_id>/edit", methods=["GET", "POST"])
def relative_form(client_id, relative_id=None):
    client = get_client_or_404(client_id)
    relative = _relative_of(client, relative_id) if relative_id is not None else None
    form = RelativeForm(obj=relative)
    if form.validate_on_submit():
        services.save_relative(client, relative, name=form.name.data, relation=form.relation.data or "",
                               phone=form.phone.data, email=form.email.data, language=form.language.data,
                               reminder_consent=form.reminder_consent.data)
        flash(_("Relative saved."), "success")
        # Back to where the relative was missing (the new-meeting form links here with ?next=).
        target = request.args.get("next")
        return redirect(target if is_safe_next(target) else url_for("register.client", client_id=client.id))
    # The form names the client (and a relative's data when editing): every render is logged,
    # a new relative's empty form and a refused save too.
    log_access(client.id, "view", "relative form")
    return render_template("register/relative_form.html", form=form, client=client, relative=relative)


@bp.route("/clients/<client_id>/relatives/<relative_id>/delete", methods=["POST"])
def relative_delete(client_id, relative_id):
    client = get_client_or_404(client_id)
    relative = _relative_of(client, relative_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_relative(relative)
    flash(_("Relative removed."), "success")
    return redirect(url_for("register.client", client_id=client.id))


# --- partners ----------------------------------------------------------------------------------

@bp.route("/partners")
def partners():
    orgs = db.session.scalars(
        sa.select(PartnerOrganisation).where(PartnerOrganisation.active.is_(True), partner_visible_condition(current_user))
        .order_by(PartnerOrganisation.name)
        .options(sa.orm.selectinload(PartnerOrganisation.contacts))
    ).all()
    return render_template("register/partners.html", orgs=orgs)


@bp.route("/partners/new", methods=["GET", "POST"])
@bp.route("/partners/<partner_id>/edit", methods=["GET", "POST"])
def partner_form(partner_id=None):
    partner = get_partner_or_404(partner_id) if partner_id is not None else None
    form = PartnerForm(obj=partner)
    form.unit_id.choices = unit_choices(current_user)
    if request.method == "GET" and partner is not None:
        form.version.data = str(partner.version)
    elif request.method == "GET":
        form.unit_id.data = next((value for value, _label in form.unit_id.choices[1:2]), None)
    if form.validate_on_submit() and (partner is None or form.check_version(partner.version)):
        if services.partner_name_taken(form.name.data, exclude_id=partner.id if partner else None):
            form.name.errors.append(_("An organisation with this name already exists."))
        else:
            try:
                partner = services.save_partner(partner, name=form.name.data, kind=form.kind.data,
                                                address=form.address.data or "", phone=form.phone.data,
                                                notes=form.notes.data or "", unit_id=form.unit_id.data,
                                                user=current_user)
            except UnitChoiceError:
                form.unit_id.errors.append(str(NO_SUCH_UNIT))
            else:
                flash(_("Organisation saved."), "success")
                return redirect(url_for("register.partner", partner_id=partner.id))
    return render_template("register/partner_form.html", form=form, partner=partner)


@bp.route("/partners/<partner_id>")
def partner(partner_id):
    partner = get_partner_or_404(partner_id)
    return render_template("register/partner.html", partner=partner)


@bp.route("/partners/<partner_id>/contacts/new", methods=["GET", "POST"])
@bp.route("/partners/<partner_id>/contacts/<contact_id>/edit", methods=["GET", "POST"])
def contact_form(partner_id, contact_id=None):
    partner = get_partner_or_404(partner_id)
    contact = None
    if contact_id is not None:
        contact = get_or_404(PartnerContact, contact_id)
        if contact.organisation_id != partner.id:
            abort(404)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        services.save_contact(partner, contact, name=form.name.data, title=form.title.data or "",
                              email=form.email.data or "", phone=form.phone.data, language=form.language.data)
        flash(_("Contact person saved."), "success")
        return redirect(url_for("register.partner", partner_id=partner.id))
    return render_template("register/contact_form.html", form=form, partner=partner, contact=contact)
