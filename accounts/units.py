"""Units: which units a staff member belongs to and leads, and which unit a new record goes to.

The decision (issue #23): a user's role is one, installation-wide (facilitator, lead, county
administrator), and membership says where it applies. A lead leads every unit they are a member
of; a facilitator is a member of the units they work in; a county administrator manages units
and staff but sees no client by that role (register.access). One role and a membership list
keeps every check one question ("is the user a lead, and is the record's unit one of theirs?")
and the staff form two fields; a person who leads one unit and only facilitates in another is
given two memberships and the lead role, or, if that is too much, two accounts.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import sqlalchemy as sa
from flask import g, has_app_context

from core.extensions import db

from .models import Unit, UnitMembership, User

DEFAULT_UNIT_SLUG = "default"
# Data, not interface text: an administrator renames it on the units page.
DEFAULT_UNIT_NAME = "Yksikkö"


def member_unit_ids_select(user_id: int) -> sa.Select:
    """A SELECT of the ids of the units the user is a member of."""
    return sa.select(UnitMembership.unit_id).where(UnitMembership.user_id == user_id)


def colleague_ids_select(user_id: int) -> sa.Select:
    """A SELECT of the ids of the staff of the units the user is a member of (the user too):
    whom the user picks as a co-worker or filters by. A county's 500 staff in every chooser was
    a list no one could use, and a cost that grew with every unit."""
    return sa.select(UnitMembership.user_id).where(UnitMembership.unit_id.in_(member_unit_ids_select(user_id)))


def staff_choices(user_id: int, keep: Iterable[int | None] = ()) -> list[tuple[int, str]]:
    """(id, name) by name for a staff chooser: the active staff of the units ``user_id`` is a
    member of, and ``keep`` (already chosen: a co-worker from another unit, or one who has left,
    stays choosable, so saving the form does not drop them). The one rule of every staff
    chooser: a county's 500 staff in each was a list no one could use, and a page cost that grew
    with every unit (the client page listed them all for "add a worker")."""
    kept = sorted({i for i in keep if i})
    chosen = sa.and_(User.active.is_(True), User.id.in_(colleague_ids_select(user_id)))
    if kept:
        chosen = sa.or_(chosen, User.id.in_(kept))
    return [(uid, name) for uid, name in db.session.execute(
        sa.select(User.id, User.name).where(chosen).order_by(User.name, User.id))]


def led_unit_ids_select(user) -> sa.Select:
    """A SELECT of the ids of the units ``user`` leads: a lead's memberships, else none."""
    if not getattr(user, "is_lead", False):
        # No unit, without touching the table: "WHERE user_id = ? AND false" is still planned as
        # a walk of the membership index (tests/test_query_plans.py flags it).
        return sa.select(sa.cast(sa.null(), sa.Integer).label("unit_id")).where(sa.false())
    return member_unit_ids_select(user.id)


def member_unit_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(member_unit_ids_select(user.id).order_by(UnitMembership.unit_id)))


def led_unit_ids(user) -> frozenset[int]:
    """The ids of the units ``user`` leads, read once per request (pages check many records)."""
    if not getattr(user, "is_authenticated", False) or not user.is_lead:
        return frozenset()
    cache = g.setdefault("led_unit_ids", {}) if has_app_context() else {}
    if user.id not in cache:
        cache[user.id] = frozenset(db.session.scalars(member_unit_ids_select(user.id)))
    return cache[user.id]


def leads_unit(user, unit_id: int | None) -> bool:
    """Whether ``user`` leads the unit ``unit_id`` (None, a shared record, is nobody's unit)."""
    return unit_id is not None and unit_id in led_unit_ids(user)


def units_of(user) -> list[Unit]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(db.session.scalars(sa.select(Unit).join(UnitMembership, UnitMembership.unit_id == Unit.id)
                                   .where(UnitMembership.user_id == user.id).order_by(Unit.name, Unit.id)))


def all_units() -> list[Unit]:
    return list(db.session.scalars(sa.select(Unit).order_by(Unit.name, Unit.id)))


def slugify(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60] or "unit"


def find_unit(key: str) -> Unit | None:
    """A unit by its slug or its exact name (configuration: OIDC_AUTO_CREATE)."""
    key = (key or "").strip()
    if not key:
        return None
    return db.session.scalar(sa.select(Unit).where(sa.or_(Unit.slug == key, Unit.name == key)))


def name_taken(name: str, slug: str, exclude_id: int | None = None) -> bool:
    stmt = sa.select(Unit.id).where(sa.or_(sa.func.lower(Unit.name) == name.strip().lower(), Unit.slug == slug))
    if exclude_id is not None:
        stmt = stmt.where(Unit.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


def create_unit(name: str, slug: str | None = None) -> Unit:
    unit = Unit(name=name.strip(), slug=(slug or slugify(name)))
    db.session.add(unit)
    db.session.flush()
    return unit


def default_unit() -> Unit:
    """The installation's first unit; created when there is none yet (a fresh single-team
    installation: the upgrade migration creates it for an existing one)."""
    unit = db.session.scalar(sa.select(Unit).order_by(Unit.id).limit(1))
    if unit is None:
        unit = create_unit(DEFAULT_UNIT_NAME, DEFAULT_UNIT_SLUG)
    return unit


def set_memberships(user, unit_ids) -> None:
    """Make ``user`` a member of exactly the units ``unit_ids``."""
    wanted = {int(i) for i in unit_ids}
    have = set(db.session.scalars(member_unit_ids_select(user.id)))
    for unit_id in have - wanted:
        db.session.execute(sa.delete(UnitMembership).where(UnitMembership.user_id == user.id,
                                                           UnitMembership.unit_id == unit_id))
    for unit_id in sorted(wanted - have):
        db.session.add(UnitMembership(user_id=user.id, unit_id=unit_id))
    db.session.flush()
    db.session.expire(user, ["units"])
    if has_app_context():
        g.pop("led_unit_ids", None)


class UnitChoiceError(Exception):
    pass


def unit_for_new_record(user, unit_id=None) -> int:
    """The unit a record ``user`` creates goes to: the one they chose (among their own units),
    else their only (or first) unit; a record made with no user (a CLI command, the demo) or by
    someone with no unit goes to the installation's first unit."""
    own = member_unit_ids(user) if user is not None else []
    if unit_id not in (None, "", 0):
        try:
            chosen = int(unit_id)
        except (TypeError, ValueError):
            raise UnitChoiceError(unit_id) from None
        if chosen not in own:
            raise UnitChoiceError(unit_id)
        return chosen
    if own:
        return own[0]
    return default_unit().id


def shared_or_own_unit(user, unit_id) -> int | None:
    """The unit a record that may be shared (a partner organisation, an outreach venue) is saved
    to: None (shared by every unit) or one of ``user``'s own units; any other unit (a forged form)
    raises UnitChoiceError."""
    if unit_id in (None, "", 0):
        return None
    try:
        chosen = int(unit_id)
    except (TypeError, ValueError):
        raise UnitChoiceError(unit_id) from None
    if chosen not in member_unit_ids(user):
        raise UnitChoiceError(unit_id)
    return chosen
