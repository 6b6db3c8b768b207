"""Words for the status codes the client's copy shows (the copy is read by the client)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ATTENDANCE_LABELS = {"present": _l("Present"), "absent": _l("Absent"), "excused": _l("Excused")}
MESSAGE_STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Waiting to be sent"),
    "sent": _l("Sent"),
    "failed": _l("Not delivered"),
    "manual": _l("Waiting to be sent"),
    "cancelled": _l("Not sent"),
}
FOLLOW_UP_LABELS = {
    "open": _l("Not called yet"),
    "reached": _l("Called, new time agreed"),
    "not_reached": _l("Not reached; new time sent"),
    "closed": _l("Not needed"),
}
