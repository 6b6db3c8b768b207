"""Feedback operations: item sets, windows and codes, anonymous submission with rate limiting,
and the aggregate queries behind results (always a fixed number of queries, whatever the data).

Services change data and flush; views commit.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, overload

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from core.db import aware_utc, rowcount, utcnow
from core.extensions import db
from core.timeutil import local_today

from . import people, suppression
from .builtin import BUILTIN_SETS, DEFAULT_KEYS
from .models import (
    AddressCount,
    AnswerSlip,
    ChartCache,
    FeedbackAnswer,
    FeedbackResponse,
    FeedbackWindow,
    GroupFeedbackSettings,
    Item,
    ItemSet,
    SubmissionBucket,
    WindowKind,
    random_response_id,
)
from .scales import SCALES, ZERO_TO_TEN

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G: easy to read off a projector and type on a phone.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"
CODE_LENGTH = 6
DEFAULT_WINDOW = timedelta(hours=48)
GROUP_END_WINDOW = timedelta(days=14)
EXTENSION = timedelta(hours=24)
RATE_BUCKET_SECONDS = 600
COMMENT_MAX = 1000


def threshold() -> int:
    return suppression.min_responses(current_app.config.get("FEEDBACK_MIN_RESPONSES"))


def normalise_code(raw: str | None) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:12]


# --- item sets -------------------------------------------------------------------------------

def _builtin_object(key: str) -> ItemSet:
    spec = BUILTIN_SETS[key]
    item_set = ItemSet(kind=spec["kind"], builtin_key=key, name=spec["name"], scale=spec["scale"],
                       comment_labels=dict(spec["comment"]))
    item_set.items = [Item(position=i, labels=dict(labels)) for i, labels in enumerate(spec["items"])]
    return item_set


@overload
def builtin_set(key: str, *, create: Literal[True] = True) -> ItemSet: ...


@overload
def builtin_set(key: str, *, create: bool) -> ItemSet | None: ...


def builtin_set(key: str, *, create: bool = True) -> ItemSet | None:
    """The built-in set with this key (a kind's default set has the kind's name as key), created
    on first use (unless ``create`` is False: read-only pages)."""
    key = DEFAULT_KEYS.get(key, key)
    found = db.session.scalar(sa.select(ItemSet).where(ItemSet.builtin_key == key))
    if found is not None or not create:
        return found
    item_set = _builtin_object(key)
    db.session.add(item_set)
    db.session.flush()
    return item_set


def create_item_set(*, kind: str, name: str, comment_labels: dict, item_labels: list[dict], user=None,
                    scale: str = ZERO_TO_TEN) -> ItemSet:
    if scale not in SCALES:
        raise ValueError(scale)
    item_set = ItemSet(kind=kind, name=name, comment_labels=comment_labels, scale=scale,
                       created_by_id=getattr(user, "id", None))
    item_set.items = [Item(position=i, labels=labels) for i, labels in enumerate(item_labels)]
    db.session.add(item_set)
    db.session.flush()
    return item_set


class FeedbackError(ValueError):
    """A change refused for a reason the user can act on (the message says which)."""


def item_sets_usage(sets: list[ItemSet]) -> tuple[set[int], set[int]]:
    """Of the stored sets: the ids answers may have been collected with (a feedback window uses
    the set: its questions then stay as they were asked, or the answers would seem to answer
    other ones), and the ids groups have chosen. Three queries however many sets there are."""
    ids = [s.id for s in sets if s.id]
    if not ids:
        return set(), set()
    in_use = set(db.session.scalars(sa.select(FeedbackWindow.item_set_id)
                                    .where(FeedbackWindow.item_set_id.in_(ids)).distinct()))
    chosen: set[int] = set()
    for column in (GroupFeedbackSettings.session_item_set_id, GroupFeedbackSettings.end_item_set_id):
        # The column is nullable; IN never matches NULL.
        chosen |= {i for i in db.session.scalars(sa.select(column).where(column.in_(ids)).distinct()) if i is not None}
    return in_use, chosen


def item_set_copy_data(item_set: ItemSet, name: str) -> dict:
    """A set's name, kind and wording as form data, for a new set that starts as its copy."""
    return {"name": name[:120], "kind": item_set.kind, "scale": item_set.scale or ZERO_TO_TEN,
            "items": [dict(item.labels) for item in item_set.items],
            "comment": dict(item_set.comment_labels or {})}


def why_item_set_is_fixed(item_set: ItemSet):
    """Why the set's wording cannot be changed (a translated message), or None when it can:
    built-in sets keep the project's wording, and a set answers were collected with is copied
    instead."""
    if item_set.builtin_key:
        return _l("The built-in sets cannot be changed. Make a copy and change the copy.")
    in_use, _chosen = item_sets_usage([item_set])
    if item_set.id in in_use:
        return _l("Answers have been collected with this set, so its questions cannot be changed. "
                  "Make a copy and change the copy.")
    return None


def update_item_set(item_set: ItemSet, *, name: str, comment_labels: dict, item_labels: list[dict]) -> None:
    """Rewrite a lead's own set that no answers were collected with."""
    if (reason := why_item_set_is_fixed(item_set)) is not None:
        raise FeedbackError(reason)
    item_set.name = name
    item_set.comment_labels = comment_labels
    item_set.items = [Item(position=i, labels=labels) for i, labels in enumerate(item_labels)]
    db.session.flush()


def delete_item_set(item_set: ItemSet) -> None:
    if item_set.builtin_key:
        raise FeedbackError(_l("The built-in sets cannot be removed."))
    in_use, chosen = item_sets_usage([item_set])
    if item_set.id in in_use:
        raise FeedbackError(_l("Answers have been collected with this set, so it cannot be removed."))
    if item_set.id in chosen:
        raise FeedbackError(_l("A group uses this set. Choose another set for the group first."))
    db.session.delete(item_set)
    db.session.flush()


def item_sets() -> list[ItemSet]:
    """Every set, built-in ones first. Built-ins not yet in the database are shown as unsaved
    objects (nothing is written on a page view); they are stored when first chosen or used."""
    stored = list(db.session.scalars(sa.select(ItemSet).options(selectinload(ItemSet.items))
                                     .order_by(ItemSet.kind, ItemSet.builtin_key.is_(None), ItemSet.name)))
    present = {s.builtin_key for s in stored}
    virtual = [_builtin_object(key) for key in BUILTIN_SETS if key not in present]
    return sorted(virtual + stored, key=lambda s: (s.kind, s.builtin_key is None, s.name))


def set_choice_value(item_set: ItemSet) -> str:
    return str(item_set.id) if item_set.id else f"builtin:{item_set.builtin_key}"


def resolve_set_choice(value: str, kind: str) -> ItemSet | None:
    """An item set from a form choice (an id, or a built-in not stored yet), if it is of ``kind``."""
    if value.startswith("builtin:"):
        key = value.removeprefix("builtin:")
        spec = BUILTIN_SETS.get(key)
        return builtin_set(key) if spec is not None and spec["kind"] == kind else None
    try:
        item_set = db.session.get(ItemSet, int(value))
    except ValueError:
        return None
    return item_set if item_set is not None and item_set.kind == kind else None


def group_settings(group) -> GroupFeedbackSettings | None:
    return db.session.scalar(sa.select(GroupFeedbackSettings).where(GroupFeedbackSettings.group_id == group.id))


@overload
def set_for_group(group, kind: str, *, create: Literal[True] = True) -> ItemSet: ...


@overload
def set_for_group(group, kind: str, *, create: bool) -> ItemSet | None: ...


def set_for_group(group, kind: str, *, create: bool = True) -> ItemSet | None:
    """The set the group's windows of ``kind`` use: the one chosen, else the kind's built-in set
    (None when that is not stored yet and ``create`` is False)."""
    settings = group_settings(group)
    chosen = None
    if settings is not None:
        chosen = settings.session_item_set_id if kind == WindowKind.SESSION.value else settings.end_item_set_id
    if chosen:
        return db.session.get_one(ItemSet, chosen)  # a foreign key: the chosen set is there
    return builtin_set(kind, create=create)


def group_has_windows(group, kind: str) -> bool:
    return bool(db.session.scalar(sa.select(sa.func.count(FeedbackWindow.id)).where(
        FeedbackWindow.group_id == group.id, FeedbackWindow.kind == kind)))


class SettingsLocked(Exception):
    """A set cannot change once feedback with the old set has started (answers would mix)."""


def choose_group_sets(group, *, session_set: ItemSet, end_set: ItemSet) -> GroupFeedbackSettings:
    settings = group_settings(group)
    current_session = set_for_group(group, WindowKind.SESSION.value, create=False)
    current_end = set_for_group(group, WindowKind.GROUP_END.value, create=False)
    if session_set is not current_session and group_has_windows(group, WindowKind.SESSION.value):
        raise SettingsLocked("session")
    if end_set is not current_end and group_has_windows(group, WindowKind.GROUP_END.value):
        raise SettingsLocked("group_end")
    if settings is None:
        settings = GroupFeedbackSettings(group_id=group.id)
        db.session.add(settings)
    else:
        settings.version += 1
    settings.session_item_set_id = session_set.id
    settings.end_item_set_id = end_set.id
    db.session.flush()
    return settings


# --- windows and codes -----------------------------------------------------------------------

def _code_taken(code: str, now: datetime, exclude_id: int | None = None) -> bool:
    query = sa.select(FeedbackWindow.id).where(FeedbackWindow.code == code, FeedbackWindow.closes_at > now)
    if exclude_id is not None:
        query = query.where(FeedbackWindow.id != exclude_id)
    return db.session.scalar(query.limit(1)) is not None


def new_code(now: datetime | None = None, exclude_id: int | None = None) -> str:
    """A code no window that is open or still to open uses."""
    now = now or utcnow()
    for _attempt in range(50):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not _code_taken(code, now, exclude_id):
            return code
    raise RuntimeError("could not find a free feedback code")


def window_for_session(session) -> FeedbackWindow | None:
    return db.session.scalar(sa.select(FeedbackWindow).where(FeedbackWindow.session_id == session.id))


def window_for_meeting(meeting) -> FeedbackWindow | None:
    return db.session.scalar(sa.select(FeedbackWindow).where(FeedbackWindow.meeting_id == meeting.id))


def end_window_for_group(group) -> FeedbackWindow | None:
    return db.session.scalar(sa.select(FeedbackWindow).where(
        FeedbackWindow.group_id == group.id, FeedbackWindow.kind == WindowKind.GROUP_END.value))


def open_session_window(session) -> FeedbackWindow:
    """The session's window with the default times (start to 48 h after); created once."""
    window = window_for_session(session)
    if window is None:
        window = FeedbackWindow(kind=WindowKind.SESSION.value, group_id=session.group_id, session_id=session.id,
                                item_set_id=set_for_group(session.group, WindowKind.SESSION.value).id,
                                opens_at=session.starts_at, closes_at=session.starts_at + DEFAULT_WINDOW,
                                code=new_code())
        db.session.add(window)
        db.session.flush()
    return window


def open_group_end_window(group) -> FeedbackWindow:
    """The end-of-group survey: from the last session's start until two weeks after it ends."""
    window = end_window_for_group(group)
    if window is None:
        sessions = [s for s in group.sessions if not s.is_cancelled]
        now = utcnow()
        opens = sessions[-1].starts_at if sessions else now
        closes = (sessions[-1].ends_at if sessions else now) + GROUP_END_WINDOW
        window = FeedbackWindow(kind=WindowKind.GROUP_END.value, group_id=group.id,
                                item_set_id=set_for_group(group, WindowKind.GROUP_END.value).id,
                                opens_at=opens, closes_at=max(closes, now + EXTENSION), code=new_code())
        db.session.add(window)
        db.session.flush()
    return window


def open_meeting_window(meeting) -> FeedbackWindow:
    window = window_for_meeting(meeting)
    if window is None:
        window = FeedbackWindow(kind=WindowKind.MEETING.value, meeting_id=meeting.id,
                                item_set_id=builtin_set(WindowKind.MEETING.value).id,
                                opens_at=meeting.starts_at, closes_at=meeting.starts_at + DEFAULT_WINDOW,
                                code=new_code())
        db.session.add(window)
        db.session.flush()
    return window


def _ensure_code_free(window: FeedbackWindow, now: datetime) -> None:
    # A window that comes back to life may collide with a code given out meanwhile.
    if _code_taken(window.code, now, exclude_id=window.id):
        window.code = new_code(now, exclude_id=window.id)


class WindowLocked(Exception):
    """A closed window that has answers stays closed: its results may already have been shown,
    and one more answer would then be readable as the difference of two totals."""


def has_responses(window: FeedbackWindow) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(FeedbackResponse.window_id == window.id))) or False


def adjust_window(window: FeedbackWindow, action: str, now: datetime | None = None) -> FeedbackWindow:
    """open (now, early or again), close (now, early) or extend (24 h more)."""
    now = now or utcnow()
    if action in ("open", "extend") and window.closes_at <= now and has_responses(window):
        raise WindowLocked()
    if action == "open":
        window.opens_at = min(window.opens_at, now)
        if window.closes_at <= now:
            window.closes_at = now + EXTENSION
            _ensure_code_free(window, now)
    elif action == "close":
        window.opens_at = min(window.opens_at, now)
        window.closes_at = now
    elif action == "extend":
        was_closed = window.closes_at <= now
        window.closes_at = max(window.closes_at, now) + EXTENSION
        if was_closed:
            _ensure_code_free(window, now)
    else:
        raise ValueError(action)
    window.version += 1
    db.session.flush()
    return window


def find_window_by_code(code: str) -> FeedbackWindow | None:
    """The open (or still to open) window with this code, else the latest one that had it."""
    if not code:
        return None
    current, latest = _window_by_code_queries()
    found = db.session.execute(current, {"code": code, "now": utcnow()}).unique().scalar()
    if found is not None:
        return found
    return db.session.execute(latest, {"code": code}).unique().scalar()


@functools.cache
def _window_by_code_queries() -> tuple[sa.Select, sa.Select]:
    """Built once: the public form is the busiest page, and building a statement with its loader
    options costs more than running it. One query each, the item set and items joined in."""
    base = sa.select(FeedbackWindow).where(FeedbackWindow.code == sa.bindparam("code")).options(
        joinedload(FeedbackWindow.item_set).joinedload(ItemSet.items))
    current = base.where(FeedbackWindow.closes_at > sa.bindparam("now")).order_by(FeedbackWindow.opens_at).limit(1)
    return current, base.order_by(FeedbackWindow.closes_at.desc()).limit(1)


# --- submission ------------------------------------------------------------------------------

class RateLimited(Exception):
    pass


# Count this submission in its ten-minute bucket with one atomic upsert: parallel submissions
# (several workers, PostgreSQL's read committed) neither collide on the new bucket's key nor
# lose increments. Plain SQL that SQLite and PostgreSQL both speak, so it is compiled once (the
# dialects' ON CONFLICT constructs are compiled again on every call).
_RATE_SLOT = sa.text(
    "INSERT INTO feedback_submission_bucket (window_id, bucket, count) VALUES (:window_id, :bucket, 1) "
    "ON CONFLICT (window_id, bucket) DO UPDATE SET count = feedback_submission_bucket.count + 1 "
    "RETURNING count")


def _take_rate_slot(window_id: int, now: datetime) -> None:
    limit = int(current_app.config.get("FEEDBACK_RATE_LIMIT", 60))
    bucket = int(now.timestamp()) // RATE_BUCKET_SECONDS
    count = db.session.execute(_RATE_SLOT, {"window_id": window_id, "bucket": bucket}).scalar_one()
    if count == 1:
        # The first submission of a new bucket clears old ones: they are of no use.
        db.session.execute(sa.delete(SubmissionBucket).where(SubmissionBucket.bucket < bucket - 6))
    if count > limit:
        raise RateLimited()


class AddressLimited(Exception):
    """This client address has already given the answers one address may give to the window."""


# Answers one client address may give to one window: two, for a phone shared at home. Set with
# FEEDBACK_PER_ADDRESS_LIMIT (README: a venue whose guest network shows every phone under one
# address needs answer slips, or a higher limit).
PER_ADDRESS = 2

_ADDRESS_SLOT = sa.text(
    "INSERT INTO feedback_address_count (window_id, address_key, count) VALUES (:window_id, :key, 1) "
    "ON CONFLICT (window_id, address_key) DO UPDATE SET count = feedback_address_count.count + 1 "
    "RETURNING count")


def address_key(window_id: int, address: str) -> str:
    """A keyed hash of the address, salted with the window: not reversible without the secret key
    and different for every window, so the rows cannot be matched across windows."""
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(), f"feedback-address|{window_id}|{address}".encode(),
                   hashlib.sha256)
    return mac.hexdigest()[:32]


def _take_address_slot(window_id: int, address: str) -> None:
    """One atomic upsert (parallel workers neither collide nor lose counts). Raised inside the
    answer's transaction: the view rolls it back, so a refused answer leaves no count behind."""
    limit = int(current_app.config.get("FEEDBACK_PER_ADDRESS_LIMIT", PER_ADDRESS))
    count = db.session.execute(_ADDRESS_SLOT, {"window_id": window_id,
                                               "key": address_key(window_id, address)}).scalar_one()
    if count > limit:
        raise AddressLimited()


# --- single-use answer slips --------------------------------------------------------------------

SLIP_LENGTH = 10        # 23^10 ≈ 4·10^13 codes (CODE_ALPHABET): not guessable
SLIP_FAILURES = 10                                 # wrong slip codes one address may try per window


class SlipInvalid(Exception):
    """Unknown, used, or of another window: the participant sees one page for all."""


class SlipsInUse(Exception):
    """A slip of this window has been used: no new sheet (it would add answers)."""


def slip_hash(code: str) -> str:
    return hashlib.sha256(f"feedback-slip|{code}".encode()).hexdigest()


def normalise_slip(raw: str | None) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:SLIP_LENGTH * 2]


def slip_count(window: FeedbackWindow) -> int:
    """One slip per person who could answer: present in the roll call, or before it enrolled
    (invited to a meeting)."""
    heads = people.window_heads(window.id)
    return heads.people if heads.people is not None else heads.capacity - people.MARGIN


def window_uses_slips(window_id: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(AnswerSlip.window_id == window_id))) or False


def slips_used(window_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(AnswerSlip.id))
                             .where(AnswerSlip.window_id == window_id, AnswerSlip.used.is_(True))) or 0


def make_slips(window: FeedbackWindow) -> list[str]:
    """A new sheet of slips for the window, replacing any earlier sheet. Only hashes are stored,
    so the sheet is shown once; a new sheet can be made only while no slip has been used (the
    earlier sheet's slips stop working, so no more answers can be given than slips on one
    sheet)."""
    if slips_used(window.id):
        raise SlipsInUse()
    db.session.execute(sa.delete(AnswerSlip).where(AnswerSlip.window_id == window.id))
    codes = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(SLIP_LENGTH)) for _ in range(slip_count(window))]
    db.session.add_all([AnswerSlip(window_id=window.id, code_hash=slip_hash(c)) for c in codes])
    db.session.flush()
    return codes


def stop_slips(window: FeedbackWindow) -> None:
    """Back to the shared code (only while no slip has been used)."""
    if slips_used(window.id):
        raise SlipsInUse()
    db.session.execute(sa.delete(AnswerSlip).where(AnswerSlip.window_id == window.id))


def slip_usable(window_id: int, code: str) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(
        AnswerSlip.window_id == window_id, AnswerSlip.code_hash == slip_hash(code),
        AnswerSlip.used.is_(False)))) or False


def count_slip_failure(window_id: int, address: str) -> bool:
    """Count a wrong slip code from this address (the per-address table, its own key): True
    while the address may still try (the caller commits)."""
    count = db.session.execute(_ADDRESS_SLOT, {"window_id": window_id,
                                               "key": address_key(window_id, "slip-failure|" + address)}).scalar_one()
    return count <= SLIP_FAILURES


def slip_failures_exceeded(window_id: int, address: str) -> bool:
    count = db.session.scalar(sa.select(AddressCount.count).where(
        AddressCount.window_id == window_id,
        AddressCount.address_key == address_key(window_id, "slip-failure|" + address)))
    return (count or 0) >= SLIP_FAILURES


def _use_slip(window_id: int, code: str | None, has_slips: bool) -> None:
    if code is None:
        if has_slips:
            raise SlipInvalid()
        return
    used = rowcount(db.session.execute(sa.update(AnswerSlip).where(
        AnswerSlip.window_id == window_id, AnswerSlip.code_hash == slip_hash(code), AnswerSlip.used.is_(False))
        .values(used=True).execution_options(synchronize_session=False)))
    if used != 1:
        raise SlipInvalid()


class WindowNotOpen(ValueError):
    """The window is not (or no longer) taking answers."""


class WindowFull(ValueError):
    """Every person who could have answered has (feedback.release.MARGIN included)."""


# The window's times and items, read where the answer is stored. On PostgreSQL the row is
# locked until commit: a window being closed waits for this answer, an answer arriving while it
# closes waits and then sees it closed, and two answers count the window's answers (next
# statement) one after the other, so neither can pass its capacity (on SQLite the write lock
# does the same).
_WINDOW_ITEMS = (sa.select(FeedbackWindow.opens_at, FeedbackWindow.closes_at, Item.id, ItemSet.scale,
                           sa.exists().where(AnswerSlip.window_id == FeedbackWindow.id).label("slips"))
                 .join(ItemSet, ItemSet.id == FeedbackWindow.item_set_id)
                 .outerjoin(Item, Item.item_set_id == FeedbackWindow.item_set_id)
                 .where(FeedbackWindow.id == sa.bindparam("window_id"))
                 .with_for_update(of=FeedbackWindow))
# Plain inserts: the ORM's unit of work costs a millisecond more per answer sheet, on the busiest
# write in the application. The rows are exactly what FeedbackResponse/FeedbackAnswer hold.
_INSERT_RESPONSE = sa.insert(FeedbackResponse.__table__)
_INSERT_ANSWERS = sa.insert(FeedbackAnswer.__table__)


def submit_response(window_id: int, scores: dict[int, int | None], comment: str, *, address: str | None = None,
                    slip: str | None = None) -> str:
    """Store one anonymous response and return its (random) id. ``scores`` maps item id to a
    value on the set's scale, or to None for "don't know" (no answer is stored for it), for every
    item of the window's set. Whether the window is open is read here, in the transaction that
    stores the answer, never taken from an earlier read."""
    now = utcnow()
    rows = db.session.execute(_WINDOW_ITEMS, {"window_id": window_id}).all()
    if not rows or not (aware_utc(rows[0].opens_at) <= now < aware_utc(rows[0].closes_at)):
        raise WindowNotOpen()
    item_ids = {row.id for row in rows if row.id is not None}
    values = SCALES.get(rows[0].scale or ZERO_TO_TEN, SCALES[ZERO_TO_TEN]).values
    if set(scores) != item_ids or any(v is not None and v not in values for v in scores.values()):
        raise ValueError("scores do not match the items")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValueError("comment too long")
    # Counted in a statement of its own, after the lock is held: on PostgreSQL a statement sees
    # the data as it was when it started, so counting in the locking statement would miss an
    # answer committed while this one waited for the lock.
    # A window with slips takes an answer only with an unused slip of its own, used up in this
    # transaction (an answer refused later rolls the slip back too).
    _use_slip(window_id, slip, bool(rows[0].slips))
    if address is not None:
        # Before the capacity: one address flooding is told so, and never fills the window.
        _take_address_slot(window_id, address)
    heads = people.window_heads(window_id)
    if heads.answered >= heads.capacity:
        raise WindowFull()
    _take_rate_slot(window_id, now)
    if heads.people is not None and heads.answered + 1 > heads.people:
        # More answers than people: flagged for good (its figures are left out).
        db.session.execute(sa.update(FeedbackWindow).where(FeedbackWindow.id == window_id)
                           .values(overfilled=True).execution_options(synchronize_session=False))
    response_id = random_response_id()
    db.session.execute(_INSERT_RESPONSE, {"id": response_id, "window_id": window_id, "answered_on": local_today(),
                                          "comment": comment})
    answers = [{"response_id": response_id, "item_id": item_id, "value": value}
               for item_id, value in scores.items() if value is not None]
    if answers:
        db.session.execute(_INSERT_ANSWERS, answers)
    return response_id


# --- aggregates ------------------------------------------------------------------------------

@dataclass
class WindowStats:
    n: int = 0
    sums: dict = field(default_factory=dict)          # item id -> sum of scores
    distribution: dict = field(default_factory=dict)  # item id -> {score: count}
    answered: dict = field(default_factory=dict)      # item id -> answers given to it ("don't know" is none)
    comments: list = field(default_factory=list)
    # The lowest and highest response id: with n they tell one set of responses from another
    # (ids are random, so they say nothing about who answered or in which order).
    first_id: str | None = None
    last_id: str | None = None

    @property
    def fingerprint(self) -> tuple:
        return (self.n, self.first_id, self.last_id)


def window_stats(window_ids: list[int]) -> dict[int, WindowStats]:
    """Counts, sums, distributions and comments for many windows in three queries."""
    stats = {wid: WindowStats() for wid in window_ids}
    if not window_ids:
        return stats
    counts, distributions, comments = _window_stats_queries()
    params = {"window_ids": window_ids}
    for wid, n, first_id, last_id in db.session.execute(counts, params):
        stats[wid].n, stats[wid].first_id, stats[wid].last_id = n, first_id, last_id
    for wid, item_id, value, count in db.session.execute(distributions, params):
        s = stats[wid]
        s.sums[item_id] = s.sums.get(item_id, 0) + value * count
        s.distribution.setdefault(item_id, {})[value] = count
        s.answered[item_id] = s.answered.get(item_id, 0) + count
    for wid, comment in db.session.execute(comments, params):
        stats[wid].comments.append(comment)
    return stats


@functools.cache
def _window_stats_queries() -> tuple[sa.Select, sa.Select, sa.Select]:
    """Built once (every results page and chart runs them); the window ids are bound per call."""
    ids: sa.BindParameter[list[int]] = sa.bindparam("window_ids", expanding=True)
    counts = (sa.select(FeedbackResponse.window_id, sa.func.count(), sa.func.min(FeedbackResponse.id),
                        sa.func.max(FeedbackResponse.id))
              .where(FeedbackResponse.window_id.in_(ids)).group_by(FeedbackResponse.window_id))
    distributions = (sa.select(FeedbackResponse.window_id, FeedbackAnswer.item_id, FeedbackAnswer.value,
                               sa.func.count())
                     .join(FeedbackAnswer.response).where(FeedbackResponse.window_id.in_(ids))
                     .group_by(FeedbackResponse.window_id, FeedbackAnswer.item_id, FeedbackAnswer.value))
    # Sorted by text, never by storage order, so comments cannot be matched to arrival order.
    comments = (sa.select(FeedbackResponse.window_id, FeedbackResponse.comment)
                .where(FeedbackResponse.window_id.in_(ids), FeedbackResponse.comment != "")
                .order_by(FeedbackResponse.comment))
    return counts, distributions, comments


# --- chart cache -----------------------------------------------------------------------------
# Rows are keyed by feedback.summary.chart_key, which names exactly the state a chart was drawn
# from; a row is written only after the chart was drawn from data whose own key is that key.

_CHART_TABLE = ChartCache.__table__
# Plain statements, built once: a cache hit should cost the lookup, not the ORM around it.
_CHART_BODY = sa.select(_CHART_TABLE.c.body, _CHART_TABLE.c.mimetype).where(_CHART_TABLE.c.key == sa.bindparam("key"))
_CHART_EXISTS = sa.select(_CHART_TABLE.c.key).where(_CHART_TABLE.c.key == sa.bindparam("key"))


# Each process also keeps the charts it served last, in front of the table. A key names the exact
# state a chart was drawn from, so a kept copy is never out of date and instances still agree
# without talking to each other; the table stays the shared cache (a chart drawn by one instance
# is served by the others). The copy saves a hit its round trip and the transfer of the body,
# about a third of a cached chart's time on PostgreSQL. Kept on the app, not the module, so each
# app (each test's) starts empty; bounded, so memory stays small (a chart is tens of kB).
RECENT_CHARTS_KEPT = 32


class _RecentCharts:
    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self.lock = threading.Lock()  # the development server and tests serve in threads

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: str, value: tuple[bytes, str]) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def _recent_charts() -> _RecentCharts:
    recent = current_app.extensions.get("kohtaamo_recent_charts")
    if recent is None:
        recent = current_app.extensions.setdefault("kohtaamo_recent_charts", _RecentCharts(RECENT_CHARTS_KEPT))
    return recent


def cached_chart(key: str) -> tuple[bytes, str] | None:
    """(body, mimetype) of the chart stored under ``key``, if any."""
    recent = _recent_charts()
    value = recent.get(key)
    if value is None:
        row = db.session.execute(_CHART_BODY, {"key": key}).first()
        if row is None:
            return None
        value = (bytes(row.body), row.mimetype)
        recent.put(key, value)
    return value


def chart_is_cached(key: str) -> bool:
    """Whether a chart is stored under ``key``, without reading its body (for a 304)."""
    if _recent_charts().get(key) is not None:
        return True
    return db.session.execute(_CHART_EXISTS, {"key": key}).first() is not None


# A chart stays in the table this long after it was drawn. Old keys are never read again (any
# change to the data is a new key), so without this the table would only grow; a chart still in
# use is drawn once more after this, which costs one render.
CHARTS_KEPT_FOR = timedelta(days=30)


def store_chart(key: str, body: bytes, mimetype: str) -> None:
    # Pruning rides on this write (a cache miss, rare) instead of needing a job of its own.
    db.session.execute(sa.delete(ChartCache).where(ChartCache.created_at < utcnow() - CHARTS_KEPT_FOR)
                       .execution_options(synchronize_session=False))
    try:
        # Another worker may store the same chart at the same moment; theirs is as good as ours.
        with db.session.begin_nested():
            db.session.add(ChartCache(key=key, mimetype=mimetype, body=body))
    except sa.exc.IntegrityError:
        pass
    # Kept even if the request's commit then fails: the chart is right for its key either way.
    _recent_charts().put(key, (body, mimetype))
