"""The client's own copy of their data: a printable page in the client's language and a JSON
download. Lead-only; producing either is itself access-logged."""
from __future__ import annotations

import json

from flask import Blueprint, Response, render_template
from flask_babel import force_locale

from accounts.permissions import lead_required
from core.security import read_only
from core.templating import translated_labels
from groups.services import ENROLMENT_LABELS
from meetings.forms import ITEM_STATUS_LABELS
from meetings.forms import STATUS_LABELS as MEETING_STATUS_LABELS
from register.access import get_client_or_404, log_access

from . import services
from .cli import register_commands
from .labels import ATTENDANCE_LABELS, FOLLOW_UP_LABELS, MESSAGE_STATUS_LABELS

bp = Blueprint("lifecycle", __name__, template_folder="templates", cli_group=None)
register_commands(bp)

LANGUAGES = ("fi", "sv", "en")


@bp.route("/clients/<client_id>/copy")
@read_only
@lead_required
def client_copy(client_id):
    client = get_client_or_404(client_id)
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
            follow_up_labels=translated_labels(FOLLOW_UP_LABELS))


@bp.route("/clients/<client_id>/copy.json")
@read_only
@lead_required
def client_copy_json(client_id):
    client = get_client_or_404(client_id)
    data = services.as_json_data(services.client_copy(client))
    log_access(client.id, "data_copy", "JSON download")
    body = json.dumps(data, ensure_ascii=False, indent=2)
    # The file name carries the id only: client names never go into URLs or file names.
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="kohtaamo-client-{client.id}.json"'})
