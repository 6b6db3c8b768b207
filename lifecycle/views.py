"""The client's own copy of their data: a printable page in the client's language and a JSON
download. Lead-only; producing either is itself access-logged."""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import force_locale, gettext as _

from accounts.permissions import lead_required
from appointments.forms import KIND_LABELS as APPOINTMENT_KINDS, STATUS_LABELS as APPOINTMENT_STATUSES
from core.forms import ConfirmForm
from core.security import read_only
from core.templating import translated_labels
from groups.finding import ENROLMENT_LABELS
from meetings.forms import ITEM_STATUS_LABELS, STATUS_LABELS as MEETING_STATUS_LABELS
from register.access import get_led_client_or_404, log_access
from register.sections import register_client_section

from . import erasure, panels, retention, services
from .cli import register_commands
from .labels import ATTENDANCE_LABELS, FOLLOW_UP_LABELS, MESSAGE_STATUS_LABELS

bp = Blueprint("lifecycle", __name__, template_folder="templates", cli_group=None)
register_commands(bp)


@bp.record_once
def _check_retention_settings(state) -> None:
    # A wrong retention setting stops the app at start-up, with the setting named, rather than
    # at 3 a.m. in the cron run (or, worse, removing data the day it was written).
    retention.Settings.from_config(state.app.config)


@bp.record_once
def _register(state) -> None:
    """What this feature plugs into the app's registries (core.registry)."""
    register_client_section(state.app, panels.data_protection_section)

LANGUAGES = ("fi", "sv", "en")


@bp.route("/clients/<client_id>/copy")
@read_only
@lead_required
def client_copy(client_id):
    client = get_led_client_or_404(client_id)
    data = services.client_copy(client)
    log_access(client.id, "data_copy", "printable page")
    # The page is for the client: in their language, whatever the lead's own setting.
    with force_locale(client.language if client.language in LANGUAGES else "fi"):
        return render_template(
            "lifecycle/client_copy.html", client=client, data=data,
            enrolment_labels=translated_labels(ENROLMENT_LABELS),
            attendance_labels=translated_labels(ATTENDANCE_LABELS),
            meeting_labels=translated_labels(MEETING_STATUS_LABELS),
            item_labels=translated_labels(ITEM_STATUS_LABELS),
            message_labels=translated_labels(MESSAGE_STATUS_LABELS),
            follow_up_labels=translated_labels(FOLLOW_UP_LABELS),
            appointment_kinds=translated_labels(APPOINTMENT_KINDS),
            appointment_statuses=translated_labels(APPOINTMENT_STATUSES))


@bp.route("/clients/<client_id>/copy.json")
@read_only
@lead_required
def client_copy_json(client_id):
    client = get_led_client_or_404(client_id)
    data = services.as_json_data(services.client_copy(client))
    log_access(client.id, "data_copy", "JSON download")
    body = json.dumps(data, ensure_ascii=False, indent=2)
    # The file name carries the id only: client names never go into URLs or file names.
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="kohtaamo-client-{client.id}.json"'})


@bp.route("/clients/<client_id>/erase", methods=["GET", "POST"])
@lead_required
def erase_client(client_id):
    """Erasing one client at their request (GDPR Art. 17): a page that says what goes and what
    stays, and refuses (with the reason) while the client has something coming up."""
    client = get_led_client_or_404(client_id)
    form = ConfirmForm()
    blockers = erasure.blockers(client)
    if client.erased_at is None and not blockers and form.validate_on_submit():
        erasure.erase_client(client)
        # The log keeps the fact and the id only; the name is gone.
        log_access(client.id, "erase", "personal data erased")
        flash(_("The client's personal data was erased."), "success")
        return redirect(url_for("register.client", client_id=client.id))
    log_access(client.id, "view", "erasure page")
    return render_template("lifecycle/erase.html", client=client, form=form, blockers=blockers)
