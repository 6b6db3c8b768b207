"""Demo feedback: the finished Raharyhmä answered by those present (released: charts, comments,
the end-of-group survey) and only a few answers for the running group, whose figures wait until
it is over."""
from __future__ import annotations

import random

import sqlalchemy as sa

from core.extensions import db
from groups.models import Attendance, AttendanceStatus, Group, GroupStatus

from . import services
from .models import FeedbackAnswer, FeedbackResponse

RAHA_COMMENTS = [
    "Budjetointi oli tosi hyödyllinen, tein oman budjetin heti kotona.",
    "Kahvi ja rauhallinen tunnelma auttoivat puhumaan.",
    "Kela-asiantuntijalta sai vastauksia, joita olin miettinyt pitkään.",
    "Velkakerralle olisi saanut olla enemmän aikaa.",
    "Hyvä porukka, ei tarvinnut jännittää.",
    "Toivoisin muistutuksen tekstiviestinä edellisenä päivänä.",
]
RAHA_COMMENTS_2 = [
    "Velkaneuvonnan yhteystiedot olivat tarpeen.", "Sain rohkeutta soittaa Kelaan.", "Vähän liian nopea tahti.",
    "Hyvät esimerkit oikeasta elämästä.", "Olisin halunnut enemmän aikaa kysymyksille.",
]
END_COMMENTS = [
    "Lisää aikaa velka-asioille.", "Talous- ja velkaneuvoja mukaan.", "Samanlainen ryhmä uudestaan syksyllä.",
    "Kerrat voisivat olla vähän pidempiä.", "Ei mitään, hyvä näin.",
]


def _responses(window, rng: random.Random, count: int, centre: float, comments=()):
    items = window.item_set.items
    for i in range(count):
        scores = [max(0, min(10, round(rng.gauss(centre, 1.4)))) for _ in items]
        response = FeedbackResponse(window_id=window.id, answered_on=window.opens_at.date(),
                                    comment=comments[i] if i < len(comments) else "")
        response.answers = [FeedbackAnswer(item_id=item.id, value=v) for item, v in zip(items, scores, strict=True)]
        db.session.add(response)


def _pick_groups(ctx) -> tuple[Group | None, Group | None]:
    known = ctx.extra.get("groups") or {}
    finished, few = known.get("raharyhma"), known.get("arki")
    if finished is None:
        finished = db.session.scalar(sa.select(Group).where(Group.status.in_(
            [GroupStatus.FINISHED.value, GroupStatus.EVALUATED.value])).order_by(Group.id).limit(1))
    if few is None:
        few = db.session.scalar(sa.select(Group).where(Group.id != getattr(finished, "id", 0),
                                                      Group.sessions.any()).order_by(Group.id).limit(1))
    return finished, few


def _present(sessions) -> dict[int, int]:
    db.session.flush()
    if not sessions:
        return {}
    rows = db.session.execute(
        sa.select(Attendance.session_id, sa.func.count()).where(
            Attendance.session_id.in_([s.id for s in sessions]), Attendance.status == AttendanceStatus.PRESENT.value)
        .group_by(Attendance.session_id))
    return {session_id: present for session_id, present in rows}


def seed(ctx) -> None:
    rng = random.Random(2026)
    now = services.utcnow()
    finished, few = _pick_groups(ctx)
    if finished is not None:
        sessions = [s for s in finished.sessions if not s.is_cancelled and s.starts_at < now]
        # Never more answers than people present (feedback.release): most of those present answered.
        present = _present(sessions)
        for i, session in enumerate(sessions):
            window = services.open_session_window(session)
            _responses(window, rng, present.get(session.id, 0), 6.5 + 0.3 * i,
                       {1: RAHA_COMMENTS, 2: RAHA_COMMENTS_2}.get(i, ()))
        if sessions:
            end = services.open_group_end_window(finished)
            end.closes_at = min(end.closes_at, now)
            end.opens_at = min(end.opens_at, end.closes_at)
            _responses(end, rng, 5, 8.0, END_COMMENTS)
    if few is not None and few is not finished:
        sessions = [s for s in few.sessions if not s.is_cancelled and s.starts_at < now]
        present = _present(sessions)
        for session in sessions:
            window = services.open_session_window(session)
            _responses(window, rng, min(2, present.get(session.id, 0)), 7.0)
    meetings = (ctx.extra.get("meetings") or {})
    held = meetings.get("held")
    if held is not None:
        window = services.open_meeting_window(held)
        _responses(window, rng, 3, 8.0)
    db.session.flush()
