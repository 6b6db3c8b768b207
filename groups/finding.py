"""Finding sessions and groups for pages and lists: a worker's sessions, a client's groups, the span
of each group's sessions and the labels of group choices. Reads only."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from core.db import aware_utc
from core.extensions import db
from core.templating import local_date
from core.timeutil import to_local

from .models import (
    Enrolment,
    EnrolmentStatus,
    Group,
    GroupSession,
)

# --- finding sessions ---------------------------------------------------------------------------

@functools.cache
def _sessions_for_user_statement() -> sa.Select:
    user_id = sa.bindparam("user_id", type_=sa.Integer)
    return (sa.select(GroupSession).join(Group, Group.id == GroupSession.group_id)
            .where(sa.or_(Group.facilitator1_id == user_id, Group.facilitator2_id == user_id),
                   GroupSession.starts_at < sa.bindparam("end"), GroupSession.ends_at > sa.bindparam("start"))
            .options(contains_eager(GroupSession.group))
            .order_by(GroupSession.starts_at))


def sessions_for_user(user_id: int, start_utc: datetime, end_utc: datetime) -> Sequence[GroupSession]:
    """Sessions (cancelled ones included, marked) that ``user_id`` facilitates between the two instants.

    Lists show "3/6", so each group's number of sessions is loaded as ``session_spans`` (one
    aggregate query), not by loading every session of every group. The statement is built once
    (the start page's)."""
    return db.session.scalars(_sessions_for_user_statement(),
                              {"user_id": user_id, "start": start_utc, "end": end_utc}).all()


@dataclass(frozen=True)
class SessionSpan:
    first: datetime
    last: datetime
    count: int


# One client's enrolment, as the client's page says it (the participants page has headings).
ENROLMENT_LABELS = {
    EnrolmentStatus.ENROLLED.value: _l("In the group"),
    EnrolmentStatus.OFFERED.value: _l("Offered a place"),
    EnrolmentStatus.WAITING.value: _l("On the waiting list"),
    EnrolmentStatus.WITHDRAWN.value: _l("Withdrew"),
}


def client_groups(client_id: int, limit: int) -> tuple[list[sa.Row], bool]:
    """The groups a client is or was enrolled in (waiting, offered and withdrawn too), newest
    group first, as rows of group id, title, group status and enrolment status; and whether there
    are more than ``limit``. For the client's page, which has checked the client's access."""
    rows = db.session.execute(
        sa.select(Group.id, Group.title, Group.status, Enrolment.status.label("enrolment"))
        .join(Enrolment, Enrolment.group_id == Group.id)
        .where(Enrolment.client_id == client_id)
        .order_by(Group.created_at.desc(), Group.id.desc())
        .limit(limit + 1)).all()
    return list(rows[:limit]), len(rows) > limit


@functools.cache
def _spans_statement() -> sa.Select:
    return (sa.select(GroupSession.group_id, sa.func.min(GroupSession.starts_at), sa.func.max(GroupSession.starts_at),
                      sa.func.count(GroupSession.id))
            .where(GroupSession.group_id.in_(sa.bindparam("group_ids", expanding=True)))
            .group_by(GroupSession.group_id))


def session_spans(group_ids) -> dict[int, SessionSpan]:
    """First and last session start and the number of sessions per group, in one query (lists
    of groups show these without loading every session)."""
    ids = sorted(set(group_ids))
    if not ids:
        return {}
    rows = db.session.execute(_spans_statement(), {"group_ids": ids}).all()
    # Aggregates bypass the column type on SQLite, so the instants are made aware here.
    # MIN and MAX over a group's own rows are never NULL.
    return {gid: SessionSpan(aware_utc(first), aware_utc(last), count)
            for gid, first, last, count in rows}


def group_choice_labels(groups) -> dict[int, str]:
    """Labels for drop-downs that tell apart groups of the same title (two rounds of
    "Raharyhmä"): "Raharyhmä, 4.1.2027–8.2.2027", or "Raharyhmä, no schedule yet"."""
    spans = session_spans([g.id for g in groups])
    labels = {}
    for g in groups:
        span = spans.get(g.id)
        if span is None:
            labels[g.id] = _("%(title)s, no schedule yet", title=g.title)
        else:
            labels[g.id] = _("%(title)s, %(first)s–%(last)s", title=g.title, first=local_date(span.first),
                             last=local_date(span.last))
    return labels


def local_time_of(value: datetime) -> time:
    return to_local(value).time().replace(tzinfo=None)
