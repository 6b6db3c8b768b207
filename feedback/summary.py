"""Results of one group or meeting, ready for templates and charts: queries (a fixed number,
whatever the number of sessions or responses), then the pure suppression in ``results``."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask_babel import get_locale, gettext as _

from core.db import utcnow
from core.extensions import db
from groups.models import Attendance, AttendanceStatus, Enrolment, EnrolmentStatus

from . import results, services
from .models import FeedbackWindow, ItemSet, WindowKind


def _locale() -> str:
    return str(get_locale() or "fi")


@dataclass
class SessionLine:
    session: object
    window: FeedbackWindow | None
    row: results.Row | None         # None when the window is not closed yet (or there is none)
    comments: list | None = None
    comments_hidden: bool = False
    present: int = 0
    enrolled: int = 0


@dataclass
class GroupSummary:
    group: object
    k: int
    items: list
    lines: list[SessionLine]
    table: results.Table
    distribution: dict | None
    overall_item: object | None
    end_window: FeedbackWindow | None
    end_row: results.Row | None
    end_items: list
    end_comments: list | None
    charts: dict = field(default_factory=dict)   # kind -> chart data (only for shown figures)


def group_summary(group) -> GroupSummary:
    now = utcnow()
    k = services.threshold()
    locale = _locale()
    sessions = [s for s in group.sessions if not s.is_cancelled]
    windows = list(db.session.scalars(sa.select(FeedbackWindow).where(FeedbackWindow.group_id == group.id)))
    by_session = {w.session_id: w for w in windows if w.kind == WindowKind.SESSION.value}
    end_window = next((w for w in windows if w.kind == WindowKind.GROUP_END.value), None)
    set_ids = {w.item_set_id for w in windows}
    sets = {s.id: s for s in db.session.scalars(
        sa.select(ItemSet).where(ItemSet.id.in_(set_ids or {0})).options(selectinload(ItemSet.items)))}
    # Read-only: before any window exists the set may not exist yet either (no rows are created here).
    session_set = sets.get(next((w.item_set_id for w in by_session.values()), None)) or \
        services.set_for_group(group, WindowKind.SESSION.value, create=False)
    items = list(session_set.items) if session_set is not None else []
    stats = services.window_stats([w.id for w in windows])

    closed = [s for s in sessions if s.id in by_session and by_session[s.id].is_closed(now)]
    parts = [results.PartInput(s.id, stats[by_session[s.id].id].n, stats[by_session[s.id].id].sums) for s in closed]
    # A total that grows week by week would give each new session's figures by subtraction
    # (this week's total minus last week's). So the total, and the distribution built from it,
    # appear only when the group's sessions are over and all their feedback has closed.
    complete = all(s.ends_at <= now for s in sessions) and all(w.is_closed(now) for w in by_session.values())
    table = results.summarise(parts, [i.id for i in items], k, with_total=complete)
    if not complete:
        table.total = results.Row("total", False, None, reason="group_open")
    rows = {r.key: r for r in table.rows}

    attendance = _attendance(group, [s.id for s in sessions])
    enrolled = db.session.scalar(sa.select(sa.func.count(Enrolment.id)).where(
        Enrolment.group_id == group.id, Enrolment.status == EnrolmentStatus.ENROLLED.value)) or 0
    lines = []
    for s in sessions:
        w = by_session.get(s.id)
        line = SessionLine(session=s, window=w, row=rows.get(s.id), present=attendance.get(s.id, 0),
                           enrolled=enrolled)
        if line.row is not None:
            line.comments = results.comments_if_enough(stats[w.id].comments, k) if line.row.shown else None
            line.comments_hidden = line.comments is None and bool(stats[w.id].comments)
        lines.append(line)

    overall = items[-1] if items else None
    distribution = None
    if overall is not None and table.total.shown:
        counts: dict[int, int] = {}
        for s in closed:
            for score, c in stats[by_session[s.id].id].distribution.get(overall.id, {}).items():
                counts[score] = counts.get(score, 0) + c
        distribution = results.distribution(counts, k)

    end_row, end_items, end_comments = None, [], None
    if end_window is not None:
        end_items = list(sets[end_window.item_set_id].items)
        if end_window.is_closed(now):
            st = stats[end_window.id]
            end_table = results.summarise([results.PartInput("end", st.n, st.sums)], [i.id for i in end_items], k,
                                          with_total=False)
            end_row = end_table.rows[0]
            end_comments = results.comments_if_enough(st.comments, k) if end_row.shown else None

    summary = GroupSummary(group=group, k=k, items=items, lines=lines, table=table, distribution=distribution,
                           overall_item=overall, end_window=end_window, end_row=end_row, end_items=end_items,
                           end_comments=end_comments)
    summary.charts = _chart_data(summary, locale)
    return summary


def _attendance(group, session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Attendance.session_id, sa.func.count()).where(
            Attendance.session_id.in_(session_ids), Attendance.status == AttendanceStatus.PRESENT.value)
        .group_by(Attendance.session_id)).all())


def _chart_data(summary: GroupSummary, locale: str) -> dict:
    """The data each chart would show, only when it holds shown figures. Labels are part of the
    data, so a language change is a different chart (and a different cache entry)."""
    charts = {}
    shown_lines = [line for line in summary.lines if line.row is not None]
    if any(line.row.shown for line in shown_lines):
        charts["means"] = {
            "title": _("Mean scores per session (0–10)"),
            "x_labels": [_("Session %(number)s", number=line.session.number) for line in shown_lines],
            "n": [line.row.n for line in shown_lines],
            "y_label": _("Mean (0–10)"),
            "series": [{"label": item.label(locale),
                        "values": [line.row.means.get(item.id) if line.row.shown else None for line in shown_lines]}
                       for item in summary.items],
        }
    if summary.distribution is not None and summary.overall_item is not None:
        charts["distribution"] = {
            "title": _("How many gave each score: %(item)s", item=summary.overall_item.label(locale)),
            "counts": [summary.distribution[score] for score in range(11)],
            "x_label": _("Score (0–10)"),
            "y_label": _("Responses"),
        }
    if summary.lines:
        charts["attendance"] = {
            "title": _("Attendance per session"),
            "x_labels": [str(line.session.number) for line in summary.lines],
            "present": [line.present for line in summary.lines],
            "enrolled": [line.enrolled for line in summary.lines],
            "labels": {"present": _("Present"), "enrolled": _("Enrolled")},
        }
    return charts


def chart_alt(kind: str, data: dict) -> str:
    if kind == "means":
        points = [(label, series["values"][i]) for series in data["series"][-1:]
                  for i, label in enumerate(data["x_labels"]) if series["values"][i] is not None]
        described = "; ".join(f"{label}: {value}" for label, value in points)
        return _("Line chart of the mean scores per session. %(item)s: %(points)s. The table on this page has "
                 "all figures.", item=data["series"][-1]["label"], points=described)
    if kind == "distribution":
        counts = data["counts"]
        top = max(range(11), key=lambda s: counts[s])
        return _("Bar chart of how many responses gave each score from 0 to 10. The most common score was "
                 "%(score)s. The table on this page has all figures.", score=top)
    return _("Bar chart of participants present in each session compared with the number enrolled. The table "
             "on this page has all figures.")


@dataclass
class MeetingSummary:
    window: FeedbackWindow | None
    items: list
    row: results.Row | None
    comments: list | None
    k: int


def meeting_summary(meeting) -> MeetingSummary:
    k = services.threshold()
    window = services.window_for_meeting(meeting)
    if window is None:
        return MeetingSummary(None, [], None, None, k)
    items = list(window.item_set.items)
    if not window.is_closed(utcnow()):
        return MeetingSummary(window, items, None, None, k)
    st = services.window_stats([window.id])[window.id]
    row = results.summarise([results.PartInput("m", st.n, st.sums)], [i.id for i in items], k,
                            with_total=False).rows[0]
    comments = results.comments_if_enough(st.comments, k) if row.shown else None
    return MeetingSummary(window, items, row, comments, k)


