"""The two planner aids of core.db keep their statements' meaning (issue #23):

- ``broad(condition)`` tells SQLite's planner a range is wide (``likelihood``); the condition's
  bound values stay part of each execution, so a statement served from SQLAlchemy's compiled
  cache runs with this call's values, not the first call's.
- ``exists_per_row(...)`` is an EXISTS with PostgreSQL's OFFSET 0 fence; it finds what a plain
  EXISTS finds.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.db import broad, exists_per_row, utcnow
from core.extensions import db
from tests.factories import make_client, make_meeting


def test_a_broad_range_runs_with_each_calls_own_values(app):
    from meetings.models import Meeting

    client = make_client()
    now = utcnow()
    for days in (1, 2, 3, 10):
        make_meeting(client=client, starts_at=now + timedelta(days=days))
    db.session.commit()

    def within(days: int) -> int:
        return db.session.scalar(sa.select(sa.func.count(Meeting.id))
                                 .where(broad(Meeting.starts_at < now + timedelta(days=days, hours=1))))

    assert [within(d) for d in (1, 2, 3, 10, 0)] == [1, 2, 3, 4, 0]
    # And it is cached at all (a construct without a cache key is compiled afresh every time).
    assert sa.select(Meeting.id).where(broad(Meeting.starts_at < now))._generate_cache_key() is not None
    compiled = str(sa.select(Meeting.id).where(broad(Meeting.starts_at < now)).compile(db.engine))
    if db.engine.dialect.name == "sqlite":
        assert "likelihood(" in compiled and "= 1" not in compiled
    else:
        assert "likelihood" not in compiled


def test_exists_per_row_finds_what_exists_finds(app):
    from meetings.models import Meeting, MeetingParticipant

    client = make_client()
    with_staff = make_meeting(client=client, starts_at=utcnow() + timedelta(days=1))
    db.session.add(MeetingParticipant(meeting_id=with_staff.id, kind="partner"))
    without = make_meeting(client=client, starts_at=utcnow() + timedelta(days=2))
    db.session.commit()
    rule = (MeetingParticipant.meeting_id == Meeting.id, MeetingParticipant.kind == "partner")
    fenced = set(db.session.scalars(sa.select(Meeting.id).where(sa.or_(exists_per_row(*rule), sa.false()))))
    plain = set(db.session.scalars(sa.select(Meeting.id).where(sa.or_(sa.exists().where(*rule), sa.false()))))
    assert fenced == plain == {with_staff.id}
    assert without.id not in fenced
    assert "OFFSET" in str(sa.select(Meeting.id).where(exists_per_row(*rule)).compile(db.engine)).upper()
