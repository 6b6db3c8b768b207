"""Rows for the feedback tests, created directly (the groups and meetings features build their
own services in parallel; the models are the shared contract)."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from core.extensions import db


def make_group(facilitators=(), *, title="Raharyhmä", theme="Raha", sessions=3, start=None, enrolled=0):
    from accounts.units import default_unit
    from groups.models import Enrolment, Group, GroupSession
    from tests.factories import make_client

    default_unit()  # a group belongs to a unit: the installation's first, as on a one-team install
    start = start or datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
    group = Group(title=title, theme=theme, status="finished",
                  facilitator1_id=facilitators[0].id if len(facilitators) > 0 else None,
                  facilitator2_id=facilitators[1].id if len(facilitators) > 1 else None)
    db.session.add(group)
    db.session.flush()
    for i in range(sessions):
        starts = start + timedelta(days=7 * i)
        db.session.add(GroupSession(group_id=group.id, number=i + 1, starts_at=starts,
                                    ends_at=starts + timedelta(hours=2), topic=f"Aihe {i + 1}"))
    db.session.commit()
    for _ in range(enrolled):
        client = make_client()
        db.session.add(Enrolment(group_id=group.id, client_id=client.id, status="enrolled"))
    db.session.commit()
    db.session.refresh(group)
    return group


def add_responses(window, scores_list, comments=None):
    """Responses straight into the database (bypassing rate limits), e.g. [[7, 8, 6, 9], ...]."""
    from feedback.models import FeedbackAnswer, FeedbackResponse

    items = window.item_set.items
    comments = comments or []
    for i, scores in enumerate(scores_list):
        response = FeedbackResponse(window_id=window.id, answered_on=window.opens_at.date(),
                                    comment=comments[i] if i < len(comments) else "")
        response.answers = [FeedbackAnswer(item_id=item.id, value=v) for item, v in zip(items, scores, strict=True)]
        db.session.add(response)
    db.session.commit()


def close_window(window):
    window.closes_at = datetime.now(UTC) - timedelta(minutes=1)
    window.opens_at = min(window.opens_at, window.closes_at - timedelta(hours=1))
    db.session.commit()


def open_now(window):
    now = datetime.now(UTC)
    window.opens_at = now - timedelta(hours=1)
    window.closes_at = now + timedelta(hours=47)
    db.session.commit()


def open_session_window(facilitators, enrolled=12):
    """A new group's first session window, open now; no roll call yet, so it takes as many
    answers as there are people enrolled (plus feedback.people.MARGIN)."""
    from feedback import services

    group = make_group(facilitators, enrolled=enrolled)
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    open_now(window)
    return window


def attend(session, present, absent=()):
    """The roll call of a session: these enrolments present, those absent."""
    from groups.models import Attendance

    for enrolment in present:
        db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status="present"))
    for enrolment in absent:
        db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status="absent"))
    db.session.commit()


_PHONES = itertools.count(1)


def phone(app):
    """A participant's own phone: a fresh browser (no cookies) with a client address of its own,
    as phones on mobile data have (feedback.services.PER_ADDRESS counts per address)."""
    n = next(_PHONES)
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    return browser
