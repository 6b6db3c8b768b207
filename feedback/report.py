"""The lead's unit report for a period: groups held, participants, attendance, feedback means per
theme (suppressed like every other feedback figure), network meetings held and action items done
on time. A fixed number of queries whatever the period holds."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from core.db import utcnow
from core.forms import EARLIEST_DATE, latest_date
from core.extensions import db
from core.timeutil import local_day_bounds_utc, to_local
from groups.models import Attendance, AttendanceStatus, Group, GroupSession, SessionStatus
from meetings.models import ActionItem, ItemStatus, Meeting, MeetingStatus

from . import results
from .models import FeedbackAnswer, FeedbackResponse, FeedbackWindow, WindowKind


@dataclass
class ThemeLine:
    theme: str
    groups: int
    row: results.Row


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

    @property
    def attendance_rate(self) -> float | None:
        if not self.attendance_recorded:
            return None
        return round(100 * self.attendance_present / self.attendance_recorded)


def unit_report(start: date, end: date, k: int) -> UnitReport:
    # Nothing is recorded outside the dates forms accept; the ends of Python's calendar would
    # overflow the conversion to UTC.
    start, end = max(start, EARLIEST_DATE), min(end, latest_date())
    since, _ = local_day_bounds_utc(start)
    _, until = local_day_bounds_utc(end)
    in_period = sa.and_(GroupSession.starts_at >= since, GroupSession.starts_at < until,
                        GroupSession.status != SessionStatus.CANCELLED.value)
    groups_held, sessions_held = db.session.execute(
        sa.select(sa.func.count(sa.distinct(GroupSession.group_id)), sa.func.count(GroupSession.id))
        .where(in_period)).one()
    present, recorded, participants = db.session.execute(
        sa.select(sa.func.count().filter(Attendance.status == AttendanceStatus.PRESENT.value),
                  sa.func.count(Attendance.id),
                  sa.func.count(sa.distinct(Attendance.enrolment_id))
                  .filter(Attendance.status == AttendanceStatus.PRESENT.value))
        .join(GroupSession, Attendance.session_id == GroupSession.id).where(in_period)).one()

    # Feedback counts in whole groups: a group's session feedback belongs to the period in which
    # the group's last session falls, once all its feedback has closed, and only when the group
    # itself has at least k responses. Any difference between two reports (overlapping periods,
    # a theme row against a group page) is then made of whole groups that each could be shown on
    # their own, so no figure resting on fewer than k responses can be worked out.
    now = utcnow()
    theme = sa.func.coalesce(sa.func.nullif(Group.theme, ""), Group.title)
    not_cancelled = GroupSession.status != SessionStatus.CANCELLED.value
    last_start = dict(db.session.execute(
        sa.select(GroupSession.group_id, sa.func.max(GroupSession.starts_at)).where(not_cancelled)
        .group_by(GroupSession.group_id)).all())
    still_open = set(db.session.scalars(
        sa.select(sa.distinct(GroupSession.group_id)).join(FeedbackWindow, FeedbackWindow.session_id == GroupSession.id)
        .where(FeedbackWindow.kind == WindowKind.SESSION.value, FeedbackWindow.closes_at > now)))
    # Mean of all 0–10 answers of a response first, so each response weighs the same whatever its set.
    per_response = (sa.select(FeedbackResponse.window_id, (sa.func.avg(FeedbackAnswer.value)).label("score"))
                    .join(FeedbackAnswer.response).group_by(FeedbackResponse.id, FeedbackResponse.window_id)
                    .subquery())
    per_group = db.session.execute(
        sa.select(Group.id, theme, sa.func.count(per_response.c.window_id), sa.func.sum(per_response.c.score))
        .select_from(FeedbackWindow)
        .join(GroupSession, FeedbackWindow.session_id == GroupSession.id)
        .join(Group, GroupSession.group_id == Group.id)
        .join(per_response, per_response.c.window_id == FeedbackWindow.id)
        .where(FeedbackWindow.kind == WindowKind.SESSION.value)
        .group_by(Group.id, theme)).all()
    counts: dict[str, int] = {}
    sums: dict[str, float] = {}
    left_out: set[str] = set()
    for group_id, name, n, total in per_group:
        last = last_start.get(group_id)
        if last is None or not (since <= last < until):
            continue
        if group_id in still_open or n < k:
            left_out.add(name)
            continue
        counts[name] = counts.get(name, 0) + n
        sums[name] = sums.get(name, 0.0) + float(total or 0)
    group_counts = dict(db.session.execute(
        sa.select(theme, sa.func.count(sa.distinct(Group.id))).join(GroupSession, GroupSession.group_id == Group.id)
        .where(in_period).group_by(theme)).all())
    names = sorted(set(group_counts) | set(counts))
    parts = [results.PartInput(name, counts.get(name, 0), {"score": sums.get(name, 0.0)}) for name in names]
    table = results.summarise(parts, ["score"], k)
    for row in table.rows:
        # A theme whose only feedback was left out says it is hidden, not that nobody answered.
        if row.key in left_out and not row.shown and row.reason == "empty":
            row.reason = "too_few"
    themes = [ThemeLine(name, group_counts.get(name, 0), row) for name, row in zip(names, table.rows, strict=True)]

    meetings_held = db.session.scalar(sa.select(sa.func.count(Meeting.id)).where(
        Meeting.status == MeetingStatus.HELD.value, Meeting.starts_at >= since, Meeting.starts_at < until)) or 0
    items = db.session.execute(sa.select(ActionItem.status, ActionItem.status_changed_at, ActionItem.due_date).where(
        ActionItem.due_date >= start, ActionItem.due_date <= end,
        ActionItem.status != ItemStatus.DROPPED.value)).all()
    # Done on time: marked done on or before the due date (Helsinki calendar day).
    on_time = sum(1 for status, changed, due in items
                  if status == ItemStatus.DONE.value and changed is not None and to_local(changed).date() <= due)
    return UnitReport(start=start, end=end, k=k, groups_held=groups_held, sessions_held=sessions_held,
                      participants=participants, attendance_present=present, attendance_recorded=recorded,
                      themes=themes, total=table.total, meetings_held=meetings_held,
                      items_due=len(items), items_on_time=on_time)


def default_period(today: date) -> tuple[date, date]:
    """The previous full calendar half-year is what a unit usually reports on; start with this year."""
    return date(today.year, 1, 1), today


def report_csv(report: UnitReport, labels: dict) -> bytes:
    """CSV in the same order as the page; suppressed cells carry the reason text, never a number."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([labels["measure"], labels["value"]])
    writer.writerow([labels["period"], f"{report.start.isoformat()} – {report.end.isoformat()}"])
    writer.writerow([labels["groups_held"], report.groups_held])
    writer.writerow([labels["sessions_held"], report.sessions_held])
    writer.writerow([labels["participants"], report.participants])
    rate = report.attendance_rate
    writer.writerow([labels["attendance_rate"], "" if rate is None else f"{rate} %"])
    writer.writerow([labels["meetings_held"], report.meetings_held])
    writer.writerow([labels["items_on_time"], f"{report.items_on_time} / {report.items_due}"])
    writer.writerow([])
    writer.writerow([labels["theme"], labels["groups"], labels["responses"], labels["mean"]])
    for line in report.themes:
        if line.row.shown:
            writer.writerow([line.theme, line.groups, line.row.n, f"{line.row.means['score']:.1f}"])
        else:
            writer.writerow([line.theme, line.groups, labels["hidden_" + (line.row.reason or "too_few")], ""])
    if report.total.shown:
        writer.writerow([labels["all_themes"], "", report.total.n, f"{report.total.means['score']:.1f}"])
    else:
        writer.writerow([labels["all_themes"], "", labels["hidden_" + (report.total.reason or "too_few")], ""])
    # Excel opens a BOM-marked UTF-8 CSV with the right characters.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
