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
from flask_babel import get_locale, gettext as _
from sqlalchemy.orm import selectinload

from core.db import aware_utc, const, utcnow
from core.extensions import db
from groups.models import Attendance, AttendanceStatus, Enrolment, EnrolmentStatus, Group, GroupSession, SessionStatus

from . import charts, release as release_rule, scales, services
from .models import FeedbackRelease, FeedbackWindow, Item, ItemSet, WindowKind
from .results import format_mean


def _locale() -> str:
    return str(get_locale() or "fi")


@dataclass
class GroupSummary:
    """What the group's results page, its charts and the evaluation page show: counts per session
    (answers against present, never scores) and, once released, the pooled figures."""
    group: object
    k: int
    state: release_rule.GroupState
    items: list                       # the released session questions (empty until released)
    means: dict                       # item id -> mean over the whole round, None when too few answered it
    n: int | None
    people: int | None
    distribution: dict | None         # score -> count of the overall item (released only)
    overall_item: Item | None
    comments: list | None
    end_window: FeedbackWindow | None
    end_items: list
    end: dict | None                  # released end-of-group survey: n, means, comments
    enrolled: int = 0
    charts: dict[str, charts.ChartData] = field(default_factory=dict)   # kind -> chart data (only for shown figures)
    chart_keys: dict = field(default_factory=dict)   # kind -> cache key of that chart (see chart_key)
    scale: scales.Scale = scales.SCALES[scales.ZERO_TO_TEN]       # of the released session questions
    answered: dict = field(default_factory=dict)  # item id -> answers to it (None when hidden)
    end_scale: scales.Scale = scales.SCALES[scales.ZERO_TO_TEN]

    @property
    def lines(self):
        return self.state.lines

    @property
    def released(self) -> bool:
        return self.state.release is not None

    @property
    def reason(self) -> str | None:
        return self.state.reason


def group_summary(group, *, now: datetime | None = None, state: release_rule.GroupState | None = None) -> GroupSummary:
    """Read-only (the views call release_rule.ensure_group_release first when they may write)."""
    now = now or utcnow()
    locale = _locale()
    state = state or release_rule.group_state(group, now=now)
    k = state.k
    queries = _summary_queries()
    enrolled = db.session.scalar(queries.enrolled, {"group_id": group.id}) or 0
    windows = [line.window for line in state.lines if line.window is not None]
    end_window = db.session.scalar(sa.select(FeedbackWindow).where(
        FeedbackWindow.group_id == group.id, FeedbackWindow.kind == WindowKind.GROUP_END.value))
    items, means, distribution, overall, comments, end, end_items = [], {}, None, None, None, None, []
    n = people = None
    scale = end_scale = scales.scale(None)
    answered: dict = {}
    rel = state.release
    if rel is not None:
        data = rel.data
        # Releases stored before the short form have no scale: they are all 0–10.
        scale = scales.scale(data.get("scale"))
        answered = {int(i): v for i, v in (data.get("answered") or {}).items()}
        ids = data["items"] + ((data["end"] or {}).get("items") or [])
        found = {i.id: i for i in db.session.scalars(sa.select(Item).where(Item.id.in_(ids)))} if ids else {}
        items = [found[i] for i in data["items"] if i in found]
        means = {int(i): v for i, v in data["means"].items()}
        n, people = rel.n, rel.people
        overall = items[-1] if items else None
        if data.get("distribution") is not None:
            distribution = dict(zip(scale.values, data["distribution"], strict=True))
        comments = data.get("comments")
        if data.get("end"):
            end = dict(data["end"])
            end["means"] = {int(i): v for i, v in end["means"].items()}
            end_scale = scales.scale(end.get("scale"))
            end_items = [found[i] for i in end["items"] if i in found]
    del windows
    summary = GroupSummary(group=group, k=k, state=state, items=items, means=means, n=n, people=people,
                           distribution=distribution, overall_item=overall, comments=comments,
                           end_window=end_window, end_items=end_items, end=end, enrolled=enrolled,
                           scale=scale, answered=answered, end_scale=end_scale)
    summary.charts = _chart_data(summary, locale)
    if summary.charts:
        # The same key the chart route works out from its own small query; the route stores a
        # chart only when the two agree, i.e. the chart was drawn from the state its key names.
        facts = ChartFacts(
            sessions=[SessionFacts(line.session.id, line.session.number, line.session.ends_at, False,
                                   line.present or 0) for line in state.lines],
            release=(rel.id, rel.released_at.isoformat()) if rel is not None else None,
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
        "means_title": _("Mean scores of the whole round (0–10)"),
        "means_y": _("Mean (0–10)"),
        "means_title_1-5": _("Mean scores of the whole round (short form, 1–5)"),
        "means_y_1-5": _("Mean (1–5)"),
        "distribution_title": _("How many gave each score: %(item)s"),
        "score": _("Score (0–10)"),
        "score_1-5": _("Score (1–5)"),
        "responses": _("Responses"),
        "attendance_title": _("Attendance per session"),
        "present": _("Present"),
        "enrolled": _("Enrolled"),
    }


def _chart_data(summary: GroupSummary, locale: str) -> dict[str, charts.ChartData]:
    """The data each chart would show, only when it holds released figures. Labels are part of
    the data, so a language change is a different chart (and a different cache entry)."""
    texts = _chart_texts()
    data: dict[str, charts.ChartData] = {}
    # The scale's own texts and axis: a 1–5 mean is never drawn on a 0–10 axis.
    suffix = "" if summary.scale.key == scales.ZERO_TO_TEN else "_" + summary.scale.key
    if summary.released and any(summary.means.get(item.id) is not None for item in summary.items):
        data["means"] = charts.MeansData(
            title=texts["means_title" + suffix],
            labels=[item.label(locale) for item in summary.items],
            values=[summary.means.get(item.id) for item in summary.items],
            x_label=texts["means_y" + suffix],
            x_range=[summary.scale.low, summary.scale.high],
        )
    if summary.distribution is not None and summary.overall_item is not None:
        data["distribution"] = charts.DistributionData(
            title=texts["distribution_title"] % {"item": summary.overall_item.label(locale)},
            scores=list(summary.scale.values),
            counts=[summary.distribution[score] for score in summary.scale.values],
            x_label=texts["score" + suffix],
            y_label=texts["responses"],
        )
    if summary.lines:
        data["attendance"] = charts.AttendanceData(
            title=texts["attendance_title"],
            x_labels=[str(line.session.number) for line in summary.lines],
            present=[line.present or 0 for line in summary.lines],
            enrolled=[summary.enrolled for _line in summary.lines],
            labels=charts.AttendanceLabels(present=texts["present"], enrolled=texts["enrolled"]),
        )
    return data


# --- chart cache keys ----------------------------------------------------------------------------
# A chart is a pure function of a few facts about its group: its sessions (number, end, cancelled,
# attendance) and the number enrolled for the attendance chart; the group's release (stored once,
# never changed: feedback.release) for the score charts; and the threshold k, the language with
# its translations and the drawing code. The key is a hash of exactly those facts, restricted to
# the ones the chart's kind uses; so a key names one chart, and a cached chart is served only
# while everything it was drawn from is unchanged. A group without a release has no score chart,
# so its key never gets a row.

@dataclass(frozen=True)
class SessionFacts:
    id: int
    number: int
    ends_at: datetime
    cancelled: bool
    present: int


@dataclass(frozen=True)
class ChartFacts:
    sessions: Sequence[SessionFacts]   # all of the group's sessions, in date order
    release: tuple | None              # (release id, released at) once released
    enrolled: int


KEY_VERSION = 3   # 1 was a hash of the chart data itself; 2 hashed per-session responses


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
        # The score charts show the release only, which never changes once stored.
        state["release"] = list(facts.release) if facts.release else None
    payload = json.dumps(state, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


@functools.cache
def _facts_query() -> sa.Select:
    """Built once: the statement (and its SQL) are then reused from request to request. It starts
    from the group, so a group without sessions still gives a row (and no row means no group),
    and carries the group's facilitators, so the chart route checks access in the same query."""
    group, session = Group.__table__, GroupSession.__table__
    release = FeedbackRelease.__table__
    attendance, enrolment = Attendance.__table__, Enrolment.__table__

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
                      release.c.id, release.c.released_at, group.c.unit_id)
            .select_from(group.outerjoin(session, session.c.group_id == group.c.id)
                         .outerjoin(release, release.c.group_id == group.c.id))
            .where(group.c.id == sa.bindparam("group_id"))
            .order_by(session.c.starts_at))


@dataclass(frozen=True)
class ChartState:
    facilitator_ids: frozenset[int]  # who may see the group besides leads (as Group.facilitator_ids)
    unit_id: int | None  # whose leads may see it (as Group.unit_id)
    key: str


def current_chart_state(group_id: int, kind: str, *, now: datetime) -> ChartState | None:
    """The group's facilitators, its unit and the key of its chart as the database stands, in one query
    (whatever the number of sessions or responses), without loading the summary; None when
    there is no such group."""
    rows = db.session.execute(_facts_query(), {"group_id": group_id}).all()
    if not rows:
        return None
    sessions = []
    for _f1, _f2, sid, number, ends_at, status, n_present, _enrolled, _rid, _rat, _unit in rows:
        if sid is None:
            continue  # the group has no sessions: its one row carries the facilitators only
        sessions.append(SessionFacts(sid, number, aware_utc(ends_at), status == SessionStatus.CANCELLED.value,
                                     n_present))
    rid, rat = rows[0][8], rows[0][9]
    facts = ChartFacts(sessions=sessions, release=(rid, aware_utc(rat).isoformat()) if rid is not None else None,
                       enrolled=rows[0][7] if sessions else 0)
    key = chart_key(kind, group_id, facts, now=now, k=services.threshold(), locale=_locale())
    return ChartState(frozenset(i for i in rows[0][:2] if i is not None), rows[0][10], key)


def chart_alt(kind: str, data: dict) -> str:
    if kind == "means":
        described = "; ".join(f"{label}: {format_mean(value)}" for label, value in
                              zip(data["labels"], data["values"], strict=True) if value is not None)
        return _("Bar chart of the mean scores of the whole round. %(points)s. The table on this page has "
                 "all figures.", points=described)
    if kind == "distribution":
        counts, scores = data["counts"], data.get("scores") or list(range(11))
        top = scores[max(range(len(scores)), key=lambda i: counts[i])]
        if scores[0] == 1:
            return _("Bar chart of how many responses gave each score from 1 to 5. The most common score was "
                     "%(score)s. The table on this page has all figures.", score=top)
        return _("Bar chart of how many responses gave each score from 0 to 10. The most common score was "
                 "%(score)s. The table on this page has all figures.", score=top)
    return _("Bar chart of participants present in each session compared with the number enrolled. The table "
             "on this page has all figures.")


@dataclass
class MeetingSummary:
    window: FeedbackWindow | None
    items: list
    state: release_rule.MeetingState
    means: dict
    n: int | None
    comments: list | None
    k: int
    scale: scales.Scale = scales.SCALES[scales.ZERO_TO_TEN]


def meeting_summary(meeting, *, state: release_rule.MeetingState | None = None) -> MeetingSummary:
    state = state or release_rule.meeting_state(meeting)
    window = state.window
    items = list(window.item_set.items) if window is not None else []
    rel = state.release
    if rel is None:
        return MeetingSummary(window, items, state, {}, None, None, state.k)
    by_id = {i.id: i for i in items}
    shown = [by_id[i] for i in rel.data["items"] if i in by_id]
    return MeetingSummary(window, shown, state, {int(i): v for i, v in rel.data["means"].items()}, rel.n,
                          rel.data.get("comments"), state.k, scales.scale(rel.data.get("scale")))
