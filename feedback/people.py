"""Who could have answered a feedback window, in one statement: read right after the window row
is locked when an answer is stored (so counting and storing cannot race), and by the results
pages (feedback.release). See feedback.release for the rule."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from core.db import const
from groups.models import Attendance, AttendanceStatus, Enrolment, EnrolmentStatus, GroupSession
from meetings.models import MeetingParticipant, ParticipantKind

from .models import FeedbackResponse, FeedbackWindow, WindowKind

# Answers a window takes beyond the people who could have answered (a late arrival not yet in the
# roll call). Stated in the README.
MARGIN = 1


def _count(*where, of=None):
    return sa.select(sa.func.count(of) if of is not None else sa.func.count()).where(*where) \
        .correlate(FeedbackWindow).scalar_subquery()


def people_columns() -> list:
    """Scalar subqueries on FeedbackWindow: answers so far and the head counts of its target."""
    present = Attendance.status == const(AttendanceStatus.PRESENT.value)
    in_round = Attendance.session_id.in_(
        sa.select(GroupSession.id).where(GroupSession.group_id == FeedbackWindow.group_id).correlate(FeedbackWindow))
    non_staff = sa.and_(MeetingParticipant.meeting_id == FeedbackWindow.meeting_id,
                        MeetingParticipant.kind != const(ParticipantKind.STAFF.value))
    return [
        _count(FeedbackResponse.window_id == FeedbackWindow.id).label("answered"),
        _count(Attendance.session_id == FeedbackWindow.session_id).label("recorded"),
        _count(Attendance.session_id == FeedbackWindow.session_id, present).label("present"),
        _count(in_round).label("round_recorded"),
        _count(in_round, present, of=sa.distinct(Attendance.enrolment_id)).label("round_present"),
        _count(Enrolment.group_id == FeedbackWindow.group_id,
               Enrolment.status == const(EnrolmentStatus.ENROLLED.value)).label("enrolled"),
        _count(non_staff).label("invited"),
        _count(non_staff, MeetingParticipant.attended.is_not(None)).label("meeting_recorded"),
        _count(non_staff, MeetingParticipant.attended.is_(True)).label("took_part"),
    ]


@dataclass(frozen=True)
class Heads:
    answered: int
    people: int | None     # who could have answered; None while attendance is not recorded
    capacity: int          # answers the window takes


def heads(kind: str, row) -> Heads:
    """From a row with people_columns() (and the window's kind)."""
    if kind == WindowKind.SESSION.value:
        people, bound = (row.present if row.recorded else None), row.enrolled
    elif kind == WindowKind.MEETING.value:
        people, bound = (row.took_part if row.meeting_recorded else None), row.invited
    else:
        people, bound = (row.round_present if row.round_recorded else None), row.enrolled
    return Heads(row.answered, people, (people if people is not None else bound) + MARGIN)


def window_heads(window_id: int) -> Heads:
    from core.extensions import db

    row = db.session.execute(sa.select(FeedbackWindow.kind, *people_columns())
                             .where(FeedbackWindow.id == window_id)).one()
    return heads(row.kind, row)
