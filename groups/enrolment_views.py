"""Views of a group's participants (routes of the groups blueprint, ``views.bp``): enrolment and the
waiting list, withdrawing, confirming an offered place, and referrals."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from core.db import get_or_404
from core.extensions import db
from core.forms import ConfirmForm
from core.security import read_only
from register.access import (
    accessible_client_ids,
    get_client_or_404,
    log_access,
    log_access_many,
)
from register.models import Client

from . import (
    enrolment as groups_enrolment,
    services,
)
from .forms import (
    DeclineReferralForm,
    EnrolForm,
    ReferralForm,
)
from .models import (
    Enrolment,
    EnrolmentStatus,
    Group,
    Referral,
)
from .services import GroupError
from .views import _apply_error, _enrolment_of, _participants_group, bp

# --- enrolment ----------------------------------------------------------------------------------

def _enrol_choices(group: Group):
    taken = sa.select(Enrolment.client_id).where(Enrolment.group_id == group.id,
                                                 Enrolment.status != EnrolmentStatus.WITHDRAWN.value)
    stmt = sa.select(Client).where(Client.active.is_(True), Client.id.not_in(taken)).order_by(Client.name)
    ids = accessible_client_ids(current_user)
    if ids is not None:
        stmt = stmt.where(Client.id.in_(ids))
    return [(0, _("– Choose –"))] + [(c.id, c.name) for c in db.session.scalars(stmt).all()]


def _render_participants(group: Group, form: EnrolForm):
    enrolments = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id).options(selectinload(Enrolment.client))
        .order_by(Enrolment.created_at, Enrolment.id)).all()
    log_access_many([e.client_id for e in enrolments], "view", f"group {group.id} participants")
    # A referral shows the facilitators the client's name and the reason, as the enrolment list
    # does, and no link to the client's page: it grants no access to the record.
    referrals = groups_enrolment.pending_referrals(group)
    log_access_many([r.client_id for r in referrals], "view", f"group {group.id} referrals")
    # The enrol menu shows names too, as a list (like the client register's list page).
    log_access_many([cid for cid, _label in form.client_id.choices if cid], "list", f"group {group.id} enrol menu")
    by_status = {s.value: [e for e in enrolments if e.status == s.value] for s in EnrolmentStatus}
    return render_template("groups/participants.html", group=group, form=form, by_status=by_status,
                           confirm=ConfirmForm(), enrolled=services.count_enrolled(group), referrals=referrals)


@bp.route("/<group_id>/participants", methods=["GET", "POST"])
def participants(group_id):
    group = _participants_group(group_id)
    form = EnrolForm()
    form.client_id.choices = _enrol_choices(group)
    if form.validate_on_submit():
        try:
            # The choice list already proves access; a client on it may still be enrolled elsewhere.
            enrolment = groups_enrolment.enrol(group, form.client_id.data)
        except GroupError as exc:
            db.session.rollback()
            form.client_id.choices = _enrol_choices(group)
            _apply_error(form, exc)
        else:
            log_access(enrolment.client_id, "change", f"enrolled in group {group.id} ({enrolment.status})")
            flash(_("Enrolled.") if enrolment.status == EnrolmentStatus.ENROLLED.value
                  else _("The group is full: the client was put on the waiting list."), "success")
            return redirect(url_for("groups.participants", group_id=group.id))
    return _render_participants(group, form)


# Withdrawing asks first, on a page of its own: the place is lost (a re-enrolment joins the end
# of the queue) and may go at once to the first on the waiting list.
@bp.route("/<group_id>/enrolments/<enrolment_id>/withdraw", methods=["GET"])
@read_only
def withdraw_confirm(group_id, enrolment_id):
    group = _participants_group(group_id)
    enrolment = _enrolment_of(group, enrolment_id)
    if enrolment.status == EnrolmentStatus.WITHDRAWN.value:
        return redirect(url_for("groups.participants", group_id=group.id))
    waiting = groups_enrolment.waiting_list(group)
    next_in_line = waiting[0] if waiting and enrolment.status != EnrolmentStatus.WAITING.value else None
    log_access_many([enrolment.client_id] + ([next_in_line.client_id] if next_in_line else []), "view",
                    f"withdraw confirmation, group {group.id}")
    return render_template("groups/withdraw_confirm.html", group=group, enrolment=enrolment,
                           next_in_line=next_in_line, form=ConfirmForm())


@bp.route("/<group_id>/enrolments/<enrolment_id>/withdraw", methods=["POST"])
def withdraw(group_id, enrolment_id):
    group = _participants_group(group_id)
    enrolment = _enrolment_of(group, enrolment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        offered = groups_enrolment.withdraw(enrolment)
    except GroupError as exc:
        flash(exc.message, "error")
        return redirect(url_for("groups.participants", group_id=group.id))
    log_access(enrolment.client_id, "change", f"withdrew from group {group.id}")
    if offered is not None:
        log_access(offered.client_id, "change", f"offered a place in group {group.id}")
    flash(_("Withdrawn. The place was offered to the first on the waiting list.") if offered
          else _("Withdrawn."), "success")
    return redirect(url_for("groups.participants", group_id=group.id))


@bp.route("/<group_id>/enrolments/<enrolment_id>/confirm", methods=["POST"])
def confirm_offer(group_id, enrolment_id):
    group = _participants_group(group_id)
    enrolment = _enrolment_of(group, enrolment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        groups_enrolment.confirm_offer(enrolment)
    except GroupError as exc:
        flash(exc.message, "error")
        return redirect(url_for("groups.participants", group_id=group.id))
    log_access(enrolment.client_id, "change", f"accepted a place in group {group.id}")
    flash(_("The place was confirmed."), "success")
    return redirect(url_for("groups.participants", group_id=group.id))



# --- referrals ----------------------------------------------------------------------------------

def _referral_choices():
    groups, ideas = groups_enrolment.referral_targets()
    return [("", _("– Choose –"))] + [(f"group:{g.id}", _("Group: %(title)s", title=g.title)) for g in groups] \
        + [(f"idea:{i.id}", _("Idea: %(theme)s", theme=i.theme)) for i in ideas]


@bp.route("/referrals/new/<client_id>", methods=["GET", "POST"])
def refer(client_id):
    client = get_client_or_404(client_id)
    form = ReferralForm()
    form.target.choices = _referral_choices()
    if form.validate_on_submit():
        try:
            referral = groups_enrolment.refer(client.id, target=form.target.data, reason=form.reason.data, user=current_user)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            log_access(client.id, "change", f"referred to group {referral.group_id} / idea {referral.idea_id}")
            flash(_("Referral sent. The group's facilitators will see it."), "success")
            return redirect(url_for("register.client", client_id=client.id))
    log_access(client.id, "view", "referral form")
    return render_template("groups/refer.html", form=form, client=client)


def _referral_of(group: Group, referral_id) -> Referral:
    referral = get_or_404(Referral, referral_id)
    if referral.group_id != group.id:
        abort(404)
    return referral


@bp.route("/<group_id>/referrals/<referral_id>/take", methods=["POST"])
def take_referral(group_id, referral_id):
    group = _participants_group(group_id)
    referral = _referral_of(group, referral_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        enrolment = groups_enrolment.take_referral(referral, current_user)
    except GroupError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("groups.participants", group_id=group.id))
    log_access(referral.client_id, "change", f"enrolled in group {group.id} from a referral ({enrolment.status})")
    flash(_("Enrolled.") if enrolment.status == EnrolmentStatus.ENROLLED.value
          else _("The group is full: the client was put on the waiting list."), "success")
    return redirect(url_for("groups.participants", group_id=group.id))


@bp.route("/<group_id>/referrals/<referral_id>/decline", methods=["GET", "POST"])
def decline_referral(group_id, referral_id):
    group = _participants_group(group_id)
    referral = _referral_of(group, referral_id)
    form = DeclineReferralForm()
    if form.validate_on_submit():
        try:
            groups_enrolment.decline_referral(referral, form.reason.data, current_user)
        except GroupError as exc:
            db.session.rollback()
            _apply_error(form, exc)
        else:
            log_access(referral.client_id, "change", f"referral to group {group.id} declined")
            flash(_("Referral declined."), "success")
            return redirect(url_for("groups.participants", group_id=group.id))
    log_access(referral.client_id, "view", f"referral to group {group.id}")
    return render_template("groups/decline_referral.html", form=form, group=group, referral=referral)
