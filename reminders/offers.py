"""Waiting-list places offered by message.

When a place opens, groups marks the first waiting client "offered"
(groups.enrolment.offer_free_places). The facilitator sets a deadline here and the client is sent the offer on
each channel they consented to, with a link (a random token kept only as its hash, like an
opt-out link) where they accept or decline, once. A client with no consented channel gets no
message: the group's facilitator gets a follow-up task to call instead. If nobody answers by the
deadline, ``flask send-reminders`` withdraws the offer and asks the next in line with as long to
answer, exactly once even when two workers run (a conditional UPDATE that only one wins). Staff
can still confirm or withdraw by hand on the participants page; the offer then closes itself.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from core.db import rowcount, utcnow
from core.extensions import db
from core.timeutil import to_local
from groups import enrolment as groups_enrolment
from groups.models import Enrolment, EnrolmentStatus, GroupSession, SessionStatus
from meetings.partner_links import hash_token

from . import queue, services, texts
from .models import Channel, FollowUpTask, OfferStatus, PlaceOffer, TargetKind

OFFER_PATH = "/reminders/offer/"


class OfferError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def open_offer(enrolment_id: int) -> PlaceOffer | None:
    return db.session.scalar(sa.select(PlaceOffer).where(PlaceOffer.enrolment_id == enrolment_id,
                                                         PlaceOffer.status == OfferStatus.OPEN.value))


def group_offers(group_id: int) -> Sequence[PlaceOffer]:
    return db.session.scalars(sa.select(PlaceOffer).where(PlaceOffer.group_id == group_id)
                              .order_by(PlaceOffer.created_at.desc(), PlaceOffer.id.desc()).limit(50)).all()


def _next_session_start(group_id: int, now: datetime) -> datetime | None:
    return db.session.scalar(sa.select(sa.func.min(GroupSession.starts_at)).where(
        GroupSession.group_id == group_id, GroupSession.status == SessionStatus.SCHEDULED.value,
        GroupSession.starts_at > now))


def offer_place(enrolment: Enrolment, *, deadline: datetime, user=None, now: datetime | None = None) -> PlaceOffer:
    """Send the offer of a place to an "offered" client, to be answered by ``deadline``; without a
    consented channel (or without BASE_URL for the link), a task for the facilitator to call."""
    from flask_babel import gettext as _

    now = now or utcnow()
    if enrolment.status != EnrolmentStatus.OFFERED.value:
        raise OfferError(_("There is no open offer for this participant."))
    if open_offer(enrolment.id) is not None:
        raise OfferError(_("This place has already been offered; wait for the answer or confirm it by hand."))
    if deadline <= now:
        raise OfferError(_("The deadline must be in the future."), "answer_by")
    offer = PlaceOffer(enrolment_id=enrolment.id, group_id=enrolment.group_id, client_id=enrolment.client_id,
                       deadline=deadline, answer_minutes=max(1, int((deadline - now).total_seconds() // 60)),
                       created_by_id=getattr(user, "id", None), created_at=now)
    db.session.add(offer)
    db.session.flush()
    recipient = services._mark_opt_outs([services._from_client(enrolment.client)])[0]
    addresses = [(c, a) for c in (Channel.SMS.value, Channel.EMAIL.value)
                 for a, _reason in [services.channel_address(recipient, c)] if a]
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if addresses and base:
        token = secrets.token_urlsafe(16)
        offer.token_hash = hash_token(token)
        subject, body = texts.offer_text(_next_session_start(enrolment.group_id, now), deadline,
                                         f"{base}{OFFER_PATH}{token}", recipient.language)
        for channel, address in addresses:
            queue._insert_once(dict(
                kind="offer", target_kind=TargetKind.OFFER.value, target_id=offer.id,
                recipient_kind=recipient.kind, recipient_id=recipient.id, slot="offer", channel=channel,
                client_id=recipient.client_id, address=address, language=recipient.language, subject=subject,
                body=body, next_attempt_at=now, created_at=now,
            ))
    else:
        offer.by_message = False
        group = enrolment.group
        db.session.add(FollowUpTask(
            source_kind=TargetKind.OFFER.value, source_id=offer.id, client_id=enrolment.client_id,
            assigned_to_id=group.facilitator1_id or group.facilitator2_id or getattr(user, "id", None),
            missed_at=now, due_on=to_local(now).date()))
    db.session.flush()
    return offer


def _claim(offer_id: int, status: str, now: datetime) -> bool:
    """Close an open offer with ``status``; True only for the one caller whose UPDATE found it
    still open (two workers, or a worker and a client's answer, cannot both act on it)."""
    row = db.session.execute(
        sa.update(PlaceOffer).where(PlaceOffer.id == offer_id, PlaceOffer.status == OfferStatus.OPEN.value)
        .values(status=status, answered_at=now).returning(PlaceOffer.id)
        .execution_options(synchronize_session=False)).first()
    return row is not None


def offer_for_token(token: str, now: datetime) -> PlaceOffer | None:
    """The open offer of a link, or None: unknown, answered, expired, or settled by hand."""
    if not token or len(token) > 100:
        return None
    offer = db.session.scalar(sa.select(PlaceOffer).where(PlaceOffer.token_hash == hash_token(token)))
    if offer is None or offer.status != OfferStatus.OPEN.value or offer.deadline <= now:
        return None
    if offer.enrolment.status != EnrolmentStatus.OFFERED.value:
        return None
    return offer


def answer(offer: PlaceOffer, accept: bool, now: datetime) -> bool:
    """The client's answer through the link. Accepting takes the place; declining withdraws it
    and the next in line is asked. False when the offer was closed meanwhile."""
    status = OfferStatus.ACCEPTED.value if accept else OfferStatus.DECLINED.value
    if not _claim(offer.id, status, now):
        return False
    db.session.expire(offer)
    enrolment = offer.enrolment
    if accept:
        groups_enrolment.confirm_offer(enrolment)
    else:
        _withdraw_and_ask_next(enrolment, offer.answer_minutes, now)
    db.session.flush()
    return True


def _withdraw_and_ask_next(enrolment: Enrolment, answer_minutes: int, now: datetime) -> PlaceOffer | None:
    """Withdraw the place (groups offers it to the first on the waiting list) and send that
    offer, with as long to answer as the one before had."""
    following = groups_enrolment.withdraw(enrolment)
    if following is None or open_offer(following.id) is not None:
        return None
    return offer_place(following, deadline=now + timedelta(minutes=answer_minutes), now=now)


def settle_closed_by_hand() -> int:
    """Open offers whose place staff confirmed or withdrew by hand are closed (their link stops)."""
    result = db.session.execute(
        sa.update(PlaceOffer).where(
            PlaceOffer.status == OfferStatus.OPEN.value,
            PlaceOffer.enrolment_id.in_(sa.select(Enrolment.id).where(
                Enrolment.status != EnrolmentStatus.OFFERED.value)))
        .values(status=OfferStatus.SETTLED.value).execution_options(synchronize_session=False))
    return rowcount(result)


def expire_due(now: datetime) -> int:
    """Withdraw every open offer whose deadline has passed and ask the next in line. Run by the
    reminders worker; returns how many offers this run withdrew."""
    settle_closed_by_hand()
    due = db.session.scalars(sa.select(PlaceOffer.id).where(
        PlaceOffer.status == OfferStatus.OPEN.value, PlaceOffer.deadline <= now).order_by(PlaceOffer.id)).all()
    expired = 0
    for offer_id in due:
        if not _claim(offer_id, OfferStatus.EXPIRED.value, now):
            continue   # another worker (or the client's answer) got there first
        offer = db.session.get_one(PlaceOffer, offer_id)
        db.session.refresh(offer)
        if offer.enrolment.status == EnrolmentStatus.OFFERED.value:
            _withdraw_and_ask_next(offer.enrolment, offer.answer_minutes, now)
        expired += 1
    db.session.flush()
    return expired
