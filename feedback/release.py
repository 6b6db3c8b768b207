"""When feedback figures may be shown: the one rule every results page, chart, CSV and report
goes through.

1. A figure rests on people, not on answer sheets: on min(answers, people who could have given
   them). For a group session those are the participants marked present in its roll call; for a
   meeting, its non-staff participants who took part. Until attendance is recorded nothing is shown.
2. A window takes at most that many answers plus ``MARGIN`` (a participant who came late, not yet
   in the roll call). A window that ever held more answers than people is flagged for good: its
   figures are left out and the results page says so.
3. Figures are released once and never change: a group's when the whole round is over (every
   session past, every feedback window closed), pooled over all its sessions; a meeting's when
   its window has closed. Per-session figures are never shown, so no two releases can be
   subtracted from each other. The released figures are stored (``FeedbackRelease``) the moment
   they are first shown and are read from there ever after, so a late answer, a changed roll
   call or a reopened window cannot shift a figure anyone has seen.
4. The report pools released groups by theme, only for periods that have ended.
5. Each question's figure rests on the people who answered that question: a "don't know"
   stores no answer, so it counts neither in the mean nor towards k, and a question's mean is
   shown only when min(people, answers to it) is at least k.
6. A set's scale (0–10 or the short form's 1–5) is stored with the release; figures of
   different scales are never pooled into one number (the report keeps one column per scale).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.timeutil import to_local
from groups.models import Attendance, AttendanceStatus, GroupSession

from . import people as people_rule, results, scales, services
from .models import FeedbackAnswer, FeedbackRelease, FeedbackResponse, FeedbackWindow, WindowKind

MARGIN = people_rule.MARGIN


# --- people who could have answered (see also feedback.people) ---------------------------------

def _session_roll_calls(session_ids: list[int]) -> dict[int, tuple[int, int]]:
    """session id -> (attendance rows recorded, present)."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        sa.select(Attendance.session_id, sa.func.count(Attendance.id),
                  sa.func.count(Attendance.id).filter(Attendance.status == AttendanceStatus.PRESENT.value))
        .where(Attendance.session_id.in_(session_ids)).group_by(Attendance.session_id)).all()
    return {sid: (recorded, present) for sid, recorded, present in rows}


def _distinct_present(session_ids: list[int]) -> int:
    if not session_ids:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Attendance.enrolment_id)))
        .where(Attendance.session_id.in_(session_ids), Attendance.status == AttendanceStatus.PRESENT.value)) or 0


def rests_on(n: int, people: int | None) -> int:
    """How many people a figure rests on: 0 while attendance is unknown."""
    return 0 if people is None else min(n, people)


# --- the group's state -----------------------------------------------------------------------

@dataclass
class WindowLine:
    """One session's feedback as the results page shows it: counts only, never scores."""
    session: GroupSession
    window: FeedbackWindow | None
    n: int = 0
    present: int | None = None     # None: no roll call yet
    flagged: bool = False          # ever held more answers than people: left out


@dataclass
class GroupState:
    k: int
    lines: list[WindowLine]
    release: FeedbackRelease | None
    # Why nothing is shown (None when released): not_finished | no_attendance | too_few | empty |
    # ready (due: stored by the first results page that may write)
    reason: str | None
    pending: dict | None = field(default=None, repr=False)   # figures to release now (ensure_group_release)


def _score_sums(window_ids: list[int]) -> tuple[float, int]:
    """Sum over the answer sheets of each sheet's mean answer (each sheet weighs the same), and
    the number of sheets behind it: those with at least one answer ("don't know" is none)."""
    if not window_ids:
        return 0.0, 0
    per_response = (sa.select(sa.func.avg(FeedbackAnswer.value).label("score")).join(FeedbackAnswer.response)
                    .where(FeedbackResponse.window_id.in_(window_ids)).group_by(FeedbackResponse.id).subquery())
    total, sheets = db.session.execute(sa.select(sa.func.sum(per_response.c.score),
                                                 sa.func.count(per_response.c.score))).one()
    return float(total or 0.0), int(sheets or 0)


def _pool(window_ids: list[int], stats: dict, items: list, *, people: int | None, k: int) -> dict:
    """The pooled figures of these windows. Each question's mean is over the answers given to
    it, and is left out (None) unless min(people, those answers) is at least k."""
    n = sum(stats[w].n for w in window_ids)
    sums = {i.id: sum(stats[w].sums.get(i.id, 0) for w in window_ids) for i in items}
    answered = {i.id: sum(stats[w].answered.get(i.id, 0) for w in window_ids) for i in items}
    comments = sorted(c for w in window_ids for c in stats[w].comments)
    means = {str(i): (results.mean(sums[i], answered[i]) if rests_on(answered[i], people) >= k else None)
             for i in sums}
    return {"n": n, "items": [i.id for i in items], "means": means,
            "answered": {str(i): (answered[i] if rests_on(answered[i], people) >= k else None) for i in answered},
            "comments": comments, "_sums": sums, "_answered": answered}


def group_state(group, *, now: datetime | None = None) -> GroupState:
    """Read-only: the stored release, or why there is none, or the figures due for release."""
    now = now or utcnow()
    k = services.threshold()
    release = db.session.scalar(sa.select(FeedbackRelease).where(FeedbackRelease.group_id == group.id))
    sessions = [s for s in group.sessions if not s.is_cancelled]
    windows = list(db.session.scalars(sa.select(FeedbackWindow).where(FeedbackWindow.group_id == group.id)))
    by_session = {w.session_id: w for w in windows if w.kind == WindowKind.SESSION.value}
    end_window = next((w for w in windows if w.kind == WindowKind.GROUP_END.value), None)
    stats = services.window_stats([w.id for w in windows])
    roll = _session_roll_calls([s.id for s in sessions])
    lines = []
    for s in sessions:
        w = by_session.get(s.id)
        recorded, present = roll.get(s.id, (0, 0))
        line = WindowLine(s, w, present=present if recorded else None)
        if w is not None:
            line.n = stats[w.id].n
            line.flagged = w.overfilled or (line.present is not None and line.n > line.present)
        lines.append(line)
    state = GroupState(k=k, lines=lines, release=release, reason=None)
    if release is not None:
        return state
    finished = bool(sessions) and all(s.ends_at <= now for s in sessions) and all(w.is_closed(now) for w in windows)
    if not finished:
        state.reason = "not_finished"
        return state
    answered = [line for line in lines if line.window is not None and line.n and not line.flagged]
    if any(line.present is None for line in answered):
        state.reason = "no_attendance"
        return state
    if not answered:
        state.reason = "empty"
        return state
    answered_windows = [line.window for line in answered if line.window is not None]
    ids = [w.id for w in answered_windows]
    people = _distinct_present([line.session.id for line in answered])
    session_set = answered_windows[0].item_set
    items = list(session_set.items)
    pooled = _pool(ids, stats, items, people=people, k=k)
    if rests_on(pooled["n"], people) < k:
        state.reason = "too_few"
        return state
    scale = scales.scale(session_set.scale)
    overall = items[-1] if items else None
    distribution = None
    if overall is not None and rests_on(pooled["_answered"][overall.id], people) >= k:
        counts: dict[int, int] = {}
        for wid in ids:
            for score, c in stats[wid].distribution.get(overall.id, {}).items():
                counts[score] = counts.get(score, 0) + c
        distribution = [counts.get(score, 0) for score in scale.values]
    end = None
    if end_window is not None and stats[end_window.id].n and not end_window.overfilled:
        end_people = _distinct_present([s.id for s in sessions])
        st = stats[end_window.id]
        if st.n <= end_people and rests_on(st.n, end_people) >= k:
            end = _pool([end_window.id], stats, list(end_window.item_set.items), people=end_people, k=k)
            for internal in ("_sums", "_answered"):
                end.pop(internal)
            end["comments"] = results.comments_if_enough(end["comments"], k)
            end["people"] = end_people
            end["scale"] = scales.scale(end_window.item_set.scale).key
    for internal in ("_sums", "_answered"):
        pooled.pop(internal)
    pooled["comments"] = results.comments_if_enough(pooled["comments"], k)
    score_sum, scored = _score_sums(ids)
    pooled.update(distribution=distribution, end=end, people=people, scale=scale.key, scored=scored)
    last = max(sessions, key=lambda s: s.starts_at)
    state.reason = "ready"
    state.pending = {"period_date": to_local(last.starts_at).date(), "theme": group.theme or group.title,
                     "n": pooled["n"], "people": people, "score_sum": score_sum, "data": pooled}
    return state


def ensure_group_release(group, *, now: datetime | None = None) -> GroupState:
    """The group's state, storing its release if it is due (the caller commits)."""
    state = group_state(group, now=now)
    if state.release is None and state.pending is not None:
        state.reason = None
        state.release = _store(FeedbackRelease(group_id=group.id, released_at=now or utcnow(), **state.pending))
    return state


def _store(release: FeedbackRelease) -> FeedbackRelease:
    target = FeedbackRelease.group_id if release.group_id else FeedbackRelease.meeting_id
    target_id = release.group_id or release.meeting_id
    try:
        # Two requests may release at the same moment: the first one stored is the release.
        with db.session.begin_nested():
            db.session.add(release)
    except sa.exc.IntegrityError:
        pass
    return db.session.execute(sa.select(FeedbackRelease).where(target == target_id)).scalar_one()


# --- meetings --------------------------------------------------------------------------------

@dataclass
class MeetingState:
    k: int
    window: FeedbackWindow | None
    n: int
    people: int | None
    flagged: bool
    release: FeedbackRelease | None
    reason: str | None
    pending: dict | None = field(default=None, repr=False)


def meeting_state(meeting, *, now: datetime | None = None) -> MeetingState:
    now = now or utcnow()
    k = services.threshold()
    release = db.session.scalar(sa.select(FeedbackRelease).where(FeedbackRelease.meeting_id == meeting.id))
    window = services.window_for_meeting(meeting)
    if window is None:
        return MeetingState(k, None, 0, None, False, release, "empty")
    st = services.window_stats([window.id])[window.id]
    people = people_rule.window_heads(window.id).people
    flagged = window.overfilled or (people is not None and st.n > people)
    state = MeetingState(k, window, st.n, people, flagged, release, None)
    if release is not None:
        return state
    if not window.is_closed(now):
        state.reason = "not_finished"
    elif flagged:
        state.reason = "flagged"
    elif people is None:
        state.reason = "no_attendance"
    elif st.n == 0:
        state.reason = "empty"
    elif rests_on(st.n, people) < k:
        state.reason = "too_few"
    else:
        pooled = _pool([window.id], {window.id: st}, list(window.item_set.items), people=people, k=k)
        for internal in ("_sums", "_answered"):
            pooled.pop(internal)
        pooled["comments"] = results.comments_if_enough(pooled["comments"], k)
        score_sum, scored = _score_sums([window.id])
        pooled.update(distribution=None, end=None, people=people, scale=scales.scale(window.item_set.scale).key,
                      scored=scored)
        state.reason = "ready"
        state.pending = {"period_date": to_local(meeting.starts_at).date(), "theme": "", "n": st.n,
                         "people": people, "score_sum": score_sum, "data": pooled}
    return state


def ensure_meeting_release(meeting, *, now: datetime | None = None) -> MeetingState:
    state = meeting_state(meeting, now=now)
    if state.release is None and state.pending is not None:
        state.reason = None
        state.release = _store(FeedbackRelease(meeting_id=meeting.id, released_at=now or utcnow(), **state.pending))
    return state


# --- the report ------------------------------------------------------------------------------

def released_groups(since, until) -> list[FeedbackRelease]:
    """Groups released with their last session in [since, until] (local dates)."""
    return list(db.session.scalars(sa.select(FeedbackRelease).where(
        FeedbackRelease.group_id.is_not(None), FeedbackRelease.period_date >= since,
        FeedbackRelease.period_date <= until).order_by(FeedbackRelease.id)))



# --- releasing wherever a figure is first needed -----------------------------------------------

def due_group_ids(since: datetime, until: datetime, *, now: datetime | None = None) -> list[int]:
    """Groups that may be due for release with their last session starting in [since, until)
    (UTC): not released yet, every session over, every window closed, some answers given. One
    query; group_state() then decides for each (roll call, k)."""
    from groups.models import GroupSession, SessionStatus

    now = now or utcnow()
    live = GroupSession.status != SessionStatus.CANCELLED.value
    spans = (sa.select(GroupSession.group_id.label("group_id"), sa.func.max(GroupSession.starts_at).label("last"),
                       sa.func.max(GroupSession.ends_at).label("ended"))
             .where(live).group_by(GroupSession.group_id).subquery())
    answered = sa.select(FeedbackResponse.window_id).where(FeedbackResponse.window_id == FeedbackWindow.id)
    stmt = (sa.select(spans.c.group_id)
            .where(spans.c.last >= since, spans.c.last < until, spans.c.ended <= now,
                   ~sa.exists().where(FeedbackRelease.group_id == spans.c.group_id),
                   ~sa.exists().where(FeedbackWindow.group_id == spans.c.group_id, FeedbackWindow.closes_at > now),
                   sa.exists().where(FeedbackWindow.group_id == spans.c.group_id, answered.exists()))
            .order_by(spans.c.group_id))
    return list(db.session.scalars(stmt))


def groups_due(since: datetime, until: datetime, *, now: datetime | None = None) -> list:
    """The groups among due_group_ids() whose figures are due now (read-only)."""
    from groups.models import Group

    now = now or utcnow()
    due = []
    for group_id in due_group_ids(since, until, now=now):
        group = db.session.get(Group, group_id)
        if group is not None and group_state(group, now=now).pending is not None:
            due.append(group_id)
    return due


def release_groups(group_ids: list[int], *, now: datetime | None = None) -> None:
    """Store the releases of these groups if due (the caller commits): the same ensure_group_release
    the results page uses, so a figure is fixed the first time anything needs it."""
    from groups.models import Group

    for group_id in group_ids:
        group = db.session.get(Group, group_id)
        if group is not None:
            ensure_group_release(group, now=now)
