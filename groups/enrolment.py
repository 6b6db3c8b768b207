"""A group's participants: enrolment with a waiting list, offering free places, withdrawing and
confirming an offered place, and referrals of clients to a group or a group idea.

Functions take and return models and flush; rule violations raise ``GroupError``."""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from core.db import utcnow
from core.extensions import db

from .models import (
    Enrolment,
    EnrolmentStatus,
    Group,
    GroupIdea,
    GroupStatus,
    Referral,
    ReferralStatus,
)
from .services import ACTIVE_ENROLMENT, GroupError, count_enrolled


def offer_free_places(group: Group) -> list[Enrolment]:
    """Offer every free place (after a withdrawal or a larger capacity) to the waiting list in
    order; staff then confirm each offer. Returns the enrolments offered now."""
    free = group.capacity - count_enrolled(group)
    if free <= 0:
        return []
    offered = list(waiting_list(group)[:free])
    for enrolment in offered:
        enrolment.status = EnrolmentStatus.OFFERED.value
    db.session.flush()
    return offered



# --- enrolment ----------------------------------------------------------------------------------

def enrol(group: Group, client_id: int) -> Enrolment:
    """Enrol up to capacity; after that the client goes on the waiting list."""
    if group.status not in (GroupStatus.ENROLLING.value, GroupStatus.RUNNING.value):
        raise GroupError(_("Participants can be enrolled only while the group is enrolling or running."))
    existing = db.session.scalar(sa.select(Enrolment).where(Enrolment.group_id == group.id,
                                                             Enrolment.client_id == client_id))
    if existing is not None and existing.status != EnrolmentStatus.WITHDRAWN.value:
        raise GroupError(_("This client is already on the list of this group."), "client_id")
    full = count_enrolled(group) >= group.capacity
    status = EnrolmentStatus.WAITING.value if full else EnrolmentStatus.ENROLLED.value
    if existing is not None:
        # Coming back after withdrawing: re-use the row (one per client and group), at the end of the queue.
        existing.status = status
        existing.created_at = utcnow()
        enrolment = existing
    else:
        enrolment = Enrolment(group_id=group.id, client_id=client_id, status=status)
        db.session.add(enrolment)
    db.session.flush()
    return enrolment


def waiting_list(group: Group) -> Sequence[Enrolment]:
    return db.session.scalars(
        sa.select(Enrolment).where(Enrolment.group_id == group.id, Enrolment.status == EnrolmentStatus.WAITING.value)
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()


def withdraw(enrolment: Enrolment) -> Enrolment | None:
    """Withdraw; if that frees a place, offer it to the first on the waiting list (returned)."""
    if enrolment.status == EnrolmentStatus.WITHDRAWN.value:
        raise GroupError(_("This participant has already withdrawn."))
    freed = enrolment.status in ACTIVE_ENROLMENT
    enrolment.status = EnrolmentStatus.WITHDRAWN.value
    db.session.flush()
    if freed:
        offered = offer_free_places(enrolment.group)
        return offered[0] if offered else None
    return None


def confirm_offer(enrolment: Enrolment) -> Enrolment:
    if enrolment.status != EnrolmentStatus.OFFERED.value:
        raise GroupError(_("There is no open offer for this participant."))
    enrolment.status = EnrolmentStatus.ENROLLED.value
    db.session.flush()
    return enrolment



# --- referrals ----------------------------------------------------------------------------------

REFERRABLE = (GroupStatus.PLANNING.value, GroupStatus.ENROLLING.value)


def referral_targets() -> tuple[list[Group], list[GroupIdea]]:
    """Groups in planning or enrolling, and ideas not yet turned into a group."""
    groups = db.session.scalars(sa.select(Group).where(Group.status.in_(REFERRABLE))
                                .order_by(Group.title, Group.id)).all()
    ideas = db.session.scalars(sa.select(GroupIdea).where(GroupIdea.group_id.is_(None))
                               .order_by(GroupIdea.theme, GroupIdea.id)).all()
    return list(groups), list(ideas)


def refer(client_id: int, *, target: str, reason: str, user) -> Referral:
    """``target`` is "group:<id>" or "idea:<id>" from the form's choices (which the caller built
    from referral_targets); the view has checked that the user may see the client."""
    kind, _sep, raw = target.partition(":")
    key = int(raw) if raw.isdigit() and int(raw) < 2**63 else 0
    referral = Referral(client_id=client_id, reason=reason, referred_by_id=user.id)
    if kind == "group" and (group := db.session.get(Group, key)) is not None and group.status in REFERRABLE:
        open_enrolment = db.session.scalar(sa.select(Enrolment.id).where(
            Enrolment.group_id == group.id, Enrolment.client_id == client_id,
            Enrolment.status != EnrolmentStatus.WITHDRAWN.value))
        if open_enrolment is not None:
            raise GroupError(_("The client is already in this group or on its waiting list."), "target")
        referral.group_id = group.id
    elif kind == "idea" and (idea := db.session.get(GroupIdea, key)) is not None:
        referral.idea_id = idea.id
        referral.group_id = idea.group_id
    else:
        raise GroupError(_("Choose a group or a theme from the list."), "target")
    waiting = db.session.scalar(sa.select(Referral.id).where(
        Referral.client_id == client_id, Referral.status == ReferralStatus.PENDING.value,
        Referral.group_id == referral.group_id if referral.idea_id is None else Referral.idea_id == referral.idea_id))
    if waiting is not None:
        raise GroupError(_("The client has already been suggested for this and waits for an answer."), "target")
    db.session.add(referral)
    db.session.flush()
    return referral


def pending_referrals(group: Group) -> list[Referral]:
    return list(db.session.scalars(
        sa.select(Referral).where(Referral.group_id == group.id, Referral.status == ReferralStatus.PENDING.value)
        .options(selectinload(Referral.client), selectinload(Referral.referred_by))
        .order_by(Referral.created_at, Referral.id)))


def take_referral(referral: Referral, user) -> Enrolment:
    """Into the group, or onto its waiting list when it is full (as enrolment decides)."""
    if referral.status != ReferralStatus.PENDING.value:
        raise GroupError(_("This referral has already been handled."))
    enrolment = enrol(referral.group, referral.client_id)
    referral.status = (ReferralStatus.ENROLLED.value if enrolment.status == EnrolmentStatus.ENROLLED.value
                       else ReferralStatus.WAITING.value)
    referral.decided_by_id, referral.decided_at = user.id, utcnow()
    db.session.flush()
    return enrolment


def decline_referral(referral: Referral, reason: str, user) -> Referral:
    if referral.status != ReferralStatus.PENDING.value:
        raise GroupError(_("This referral has already been handled."))
    referral.status = ReferralStatus.DECLINED.value
    referral.decline_reason = reason
    referral.decided_by_id, referral.decided_at = user.id, utcnow()
    db.session.flush()
    return referral


def client_referrals(client_id: int) -> list[Referral]:
    return list(db.session.scalars(
        sa.select(Referral).where(Referral.client_id == client_id)
        .options(selectinload(Referral.group), selectinload(Referral.idea), selectinload(Referral.referred_by))
        .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(20)))


def referral_counts_by_idea() -> dict[int, int]:
    """Clients referred per idea (the demand signal of the backlog): distinct clients, one query."""
    rows = db.session.execute(
        sa.select(Referral.idea_id, sa.func.count(sa.distinct(Referral.client_id)))
        .where(Referral.idea_id.is_not(None)).group_by(Referral.idea_id)).all()
    return {idea_id: count for idea_id, count in rows if idea_id is not None}  # None: refused by the WHERE
