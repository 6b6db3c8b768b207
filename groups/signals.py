"""Signals other features hook on.

``attendance_recorded`` is sent after a participant's attendance at a session is set or changed
(flushed, not yet committed) with ``sender=current_app._get_current_object()`` and
``attendance=<groups.models.Attendance>``; the reminders feature creates no-show follow-ups from it.
``session_changed`` is sent after a session was moved (time or room) or cancelled, with
``session=...``, ``change="moved"|"cancelled"``, ``old_starts_at`` and ``notify`` (False when staff
unticked "send notice" for this change); the reminders feature tells the participants.
``group_cancelled`` is sent after a group past planning was cancelled (flushed), with
``group=...`` and ``cancelled=<the sessions called off>``; the reminders feature tells the
enrolled clients.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

attendance_recorded = _signals.signal("attendance-recorded")
session_changed = _signals.signal("session-changed")
group_cancelled = _signals.signal("group-cancelled")
