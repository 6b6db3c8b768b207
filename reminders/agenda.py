"""Reminders in the agenda: an event whose reminder failed says so, and a lead sees the unit's
failed messages. Only counts and the event's link: never a recipient or an address."""
from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.extensions import db

from .models import MessageStatus, OutboxMessage
from .services import problem_counts


@functools.cache
def _failed_statement() -> sa.Select:
    """Built once: every start page asks it."""
    return (sa.select(OutboxMessage.target_kind, OutboxMessage.target_id).distinct()
            .where(OutboxMessage.status == MessageStatus.FAILED.value,
                   sa.tuple_(OutboxMessage.target_kind, OutboxMessage.target_id)
                   .in_(sa.bindparam("targets", expanding=True))))


def annotate(items: list[dict]) -> None:
    targets = {item["target"] for item in items if item.get("target")}
    if not targets:
        return
    failed = set(db.session.execute(_failed_statement(), {"targets": sorted(targets)}).all())
    for item in items:
        if item.get("target") in failed:
            item["needs"].append(_("A reminder failed"))


def exception_source() -> list[dict]:
    failed = problem_counts(current_user).get(MessageStatus.FAILED.value, 0)
    if not failed:
        return []
    return [{"text": _("%(n)s messages could not be sent", n=failed), "url": url_for("reminders.outbox")}]
