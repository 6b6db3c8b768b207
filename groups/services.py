"""Business rules for groups: their statuses, who may edit and see a group, ideas, and counting a
group's enrolments and sessions.

The rest is in modules named for their part: ``planning`` (saving a group, its lifecycle,
cancelling and deleting), ``schedule`` (sessions, conflicts, copying a round), ``enrolment``
(participants, the waiting list, referrals), ``attendance`` (roll call, figures, evaluation) and
``finding`` (sessions and groups for pages and lists).

Functions take and return models and flush; they never commit (the request does, once).
Rule violations raise ``GroupError`` with a translated message and, where it belongs to one
form field, that field's name.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _, lazy_gettext as _l

from accounts.units import (
    leads_unit,
    led_unit_ids_select,
    member_unit_ids,
    unit_for_new_record,
)
from core.extensions import db

from .models import (
    Enrolment,
    EnrolmentStatus,
    Group,
    GroupIdea,
    GroupSession,
    GroupStatus,
    Referral,
)

MAX_WEEKS = 52
ACTIVE_ENROLMENT = (EnrolmentStatus.ENROLLED.value, EnrolmentStatus.OFFERED.value)

STATUS_LABELS = {
    GroupStatus.IDEA.value: _l("Idea"),
    GroupStatus.PLANNING.value: _l("Planning"),
    GroupStatus.ENROLLING.value: _l("Enrolling"),
    GroupStatus.RUNNING.value: _l("Running"),
    GroupStatus.FINISHED.value: _l("Finished"),
    GroupStatus.EVALUATED.value: _l("Evaluated"),
    GroupStatus.CANCELLED.value: _l("Cancelled"),
}

# Which status may follow which. Going back one step is allowed where it is harmless
# (re-open planning while enrolling, e.g. when the schedule must change).
TRANSITIONS = {
    GroupStatus.IDEA.value: {GroupStatus.PLANNING.value},
    GroupStatus.PLANNING.value: {GroupStatus.ENROLLING.value},
    GroupStatus.ENROLLING.value: {GroupStatus.RUNNING.value, GroupStatus.PLANNING.value},
    GroupStatus.RUNNING.value: {GroupStatus.FINISHED.value},
    GroupStatus.FINISHED.value: {GroupStatus.EVALUATED.value},
    GroupStatus.EVALUATED.value: set(),
    GroupStatus.CANCELLED.value: set(),  # only through cancel_group, with a reason
}


class GroupError(Exception):
    """A refused change; ``message`` is translated, ``field`` names the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


# --- access -------------------------------------------------------------------------------------

def can_edit(user, group: Group) -> bool:
    """Facilitators of the group (whatever its unit: they were named to it) and the leads of the
    group's unit may change it and see its participants."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.id in group.facilitator_ids or leads_unit(user, group.unit_id)


can_see_names = can_edit


def can_see_group(user, group: Group) -> bool:
    """Who may open the group's page (its title, times and place; not its participants): the
    staff of the group's unit and its facilitators. Anyone else gets 404. A county administrator
    sees no group by that role."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.id in group.facilitator_ids:
        return True
    return not user.is_county_admin and group.unit_id in member_unit_ids(user)


def visible_condition(user) -> sa.ColumnElement[bool]:
    """``can_see_group`` as SQL, a condition on a Group row: each branch is indexed, so a list
    walks its own index (the group list, newest first) and stops at its page, or the database
    joins the three indexes (the calendar's choice of groups). The units as a list of ids: a
    planner knows what "unit_id IN (1, 2)" selects. A SELECT of every group of the user's units
    was made first, and PostgreSQL read every group of the county to join it."""
    branches = [Group.facilitator1_id == user.id, Group.facilitator2_id == user.id]
    if not user.is_county_admin:
        branches.append(Group.unit_id.in_(member_unit_ids(user)))
    return sa.or_(*branches)


def visible_count(user, *conditions: sa.ColumnElement[bool]) -> int:
    """How many groups meet ``conditions`` and ``visible_condition``: the user's units' groups by
    the unit index, then the groups they facilitate in other units by the facilitator indexes."""
    units = [] if user.is_county_admin else member_unit_ids(user)
    in_units = 0
    if units:
        in_units = db.session.scalar(sa.select(sa.func.count()).select_from(Group)
                                     .where(Group.unit_id.in_(units), *conditions)) or 0
    elsewhere = db.session.scalar(
        sa.select(sa.func.count()).select_from(Group)
        .where(Group.id.in_(sa.union(*_facilitated(user))), *conditions,
               *([Group.unit_id.not_in(units)] if units else []))) or 0
    return in_units + elsewhere


def editable_group_ids(user) -> sa.CompoundSelect:
    """``can_edit`` as SQL for lists: a SELECT of the ids of the groups ``user`` may change and
    see the participants of (never None: a lead sees the groups of the units they lead)."""
    branches = _facilitated(user)
    if user.is_lead:
        branches.append(sa.select(Group.id).where(Group.unit_id.in_(led_unit_ids_select(user))))
    return sa.union(*branches)


def editable_condition(user, group) -> sa.ColumnElement[bool]:
    """``can_edit`` as a condition on a row of ``group`` (the Group entity or an alias), for
    checking per row where a list reaches groups through another table (a reminder's session or
    place offer): the SELECT of every group a lead may edit was materialised for a handful of
    rows."""
    branches = [group.facilitator1_id == user.id, group.facilitator2_id == user.id]
    if user.is_lead:
        branches.append(group.unit_id.in_(led_unit_ids_select(user)))
    return sa.or_(*branches)


def _facilitated(user) -> list[sa.Select]:
    """The groups ``user`` facilitates, as one SELECT per facilitator column: a UNION of these
    (and of the unit's groups) lets each branch use its own index, where one OR with a subquery
    in it makes PostgreSQL read the whole group table."""
    return [sa.select(Group.id).where(Group.facilitator1_id == user.id),
            sa.select(Group.id).where(Group.facilitator2_id == user.id)]


def _facilitator_rule(user_id: int) -> sa.Select:
    # A group's facilitators may open the records of the clients enrolled in their groups.
    return (
        sa.select(Enrolment.client_id)
        .join(Group, Group.id == Enrolment.group_id)
        .where(Enrolment.status != EnrolmentStatus.WITHDRAWN.value)
        .where(sa.or_(Group.facilitator1_id == user_id, Group.facilitator2_id == user_id))
    )


# --- ideas --------------------------------------------------------------------------------------

def create_idea(*, theme: str, description: str = "", suggested_by: str = "", source: str = "team_meeting",
                target_clients: str = "", created_by=None) -> GroupIdea:
    idea = GroupIdea(theme=theme, description=description, suggested_by=suggested_by, source=source,
                     target_clients=target_clients, created_by_id=getattr(created_by, "id", None))
    db.session.add(idea)
    db.session.flush()
    return idea


def group_from_idea(idea: GroupIdea, user) -> Group:
    """Start planning a group from an idea; the one who does it becomes its first facilitator."""
    if idea.group_id is not None:
        raise GroupError(_("This idea has already been turned into a group."))
    group = Group(title=idea.theme, theme=idea.theme, description=idea.description,
                  target_clients=idea.target_clients, status=GroupStatus.PLANNING.value,
                  facilitator1_id=user.id, created_by_id=user.id, unit_id=unit_for_new_record(user))
    db.session.add(group)
    db.session.flush()
    idea.group_id = group.id
    # The theme's referrals wait for the new group's facilitators.
    db.session.execute(sa.update(Referral).where(Referral.idea_id == idea.id, Referral.group_id.is_(None))
                       .values(group_id=group.id))
    db.session.flush()
    return group


# --- counting ---------------------------------------------------------------------------------

def count_enrolled(group: Group) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Enrolment.id)).where(Enrolment.group_id == group.id, Enrolment.status.in_(ACTIVE_ENROLMENT))
    ) or 0


def scheduled_sessions(group: Group) -> list[GroupSession]:
    return [s for s in group.sessions if not s.is_cancelled]
