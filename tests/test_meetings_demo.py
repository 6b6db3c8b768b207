"""The demo meetings seed cleanly on top of the foundation's demo data."""
from __future__ import annotations

from core.demo import DemoContext
from core.extensions import db
from register.demo import seed_foundation


def test_demo_meetings(app):
    from meetings import demo, partner_links

    ctx = DemoContext()
    seed_foundation(ctx)
    db.session.flush()
    demo.seed(ctx)
    db.session.commit()
    held, follow = ctx.extra["meetings"]["held"], ctx.extra["meetings"]["follow_up"]
    assert held.status == "held" and held.items and held.summary
    orgs = {p.contact.organisation.name for p in held.participants if p.kind == "partner"}
    assert len(orgs) == 3 and any("Sovatek" in o for o in orgs)
    assert any(p.kind == "relative" for p in held.participants)
    assert follow.previous_meeting_id == held.id and follow.status == "planned"
    assert all(i.carried_from_id for i in follow.items) and len(follow.items) == 2
    assert partner_links.partner_open_items(ctx.contacts["sovatek_tiina"].id)
