"""Roll call, attendance figures and a group's evaluation. Functions flush; rule violations raise
``GroupError``."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.templating import local_date
from core.timeutil import local_today, to_local

from .models import (
    Attendance,
    AttendanceStatus,
    Enrolment,
    EnrolmentStatus,
    Group,
    GroupEvaluation,
    GroupSession,
    GroupStatus,
)
from .services import GroupError
from .signals import attendance_recorded


def roll_call_refusal(session: GroupSession) -> str | None:
    """Why the roll call of ``session`` cannot be taken now (time sense), or None."""
    if session.is_cancelled:
        return _("This session has been cancelled; restore it before taking the roll call.")
    day = to_local(session.starts_at).date()
    if day > local_today():
        return _("The roll call can be taken from the day of the session on (%(day)s).", day=local_date(day))
    return None



# --- attendance ---------------------------------------------------------------------------------

ATTENDANCE_VALUES = tuple(a.value for a in AttendanceStatus)


def roll_call_enrolments(group: Group) -> Sequence[Enrolment]:
    return db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id, Enrolment.status == EnrolmentStatus.ENROLLED.value)
        .options(selectinload(Enrolment.client)).order_by(Enrolment.id)
    ).all()


def record_attendance(session: GroupSession, statuses: dict[int, str], user=None) -> list[Attendance]:
    """Set each enrolment's attendance at ``session`` and tell listeners (no-show follow-ups)."""
    if (reason := roll_call_refusal(session)) is not None:
        raise GroupError(reason)
    existing = {a.enrolment_id: a for a in session.attendance}
    allowed = {e.id for e in session.group.enrolments if e.status == EnrolmentStatus.ENROLLED.value}
    changed = []
    for enrolment_id, status in statuses.items():
        if status not in ATTENDANCE_VALUES:
            raise GroupError(_("Choose present, absent or excused."))
        if enrolment_id not in allowed:
            raise GroupError(_("That person is not enrolled in this group."))
        row = existing.get(enrolment_id)
        if row is None:
            row = Attendance(enrolment_id=enrolment_id, status=status, recorded_by_id=getattr(user, "id", None))
            session.attendance.append(row)
        elif row.status == status:
            continue
        else:
            row.status = status
            row.recorded_by_id = getattr(user, "id", None)
        changed.append(row)
    db.session.flush()
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy method
    for row in changed:
        attendance_recorded.send(app, attendance=row)
    return changed


@dataclass
class AttendanceFigures:
    per_session: list[tuple[GroupSession, dict[str, int]]]
    per_participant: list[tuple[Enrolment, dict[str, int]]]
    total: dict[str, int]

    @property
    def rate(self) -> int | None:
        counted = sum(self.total.values())
        return round(100 * self.total.get("present", 0) / counted) if counted else None


def attendance_figures(group: Group) -> AttendanceFigures:
    """Counts of present/absent/excused per session and per participant, in two queries."""
    rows = db.session.execute(
        sa.select(Attendance.session_id, Attendance.enrolment_id, Attendance.status)
        .join(GroupSession, GroupSession.id == Attendance.session_id).where(GroupSession.group_id == group.id)
    ).all()
    by_session: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ATTENDANCE_VALUES, 0))
    by_enrolment: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(ATTENDANCE_VALUES, 0))
    total = dict.fromkeys(ATTENDANCE_VALUES, 0)
    for session_id, enrolment_id, status in rows:
        by_session[session_id][status] += 1
        by_enrolment[enrolment_id][status] += 1
        total[status] += 1
    enrolments = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id,
                                   sa.or_(Enrolment.status == EnrolmentStatus.ENROLLED.value,
                                          Enrolment.id.in_(list(by_enrolment) or [0])))
        .options(selectinload(Enrolment.client)).order_by(Enrolment.id)
    ).all()
    return AttendanceFigures(
        per_session=[(s, by_session[s.id]) for s in sorted(group.sessions, key=lambda s: s.number)],
        per_participant=[(e, by_enrolment[e.id]) for e in enrolments],
        total=total,
    )


# --- evaluation ---------------------------------------------------------------------------------

def save_evaluation(group: Group, *, interesting: str, continue_decision: str, what_worked: str, improvements: str,
                    user=None) -> GroupEvaluation:
    if group.status not in (GroupStatus.FINISHED.value, GroupStatus.EVALUATED.value):
        raise GroupError(_("A group can be evaluated once it has finished."))
    evaluation = group.evaluation or GroupEvaluation()
    evaluation.interesting = interesting
    evaluation.continue_decision = continue_decision
    evaluation.what_worked = what_worked
    evaluation.improvements = improvements
    evaluation.recorded_by_id = getattr(user, "id", None)
    group.evaluation = evaluation
    group.status = GroupStatus.EVALUATED.value
    group.version += 1
    db.session.flush()
    return evaluation
