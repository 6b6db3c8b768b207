"""Start-page panel: follow-ups due and reminders that failed or wait for sending by hand."""
from __future__ import annotations

import functools
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from core.dashboard import Panel
from core.db import Viewer
from core.extensions import db
from register.access import log_access_many

from .follow_ups import task_visible_condition
from .models import FollowUpStatus, FollowUpTask, MessageStatus
from .services import problem_counts, reminder_targets_key


@functools.cache
def _tasks_statement(viewer: Viewer, _targets_key: tuple) -> sa.Select:
    """Built once per role (and set of registered targets): every start page asks it."""
    return (sa.select(FollowUpTask).where(FollowUpTask.status == FollowUpStatus.OPEN.value,
                                          task_visible_condition(viewer))
            .options(joinedload(FollowUpTask.client)).order_by(FollowUpTask.due_on, FollowUpTask.id).limit(20))


def reminders_panel(user):
    tasks = db.session.scalars(_tasks_statement(Viewer.of(user), reminder_targets_key()),
                               {"viewer_id": user.id}).all()
    # Counted as the outbox page lists them: messages of the groups and meetings the user may see.
    counts = problem_counts(user)
    failed, manual = counts.get(MessageStatus.FAILED.value, 0), counts.get(MessageStatus.MANUAL.value, 0)
    if not (tasks or failed or manual):
        return None
    log_access_many([t.client_id for t in tasks], "follow_up_panel")
    # Plain values: the start page commits before rendering, which would expire ORM rows.
    rows = [SimpleNamespace(id=t.id, client_name=t.client.name, due_on=t.due_on) for t in tasks]
    return Panel("reminders/panel.html", {"tasks": rows, "failed": failed, "manual": manual}, order=30)
