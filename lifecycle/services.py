"""Everything Kohtaamo holds about one client, gathered for the client's own copy (GDPR Art. 15,
and the Finnish Act 703/2023 right to know who processed their data).

One function builds a plain dict of sections; the printable page and the JSON download are two
renderings of the same dict, so they cannot disagree. Feedback is not in it: it is anonymous and
cannot be linked to a client. A fixed number of queries whatever the amount of data."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from accounts.models import User
from appointments.models import Appointment
from core.db import utcnow
from core.extensions import db
from groups.models import Attendance, Enrolment, Group, GroupSession
from meetings.models import Meeting, MeetingParticipant
from register.models import AccessLog, Client, ClientWorker, PartnerContact
from reminders.models import FollowUpTask, OutboxMessage, RecipientKind, ReminderOptOut

# The sections of the copy, in the order the page shows them (the JSON has every key, even empty).
SECTIONS = ("client", "relatives", "workers", "groups", "appointments", "meetings", "messages", "follow_ups",
            "access_log")


def _iso(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _participant_name(p: MeetingParticipant, client: Client) -> str:
    if p.kind == "client":
        return client.name
    return p.display_name


def client_copy(client: Client) -> dict:
    """The client's data as plain values (datetimes aware UTC, dates as dates)."""
    opt_out = db.session.scalar(sa.select(ReminderOptOut).where(
        ReminderOptOut.recipient_kind == RecipientKind.CLIENT.value, ReminderOptOut.recipient_id == client.id))
    workers = db.session.scalars(
        sa.select(User.name).join(ClientWorker, ClientWorker.user_id == User.id)
        .where(ClientWorker.client_id == client.id).order_by(User.name)).all()

    enrolments = db.session.execute(
        sa.select(Enrolment, Group.title, Group.venue).join(Group, Group.id == Enrolment.group_id)
        .where(Enrolment.client_id == client.id).order_by(Enrolment.created_at, Enrolment.id)).all()
    attendance_rows = db.session.execute(
        sa.select(Attendance.enrolment_id, GroupSession.number, GroupSession.starts_at, GroupSession.topic,
                  Attendance.status)
        .join(GroupSession, GroupSession.id == Attendance.session_id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(Enrolment.client_id == client.id).order_by(GroupSession.starts_at, GroupSession.id)).all()
    attendance: dict[int, list[dict]] = {}
    for row in attendance_rows:
        attendance.setdefault(row.enrolment_id, []).append(
            {"session": row.number, "starts_at": row.starts_at, "topic": row.topic, "status": row.status})
    groups = [{"title": title, "venue": venue, "status": e.status, "enrolled_at": e.created_at,
               "attendance": attendance.get(e.id, [])} for e, title, venue in enrolments]

    appointments = [{"kind": a.kind.value, "starts_at": a.starts_at, "ends_at": a.ends_at, "place": a.place,
                     "interpreter": a.interpreter_language if a.interpreter else "", "status": a.status.value}
                    for a in db.session.scalars(sa.select(Appointment).where(Appointment.client_id == client.id)
                                                .order_by(Appointment.starts_at, Appointment.id))]

    meetings = db.session.scalars(
        sa.select(Meeting).where(Meeting.client_id == client.id)
        .options(selectinload(Meeting.participants).selectinload(MeetingParticipant.user),
                 selectinload(Meeting.participants).selectinload(MeetingParticipant.relative),
                 selectinload(Meeting.participants).selectinload(MeetingParticipant.contact)
                 .selectinload(PartnerContact.organisation),
                 selectinload(Meeting.items))
        .order_by(Meeting.starts_at, Meeting.id)).all()
    meeting_list = []
    for m in meetings:
        by_id = {p.id: p for p in m.participants}
        meeting_list.append({
            "purpose": m.purpose, "starts_at": m.starts_at, "ends_at": m.ends_at, "place": m.place,
            "status": m.status, "worries": m.worries, "summary": m.summary,
            "participants": [_participant_name(p, client) for p in m.participants],
            "items": [{"what": i.what, "with_whom": i.with_whom, "due_date": i.due_date, "status": i.status,
                       "responsible": _participant_name(by_id[i.responsible_id], client)
                       if i.responsible_id in by_id else ""}
                      for i in sorted(m.items, key=lambda i: i.id)],
        })

    messages = [{"kind": m.kind, "channel": m.channel, "address": m.address, "subject": m.subject,
                 "body": m.body, "status": m.status, "created_at": m.created_at, "sent_at": m.sent_at}
                for m in db.session.scalars(
                    sa.select(OutboxMessage).where(OutboxMessage.client_id == client.id,
                                                   OutboxMessage.recipient_kind == RecipientKind.CLIENT.value)
                    .order_by(OutboxMessage.created_at, OutboxMessage.id))]
    follow_ups = [{"missed_at": f.missed_at, "due_on": f.due_on, "status": f.status, "note": f.note,
                   "done_at": f.done_at}
                  for f in db.session.scalars(sa.select(FollowUpTask).where(FollowUpTask.client_id == client.id)
                                              .order_by(FollowUpTask.missed_at, FollowUpTask.id))]
    access_log = [{"at": r.at, "user": r.user_name, "action": r.action, "detail": r.detail}
                  for r in db.session.scalars(sa.select(AccessLog).where(AccessLog.client_id == client.id)
                                              .order_by(AccessLog.at, AccessLog.id))]
    return {
        "generated_at": utcnow(),
        "client": {"name": client.name, "phone": client.phone, "email": client.email,
                   "postal_address": client.postal_address, "postal_consent_date": client.postal_consent_date,
                   "language": client.language, "active": client.active, "registered_at": client.created_at,
                   "reminder_consent": client.reminder_consent, "consent_date": client.consent_date,
                   "reminders_refused_at": opt_out.created_at if opt_out else None},
        "relatives": [{"name": r.name, "relation": r.relation, "phone": r.phone, "email": r.email,
                       "reminder_consent": r.reminder_consent, "consent_date": r.consent_date}
                      for r in client.relatives],
        "workers": list(workers),
        "groups": groups,
        "appointments": appointments,
        "meetings": meeting_list,
        "messages": messages,
        "follow_ups": follow_ups,
        "access_log": access_log,
    }


def as_json_data(value):
    """The copy with dates and times as ISO 8601 strings (times in UTC, with their offset)."""
    if isinstance(value, dict):
        return {k: as_json_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_data(v) for v in value]
    return _iso(value)
