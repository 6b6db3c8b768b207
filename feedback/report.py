"""The lead's unit report for a period: groups held, participants, attendance, feedback means per
theme (suppressed like every other feedback figure), network meetings held and action items done
on time. A fixed number of queries whatever the period holds."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from core.csvfile import csv_bytes
from core.db import broad, utc_hour_of
from core.extensions import db
from core.formatting import local_date
from core.forms import EARLIEST_DATE, latest_date
from core.timeutil import local_day_bounds_utc, local_today, to_local
from groups.models import Attendance, AttendanceStatus, Group, GroupSession, SessionStatus
from meetings.models import ActionItem, ItemStatus, Meeting, MeetingStatus

from . import release as release_rule, results, scales
from .models import FeedbackWindow


@dataclass
class ThemeLine:
    theme: str
    groups: int
    row: results.Row                     # groups that asked on the 0–10 scale
    short: results.Row | None = None     # groups that used the short form (1–5); None when no group did


@dataclass
class UnitReport:
    start: date
    end: date
    k: int
    groups_held: int
    sessions_held: int
    participants: int
    attendance_present: int
    attendance_recorded: int
    themes: list[ThemeLine]
    total: results.Row
    meetings_held: int
    items_due: int
    items_on_time: int
    flagged_windows: int = 0
    # The short form's figures (1–5) in columns of their own: never pooled with 0–10 ones.
    short_total: results.Row | None = None

    @property
    def has_short(self) -> bool:
        return self.short_total is not None

    @property
    def attendance_rate(self) -> float | None:
        if not self.attendance_recorded:
            return None
        return round(100 * self.attendance_present / self.attendance_recorded)


@dataclass
class _ScalePool:
    """Released groups' figures of one scale, summed per theme."""
    counts: dict[str, int] = field(default_factory=dict)     # answer sheets
    people: dict[str, int] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)     # of each sheet's mean
    scored: dict[str, int] = field(default_factory=dict)     # sheets with at least one answer


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's [since, until) in UTC, within the dates forms accept (the ends of Python's
    calendar would overflow the conversion to UTC)."""
    start, end = max(start, EARLIEST_DATE), min(end, latest_date())
    return local_day_bounds_utc(start)[0], local_day_bounds_utc(end)[1]


def period_is_open(end: date) -> bool:
    """Feedback is reported only for a period that has ended."""
    return end >= local_today()


def unit_report(start: date, end: date, k: int, units: sa.Select | None = None) -> UnitReport:
    """The figures of the period; with ``units`` (a SELECT of unit ids: the lead's units) of
    those units' groups and of their clients' meetings only."""
    # Nothing is recorded outside the dates forms accept; the ends of Python's calendar would
    # overflow the conversion to UTC.
    start, end = max(start, EARLIEST_DATE), min(end, latest_date())
    # The units as a list of ids: a planner knows how many rows "unit_id IN (1)" selects, not how
    # many a subquery gives, and SQLite then read every meeting of the period.
    unit_ids = sorted(db.session.scalars(units)) if units is not None else None
    since, until = period_bounds(start, end)
    in_period = sa.and_(GroupSession.starts_at >= since, GroupSession.starts_at < until,
                        GroupSession.status != SessionStatus.CANCELLED.value)
    unit_meetings: sa.ColumnElement[bool] = sa.true()
    if unit_ids is not None:
        # A session carries its group's unit: the units' sessions of the period by the
        # (unit_id, starts_at) index, not the county's sessions of the period (ten times the rows
        # at ten units) joined to their groups.
        in_period = sa.and_(in_period, GroupSession.unit_id.in_(unit_ids))
        # A meeting carries its client's unit: the units' meetings by the (unit_id, starts_at)
        # index, not every meeting of the county's period joined to its client.
        unit_meetings = Meeting.unit_id.in_(unit_ids)
    groups_held, sessions_held = db.session.execute(
        sa.select(sa.func.count(sa.distinct(GroupSession.group_id)), sa.func.count(GroupSession.id))
        .where(in_period)).one()
    present, recorded, participants = db.session.execute(
        sa.select(sa.func.count().filter(Attendance.status == AttendanceStatus.PRESENT.value),
                  sa.func.count(Attendance.id),
                  sa.func.count(sa.distinct(Attendance.enrolment_id))
                  .filter(Attendance.status == AttendanceStatus.PRESENT.value))
        .join(GroupSession, Attendance.session_id == GroupSession.id).where(in_period)).one()

    # Feedback counts released groups only (feedback.release): a group's figures, fixed when they
    # were first shown, in the period of its last session, pooled by theme, and only for a
    # period that has ended. Any difference between two reports is then made of whole released
    # groups, each already shown on its own with at least k people behind it.
    theme = sa.func.coalesce(sa.func.nullif(Group.theme, ""), Group.title)
    # Pooled per scale: a 1–5 figure never goes into a 0–10 one (feedback.scales).
    pools = {key: _ScalePool() for key in scales.SCALES}
    period_open = period_is_open(end)
    if not period_open:
        releases = release_rule.released_groups(start, end)
        if unit_ids is not None:
            ours = set(db.session.scalars(sa.select(Group.id).where(
                Group.id.in_([rel.group_id for rel in releases]), Group.unit_id.in_(unit_ids))))
            releases = [rel for rel in releases if rel.group_id in ours]
        for rel in releases:
            name = rel.theme
            pool = pools[scales.scale(rel.data.get("scale")).key]
            pool.counts[name] = pool.counts.get(name, 0) + rel.n
            pool.people[name] = pool.people.get(name, 0) + rel.people
            pool.sums[name] = pool.sums.get(name, 0.0) + rel.score_sum
            # Sheets with at least one answer ("don't know" to all is none); releases from before
            # the short form had no skipped questions.
            pool.scored[name] = pool.scored.get(name, 0) + rel.data.get("scored", rel.n)
    counts = pools[scales.ZERO_TO_TEN].counts
    short = pools[scales.SMILEY]
    has_short = bool(short.counts)
    group_counts: dict[str, int] = {name: count for name, count in db.session.execute(
        sa.select(theme, sa.func.count(sa.distinct(Group.id))).join(GroupSession, GroupSession.group_id == Group.id)
        # The group has its sessions' unit: said of both, the groups are read by their unit's
        # index too, not all of the county's.
        .where(in_period, *([Group.unit_id.in_(unit_ids)] if unit_ids is not None else [])).group_by(theme))}
    names = sorted(set(group_counts) | set(counts) | set(short.counts))

    def cell(pool: _ScalePool, name: str):
        return _cell(name, pool.counts.get(name, 0), pool.people.get(name, 0), pool.sums.get(name, 0.0), k,
                     period_open, scored=pool.scored.get(name, 0))

    themes = [ThemeLine(name, group_counts.get(name, 0), cell(pools[scales.ZERO_TO_TEN], name),
                        cell(short, name) if has_short else None)
              for name in names]
    for line in themes:
        # Groups held but none released: say so, not "no responses".
        if line.groups and line.row.reason == "empty" and (line.short is None or line.short.reason == "empty"):
            line.row.reason = "not_released"
            if line.short is not None:
                line.short.reason = "not_released"
    def pool_total(pool: _ScalePool):
        return _cell("total", sum(pool.counts.values()), sum(pool.people.values()), sum(pool.sums.values()), k,
                     period_open, scored=sum(pool.scored.values()))

    total = pool_total(pools[scales.ZERO_TO_TEN])
    short_total = pool_total(short) if has_short else None
    flagged = db.session.scalar(
        sa.select(sa.func.count(FeedbackWindow.id)).join(GroupSession, FeedbackWindow.session_id == GroupSession.id)
        .where(in_period, FeedbackWindow.overfilled.is_(True))) or 0

    held = [Meeting.status == MeetingStatus.HELD.value, Meeting.starts_at >= since, Meeting.starts_at < until]
    if unit_ids is not None:
        # By the (unit_id, starts_at) index, not the county's held meetings of the period (most
        # meetings are held: the status narrows nothing).
        held = [broad(condition) for condition in held]
    meetings_held = db.session.scalar(sa.select(sa.func.count(Meeting.id)).where(*held, unit_meetings)) or 0
    # A lead's units' items of the period by (unit_id, due_date): the item carries its meeting's
    # unit, so no join to the meetings.
    of_period = [ActionItem.due_date >= start, ActionItem.due_date <= end, ActionItem.status != ItemStatus.DROPPED.value,
                 *([ActionItem.unit_id.in_(unit_ids)] if unit_ids is not None else [])]
    # Done on time: marked done on or before the due date, a Helsinki calendar day. Helsinki is
    # two or three hours ahead of UTC, so the due day ends at 21.00 or 22.00 UTC: an item done
    # before 20.00 UTC on its due day is on time, one done from 23.00 on is late, and only the
    # few done in between are read and judged by their Helsinki day. Counted in SQL, a year's
    # 11,500 items of a county's unit no longer come to Python (44 ms of the report's CPU).
    done = sa.and_(ActionItem.status == ItemStatus.DONE.value, ActionItem.status_changed_at.is_not(None))
    items_due, on_time = db.session.execute(
        sa.select(sa.func.count(),
                  sa.func.count().filter(done, ActionItem.status_changed_at < utc_hour_of(ActionItem.due_date, 20)))
        .where(*of_period)).one()
    in_doubt = db.session.execute(
        sa.select(ActionItem.status_changed_at, ActionItem.due_date)
        .where(*of_period, done, ActionItem.status_changed_at >= utc_hour_of(ActionItem.due_date, 20),
               ActionItem.status_changed_at < utc_hour_of(ActionItem.due_date, 23)))
    on_time += sum(1 for changed, due in in_doubt if to_local(changed).date() <= due)
    return UnitReport(start=start, end=end, k=k, groups_held=groups_held, sessions_held=sessions_held,
                      participants=participants, attendance_present=present, attendance_recorded=recorded,
                      themes=themes, total=total, meetings_held=meetings_held,
                      items_due=items_due, items_on_time=on_time, flagged_windows=flagged, short_total=short_total)


def _cell(key, n: int, people: int, score_sum: float, k: int, period_open: bool, *, scored: int | None = None) \
        -> results.Row:
    """A pooled cell of the report, shown only when at least k people stand behind it. Its mean
    is over the ``scored`` sheets (those with at least one answer)."""
    if period_open:
        return results.Row(key, False, None, reason="period_open")
    if n == 0:
        return results.Row(key, False, None, reason="empty")
    if release_rule.rests_on(n, people) < k:
        return results.Row(key, False, None, reason="too_few")
    return results.Row(key, True, n, {"score": results.mean(score_sum, n if scored is None else scored)})


def default_period(today: date) -> tuple[date, date]:
    """The previous full calendar half-year is what a unit usually reports on; start with this year."""
    return date(today.year, 1, 1), today


def report_csv(report: UnitReport, labels: dict, locale: str) -> bytes:
    """CSV in the same order as the page; suppressed cells carry the reason text, never a number.
    Means in the download's language (5,6 in Finnish and Swedish); every text cell is neutralised
    against spreadsheet formulas (core.csvfile)."""
    rate = report.attendance_rate
    rows = [
        [labels["measure"], labels["value"]],
        [labels["period"], f"{local_date(report.start, locale=locale)} – {local_date(report.end, locale=locale)}"],
        [labels["groups_held"], report.groups_held],
        [labels["sessions_held"], report.sessions_held],
        [labels["participants"], report.participants],
        [labels["attendance_rate"], "" if rate is None else f"{rate} %"],
        [labels["meetings_held"], report.meetings_held],
        [labels["items_on_time"], f"{report.items_on_time} / {report.items_due}"],
        [],
        [labels["theme"], labels["groups"], labels["responses"], labels["mean"]]
        + ([labels["responses_short"], labels["mean_short"]] if report.has_short else []),
    ]

    def cells(row: results.Row | None) -> list:
        if row is None:
            return []
        if row.shown:
            return [row.n, results.format_mean(row.means["score"], locale)]
        return [labels["hidden_" + (row.reason or "too_few")], ""]

    for line in report.themes:
        rows.append([line.theme, line.groups] + cells(line.row) + cells(line.short))
    rows.append([labels["all_themes"], ""] + cells(report.total) + cells(report.short_total))
    return csv_bytes(rows)
