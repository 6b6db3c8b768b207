"""The demo data set for groups loads and looks right."""
from __future__ import annotations

import sqlalchemy as sa

from core.demo import DemoContext
from core.extensions import db
from groups import attendance, demo
from groups.models import Attendance, Group, GroupIdea
from register.demo import seed_foundation


def test_demo_groups(app):
    ctx = DemoContext()
    with app.test_request_context():
        seed_foundation(ctx)
        db.session.flush()
        demo.seed(ctx)
        db.session.commit()
    groups = ctx.extra["groups"]
    raha = groups["raharyhma"]
    assert raha.status == "evaluated" and raha.evaluation.continue_decision == "with_changes"
    assert [s.topic for s in raha.sessions] == demo.RAHA_TOPICS
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) > 30
    assert groups["arki"].status == "running" and groups["arki"].partners[0].partner_id == ctx.partners["sovatek"].id
    assert groups["seuraava"].status == "planning" and groups["seuraava"].previous_round_id == raha.id
    assert len(groups["seuraava"].facilitator_ids) == 2
    assert db.session.scalar(sa.select(sa.func.count(GroupIdea.id))) == 3
    assert attendance.attendance_figures(raha).rate is not None
    assert db.session.scalar(sa.select(sa.func.count(Group.id))) == 3
