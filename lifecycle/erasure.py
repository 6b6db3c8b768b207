"""Erasing one client's personal data (GDPR Art. 17, and storage limitation by retention).

Erasure keeps the shape of the work and removes the person: the client row stays under a neutral
name (so group attendance stays countable and a meeting's plan keeps its items, "removed client"),
while the name, phone, email, consents, relatives' details, message texts and addresses go, and
the client's and relatives' names are redacted from the free text written about them (meeting
notes, plan items, change history, follow-up notes). The access log keeps its rows: they carry the
client's id only, and the client's right to know who processed their data outlives the data
(Act 703/2023); retention ages them out separately.

One function per kind of record keeps each table's rule in view; ``erase_client`` runs them all
in the caller's transaction (flush only; the request or the command commits)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale, lazy_gettext as _l

from appointments.models import Appointment, AppointmentKind, AppointmentStatus
from core.db import utcnow
from core.extensions import db
from groups.models import Enrolment, EnrolmentStatus, GroupSession, SessionStatus
from meetings.models import ActionItem, Meeting, MeetingChange, MeetingStatus, PlaceKind
from register.models import Client, ClientWorker, Relative
from register.services import redact_names
from reminders.models import FollowUpTask, OptOutLink, OutboxMessage, RecipientKind, ReminderOptOut

# Stored in the installation's default language (Finnish): the row is shown to staff of any
# language, and a stored name cannot follow the reader's language.
REMOVED_CLIENT = _l("removed client")
REMOVED_RELATIVE = _l("removed relative")


@dataclass(frozen=True)
class Blocker:
    """Something that must not lose its client: the erasure is refused and this says why."""
    kind: str        # "meeting", "group_session" or "appointment"
    starts_at: datetime


def blockers(client: Client, now: datetime | None = None) -> list[Blocker]:
    """Upcoming meetings of the client and upcoming sessions of groups the client is enrolled in
    (or offered a place in): erasing the client now would leave staff with a meeting whose
    client cannot be reached."""
    now = now or utcnow()
    meetings = db.session.scalars(
        sa.select(Meeting.starts_at).where(Meeting.client_id == client.id, Meeting.starts_at > now,
                                           Meeting.status == MeetingStatus.PLANNED.value)
        .order_by(Meeting.starts_at)).all()
    sessions = db.session.scalars(
        sa.select(sa.func.min(GroupSession.starts_at))
        .join(Enrolment, Enrolment.group_id == GroupSession.group_id)
        .where(Enrolment.client_id == client.id,
               Enrolment.status.in_([EnrolmentStatus.ENROLLED.value, EnrolmentStatus.OFFERED.value]),
               GroupSession.starts_at > now, GroupSession.status == SessionStatus.SCHEDULED.value)
        .group_by(GroupSession.group_id)).all()
    appointments = db.session.scalars(
        sa.select(Appointment.starts_at).where(Appointment.client_id == client.id, Appointment.starts_at > now,
                                               Appointment.status == AppointmentStatus.BOOKED)
        .order_by(Appointment.starts_at)).all()
    found = ([Blocker("meeting", s) for s in meetings] + [Blocker("group_session", s) for s in sessions if s]
             + [Blocker("appointment", s) for s in appointments])
    return sorted(found, key=lambda b: b.starts_at)


def _names(client: Client, relatives: list[Relative]) -> tuple[list[str], list[str]]:
    names = [client.name, *(r.name for r in relatives)]
    literals = [v for v in (client.phone, client.email, *client.postal_address.splitlines(),
                            *(x for r in relatives for x in (r.phone, r.email))) if v and v.strip()]
    return names, literals


def _erase_meetings(client: Client, names: list[str], literals: list[str]) -> None:
    meetings = db.session.scalars(sa.select(Meeting).where(Meeting.client_id == client.id)).all()
    ids = [m.id for m in meetings]
    for m in meetings:
        m.purpose = redact_names(m.purpose, names, literals)
        m.worries = redact_names(m.worries, names, literals)
        m.summary = redact_names(m.summary, names, literals)
        # A home visit's place is the client's address: it goes whole.
        m.place = "" if m.place_kind == PlaceKind.HOME_VISIT.value else redact_names(m.place, names, literals)
        m.remote_link = ""
    if not ids:
        return
    for item in db.session.scalars(sa.select(ActionItem).where(ActionItem.meeting_id.in_(ids))):
        item.what = redact_names(item.what, names, literals)
        item.with_whom = redact_names(item.with_whom, names, literals)
    for change in db.session.scalars(sa.select(MeetingChange).where(MeetingChange.meeting_id.in_(ids))):
        change.old_value = redact_names(change.old_value, names, literals)
        change.new_value = redact_names(change.new_value, names, literals)


def _erase_appointments(client: Client, names: list[str], literals: list[str]) -> None:
    for a in db.session.scalars(sa.select(Appointment).where(Appointment.client_id == client.id)):
        # A home visit's place is the client's address.
        a.place = "" if a.kind == AppointmentKind.HOME_VISIT else redact_names(a.place, names, literals)


def _erase_messages(client: Client) -> None:
    # The fact of a message stays (kind, channel, status, times); what it said and where it
    # went do not.
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.client_id == client.id)
                       .values(address="", subject="", body="", ics="", event="", last_error=""))
    db.session.execute(sa.delete(OptOutLink).where(OptOutLink.client_id == client.id))
    relative_ids = sa.select(Relative.id).where(Relative.client_id == client.id)
    db.session.execute(sa.delete(ReminderOptOut).where(
        sa.or_(sa.and_(ReminderOptOut.recipient_kind == RecipientKind.CLIENT.value,
                       ReminderOptOut.recipient_id == client.id),
               sa.and_(ReminderOptOut.recipient_kind == RecipientKind.RELATIVE.value,
                       ReminderOptOut.recipient_id.in_(relative_ids)))))


def _erase_follow_ups(client: Client, names: list[str], literals: list[str]) -> None:
    for task in db.session.scalars(sa.select(FollowUpTask).where(FollowUpTask.client_id == client.id)):
        task.note = redact_names(task.note, names, literals)


def _erase_person(client: Client, relatives: list[Relative], now: datetime) -> None:
    with force_locale("fi"):
        removed_client, removed_relative = str(REMOVED_CLIENT), str(REMOVED_RELATIVE)
    for r in relatives:
        r.name, r.relation, r.phone, r.email = removed_relative, "", "", ""
        r.reminder_consent, r.consent_date = False, None
    client.name, client.phone, client.email = removed_client, "", ""
    client.postal_address, client.postal_consent_date = "", None
    client.reminder_consent, client.consent_date = False, None
    client.active = False
    client.erased_at = now
    db.session.execute(sa.delete(ClientWorker).where(ClientWorker.client_id == client.id))


def erase_client(client: Client, now: datetime | None = None) -> None:
    """Erase the client's personal data (see the module docstring). The caller checks
    ``blockers`` first where the erasure is a person's decision; retention erases only clients
    inactive for months, who have none."""
    now = now or utcnow()
    if client.erased_at is not None:
        return
    relatives = list(db.session.scalars(sa.select(Relative).where(Relative.client_id == client.id)))
    names, literals = _names(client, relatives)
    _erase_meetings(client, names, literals)
    _erase_appointments(client, names, literals)
    _erase_messages(client)
    _erase_follow_ups(client, names, literals)
    _erase_person(client, relatives, now)
    db.session.flush()
