"""A meeting carries its client's unit (issue #23): a lead's lists find the unit's meetings by
time in one index. The unit is copied when the meeting is arranged, whichever way it is stored,
and the meeting list's rows and its count ("Meetings found") follow the same rule: the lead's
unit's meetings and the lead's own, each once."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from tests.factories import linked_ids, login, make_meeting, make_member, make_two_units


def _world(app):
    from register.services import create_client

    unit_a, unit_b = make_two_units()
    lead = make_member(email="lead.a@example.fi", name="Lea Lead", role="lead", unit_id=unit_a, language="en")
    worker_b = make_member(email="worker.b@example.fi", name="Ville Worker", role="facilitator", unit_id=unit_b)
    client_a = create_client(name="Aino Aa", created_by=lead)
    client_b = create_client(name="Bertta Bee", created_by=worker_b)
    db.session.commit()
    return unit_a, unit_b, lead, worker_b, client_a, client_b


def test_a_meeting_carries_its_clients_unit_however_it_is_stored(app, fresh_db):
    from meetings.arranging import create_meeting

    unit_a, unit_b, lead, worker_b, client_a, client_b = _world(app)
    soon = utcnow() + timedelta(days=2)
    arranged = create_meeting(client=client_b, purpose="Asuminen", starts_at=soon, ends_at=soon + timedelta(hours=1),
                              staff_ids=[worker_b.id], created_by=worker_b)
    # A row built on the model without the unit (tests, scripts): the column's default reads it.
    built = make_meeting(client=client_a, starts_at=soon, staff=lead)
    db.session.commit()
    stored = dict(fresh_db.execute(sa.text("SELECT id, unit_id FROM meeting")))
    assert stored == {arranged.id: unit_b, built.id: unit_a}


def test_the_leads_meeting_list_has_the_units_meetings_and_the_leads_own_each_once(app):
    unit_a, unit_b, lead, worker_b, client_a, client_b = _world(app)
    soon = utcnow() + timedelta(days=2)
    ours = make_meeting(client=client_a, starts_at=soon, staff=worker_b)             # the unit's, not the lead's
    ours_and_mine = make_meeting(client=client_a, starts_at=soon + timedelta(hours=2), staff=lead)  # both branches
    theirs_with_me = make_meeting(client=client_b, starts_at=soon + timedelta(hours=4), staff=lead)  # the lead's own
    theirs = make_meeting(client=client_b, starts_at=soon + timedelta(hours=6), staff=worker_b)     # not the lead's
    past_ours = make_meeting(client=client_a, starts_at=utcnow() - timedelta(days=3), staff=worker_b)
    past_theirs = make_meeting(client=client_b, starts_at=utcnow() - timedelta(days=3), staff=worker_b)
    db.session.commit()
    c = app.test_client()
    login(c, lead)

    html = c.get("/meetings/").get_data(as_text=True)
    upcoming = html.split('id="upcoming-heading"', 1)[1].split("</section>", 1)[0]
    shown = linked_ids(upcoming, "/meetings/")
    assert shown == {ours.id, ours_and_mine.id, theirs_with_me.id}
    assert "Meetings found: 3" in upcoming
    assert theirs.id not in linked_ids(html, "/meetings/")

    past = c.get("/meetings/?show=past").get_data(as_text=True)
    assert linked_ids(past, "/meetings/") >= {past_ours.id}
    assert past_theirs.id not in linked_ids(past, "/meetings/")
    assert "Meetings found: 1" in past
