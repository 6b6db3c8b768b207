"""No-show follow-ups: a task opened when a client misses a session, a meeting or an appointment,
closed when they come, and a new time booked from it. Functions flush."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from core.db import utcnow
from core.extensions import db
from core.timeutil import to_local
from groups.models import GroupSession
from meetings.models import Meeting, ParticipantKind
from meetings.signals import meeting_changed
from register.models import Client

from . import texts
from .models import (
    Channel,
    FollowUpStatus,
    FollowUpTask,
    PlaceOffer,
    ReminderPolicy,
    TargetKind,
)
from .queue import _insert_once
from .services import (
    APPOINTMENT,
    _from_client,
    _mark_opt_outs,
    _targets,
    can_see_target,
    channel_address,
    get_policy,
    new_opt_out_link,
    save_policy,
    target_visible_condition,
)


def _open_task(source_kind: str, source_id: int, client_id: int, assigned_to_id: int | None, missed_at: datetime):
    task = db.session.scalar(sa.select(FollowUpTask).where(
        FollowUpTask.source_kind == source_kind, FollowUpTask.source_id == source_id,
        FollowUpTask.client_id == client_id))
    if task is None:
        task = FollowUpTask(source_kind=source_kind, source_id=source_id, client_id=client_id,
                            assigned_to_id=assigned_to_id, missed_at=missed_at,
                            due_on=to_local(max(missed_at, utcnow())).date() + timedelta(days=1))
        db.session.add(task)
    elif task.status == FollowUpStatus.CLOSED.value:
        task.status = FollowUpStatus.OPEN.value
        task.version += 1
    db.session.flush()
    return task


def _close_task(source_kind: str, source_id: int, client_id: int) -> None:
    task = db.session.scalar(sa.select(FollowUpTask).where(
        FollowUpTask.source_kind == source_kind, FollowUpTask.source_id == source_id,
        FollowUpTask.client_id == client_id, FollowUpTask.status == FollowUpStatus.OPEN.value))
    if task is not None:
        task.status = FollowUpStatus.CLOSED.value
        task.version += 1
        db.session.flush()


def record_session_attendance(attendance) -> FollowUpTask | None:
    """An absence at a group session creates a task for the group's first facilitator (one
    call, not two; the other facilitator sees the task too and can take it)."""
    session = attendance.session
    client_id = attendance.enrolment.client_id
    if attendance.status != "absent":
        _close_task(TargetKind.SESSION.value, session.id, client_id)
        return None
    group = session.group
    assignee = group.facilitator1_id or group.facilitator2_id
    return _open_task(TargetKind.SESSION.value, session.id, client_id, assignee, session.starts_at)


def record_participant_attendance(participant) -> FollowUpTask | None:
    if participant.kind != ParticipantKind.CLIENT.value or participant.attended is None:
        return None
    meeting = participant.meeting
    if participant.attended:
        _close_task(TargetKind.MEETING.value, meeting.id, meeting.client_id)
        return None
    staff = [p.user_id for p in meeting.participants if p.kind == ParticipantKind.STAFF.value and p.user_id]
    assignee = staff[0] if staff else meeting.created_by_id
    return _open_task(TargetKind.MEETING.value, meeting.id, meeting.client_id, assignee, meeting.starts_at)


def can_see_task(user, task: FollowUpTask) -> bool:
    """The one it is assigned to, and whoever may see the missed session's group or meeting."""
    return task.assigned_to_id == user.id or can_see_target(user, task.source_kind, task.source_id)


def task_visible_condition(user):
    """SQL condition for the tasks ``user`` sees (``can_see_task`` as SQL)."""
    return sa.or_(FollowUpTask.assigned_to_id == user.id,
                  target_visible_condition(user, FollowUpTask.source_kind, FollowUpTask.source_id))


def task_source(task: FollowUpTask):
    if (target := _targets().get(task.source_kind)) is not None:
        return target.load(task.source_id)
    if task.source_kind == TargetKind.SESSION.value:
        return db.session.get(GroupSession, task.source_id)
    if task.source_kind == TargetKind.OFFER.value:
        return db.session.get(PlaceOffer, task.source_id)
    return db.session.get(Meeting, task.source_id)


def _policy_for_new_meeting(task: FollowUpTask, meeting) -> ReminderPolicy:
    """The new time is reminded as the missed one was (or the day before at 16:00 by SMS)."""
    if task.source_kind == TargetKind.SESSION.value:
        session = db.session.get(GroupSession, task.source_id)
        source = get_policy(TargetKind.GROUP.value, session.group_id) if session else None
    else:
        source = get_policy(task.source_kind, task.source_id)
    if source is None:
        return save_policy(APPOINTMENT, meeting.id, day_before=True, day_before_at=time(16, 0),
                           same_morning=False, same_morning_at=time(8, 0), by_sms=True, by_email=False)
    return save_policy(APPOINTMENT, meeting.id, day_before=source.day_before,
                       day_before_at=source.day_before_at, same_morning=source.same_morning,
                       same_morning_at=source.same_morning_at, by_sms=source.by_sms, by_email=source.by_email)


def book_new_time(task: FollowUpTask, user, *, reached: bool, starts_at: datetime, minutes: int, place: str,
                  purpose: str = "") -> tuple[object, str | None]:
    """Book the new time as a one-to-one appointment of the client with the staff member (at the
    office, in ``place``), with its reminder policy. Not reached: the new time also goes to the
    client by SMS now (returns the reason when it cannot: no consent, no or foreign number).
    ``purpose`` is no longer stored (an appointment has none); kept for callers."""
    client = db.session.get_one(Client, task.client_id)
    appointments = _targets()[APPOINTMENT]
    previous = appointments.load(task.source_id) if task.source_kind == APPOINTMENT else None
    appointment = appointments.book(client=client, kind="office", starts_at=starts_at,
                                   ends_at=starts_at + timedelta(minutes=minutes), worker_ids=[user.id], place=place,
                                   created_by=user, previous=previous)
    _policy_for_new_meeting(task, appointment)
    reason = None
    if not reached:
        recipient = _mark_opt_outs([_from_client(client)])[0]
        address, reason = channel_address(recipient, Channel.SMS.value)
        if address is not None:
            stop, link = new_opt_out_link(recipient, utcnow())
            inserted = _insert_once(dict(
                kind="new_time", target_kind=APPOINTMENT, target_id=appointment.id,
                recipient_kind=recipient.kind, recipient_id=recipient.id, slot="new-time",
                channel=Channel.SMS.value, client_id=client.id, address=address, language=client.language,
                subject=texts.subject_for("new_time", client.language),
                body=texts.new_time_text(starts_at, place, client.language, stop),
            ))
            if inserted and link is not None:
                db.session.add(link)
    task.status = FollowUpStatus.REACHED.value if reached else FollowUpStatus.NOT_REACHED.value
    task.new_appointment_id = appointment.id
    task.done_by_id = user.id
    task.done_at = utcnow()
    task.version += 1
    db.session.flush()
    return appointment, reason


def _announce_meeting(meeting: Meeting) -> None:
    """Tell the other features (calendar feeds) that a meeting was created."""
    # current_app is a LocalProxy typed as the Flask it stands for; the method is the proxy's.
    sender = current_app._get_current_object()  # type: ignore[attr-defined]
    meeting_changed.send(sender, meeting=meeting, change="created")
