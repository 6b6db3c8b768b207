"""Planning a group and its lifecycle: saving its details, the status transitions and why one is
refused, cancelling a group and deleting one planned by mistake.

Functions take and return models and flush; rule violations raise ``GroupError``."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from accounts.units import (
    UnitChoiceError,
    unit_for_new_record,
)
from core.db import utcnow
from core.extensions import db
from core.registry import registered
from core.templating import local_date
from core.timeutil import local_today, to_local

from .models import (
    Enrolment,
    Group,
    GroupIdea,
    GroupPartner,
    GroupSession,
    GroupStatus,
    SessionStatus,
)
from .schedule import _record, set_session_status
from .services import STATUS_LABELS, TRANSITIONS, GroupError, count_enrolled, scheduled_sessions
from .signals import group_cancelled

# --- planning -----------------------------------------------------------------------------------

def _check_facilitators(f1: int | None, f2: int | None) -> None:
    if f1 is not None and f1 == f2:
        raise GroupError(_("Choose two different people: the same person cannot be both facilitators."),
                         "facilitator2_id")


# Once enrolment is open, clients have been promised a group with two workers (seed 000: the
# pair covers for each other's absences and home-visit safety), so it may never drop to one.
TWO_FACILITATORS_FROM = (GroupStatus.ENROLLING.value, GroupStatus.RUNNING.value)


def save_group(group: Group | None, *, title: str, theme: str = "", description: str = "", target_clients: str = "",
               venue: str = "", room: str = "", capacity: int = 8, language: str = "fi", planning_notes: str = "",
               facilitator1_id: int | None = None, facilitator2_id: int | None = None,
               partner_ids: list[int] | None = None, created_by=None, unit_id=None) -> Group:
    _check_facilitators(facilitator1_id, facilitator2_id)
    if group is None:
        try:
            unit_id = unit_for_new_record(created_by, unit_id)
        except UnitChoiceError:
            raise GroupError(_("Choose one of your units."), "unit_id") from None
    if group is not None and group.status in TWO_FACILITATORS_FROM:
        # The rule is on the result of the save: a facilitator may be replaced by naming the
        # successor in the same save, never left empty.
        for name, value in (("facilitator1_id", facilitator1_id), ("facilitator2_id", facilitator2_id)):
            if value is None:
                raise GroupError(_("Enrolment is open, so the group must keep two facilitators. "
                                   "Name who takes over before removing a facilitator."), name)
    if capacity < 1:
        raise GroupError(_("The capacity must be at least 1."), "capacity")
    if group is not None:
        enrolled = count_enrolled(group)
        if capacity < enrolled:
            raise GroupError(_("%(n)s participants are already enrolled: the capacity cannot be lower than that.",
                               n=enrolled), "capacity")
    if group is None:
        group = Group(status=GroupStatus.PLANNING.value, created_by_id=getattr(created_by, "id", None),
                      unit_id=unit_id)
        db.session.add(group)
    else:
        group.version += 1
        _move_future_sessions(group, venue=venue, room=room, user=created_by)
    group.title = title
    group.theme = theme
    group.description = description
    group.target_clients = target_clients
    group.venue = venue
    group.room = room
    group.capacity = capacity
    group.language = language
    group.planning_notes = planning_notes
    group.facilitator1_id = facilitator1_id
    group.facilitator2_id = facilitator2_id
    if partner_ids is not None:
        wanted = set(partner_ids)
        for link in list(group.partners):
            if link.partner_id not in wanted:
                group.partners.remove(link)
        have = {link.partner_id for link in group.partners}
        for pid in sorted(wanted - have):
            group.partners.append(GroupPartner(partner_id=pid))
    db.session.flush()
    return group



def _move_future_sessions(group: Group, *, venue: str, room: str, user) -> None:
    """A new venue or room applies to the sessions still ahead that used the group's old one;
    each such session records the change and raises its sequence, so calendars update."""
    now = utcnow()
    for session in group.sessions:
        if session.starts_at <= now or session.is_cancelled:
            continue
        changes = []
        if venue != group.venue:
            changes.append(("venue", group.venue, venue))
        if room != group.room and session.room == group.room:
            changes.append(("room", session.room, room))
            session.room = room
        if changes:
            _record(session, changes, user)
            session.version += 1



def transition_refusal(group: Group, target: str) -> str | None:
    """Why ``group`` cannot move to ``target`` now, or None when it can."""
    if target not in TRANSITIONS:
        return _("Unknown status.")
    if target not in TRANSITIONS.get(group.status, set()):
        return _("A group cannot go from “%(old)s” to “%(new)s”.",
                 old=STATUS_LABELS[group.status], new=STATUS_LABELS[target])
    if target == GroupStatus.ENROLLING.value:
        if len(group.facilitator_ids) != 2:
            return _("Enrolment can open only when the group has two facilitators.")
        if not scheduled_sessions(group):
            return _("Enrolment can open only when the group has a schedule.")
    if target == GroupStatus.EVALUATED.value and group.evaluation is None:
        return _("Record the evaluation first.")
    # Time sense: a group is not running before its first session, nor finished before its last.
    sessions = scheduled_sessions(group)
    today = local_today()
    if target == GroupStatus.RUNNING.value and sessions and to_local(sessions[0].starts_at).date() > today:
        return _("The group can be marked running from its first session on (%(day)s).",
                 day=local_date(sessions[0].starts_at))
    if target == GroupStatus.FINISHED.value and sessions and to_local(sessions[-1].starts_at).date() > today:
        return _("The group can be marked finished from its last session on (%(day)s).",
                 day=local_date(sessions[-1].starts_at))
    return None



CANCELLABLE = (GroupStatus.ENROLLING.value, GroupStatus.RUNNING.value)


def cancel_refusal(group: Group) -> str | None:
    if group.status not in CANCELLABLE:
        if group.status in (GroupStatus.IDEA.value, GroupStatus.PLANNING.value):
            return _("A group still being planned is deleted, not cancelled.")
        return _("Only a group that is enrolling or running can be cancelled.")
    return None


def sessions_to_cancel(group: Group) -> list[GroupSession]:
    """The sessions a cancellation calls off: those still to come (held ones stay as they were)."""
    now = utcnow()
    return [s for s in scheduled_sessions(group) if s.starts_at > now]


def cancel_group(group: Group, *, reason: str, user) -> list[GroupSession]:
    """Cancel a group past planning: its coming sessions are cancelled (recorded, so calendars
    see it), the reason is kept, and the enrolled clients are told (the ``group_cancelled`` signal:
reminders queues the message, ``reminders.notices.group_cancelled``)."""
    if (refusal := cancel_refusal(group)) is not None:
        raise GroupError(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise GroupError(_("Write the reason: it is sent to the participants."), "reason")
    cancelled = sessions_to_cancel(group)
    for session in cancelled:
        # One message for the whole group (the group_cancelled signal), not one per session.
        set_session_status(session, SessionStatus.CANCELLED.value, user, notify=False)
    group.status = GroupStatus.CANCELLED.value
    group.cancel_reason = reason
    group.version += 1
    db.session.flush()
    # current_app is a LocalProxy typed as the Flask it stands for; the method is the proxy's.
    sender = current_app._get_current_object()  # type: ignore[attr-defined]
    group_cancelled.send(sender, group=group, cancelled=cancelled)
    return cancelled


def cancel_audience(group: Group) -> list[tuple[str, bool]]:
    """(name, reached by a message) of each enrolled client, for the question before cancelling:
    from the features that message clients (reminders registers ``group_cancel_audience`` on the
    app; core.registry), since groups do not know the outbox."""
    return [row for audience in registered("group_cancel_audience") for row in audience(group)]


def delete_refusal(group: Group) -> str | None:
    """Why ``group`` cannot be deleted (undo of a mistake), or None: only an idea or a plan with
    nobody enrolled and nothing recorded goes; a group past planning is cancelled instead."""
    if group.status not in (GroupStatus.IDEA.value, GroupStatus.PLANNING.value):
        return _("Only a group still being planned can be deleted.")
    if db.session.scalar(sa.select(sa.exists().where(Enrolment.group_id == group.id))):
        return _("Clients are on the list of this group, so it cannot be deleted.")
    return None


def delete_group(group: Group) -> None:
    """Delete a group planned by mistake with its sessions; an idea it came from is open again."""
    if (reason := delete_refusal(group)) is not None:
        raise GroupError(reason)
    db.session.execute(sa.update(GroupIdea).where(GroupIdea.group_id == group.id).values(group_id=None))
    db.session.delete(group)
    db.session.flush()


def change_status(group: Group, target: str) -> Group:
    reason = transition_refusal(group, target)
    if reason:
        raise GroupError(reason)
    group.status = target
    group.version += 1
    db.session.flush()
    return group
