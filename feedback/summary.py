"""Results of one group or meeting, ready for templates and charts: queries (a fixed number,
whatever the number of sessions or responses), then the pure suppression in ``results``.

Also the key of each group chart in the chart cache (``chart_key``): a hash of everything the
chart is drawn from, which the chart route can work out in one small query instead of building
the whole summary (``current_chart_state``).
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask_babel import get_locale, gettext as _

from core.db import aware_utc, const, utcnow
from core.extensions import db
from groups.models import (Attendance, AttendanceStatus, Enrolment, EnrolmentStatus, Group, GroupSession,
                           SessionStatus)

from . import charts, results, services
from .models import FeedbackResponse, FeedbackWindow, ItemSet, WindowKind


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
    chart_keys: dict = field(default_factory=dict)   # kind -> cache key of that chart (see chart_key)


def group_summary(group, *, now: datetime | None = None) -> GroupSummary:
    now = now or utcnow()
    k = services.threshold()
    locale = _locale()
    sessions = [s for s in group.sessions if not s.is_cancelled]
    queries = _summary_queries()
    windows = list(db.session.scalars(queries.windows, {"group_id": group.id}))
    by_session = {w.session_id: w for w in windows if w.kind == WindowKind.SESSION.value}
    end_window = next((w for w in windows if w.kind == WindowKind.GROUP_END.value), None)
    set_ids = list({w.item_set_id for w in windows})
    sets = {s.id: s for s in db.session.scalars(queries.item_sets, {"ids": set_ids})} if set_ids else {}
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

    attendance = dict(db.session.execute(queries.attendance, {"ids": [s.id for s in sessions]}).all()) \
        if sessions else {}
    enrolled = db.session.scalar(queries.enrolled, {"group_id": group.id}) or 0
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
    if summary.charts:
        # The same key the chart route works out from its own small query; the route stores a
        # chart only when the two agree, i.e. the chart was drawn from the state its key names.
        facts = ChartFacts(
            sessions=[SessionFacts(s.id, s.number, s.ends_at, s.is_cancelled, attendance.get(s.id, 0))
                      for s in group.sessions],
            windows=[WindowFacts(w.session_id, w.item_set_id, w.closes_at, stats[w.id].fingerprint)
                     for w in by_session.values()],
            enrolled=enrolled)
        texts = _chart_texts()
        summary.chart_keys = {kind: chart_key(kind, group.id, facts, now=now, k=k, locale=locale, texts=texts)
                              for kind in summary.charts}
    return summary


@dataclass(frozen=True)
class _SummaryQueries:
    windows: sa.Select
    item_sets: sa.Select
    attendance: sa.Select
    enrolled: sa.Select


@functools.cache
def _summary_queries() -> _SummaryQueries:
    """Built once, with the ids bound per call: building these statements (and their cache keys)
    cost about as much as running them."""
    return _SummaryQueries(
        windows=sa.select(FeedbackWindow).where(FeedbackWindow.group_id == sa.bindparam("group_id")),
        item_sets=sa.select(ItemSet).where(ItemSet.id.in_(sa.bindparam("ids", expanding=True)))
        .options(selectinload(ItemSet.items)),
        attendance=sa.select(Attendance.session_id, sa.func.count())
        .where(Attendance.session_id.in_(sa.bindparam("ids", expanding=True)),
               Attendance.status == AttendanceStatus.PRESENT.value)
        .group_by(Attendance.session_id),
        enrolled=sa.select(sa.func.count(Enrolment.id))
        .where(Enrolment.group_id == sa.bindparam("group_id"), Enrolment.status == EnrolmentStatus.ENROLLED.value),
    )


def _chart_texts() -> dict[str, str]:
    """Every translated text the charts show, with placeholders still unfilled: the charts take
    their texts from here only, and the cache key holds all of them, so a changed translation
    is a new chart."""
    return {
        "means_title": _("Mean scores per session (0–10)"),
        "session": _("Session %(number)s"),
        "means_y": _("Mean (0–10)"),
        "distribution_title": _("How many gave each score: %(item)s"),
        "score": _("Score (0–10)"),
        "responses": _("Responses"),
        "attendance_title": _("Attendance per session"),
        "present": _("Present"),
        "enrolled": _("Enrolled"),
    }


def _chart_data(summary: GroupSummary, locale: str) -> dict:
    """The data each chart would show, only when it holds shown figures. Labels are part of the
    data, so a language change is a different chart (and a different cache entry)."""
    texts = _chart_texts()
    charts = {}
    shown_lines = [line for line in summary.lines if line.row is not None]
    if any(line.row.shown for line in shown_lines):
        charts["means"] = {
            "title": texts["means_title"],
            "x_labels": [texts["session"] % {"number": line.session.number} for line in shown_lines],
            "n": [line.row.n for line in shown_lines],
            "y_label": texts["means_y"],
            "series": [{"label": item.label(locale),
                        "values": [line.row.means.get(item.id) if line.row.shown else None for line in shown_lines]}
                       for item in summary.items],
        }
    if summary.distribution is not None and summary.overall_item is not None:
        charts["distribution"] = {
            "title": texts["distribution_title"] % {"item": summary.overall_item.label(locale)},
            "counts": [summary.distribution[score] for score in range(11)],
            "x_label": texts["score"],
            "y_label": texts["responses"],
        }
    if summary.lines:
        charts["attendance"] = {
            "title": texts["attendance_title"],
            "x_labels": [str(line.session.number) for line in summary.lines],
            "present": [line.present for line in summary.lines],
            "enrolled": [line.enrolled for line in summary.lines],
            "labels": {"present": texts["present"], "enrolled": texts["enrolled"]},
        }
    return charts


# --- chart cache keys ----------------------------------------------------------------------------
# A chart is a pure function of a few facts about its group: its sessions (number, end, cancelled,
# attendance), the session feedback windows (item set, closing time and which responses they
# hold), the number enrolled, and the time now (which windows have closed, whether the group is
# over), the threshold k, the language with its translations and the drawing code. The key is a
# hash of exactly those facts, restricted to the ones the chart's kind uses; so a key names one
# chart, and a cached chart is served only while everything it was drawn from is unchanged.
# Suppression is decided by the same facts, so a key whose chart was hidden never gets a row.
#
# Item sets are not in the facts beyond their ids: nothing edits a stored set or its items (a
# group that wants other questions chooses another set, which has another id).

@dataclass(frozen=True)
class SessionFacts:
    id: int
    number: int
    ends_at: datetime
    cancelled: bool
    present: int


@dataclass(frozen=True)
class WindowFacts:
    session_id: int
    item_set_id: int
    closes_at: datetime
    responses: tuple   # services.WindowStats.fingerprint: (count, lowest id, highest id)


@dataclass(frozen=True)
class ChartFacts:
    sessions: Sequence[SessionFacts]   # all of the group's sessions, in date order
    windows: Sequence[WindowFacts]     # the group's session feedback windows
    enrolled: int


KEY_VERSION = 2   # 1 was a hash of the chart data itself


def chart_key(kind: str, group_id: int, facts: ChartFacts, *, now: datetime, k: int, locale: str,
              texts: dict | None = None) -> str:
    """``texts``: _chart_texts() when the caller has them already."""
    live = [s for s in facts.sessions if not s.cancelled]
    state: dict = {"v": KEY_VERSION, "kind": kind, "group": group_id, "k": k, "locale": locale,
                   "texts": texts or _chart_texts(), "renderer": charts.VERSION}
    if kind == "attendance":
        state["sessions"] = [(s.id, s.number, s.present) for s in live]
        state["enrolled"] = facts.enrolled if live else None
    else:
        # Mirrors group_summary: only closed windows' responses count (an open window's arrivals
        # leave the key, and so the ETag, unchanged), and the total needs the whole group over.
        by_session = {w.session_id: w for w in facts.windows}
        closed = {sid: w for sid, w in by_session.items() if w.closes_at <= now}
        state["sessions"] = [(s.id, s.number, list(closed[s.id].responses) if s.id in closed else None)
                             for s in live]
        state["complete"] = all(s.ends_at <= now for s in live) and len(closed) == len(by_session)
        state["item_sets"] = sorted({w.item_set_id for w in facts.windows})
    payload = json.dumps(state, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


@functools.cache
def _facts_query() -> sa.Select:
    """Built once: the statement (and its SQL) are then reused from request to request. It starts
    from the group, so a group without sessions still gives a row (and no row means no group),
    and carries the group's facilitators, so the chart route checks access in the same query."""
    group, session = Group.__table__, GroupSession.__table__
    window, response = FeedbackWindow.__table__, FeedbackResponse.__table__
    attendance, enrolment = Attendance.__table__, Enrolment.__table__

    def of_responses(fn):
        return sa.select(fn).where(response.c.window_id == window.c.id).correlate(window).scalar_subquery()

    present = (sa.select(sa.func.count()).select_from(attendance)
               .where(attendance.c.session_id == session.c.id,
                      attendance.c.status == const(AttendanceStatus.PRESENT.value))
               .correlate(session).scalar_subquery())
    enrolled = (sa.select(sa.func.count(enrolment.c.id))
                .where(enrolment.c.group_id == sa.bindparam("group_id"),
                       enrolment.c.status == const(EnrolmentStatus.ENROLLED.value))
                .scalar_subquery())
    return (sa.select(group.c.facilitator1_id, group.c.facilitator2_id,
                      session.c.id, session.c.number, session.c.ends_at, session.c.status, present, enrolled,
                      window.c.id, window.c.item_set_id, window.c.closes_at, of_responses(sa.func.count()),
                      of_responses(sa.func.min(response.c.id)), of_responses(sa.func.max(response.c.id)))
            .select_from(group.outerjoin(session, session.c.group_id == group.c.id)
                         .outerjoin(window, sa.and_(window.c.session_id == session.c.id,
                                                    window.c.kind == const(WindowKind.SESSION.value))))
            .where(group.c.id == sa.bindparam("group_id"))
            .order_by(session.c.starts_at))


@dataclass(frozen=True)
class ChartState:
    facilitator_ids: frozenset[int]  # who may see the group besides leads (as Group.facilitator_ids)
    key: str


def current_chart_state(group_id: int, kind: str, *, now: datetime) -> ChartState | None:
    """The group's facilitators and the key of its chart as the database stands, in one query
    (whatever the number of sessions or responses), without loading the summary; None when
    there is no such group."""
    rows = db.session.execute(_facts_query(), {"group_id": group_id}).all()
    if not rows:
        return None
    sessions, windows = [], []
    for _f1, _f2, sid, number, ends_at, status, n_present, _enrolled, wid, set_id, closes_at, n, low, high in rows:
        if sid is None:
            continue  # the group has no sessions: its one row carries the facilitators only
        sessions.append(SessionFacts(sid, number, aware_utc(ends_at), status == SessionStatus.CANCELLED.value,
                                     n_present))
        if wid is not None:
            windows.append(WindowFacts(sid, set_id, aware_utc(closes_at), (n, low, high)))
    facts = ChartFacts(sessions=sessions, windows=windows, enrolled=rows[0][7] if sessions else 0)
    key = chart_key(kind, group_id, facts, now=now, k=services.threshold(), locale=_locale())
    return ChartState(frozenset(i for i in rows[0][:2] if i is not None), key)


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


