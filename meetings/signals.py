"""Signals other features hook on (reminders, invitations, calendar feeds).

``meeting_changed`` is sent after a service has changed a meeting (the change is flushed, not yet
committed) with ``sender=current_app._get_current_object()``, ``meeting=...`` and
``change="created"|"moved"|"cancelled"|"updated"|"restored"`` (an edit, a cancellation or a restore also carries
``old_starts_at``, ``place_changed`` for an edit, and ``notify``: False when staff unticked
"send notice" for the change). ``participant_attendance_recorded`` is sent
with ``participant=...`` when attendance is recorded. ``participant_removed`` is sent with
``meeting=...`` and ``participant=...`` just before a participant is removed (still loaded, so a
handler can see who it was: to send them a cancellation, or drop their reminders).
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

meeting_changed = _signals.signal("meeting-changed")
participant_attendance_recorded = _signals.signal("participant-attendance-recorded")
participant_removed = _signals.signal("participant-removed")
