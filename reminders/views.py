"""Outbox, reminder settings of groups and meetings, opt-out links, no-show follow-ups, and the
``flask send-reminders`` command."""
from __future__ import annotations

from datetime import UTC, datetime, time
from types import SimpleNamespace

import click
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from accounts.permissions import staff_admin_required
from core import channels
from core.agenda import register_agenda_annotator, register_exception_source
from core.dashboard import register_panel
from core.db import get_or_404, immediate_transactions, positive_id_or_404, utcnow
from core.demo import register_demo
from core.extensions import db, login_manager
from core.formatting import local_date
from core.forms import ConfirmForm
from core.registry import register, registered
from core.security import read_only
from core.timeutil import finnish_holiday, local_to_utc, local_today
from core.web import id_arg, paginate
from groups import signals as group_signals
from groups.models import Enrolment, EnrolmentStatus, Group, GroupStatus
from groups.services import can_edit as can_edit_group, editable_group_ids
from meetings import signals as meeting_signals
from meetings.models import Meeting, MeetingStatus
from meetings.services import can_open as can_open_meeting, openable_condition as meeting_openable
from register.access import log_access, log_access_many

from . import (
    agenda,
    demo,
    follow_ups as reminders_follow_ups,
    invitations,
    notices,
    offers,
    panels,
    queue,
    services,
    texts,
    worker,
)
from .forms import NewTimeForm, OfferAnswerForm, OfferForm, OptOutForm, PolicyForm, TeamSettingsForm
from .models import FollowUpStatus, FollowUpTask, MessageStatus, OutboxMessage, RecipientKind, TargetKind

bp = Blueprint("reminders", __name__, url_prefix="/reminders", template_folder="templates", cli_group=None)

PUBLIC_ENDPOINTS = {"reminders.stop", "reminders.offer_answer"}
DEFAULT_DAY_BEFORE = time(16, 0)
DEFAULT_MORNING = time(8, 0)


@bp.before_request
def _require_login():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


# --- signals from groups and meetings ----------------------------------------------------------

def _on_meeting_changed(sender, meeting=None, change=None, old_starts_at=None, place_changed=False, notify=True,
                        **_kw):
    if meeting is not None and change in ("created", "moved", "cancelled", "updated", "restored"):
        # A restored meeting's invitation is an update of the event (SEQUENCE raised).
        invitations.queue_invitations(meeting, "updated" if change == "restored" else change)
        notices.relative_sms_invitations(meeting, "updated" if change == "restored" else change)
        # A new place is news for the client as a new time is.
        notices.meeting_changed(meeting, "moved" if place_changed and change == "updated" else change,
                                old_starts_at, notify)


def _on_session_changed(sender, session=None, change=None, old_starts_at=None, notify=True, **_kw):
    if session is not None and old_starts_at is not None:
        notices.session_changed(session, change, old_starts_at, notify)


def _on_group_cancelled(sender, group=None, cancelled=(), **_kw):
    if group is not None:
        notices.group_cancelled(group, list(cancelled))


def _on_participant_removed(sender, meeting=None, participant=None, **_kw):
    if meeting is not None and participant is not None:
        invitations.participant_removed(meeting, participant)


def _on_attendance_recorded(sender, attendance=None, **_kw):
    if attendance is not None:
        reminders_follow_ups.record_session_attendance(attendance)


def _on_participant_attendance(sender, participant=None, **_kw):
    if participant is not None:
        reminders_follow_ups.record_participant_attendance(participant)


def connect_signals() -> None:
    """Hook on the meetings' and groups' signals. Blinker's signals are process-wide and connecting
    the same receiver again is a no-op, so every app of the process shares these receivers."""
    meeting_signals.meeting_changed.connect(_on_meeting_changed, weak=False)
    meeting_signals.participant_attendance_recorded.connect(_on_participant_attendance, weak=False)
    meeting_signals.participant_removed.connect(_on_participant_removed, weak=False)
    group_signals.attendance_recorded.connect(_on_attendance_recorded, weak=False)
    group_signals.session_changed.connect(_on_session_changed, weak=False)
    group_signals.group_cancelled.connect(_on_group_cancelled, weak=False)


# --- outbox ------------------------------------------------------------------------------------

def _visible_messages():
    # A message shows its session's or meeting's time and place: listed only to those who may
    # see that group or meeting (services.can_see_target), not to everyone who sees the client.
    return sa.select(OutboxMessage).where(services.message_visible_condition(current_user))


def _message_or_404(message_id) -> OutboxMessage:
    message = get_or_404(OutboxMessage, message_id)
    if not services.can_see_target(current_user, message.target_kind, message.target_id):
        abort(404)
    return message


@bp.route("/outbox")
def outbox():
    status = request.args.get("status", "")
    if status not in {s.value for s in MessageStatus}:
        status = ""
    stmt = _visible_messages().order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    page = paginate(stmt, per_page=50)
    counts = dict(db.session.execute(
        _visible_messages().with_only_columns(OutboxMessage.status, sa.func.count(OutboxMessage.id))
        .group_by(OutboxMessage.status)).all())
    log_access_many([m.client_id for m in page.items], "reminder_outbox")
    return render_template("reminders/outbox.html", page=page, status=status, counts=counts,
                           statuses=[s.value for s in MessageStatus], confirm=ConfirmForm(),
                           sms_backend=current_app.config.get("SMS_BACKEND") or "outbox",
                           error_reason=worker.error_reason)


@bp.route("/outbox/<message_id>/sent", methods=["POST"])
def mark_sent(message_id):
    message = _message_or_404(message_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if message.status != MessageStatus.MANUAL.value:
        flash(_("Only messages waiting for manual sending can be marked sent."), "error")
        return redirect(url_for("reminders.outbox"))
    worker.mark_sent_by_hand(message, current_user)
    log_access(message.client_id, "reminder_sent_by_hand", f"message {message.id}")
    flash(_("Marked as sent."), "success")
    return redirect(url_for("reminders.outbox", status=MessageStatus.MANUAL.value))


@bp.route("/outbox/<message_id>/retry", methods=["POST"])
def retry(message_id):
    message = _message_or_404(message_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if message.status != MessageStatus.FAILED.value:
        abort(404)
    worker.retry_now(message)
    log_access(message.client_id, "reminder_retry", f"message {message.id}")
    flash(_("The message will be sent again on the next run."), "success")
    return redirect(url_for("reminders.outbox", status=MessageStatus.FAILED.value))


# --- reminder settings -------------------------------------------------------------------------

def _group_or_404(group_id) -> Group:
    # The group's own rule for seeing its participants (the page lists their names and numbers).
    group = get_or_404(Group, group_id)
    if not can_edit_group(current_user, group):
        abort(404)
    return group


def _meeting_or_404(meeting_id) -> Meeting:
    # The meeting's own rule: whoever gets 404 on the meeting's page gets 404 here too.
    meeting = get_or_404(Meeting, meeting_id)
    if not can_open_meeting(current_user, meeting):
        abort(404)
    return meeting


def _appointment_or_404(appointment_id):
    # The appointment's own rule, through the target appointments registered (this feature does
    # not import the one above it): whoever gets 404 on the appointment's page gets 404 here too.
    target = services.reminder_target(services.APPOINTMENT)
    appointment = target.load(positive_id_or_404(appointment_id))
    if appointment is None or not target.can_open(current_user, appointment.id):
        abort(404)
    return appointment


@bp.route("/settings")
@read_only
def settings():
    groups_stmt = sa.select(Group).where(Group.status.not_in((GroupStatus.FINISHED.value,
                                                              GroupStatus.EVALUATED.value))).order_by(Group.title)
    meetings_stmt = (sa.select(Meeting).where(Meeting.status == MeetingStatus.PLANNED.value,
                                              Meeting.starts_at >= utcnow()).order_by(Meeting.starts_at).limit(100))
    groups_stmt = groups_stmt.where(Group.id.in_(editable_group_ids(current_user)))
    meetings_stmt = meetings_stmt.where(meeting_openable(current_user, Meeting.id))
    return render_template("reminders/settings.html", groups=db.session.scalars(groups_stmt).all(),
                           meetings=db.session.scalars(meetings_stmt).all())


def _policy_page(target_kind: str, target, recipients, title: str, back_url: str | None):
    policy = services.get_policy(target_kind, target.id)
    form = PolicyForm(obj=policy) if policy is not None else PolicyForm()
    if request.method == "GET":
        form.version.data = str(policy.version if policy else 0)
        if policy is None:
            # What is sent when nobody has changed it (an appointment's reminder too: the day
            # before at 16:00 by SMS, appointments.notices.DEFAULT_POLICY).
            form.day_before.data = True
            form.day_before_at.data = DEFAULT_DAY_BEFORE
            form.same_morning_at.data = DEFAULT_MORNING
            form.by_sms.data = True
    if form.validate_on_submit() and form.check_version(policy.version if policy else 0):
        services.save_policy(target_kind, target.id, day_before=form.day_before.data,
                             day_before_at=form.day_before_at.data or DEFAULT_DAY_BEFORE,
                             same_morning=form.same_morning.data,
                             same_morning_at=form.same_morning_at.data or DEFAULT_MORNING,
                             by_sms=form.by_sms.data, by_email=form.by_email.data, user=current_user)
        log_access_many([r.client_id for r in recipients], "reminder_policy")
        flash(_("Reminder settings saved."), "success")
        return redirect(request.path)
    log_access_many([r.client_id for r in recipients], "reminder_recipients")
    rows = []
    for r in recipients:
        rows.append((r, {c: services.channel_address(r, c) for c in ("sms", "email")}))
    return render_template("reminders/policy.html", form=form, policy=policy, rows=rows, title=title,
                           target_kind=target_kind, target=target, back_url=back_url, reasons=services.REASONS,
                           opt_form=OptOutForm())


def _endpoint_url(endpoint: str, **values) -> str | None:
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


@bp.route("/group/<group_id>", methods=["GET", "POST"])
def group_policy(group_id):
    group = _group_or_404(group_id)
    return _policy_page(TargetKind.GROUP.value, group, services.group_recipients(group),
                        _("Reminders: %(title)s", title=group.title),
                        _endpoint_url("groups.group", group_id=group.id))


@bp.route("/meeting/<meeting_id>", methods=["GET", "POST"])
def meeting_policy(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    return _policy_page(TargetKind.MEETING.value, meeting, services.meeting_recipients(meeting),
                        _("Reminders: network meeting"), _endpoint_url("meetings.show", meeting_id=meeting.id))


@bp.route("/appointment/<appointment_id>", methods=["GET", "POST"])
def appointment_policy(appointment_id):
    appointment = _appointment_or_404(appointment_id)
    return _policy_page(services.APPOINTMENT, appointment, services.appointment_recipients(appointment),
                        _("Reminders: appointment"), _endpoint_url("appointments.show", appointment_id=appointment.id))


@bp.route("/<target_kind>/<target_id>/recipients/<kind>/<recipient_id>/opt-out", methods=["POST"])
def recipient_opt_out(target_kind, target_id, kind, recipient_id):
    if target_kind == TargetKind.GROUP.value:
        target = _group_or_404(target_id)
        recipients = services.group_recipients(target)
        back = url_for("reminders.group_policy", group_id=target.id)
    elif target_kind == TargetKind.MEETING.value:
        target = _meeting_or_404(target_id)
        recipients = services.meeting_recipients(target)
        back = url_for("reminders.meeting_policy", meeting_id=target.id)
    elif target_kind == services.APPOINTMENT:
        target = _appointment_or_404(target_id)
        recipients = services.appointment_recipients(target)
        back = url_for("reminders.appointment_policy", appointment_id=target.id)
    else:
        abort(404)
    # Only someone on this target's recipient list: an id cannot reach anyone else.
    match = next((r for r in recipients if r.kind == kind and str(r.id) == str(recipient_id)), None)
    if match is None:
        abort(404)
    form = OptOutForm()
    if not form.validate_on_submit():
        abort(400)
    opted_out = form.opted_out.data == "1"
    services.set_opt_out(match.kind, match.id, opted_out, source="staff")
    log_access(match.client_id, "reminder_opt_out" if opted_out else "reminder_opt_in")
    flash(_("Reminders turned off for %(name)s.", name=match.name) if opted_out
          else _("Reminders turned on again for %(name)s.", name=match.name), "success")
    return redirect(back)


# --- public opt-out link -----------------------------------------------------------------------

def _private(response):
    # The token is in the URL: no page passes it on in a Referer header, and nothing keeps a copy.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/stop/<token>", methods=["GET", "POST"])
def stop(token):
    found = services.opt_out_link_for_token(token, utcnow())
    if found is None:
        # Unknown, tampered, expired, signed the earlier way, or sent under an earlier consent:
        # a page that says what to do instead, and nothing is stored.
        db.session.rollback()
        return _private(make_response(render_template("reminders/stop.html", state="invalid"), 404))
    link, person = found
    client_id = person.id if link.recipient_kind == RecipientKind.CLIENT.value else person.client_id
    form = ConfirmForm()
    state = "ask"
    with force_locale(person.language if person.language in texts.LANGUAGES else "fi"):
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400)
            services.set_opt_out(link.recipient_kind, link.recipient_id, True, source="link")
            # The client (or their relative) changed their own data: logged without a staff user.
            log_access(client_id, "reminder_opt_out_link", link.recipient_kind, user=SimpleNamespace(id=None, name=""))
            state = "done"
        html = render_template("reminders/stop.html", form=form, state=state, token=token)
    return _private(make_response(html))


# --- waiting-list offers -----------------------------------------------------------------------

def _not_yet_offered(group: Group) -> list[Enrolment]:
    """The group's "offered" clients who have not been sent the offer yet."""
    offered = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id, Enrolment.status == EnrolmentStatus.OFFERED.value)
        .options(selectinload(Enrolment.client)).order_by(Enrolment.created_at, Enrolment.id)).all()
    return [e for e in offered if offers.open_offer(e.id) is None]


@bp.route("/group/<group_id>/offers", methods=["GET", "POST"])
def group_offers(group_id):
    """Send the offer of a free place, with a deadline, to a client the waiting list offered it
    to; and the state of the offers sent (answered, withdrawn at the deadline, open)."""
    group = _group_or_404(group_id)
    form = OfferForm()
    pending = _not_yet_offered(group)
    form.enrolment_id.choices = [(0, _("– Choose –"))] + [(e.id, e.client.name) for e in pending]
    if form.validate_on_submit():
        offers.settle_closed_by_hand()
        # Only a client on this group's list: an id cannot reach anyone else.
        enrolment = next((e for e in pending if e.id == form.enrolment_id.data), None)
        if enrolment is None:
            form.enrolment_id.errors.append(_("Choose only from the list."))
        else:
            try:
                offer = offers.offer_place(enrolment, deadline=local_to_utc(form.answer_by.data, form.answer_at.data),
                                           user=current_user)
            except offers.OfferError as exc:
                db.session.rollback()
                target = form[exc.field] if exc.field in form._fields else form.enrolment_id
                target.errors = list(target.errors) + [exc.message]
            else:
                log_access(enrolment.client_id, "change", f"offered a place in group {group.id} by message")
                if offer.by_message:
                    flash(_("The offer is in the outbox. The client answers through the link in it."), "success")
                else:
                    flash(_("The client cannot be sent a message (no consent, or no phone number or e-mail). A "
                            "follow-up task to call the client was made."), "info")
                return redirect(url_for("reminders.group_offers", group_id=group.id))
    rows = offers.group_offers(group.id)
    log_access_many([e.client_id for e in pending], "list", f"group {group.id} offer menu")
    log_access_many([o.client_id for o in rows], "view", f"group {group.id} offers")
    return render_template("reminders/offers.html", group=group, form=form, offers=rows,
                           back_url=_endpoint_url("groups.participants", group_id=group.id))


@bp.route("/offer/<token>", methods=["GET", "POST"])
def offer_answer(token):
    """The client's own page of an offer: accept or decline, once."""
    now = utcnow()
    offer = offers.offer_for_token(token, now)
    if offer is None:
        db.session.rollback()
        return _private(make_response(render_template("reminders/offer_answer.html", state="invalid",
                                                      contact=notices.team_settings()), 404))
    form = OfferAnswerForm()
    state = "ask"
    language = offer.client.language if offer.client.language in texts.LANGUAGES else "fi"
    with force_locale(language):
        if request.method == "POST":
            if not form.validate_on_submit():
                abort(400)
            accept = bool(form.accept.data)
            if not offers.answer(offer, accept, now):
                db.session.rollback()
                return _private(make_response(render_template("reminders/offer_answer.html", state="invalid",
                                                              contact=notices.team_settings(offer.client.unit_id)),
                                                              404))
            # The client answered for themselves: logged without a staff user.
            log_access(offer.client_id, "offer_answer_link", "accepted" if accept else "declined",
                       user=SimpleNamespace(id=None, name=""))
            state = "accepted" if accept else "declined"
        html = render_template("reminders/offer_answer.html", form=form, state=state, token=token, offer=offer,
                               first=offers._next_session_start(offer.group_id, now),
                               contact=notices.team_settings(offer.client.unit_id), language=language)
    return _private(make_response(html))


# --- the unit's contact settings ---------------------------------------------------------------

def _contact_units() -> list:
    """The units whose contact settings the user edits: a county administrator every unit, a lead
    the units they lead (a lead leads every unit they are a member of)."""
    from accounts.units import all_units, units_of

    if current_user.is_county_admin:
        return all_units()
    return units_of(current_user) if current_user.is_lead else []


@bp.route("/contact", methods=["GET", "POST"])
@staff_admin_required
def contact_settings():
    """A unit's contact details in messages and on the outreach poster (``?unit=<id>``): a lead
    edits those of the units they lead, a county administrator any unit's and the installation's
    (no ``unit``), which a unit without its own falls back to. Another unit is a 404."""
    units = _contact_units()
    chosen = id_arg("unit")
    if chosen:
        unit = next((u for u in units if u.id == chosen), None)
        if unit is None:
            abort(404)
    elif current_user.is_county_admin:
        unit = None   # the installation's row
    elif units:
        unit = units[0]
    else:
        abort(404)
    unit_id = unit.id if unit is not None else None
    row = notices.unit_settings(unit_id)
    fallback = notices.unit_settings(None) if unit_id is not None and row is None else None
    form = TeamSettingsForm(obj=row or fallback)
    if request.method == "GET":
        form.version.data = str(row.version if row else 0)
    elif form.validate_on_submit() and form.check_version(row.version if row else 0):
        notices.save_team_settings(contact_phone=form.contact_phone.data or "",
                                   opening_hours=form.opening_hours.data or "", user=current_user, unit_id=unit_id)
        flash(_("Contact details saved. They are shown in every message and letter from now on."), "success")
        return redirect(url_for("reminders.contact_settings", unit=unit_id))
    return render_template("reminders/contact.html", form=form, row=row, unit=unit, units=units,
                           uses_fallback=unit is not None and row is None)


# --- follow-ups --------------------------------------------------------------------------------

def _task_or_404(task_id) -> FollowUpTask:
    task = get_or_404(FollowUpTask, task_id)
    if not reminders_follow_ups.can_see_task(current_user, task):
        abort(404)
    return task


@bp.route("/follow-ups")
def follow_ups():
    tasks = db.session.scalars(
        sa.select(FollowUpTask).where(FollowUpTask.status == FollowUpStatus.OPEN.value,
                                      reminders_follow_ups.task_visible_condition(current_user))
        .options(selectinload(FollowUpTask.client), selectinload(FollowUpTask.assigned_to))
        .order_by(FollowUpTask.due_on, FollowUpTask.id).limit(200)
    ).all()
    log_access_many([t.client_id for t in tasks], "follow_up_list")
    return render_template("reminders/follow_ups.html", tasks=tasks)


@bp.route("/follow-ups/<task_id>", methods=["GET", "POST"])
def follow_up(task_id):
    task = _task_or_404(task_id)
    source = reminders_follow_ups.task_source(task)
    if task.source_kind == TargetKind.OFFER.value:
        # "Call and offer the place": answered on the group's offers page, no new time to book.
        log_access(task.client_id, "follow_up_view", f"task {task.id}")
        return render_template("reminders/offer_task.html", task=task, offer=source)
    form = NewTimeForm()
    warnings: list[str] = []
    if task.status == FollowUpStatus.OPEN.value and form.validate_on_submit():
        starts_at = local_to_utc(form.day.data, form.at.data)
        holiday = finnish_holiday(form.day.data)
        if starts_at <= utcnow():
            form.day.errors.append(_("The new time must be in the future."))
        elif holiday and not form.confirm.data:
            # Warned before saving, as every scheduling form: the form comes back with "save anyway".
            warnings.append(_("Note: %(date)s is a public holiday (%(holiday)s).", date=local_date(form.day.data),
                              holiday=holiday))
        else:
            reached = form.outcome.data == "reached"
            meeting, reason = reminders_follow_ups.book_new_time(
                task, current_user, reached=reached, starts_at=starts_at, minutes=int(form.minutes.data),
                place=form.place.data, purpose=_("New time after a missed appointment"))
            log_access(task.client_id, "follow_up_done", f"task {task.id}, appointment {meeting.id}")
            if reached:
                flash(_("New time saved. The client gets a reminder before it."), "success")
            elif reason:
                flash(_("New time saved, but no SMS was sent: %(reason)s. Send the letter.",
                        reason=services.REASONS[reason]), "error")
            else:
                flash(_("New time saved and the SMS is in the outbox. Print the letter too."), "success")
            return redirect(url_for("reminders.follow_up", task_id=task.id))
    log_access(task.client_id, "follow_up_view", f"task {task.id}")
    sms_to, sms_reason = services.channel_address(services._mark_opt_outs([services._from_client(task.client)])[0],
                                                  "sms")
    new_sms = None
    if task.new_appointment_id or task.new_meeting_id:
        target = ((services.APPOINTMENT, task.new_appointment_id) if task.new_appointment_id
                  else ("meeting", task.new_meeting_id))
        new_sms = db.session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.kind == "new_time", OutboxMessage.target_kind == target[0],
            OutboxMessage.target_id == target[1]))
    return render_template("reminders/follow_up.html", task=task, source=source, form=form, sms_to=sms_to,
                           sms_reason=services.REASONS.get(sms_reason) if sms_reason else None, new_sms=new_sms,
                           warnings=warnings)


@bp.route("/follow-ups/<task_id>/letter")
def letter(task_id):
    task = _task_or_404(task_id)
    # Letters go only where the client gave a postal address and agreed to letters there.
    if task.new_booking is None or not task.client.postal_address or task.client.postal_consent_date is None:
        abort(404)
    log_access(task.client_id, "follow_up_letter", f"task {task.id}")
    with force_locale(task.client.language if task.client.language in ("fi", "sv", "en") else "fi"):
        body = render_template("reminders/letter_body.html", task=task, meeting=task.new_booking,
                               staff=current_user, today=local_today(),
                               contact_line=notices.contact_line(task.client.language, task.client.unit_id))
    # The body is our own autoescaped template, rendered in the client's language.
    return render_template("reminders/letter.html", task=task, body=Markup(body))


# --- command -----------------------------------------------------------------------------------

def _parse_now(value: str | None) -> datetime:
    if not value:
        return utcnow()
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise click.BadParameter("give a time zone, e.g. 2026-12-02T14:00:00Z")
    return parsed.astimezone(UTC)


@bp.cli.command("send-reminders")
@click.option("--now", "now_text", default=None, help="Pretend it is this UTC time (ISO 8601); for testing.")
@click.option("--batch", default=20, show_default=True, help="Messages claimed at a time.")
def send_reminders(now_text: str | None, batch: int) -> None:
    """Queue the reminders that are due and send everything waiting in the outbox."""
    now = _parse_now(now_text)
    config = current_app.config
    db.session.commit()  # own commit: the reminder worker's queueing step, before it sends message by message
    with immediate_transactions():
        worker.recover_stale_claims(now)
        queue.drop_cancelled(now)
        # Offers not answered by their deadline: withdrawn, the next in line asked (queued below).
        offers.expire_due(now)
        created = queue.queue_due(now)
        due = worker.due_channels(now)
        missing = []
        if "email" in due:
            missing += channels.missing_email_settings(config)
        if "sms" in due:
            missing += channels.missing_sms_settings(config)
        if missing:
            # Nothing is queued or marked: the run changes nothing until the settings are fixed.
            db.session.rollback()
            raise click.ClickException(
                "Messages are due but these settings are missing: " + ", ".join(missing)
                + ". Set them in the environment (see README); nothing was sent.")
        db.session.commit()  # own commit: the reminder worker's queueing step, before it sends message by message
    totals = {"sent": 0, "manual": 0, "failed": 0}
    while True:
        token, ids = worker.claim_batch(now, batch)
        if not ids:
            break
        for key, value in worker.send_claimed(token, ids, config, now).items():
            totals[key] += value
    click.echo(f"queued {created}, sent {totals['sent']}, waiting for manual sending {totals['manual']}, "
               f"failed {totals['failed']}")
    # Timed work of the features above (pair safety's overdue alerts), handed over through the
    # registry: this layer does not import them (core.layers).
    for job in registered("send_reminders_jobs"):
        click.echo(job(now))


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    app = state.app
    register_agenda_annotator(app, agenda.annotate)
    register_exception_source(app, agenda.exception_source)
    register_panel(app, panels.reminders_panel)
    register(app, "group_cancel_audience", notices.group_cancel_audience)
    connect_signals()
    register_demo(app, demo.seed)
