"""Outreach business rules: recurrence dates, generating visits, staff pairs and their flags,
moving and cancelling, anonymous counts and the lead's report. (Feed events: calendar_source.py.)

Services change data and flush; views commit once.
"""
from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from accounts.units import member_unit_ids, member_unit_ids_select, shared_or_own_unit
from core.conflicts import BUSY_PARAMS, Conflict
from core.db import Viewer
from core.extensions import db
from core.timeutil import finnish_holiday, local_to_utc, local_today, now_utc, to_local

from .models import (
    LAST,
    NOT_HELD_REASONS,
    REVIEW_DECISIONS,
    TOPICS,
    OutreachRule,
    OutreachVenue,
    OutreachVisit,
    RuleFrequency,
    VisitReport,
    VisitStatus,
)

# How far ahead visits are generated and the rota looks: the coming three months.
HORIZON_MONTHS = 3


class OutreachError(ValueError):
    """A business rule refused the change; the message is translated lazily for the form."""


# --- recurrence ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleSpec:
    """The recurrence part of a rule, so dates can be computed before anything is saved."""

    frequency: str
    weekday: int
    valid_from: date
    nth: int = 1
    interval_weeks: int = 1
    valid_until: date | None = None
    break_months: tuple[int, ...] = ()
    break_from: date | None = None
    break_until: date | None = None

    @classmethod
    def of(cls, rule: OutreachRule) -> RuleSpec:
        return cls(frequency=rule.frequency, weekday=rule.weekday, valid_from=rule.valid_from, nth=rule.nth,
                   interval_weeks=rule.interval_weeks, valid_until=rule.valid_until,
                   break_months=tuple(rule.break_month_list), break_from=rule.break_from,
                   break_until=rule.break_until)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (1–5) or last (LAST) given weekday of a month; None if the month has no such day."""
    if nth == LAST:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    return day if day.month == month else None


def _candidates(spec: RuleSpec, start: date, end: date):
    if spec.frequency == RuleFrequency.WEEKLY.value:
        day = spec.valid_from + timedelta(days=(spec.weekday - spec.valid_from.weekday()) % 7)
        step = timedelta(weeks=max(1, spec.interval_weeks))
        if day < start:
            # Jump ahead whole steps so the fortnightly rhythm stays anchored to valid_from.
            day += step * ((start - day).days // step.days)
        while day < end:
            yield day
            day += step
    else:
        month = date(start.year, start.month, 1)
        while month < end:
            nth = nth_weekday(month.year, month.month, spec.weekday, spec.nth)
            if nth is not None:
                yield nth
            month = add_months(month, 1)




def skip_reason(spec: RuleSpec, day: date) -> str | None:
    """Why the rule skips ``day`` ("holiday", "break"), or None."""
    if day.month in spec.break_months:
        return "break"
    if spec.break_from and spec.break_until and spec.break_from <= day <= spec.break_until:
        return "break"
    if finnish_holiday(day):
        return "holiday"
    return None


def rule_dates(spec: RuleSpec, start: date, end: date) -> list[date]:
    """Local dates in [start, end) on which the rule has a visit: within its validity, outside
    break months and the break range, and never on a Finnish public holiday."""
    start = max(start, spec.valid_from)
    if spec.valid_until is not None:
        end = min(end, spec.valid_until + timedelta(days=1))
    return [day for day in _candidates(spec, start, end)
            if start <= day < end and skip_reason(spec, day) is None]


def horizon_end(today: date) -> date:
    """End (exclusive) of the generation window: the rest of this month and three whole months."""
    return add_months(date(today.year, today.month, 1), HORIZON_MONTHS + 1)


# --- who may see a venue (the one rule) --------------------------------------------------------

def venue_visible_condition(user):
    """The one rule for outreach venues (and so their visits, schedules, reviews and figures), as
    SQL: shared venues (no unit) and those of the units the user is a member of. Another unit's
    venue is not found (404), as another unit's partner organisation (register.access)."""
    user_id = user.id if getattr(user, "is_authenticated", False) else 0
    return sa.or_(OutreachVenue.unit_id.is_(None), OutreachVenue.unit_id.in_(member_unit_ids_select(user_id)))


def visible_venue_ids(user) -> sa.Select:
    """``venue_visible_condition`` as a SELECT of venue ids, for lists of visits."""
    return sa.select(OutreachVenue.id).where(venue_visible_condition(user))


def can_see_venue(user, venue: OutreachVenue) -> bool:
    """``venue_visible_condition`` for one loaded venue."""
    if not getattr(user, "is_authenticated", False):
        return False
    return venue.unit_id is None or venue.unit_id in member_unit_ids(user)


# --- venues and rules ---------------------------------------------------------------------------

KEEP_UNIT = object()  # save_venue's unit_id when the venue keeps its unit


def save_venue(venue: OutreachVenue | None, *, partner_id: int, name: str, address: str, active: bool,
               unit_id=KEEP_UNIT, user=None) -> OutreachVenue:
    """Create or change a venue. ``unit_id`` (with the ``user`` choosing it): None for a venue
    shared by every unit, or one of the user's own units (accounts.units.shared_or_own_unit
    raises UnitChoiceError for any other, before anything changes)."""
    if unit_id is not KEEP_UNIT:
        unit_id = shared_or_own_unit(user, unit_id)
    if venue is None:
        venue = OutreachVenue(partner_id=partner_id, name=name, address=address, active=active,
                              unit_id=None if unit_id is KEEP_UNIT else unit_id)
        db.session.add(venue)
    else:
        if unit_id is not KEEP_UNIT and venue.unit_id != unit_id:
            venue.unit_id = unit_id
        place_changed = (venue.name, venue.address, venue.partner_id) != (name, address, partner_id)
        stopped = venue.active and not active
        venue.partner_id, venue.name, venue.address, venue.active = partner_id, name, address, active
        venue.version += 1
        for visit in upcoming_visits(venue):
            if stopped:
                # No more visits there: coming ones are cancelled, so the venue's feed says so.
                cancel_visit(visit)
            elif place_changed:
                # The place of every coming visit changed: calendar clients must see a new SEQUENCE.
                visit.sequence += 1
                visit.version += 1
    db.session.flush()
    return venue


def upcoming_visits(venue: OutreachVenue) -> list[OutreachVisit]:
    return list(db.session.scalars(
        sa.select(OutreachVisit).where(OutreachVisit.venue_id == venue.id,
                                       OutreachVisit.ends_at >= now_utc(),
                                       OutreachVisit.status == VisitStatus.SCHEDULED.value)
    ))


def save_rule(venue: OutreachVenue, *, spec: RuleSpec, start_time: time, end_time: time,
              today: date | None = None) -> OutreachRule:
    """Save the venue's rule and bring its coming visits in line: a visit on a date the new rule
    no longer has is cancelled (it stays in feeds as cancelled), and a visit still at the old
    rule's times gets the new times. Visits moved by hand keep their own times."""
    rule = venue.rule
    old_times = None
    if rule is None:
        rule = OutreachRule(venue=venue)
        db.session.add(rule)
    else:
        old_times = (rule.start_time, rule.end_time)
        rule.version += 1
    rule.frequency, rule.weekday, rule.nth = spec.frequency, spec.weekday, spec.nth
    rule.interval_weeks = spec.interval_weeks
    rule.valid_from, rule.valid_until = spec.valid_from, spec.valid_until
    rule.break_months = ",".join(str(m) for m in sorted(set(spec.break_months)))
    rule.break_from, rule.break_until = spec.break_from, spec.break_until
    rule.start_time, rule.end_time = start_time, end_time
    if old_times is not None:
        _reconcile_visits(venue, spec, old_times, (start_time, end_time), today or local_today())
    db.session.flush()
    return rule


def _reconcile_visits(venue: OutreachVenue, spec: RuleSpec, old_times, new_times, today: date) -> None:
    coming = [v for v in db.session.scalars(
        sa.select(OutreachVisit).where(OutreachVisit.venue_id == venue.id, OutreachVisit.rule_date >= today,
                                       OutreachVisit.status == VisitStatus.SCHEDULED.value))]
    if not coming:
        return
    # The query asked for rule_date >= today, so every visit here has one; the column is nullable
    # (visits added by hand have none).
    last = max(v.rule_date for v in coming if v.rule_date is not None)
    keep = set(rule_dates(spec, today, last + timedelta(days=1)))
    for visit in coming:
        day = visit.rule_date
        if day not in keep:
            cancel_visit(visit)
        elif old_times != new_times and (visit.starts_at, visit.ends_at) == (
                local_to_utc(day, old_times[0]), local_to_utc(day, old_times[1])):
            move_visit(visit, day, *new_times)


def generate_visits(venue: OutreachVenue, *, today: date | None = None, end: date | None = None) -> list[OutreachVisit]:
    """Create the rule's visits from today to the horizon. Idempotent: a rule date that already
    has a visit (even a moved or cancelled one) is left alone."""
    rule = venue.rule
    if rule is None or not venue.active:
        return []
    today = today or local_today()
    end = end or horizon_end(today)
    dates = rule_dates(RuleSpec.of(rule), today, end)
    if not dates:
        return []
    existing = set(db.session.scalars(
        sa.select(OutreachVisit.rule_date).where(OutreachVisit.venue_id == venue.id,
                                                 OutreachVisit.rule_date.in_(dates))
    ))
    created = []
    for day in dates:
        if day in existing:
            continue
        visit = OutreachVisit(venue=venue, rule_date=day, starts_at=local_to_utc(day, rule.start_time),
                              ends_at=local_to_utc(day, rule.end_time), status=VisitStatus.SCHEDULED.value)
        db.session.add(visit)
        created.append(visit)
    db.session.flush()
    return created


# --- visits -------------------------------------------------------------------------------------

def assign_pair(visit: OutreachVisit, staff1_id: int | None, staff2_id: int | None) -> OutreachVisit:
    if staff1_id is None and staff2_id is not None:
        staff1_id, staff2_id = staff2_id, None
    if staff1_id is not None and staff1_id == staff2_id:
        raise OutreachError(_l("Choose two different people: the same person cannot be both workers."))
    if (visit.staff1_id, visit.staff2_id) != (staff1_id, staff2_id):
        visit.staff1_id, visit.staff2_id = staff1_id, staff2_id
        # The feed's description names the pair, so clients should refresh the event.
        visit.sequence += 1
        visit.version += 1
    db.session.flush()
    return visit


def move_visit(visit: OutreachVisit, day: date, start: time, end: time) -> OutreachVisit:
    if visit.status == VisitStatus.DONE.value:
        raise OutreachError(_l("A visit that has taken place cannot be moved."))
    starts_at, ends_at = local_to_utc(day, start), local_to_utc(day, end)
    if ends_at <= starts_at:
        raise OutreachError(_l("The end time must be after the start time."))
    if (visit.starts_at, visit.ends_at) != (starts_at, ends_at):
        visit.starts_at, visit.ends_at = starts_at, ends_at
        visit.sequence += 1
        visit.version += 1
    db.session.flush()
    return visit


def cancel_visit(visit: OutreachVisit) -> OutreachVisit:
    if visit.status == VisitStatus.DONE.value:
        raise OutreachError(_l("A visit that has taken place cannot be cancelled."))
    if visit.status != VisitStatus.CANCELLED.value:
        visit.status = VisitStatus.CANCELLED.value
        visit.sequence += 1
        visit.version += 1
    db.session.flush()
    return visit


def restore_visit(visit: OutreachVisit) -> OutreachVisit:
    if visit.status == VisitStatus.CANCELLED.value:
        visit.status = VisitStatus.SCHEDULED.value
        visit.sequence += 1
        visit.version += 1
    db.session.flush()
    return visit


# people_met first; then the counts of people met (none above people_met); staff_advised last
# (the venue's own staff, not people met).
COUNT_FIELDS = ("people_met", "people_new", "met_one_to_one", "met_in_group", *(f"topic_{t}" for t in TOPICS),
                "errands_sorted", "referred_office", "referred_kela", "guided_onward", "appointments_booked",
                "staff_advised")
PEOPLE_COUNT_FIELDS = COUNT_FIELDS[1:-1]


def save_report(visit: OutreachVisit, user, counts: dict[str, int], *, now: datetime | None = None,
                held: bool = True, not_held_reason: str = "", queue: bool = False, note: str = "") -> VisitReport:
    """Records what a visit was (anonymous counts, a queue, a note), or that it did not take place
    with a reason (then no counts). Counts missing from ``counts`` are 0."""
    if visit.status == VisitStatus.CANCELLED.value:
        raise OutreachError(_l("A cancelled visit has no counts to record."))
    now = now or now_utc()
    if visit.starts_at > now:
        raise OutreachError(_l("Counts can be recorded once the visit has started."))
    counts = {name: (counts.get(name) or 0) if held else 0 for name in COUNT_FIELDS}
    if held:
        not_held_reason = ""
        if any(counts[name] < 0 for name in COUNT_FIELDS):
            raise OutreachError(_l("Counts cannot be below zero."))
        if any(counts[name] > counts["people_met"] for name in PEOPLE_COUNT_FIELDS):
            raise OutreachError(_l("No count can be more than the number of people met."))
    elif not_held_reason not in NOT_HELD_REASONS:
        raise OutreachError(_l("Choose why the visit did not take place."))
    report = visit.report
    if report is None:
        report = VisitReport(visit=visit, recorded_by_id=user.id)
        db.session.add(report)
    else:
        report.version += 1
    for name in COUNT_FIELDS:
        setattr(report, name, counts[name])
    report.held = held
    report.not_held_reason = not_held_reason
    report.queue = bool(queue) and held
    report.note = note or ""
    if visit.status != VisitStatus.DONE.value:
        visit.status = VisitStatus.DONE.value
        visit.sequence += 1
        visit.version += 1
    db.session.flush()
    return report


@functools.cache
def _visits_statement(by_venue: bool, viewer: Viewer | None, by_status: bool, reports: bool) -> sa.Select:
    """Built once per shape: the rota, every worker's outreach page, asks it."""
    stmt = (
        sa.select(OutreachVisit)
        .where(OutreachVisit.starts_at >= sa.bindparam("lo"), OutreachVisit.starts_at < sa.bindparam("hi"))
        .order_by(OutreachVisit.starts_at, OutreachVisit.id)
        .options(selectinload(OutreachVisit.venue).selectinload(OutreachVenue.partner),
                 selectinload(OutreachVisit.staff1), selectinload(OutreachVisit.staff2))
    )
    if reports:
        stmt = stmt.options(selectinload(OutreachVisit.report))
    if by_venue:
        stmt = stmt.where(OutreachVisit.venue_id == sa.bindparam("venue_id"))
    if by_status:
        stmt = stmt.where(OutreachVisit.status == sa.bindparam("status"))
    if viewer is not None:
        stmt = stmt.where(OutreachVisit.venue_id.in_(visible_venue_ids(viewer)))
    return stmt


def visits_between(start_utc: datetime, end_utc: datetime, *, venue_id: int | None = None,
                   user=None, status: str | None = None, reports: bool = True) -> list[OutreachVisit]:
    """Visits in a window with venue, partner, staff and (unless ``reports`` is false) report
    loaded up front (no query per row); with ``user``, only those at the venues the user may
    see; with ``status``, only those of that status."""
    statement = _visits_statement(venue_id is not None, Viewer.of(user) if user is not None else None,
                                  status is not None, reports)
    return list(db.session.scalars(statement, {"lo": start_utc, "hi": end_utc, "venue_id": venue_id,
                                               "status": status, "viewer_id": getattr(user, "id", None)}))


@dataclass
class VisitFlags:
    single_worker: bool = False
    no_workers: bool = False
    new_to: list = field(default_factory=list)  # staff for whom the venue is new

    @property
    def any(self) -> bool:
        return self.single_worker or self.no_workers or bool(self.new_to)


def visit_flags(visits: list[OutreachVisit]) -> dict[int, VisitFlags]:
    """Safety flags per visit: fewer than two workers, or a worker with no earlier done visit at
    the venue (pairs at new places is the safety rule). One query for any number of visits."""
    venue_ids = {v.venue_id for v in visits}
    first_done: dict[tuple[int, int], datetime] = {}
    if venue_ids:
        done = OutreachVisit.status == VisitStatus.DONE.value
        pairs = sa.union_all(
            sa.select(OutreachVisit.venue_id.label("venue_id"), OutreachVisit.staff1_id.label("user_id"),
                      OutreachVisit.starts_at.label("at"))
            .where(done, OutreachVisit.staff1_id.is_not(None), OutreachVisit.venue_id.in_(venue_ids)),
            sa.select(OutreachVisit.venue_id, OutreachVisit.staff2_id, OutreachVisit.starts_at)
            .where(done, OutreachVisit.staff2_id.is_not(None), OutreachVisit.venue_id.in_(venue_ids)),
        ).subquery()
        rows = db.session.execute(
            sa.select(pairs.c.venue_id, pairs.c.user_id, sa.func.min(pairs.c.at)).group_by(pairs.c.venue_id,
                                                                                          pairs.c.user_id)
        )
        for venue_id, user_id, at in rows:
            # MIN over a UNION loses the column type on SQLite (naive or a string): make it aware UTC.
            if isinstance(at, str):
                at = datetime.fromisoformat(at)
            first_done[(venue_id, user_id)] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    flags = {}
    for visit in visits:
        f = VisitFlags()
        if visit.status != VisitStatus.CANCELLED.value:
            f.no_workers = not visit.staff_ids
            f.single_worker = len(visit.staff_ids) == 1
            for user in visit.staff:
                earliest = first_done.get((visit.venue_id, user.id))
                if earliest is None or earliest >= visit.starts_at:
                    f.new_to.append(user)
        flags[visit.id] = f
    return flags


def rota_window(today: date | None = None) -> tuple[datetime, datetime]:
    today = today or local_today()
    return local_to_utc(today, time(0, 0)), local_to_utc(add_months(today, HORIZON_MONTHS) + timedelta(days=1),
                                                         time(0, 0))


# --- report -------------------------------------------------------------------------------------

def report_months(end_month: date, count: int) -> list[date]:
    first = date(end_month.year, end_month.month, 1)
    return [add_months(first, -i) for i in range(count - 1, -1, -1)]


def reported_venue_ids(user) -> sa.Select:
    """The venues whose figures ``user`` (a lead) reports: the venues they may see
    (``venue_visible_condition``; a lead leads every unit they are a member of)."""
    return sa.select(OutreachVenue.id).where(venue_visible_condition(user))


# --- the one conflict check -----------------------------------------------------------------------

class OutreachBusy:
    """Outreach visits as a busy source of the one conflict check (``core.conflicts``): the staff
    pair. A venue is a partner's premises, not one of our rooms, so no room rows."""

    kind = "outreach"

    def busy(self, people, room):
        if not people:
            return []
        live = sa.and_(OutreachVisit.status != VisitStatus.CANCELLED.value, OutreachVisit.starts_at < BUSY_PARAMS.hi,
                       OutreachVisit.ends_at > BUSY_PARAMS.lo, OutreachVisit.starts_at > BUSY_PARAMS.earliest_start)
        return [sa.select(OutreachVisit.id, column, sa.literal("", sa.String), OutreachVenue.name,
                          OutreachVisit.starts_at, OutreachVisit.ends_at)
                .join(OutreachVenue, OutreachVenue.id == OutreachVisit.venue_id).where(live, column.in_(BUSY_PARAMS.user_ids))
                for column in (OutreachVisit.staff1_id, OutreachVisit.staff2_id)]

    def openable(self, viewer, record_ids):
        return set(record_ids)  # a venue's name is no one's secret

    def describe(self, c: Conflict) -> str:
        from flask_babel import gettext as _

        return _("%(when)s: %(name)s is on an outreach visit (%(venue)s) at the same time.", when=c.when,
                 name=c.user_name, venue=c.title)


BUSY = OutreachBusy()  # registered on the app by views.py


# --- the venue on site and its trial review -----------------------------------------------------

SITE_FIELDS = ("contact_name", "contact_phone", "contact_email", "opening_hours", "private_space_note",
               "safety_note", "trial_review_on")


def save_venue_site(venue: OutreachVenue, values: dict) -> OutreachVenue:
    for name in SITE_FIELDS:
        value = values.get(name)
        setattr(venue, name, value if name == "trial_review_on" else (value or ""))
    venue.version += 1
    db.session.flush()
    return venue


def record_review(venue: OutreachVenue, decision: str, note: str) -> OutreachVenue:
    """The trial period's decision: continue, change (continue; what changes is in the note) or
    end (the venue is no longer visited and its coming visits are cancelled, as in save_venue)."""
    if decision not in REVIEW_DECISIONS:
        raise OutreachError(_l("Choose the decision."))
    venue.review_decision, venue.review_note, venue.reviewed_at = decision, note or "", now_utc()
    venue.trial_review_on = None
    if decision == "end" and venue.active:
        save_venue(venue, partner_id=venue.partner_id, name=venue.name, address=venue.address, active=False)
    else:
        venue.version += 1
    db.session.flush()
    return venue


def review_months(venue: OutreachVenue, today: date) -> list[date]:
    """The months the review looks at: from the venue's first month to this one (at most 24)."""
    start = to_local(venue.created_at).date()
    count = (today.year - start.year) * 12 + today.month - start.month + 1
    return report_months(today, max(1, min(24, count)))
