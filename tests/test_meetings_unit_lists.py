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


def test_an_action_item_carries_its_meetings_unit_and_the_report_counts_the_units_items(app, fresh_db):
    """An item is stored with its meeting's unit (added through the plan or built on the model),
    read back through a fresh connection; a lead's report counts the
    items due in the period of the lead's unit only, the county's report all of them."""
    from datetime import date

    from feedback.report import unit_report
    from meetings import plan
    from meetings.models import ActionItem, MeetingParticipant

    unit_a, unit_b, lead, worker_b, client_a, client_b = _world(app)
    when = utcnow() - timedelta(days=20)
    ours, theirs = make_meeting(client=client_a, starts_at=when, staff=lead), make_meeting(client=client_b,
                                                                                        starts_at=when, staff=worker_b)
    db.session.commit()
    due = (when + timedelta(days=7)).date()
    staff_of = {m.id: db.session.scalar(sa.select(MeetingParticipant.id).where(MeetingParticipant.meeting_id == m.id))
                for m in (ours, theirs)}
    added = plan.add_item(ours, responsible_id=staff_of[ours.id], what="Soita", due_date=due).item
    built = ActionItem(meeting_id=theirs.id, responsible_id=staff_of[theirs.id], what="Varaa aika", due_date=due)
    db.session.add(built)
    db.session.commit()
    stored = dict(fresh_db.execute(sa.text("SELECT id, unit_id FROM action_item")))
    assert stored == {added.id: unit_a, built.id: unit_b}

    from accounts.units import led_unit_ids_select

    with app.test_request_context():
        period = (date(due.year, 1, 1), date(due.year, 12, 31))
        assert unit_report(*period, 5, units=led_unit_ids_select(lead)).items_due == 1
        assert unit_report(*period, 5).items_due == 2


def test_the_copies_of_a_unit_follow_their_source_if_it_ever_changes(app, fresh_db):
    """The app never moves a client or a group to another unit, but the copies must not silently
    disagree if something does: changing the source through the ORM updates its meetings, their
    items and its sessions in the same commit (read back through a fresh connection)."""
    from groups.models import Group
    from meetings.models import ActionItem, MeetingParticipant
    from register.models import Client
    from tests.factories import make_group_with_session

    unit_a, unit_b, lead, worker_b, client_a, client_b = _world(app)
    meeting = make_meeting(client=client_a, starts_at=utcnow(), staff=lead)
    db.session.flush()
    staff = db.session.scalar(sa.select(MeetingParticipant.id).where(MeetingParticipant.meeting_id == meeting.id))
    db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=staff, what="Soita"))
    group, session = make_group_with_session(facilitator=lead, clients=[client_a], starts_at=utcnow())
    group.unit_id = unit_a
    db.session.commit()
    units = {"meeting": "SELECT unit_id FROM meeting", "item": "SELECT unit_id FROM action_item",
             "session": "SELECT unit_id FROM group_session"}
    assert {k: set(fresh_db.scalars(sa.text(q))) for k, q in units.items()} == {k: {unit_a} for k in units}

    db.session.get(Client, client_a.id).unit_id = unit_b
    db.session.get(Group, group.id).unit_id = unit_b
    db.session.commit()
    assert {k: set(fresh_db.scalars(sa.text(q))) for k, q in units.items()} == {k: {unit_b} for k in units}
