"""Reminder policies, who may see a target's reminders, recipients, opt-out links and the
registered reminder targets. Functions flush (the request commits, core.transaction).

The rest of the outbox is in modules named for their part: ``queue`` (queuing what is due),
``worker`` (claiming and sending; the only part that commits, message by message),
``invitations`` (calendar invitations to meetings) and ``follow_ups`` (no-show follow-ups)."""
from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

import phonenumbers
import sqlalchemy as sa
from flask import Flask, current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, selectinload

from core.db import Viewer, exists_per_row
from core.extensions import db
from core.forms import normalise_phone
from core.registry import register, registered
from groups.models import Enrolment, EnrolmentStatus, Group, GroupSession
from groups.services import can_edit as can_edit_group, editable_condition as group_editable
from meetings.models import Meeting, MeetingParticipant, ParticipantKind
from meetings.partner_links import hash_token
from meetings.services import can_open as can_open_meeting, openable_condition as meeting_openable
from register.models import Client, Relative

from .models import (
    Channel,
    MessageStatus,
    OptOutLink,
    OutboxMessage,
    PlaceOffer,
    RecipientKind,
    ReminderOptOut,
    ReminderPolicy,
    TargetKind,
)

CLAIMABLE = (MessageStatus.PENDING.value, MessageStatus.FAILED.value)
# --- policies ----------------------------------------------------------------------------------


def get_policy(target_kind: str, target_id: int) -> ReminderPolicy | None:
    return db.session.scalar(sa.select(ReminderPolicy).where(ReminderPolicy.target_kind == target_kind,
                                                             ReminderPolicy.target_id == target_id))


def save_policy(target_kind: str, target_id: int, *, day_before: bool, day_before_at: time, same_morning: bool,
                same_morning_at: time, by_sms: bool, by_email: bool, user=None) -> ReminderPolicy:
    policy = get_policy(target_kind, target_id)
    if policy is None:
        policy = ReminderPolicy(target_kind=target_kind, target_id=target_id)
        db.session.add(policy)
    else:
        policy.version += 1
    policy.day_before, policy.day_before_at = day_before, day_before_at
    policy.same_morning, policy.same_morning_at = same_morning, same_morning_at
    policy.by_sms, policy.by_email = by_sms, by_email
    policy.updated_by_id = getattr(user, "id", None)
    db.session.flush()
    return policy


# --- who may see what ---------------------------------------------------------------------------
# The reminders of a meeting or a group's session show its time, place and recipients (names,
# numbers): they are seen by whoever may open the meeting or see the group's participants, by the
# meetings' and groups' own rules, and by nobody else (not by staff who merely see the client).

def can_see_target(user, target_kind: str, target_id: int) -> bool:
    """Whether ``user`` may see the reminders of a group, a session or a meeting."""
    if not getattr(user, "is_authenticated", False):
        return False
    if target_kind == TargetKind.MEETING.value:
        meeting = db.session.get(Meeting, target_id)
        return meeting is not None and can_open_meeting(user, meeting)
    if (target := _targets().get(target_kind)) is not None:
        return target.can_open(user, target_id)
    if target_kind == TargetKind.SESSION.value:
        session = db.session.get(GroupSession, target_id)
        return session is not None and can_edit_group(user, session.group)
    if target_kind == TargetKind.GROUP.value:
        group = db.session.get(Group, target_id)
        return group is not None and can_edit_group(user, group)
    if target_kind == TargetKind.OFFER.value:
        offer = db.session.get(PlaceOffer, target_id)
        return offer is not None and can_edit_group(user, offer.group)
    return False


@functools.cache
def _aliases():
    """Made once per process (after the mappers are configured): an alias adapts each column the
    first time it is used, and that was paid on every start page when they were made per call."""
    return aliased(GroupSession), aliased(Group), aliased(PlaceOffer), aliased(Group)


def target_visible_condition(user, kind_column, id_column):
    """``can_see_target`` as SQL over a (kind, id) pair of columns, for lists. Each kind's rule is
    checked per row, through primary keys (``core.db.exists_per_row``): a list of messages or
    follow-ups walks its own index and asks of each row. A SELECT of every meeting, group
    session and client a lead may see, materialised for a few hundred messages, grew with the
    county."""
    session, session_group, offer, offer_group = _aliases()
    return sa.or_(
        sa.and_(kind_column == TargetKind.MEETING.value, meeting_openable(user, id_column)),
        sa.and_(kind_column == TargetKind.SESSION.value,
                exists_per_row(session.id == id_column, session_group.id == session.group_id,
                               group_editable(user, session_group))),
        *(sa.and_(kind_column == kind, target.openable_condition(user, id_column))
          for kind, target in _targets().items()),
        sa.and_(kind_column == TargetKind.OFFER.value,
                exists_per_row(offer.id == id_column, offer_group.id == offer.group_id,
                               group_editable(user, offer_group))))


def message_visible_condition(user):
    """A message is seen by whoever may see its target, and by the leads of its client's unit."""
    from accounts.units import led_unit_ids_select
    from register.models import Client

    conditions = [target_visible_condition(user, OutboxMessage.target_kind, OutboxMessage.target_id)]
    if user.is_lead:
        conditions.append(exists_per_row(Client.id == OutboxMessage.client_id,
                                         Client.unit_id.in_(led_unit_ids_select(user))))
    return sa.or_(*conditions)


def problem_counts(user) -> dict[str, int]:
    """How many failed and manual (to send by hand) messages ``user`` may see, by status. Read
    once per request: the start page's panel and a lead's exceptions both show them."""
    cache = g.setdefault("reminder_problem_counts", {})
    if user.id not in cache:
        statement = _problem_counts_statement(Viewer.of(user), reminder_targets_key())
        rows = db.session.execute(statement, {"viewer_id": user.id}).all()
        cache[user.id] = {status: count for status, count in rows}
    return cache[user.id]


@functools.cache
def _problem_counts_statement(viewer: Viewer, _targets_key: tuple) -> sa.Select:
    """Built once per role (and set of registered targets): every start page asks it."""
    return (sa.select(OutboxMessage.status, sa.func.count(OutboxMessage.id))
            .where(OutboxMessage.status.in_((MessageStatus.FAILED.value, MessageStatus.MANUAL.value)),
                   message_visible_condition(viewer))
            .group_by(OutboxMessage.status))


# --- recipients --------------------------------------------------------------------------------

@dataclass
class Recipient:
    kind: str
    id: int
    client_id: int
    name: str
    phone: str
    email: str
    language: str
    consent: bool
    consent_date: date | None
    opted_out: bool = False


def _from_client(client: Client) -> Recipient:
    return Recipient(RecipientKind.CLIENT.value, client.id, client.id, client.name, client.phone, client.email,
                     client.language, client.reminder_consent, client.consent_date)


def _from_relative(relative: Relative) -> Recipient:
    return Recipient(RecipientKind.RELATIVE.value, relative.id, relative.client_id, relative.name, relative.phone,
                     relative.email, relative.language, relative.reminder_consent, relative.consent_date)


def _mark_opt_outs(recipients: list[Recipient]) -> list[Recipient]:
    if not recipients:
        return recipients
    rows = db.session.execute(
        sa.select(ReminderOptOut.recipient_kind, ReminderOptOut.recipient_id)
        .where(ReminderOptOut.recipient_id.in_({r.id for r in recipients}))
    ).all()
    opted = {(k, i) for k, i in rows}
    for r in recipients:
        r.opted_out = (r.kind, r.id) in opted
    return recipients


def group_recipients(group: Group) -> list[Recipient]:
    clients = db.session.scalars(
        sa.select(Client).join(Enrolment, Enrolment.client_id == Client.id)
        .where(Enrolment.group_id == group.id, Enrolment.status == EnrolmentStatus.ENROLLED.value,
               Client.active.is_(True)).order_by(Client.name)
    ).all()
    return _mark_opt_outs([_from_client(c) for c in clients])


def appointment_recipients(appointment) -> list[Recipient]:
    """An appointment's client (its reminders and change notices go to the client only). The
    appointment comes from the appointments feature above this one (``ReminderTarget``)."""
    return _mark_opt_outs([_from_client(appointment.client)])


def meeting_recipients(meeting: Meeting) -> list[Recipient]:
    """The meeting's client, when the client takes part (a meeting of the network without the
    client is no appointment of theirs), and the relatives invited to it."""
    participants = db.session.scalars(
        sa.select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id)
        .options(selectinload(MeetingParticipant.relative)).order_by(MeetingParticipant.id)
    ).all()
    client_takes_part = any(p.kind == ParticipantKind.CLIENT.value for p in participants)
    result = [_from_client(meeting.client)] if client_takes_part and meeting.client and meeting.client.active else []
    for p in participants:
        if p.kind == ParticipantKind.RELATIVE.value and p.relative is not None:
            result.append(_from_relative(p.relative))
    return _mark_opt_outs(result)


REASONS = {
    "no_consent": _l("No consent to reminders"),
    "opted_out": _l("Has opted out of reminders"),
    "no_phone": _l("No phone number"),
    "invalid_phone": _l("Invalid phone number"),
    "foreign_phone": _l("Foreign phone number: SMS is sent to Finnish numbers only"),
    "no_email": _l("No e-mail address"),
}


def sms_address(phone: str) -> tuple[str | None, str | None]:
    """(E.164 number, None) or (None, reason key). Only Finnish numbers: the gateway contract and
    the consent cover Finnish subscriptions."""
    if not (phone or "").strip():
        return None, "no_phone"
    try:
        number = normalise_phone(phone)
    except ValueError:
        return None, "invalid_phone"
    if phonenumbers.region_code_for_number(phonenumbers.parse(number)) != "FI":
        return None, "foreign_phone"
    return number, None


def channel_address(recipient: Recipient, channel: str) -> tuple[str | None, str | None]:
    """Where a reminder to ``recipient`` goes on ``channel``, or why it is not sent."""
    if not recipient.consent:
        return None, "no_consent"
    if recipient.opted_out:
        return None, "opted_out"
    if channel == Channel.SMS.value:
        return sms_address(recipient.phone)
    email = (recipient.email or "").strip()
    return (email, None) if email else (None, "no_email")


def policy_channels(policy: ReminderPolicy) -> list[str]:
    return [c for c, on in ((Channel.SMS.value, policy.by_sms), (Channel.EMAIL.value, policy.by_email)) if on]


# --- opt-out links -----------------------------------------------------------------------------
# A random token per message, kept only as its hash (meetings.partner_links.hash_token, as partner
# links are): the URL names nobody, and it stops working when it expires or when the person's
# consent is not the one it was sent under. Links signed the earlier way (they carried the
# recipient's id) are no longer accepted.

OPT_OUT_LINK_VALID = timedelta(days=90)


def new_opt_out_link(recipient: Recipient, now: datetime) -> tuple[str, OptOutLink | None]:
    """(the absolute link, its row to add once the message carrying it is stored), or ("", None)
    when BASE_URL is not set (a relative link in an SMS would be useless; staff can still turn
    reminders off on the settings page)."""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if not base:
        return "", None
    token = secrets.token_urlsafe(16)   # 128 random bits, 22 characters: short enough for an SMS
    link = OptOutLink(token_hash=hash_token(token), recipient_kind=recipient.kind, recipient_id=recipient.id,
                      client_id=recipient.client_id, consent_date=recipient.consent_date, created_at=now,
                      expires_at=now + OPT_OUT_LINK_VALID)
    # Built by hand: the command runs outside any request, where url_for cannot build URLs.
    return f"{base}/reminders/stop/{token}", link


def opt_out_link_for_token(token: str, now: datetime) -> tuple[OptOutLink, Client | Relative] | None:
    """The link and its person, or None when the token is unknown (mistyped, tampered, or signed
    the earlier way), expired, or no longer matches the person's consent."""
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(sa.select(OptOutLink).where(OptOutLink.token_hash == hash_token(token)))
    if link is None or link.expires_at <= now:
        return None
    person: Client | Relative | None = (
        db.session.get(Client, link.recipient_id) if link.recipient_kind == RecipientKind.CLIENT.value
        else db.session.get(Relative, link.recipient_id))
    if person is None or not person.reminder_consent or person.consent_date != link.consent_date:
        return None
    return link, person


_STOP_LINK = re.compile(r"(/reminders/(?:stop|offer)/)[A-Za-z0-9_.-]+")


def mask_opt_out_link(body: str) -> str:
    """The stored copy of a message once it has gone out: its opt-out (or offer) token is no
    longer needed in clear (only the recipient's copy works as a link)."""
    return _STOP_LINK.sub(r"\1…", body)


def prune_opt_out_links(now: datetime) -> None:
    db.session.execute(sa.delete(OptOutLink).where(OptOutLink.expires_at <= now)
                       .execution_options(synchronize_session=False))


def set_opt_out(kind: str, recipient_id: int, opted_out: bool, source: str = "link") -> None:
    row = db.session.scalar(sa.select(ReminderOptOut).where(ReminderOptOut.recipient_kind == kind,
                                                            ReminderOptOut.recipient_id == recipient_id))
    if opted_out and row is None:
        db.session.add(ReminderOptOut(recipient_kind=kind, recipient_id=recipient_id, source=source))
    elif not opted_out and row is not None:
        db.session.delete(row)
    if opted_out:
        # Nothing already queued for them goes out either.
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.recipient_kind == kind, OutboxMessage.recipient_id == recipient_id,
                   OutboxMessage.kind == "reminder", OutboxMessage.status.in_(CLAIMABLE))
            .values(status=MessageStatus.CANCELLED.value, next_attempt_at=None, last_error="opted out")
        )
    db.session.flush()


# --- reminder targets of features above this one -----------------------------------------------

# The target and source kind of appointments (appointments.notices.TARGET_KIND): ten characters at most.
APPOINTMENT = "appt"


class ReminderTarget(Protocol):
    """A kind of event of a feature above this one (appointments) that has reminders, notices and
    no-show follow-ups here, registered on the app with ``register_reminder_target`` (core.registry)
    so that this feature need not import it."""

    kind: str  # the outbox's target_kind and a follow-up's source_kind (ten characters at most)

    def can_open(self, user, target_id: int) -> bool: ...

    def openable_condition(self, user, id_column) -> sa.ColumnElement[bool]:
        """``can_open`` per row of whatever carries the target's id in ``id_column``."""
        ...

    def load(self, target_id: int): ...

    def book(self, **kwargs): ...


def register_reminder_target(app: Flask, target: ReminderTarget) -> ReminderTarget:
    return register(app, "reminder_targets", target)


def _targets() -> dict[str, ReminderTarget]:
    return {target.kind: target for target in registered("reminder_targets")}


def reminder_targets_key() -> tuple:
    """The current app's registered targets, as part of the key of a statement built once per
    role: their rules are part of it."""
    return tuple(_targets().values())


def reminder_target(kind: str) -> ReminderTarget:
    """The registered target of ``kind`` (e.g. APPOINTMENT)."""
    return _targets()[kind]
