"""The one conflict check (core.conflicts): one query over appointments, group sessions, network
meetings and outreach visits, for people and rooms, one Conflict type; and the demo data's double
booking (a group session and an outreach visit on 9.3.2027 at 13.00) is found."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from core.conflicts import Conflict, find_conflicts
from core.extensions import db
from core.timeutil import local_to_utc
from tests.factories import make_client, make_user


def test_demo_double_booking_is_found(app, runner):
    from groups import schedule
    from groups.models import Group, GroupSession

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    start = local_to_utc(date(2027, 3, 9), time(13, 0))
    session = db.session.scalar(sa.select(GroupSession).where(GroupSession.starts_at == start))
    assert session is not None
    group = db.session.get(Group, session.group_id)
    with app.test_request_context():
        found = schedule.find_conflicts(group, [(session.starts_at, session.ends_at)])
        outreach = [c for c in found if c.kind == "outreach"]
        assert outreach, found
        assert all(isinstance(c, Conflict) for c in found)
        assert outreach[0].user_name and outreach[0].user_name in outreach[0].message
        # The session's own page lists it among its upcoming conflicts too.
        assert any(c.kind == "outreach" for c in schedule.upcoming_conflicts(group))


def test_people_and_rooms_of_every_kind_in_one_query(app, facilitator):
    from appointments import services as appointments
    from groups.models import Group, GroupSession
    from meetings.models import Meeting, MeetingParticipant
    from outreach.models import OutreachVenue, OutreachVisit
    from register.models import PartnerOrganisation

    other = make_user(name="Muu Työntekijä")
    client = make_client(worker=facilitator)
    start = datetime(2030, 3, 4, 8, 0, tzinfo=__import__("datetime").UTC)
    hour = timedelta(hours=1)
    appointments.book(client=client, kind="office", starts_at=start, ends_at=start + hour, worker_ids=[other.id],
                      place="Huone 7")
    group = Group(title="Kahviryhmä", facilitator1_id=facilitator.id, room="Sali")
    db.session.add(group)
    db.session.flush()
    db.session.add(GroupSession(group_id=group.id, number=1, starts_at=start, ends_at=start + hour))
    meeting = Meeting(client_id=client.id, purpose="Suunnitelma", starts_at=start, ends_at=start + hour)
    meeting.participants.append(MeetingParticipant(kind="staff", user_id=facilitator.id))
    db.session.add(meeting)
    partner = PartnerOrganisation(name="Seurakunta", kind="other")
    db.session.add(partner)
    db.session.flush()
    venue = OutreachVenue(partner_id=partner.id, name="Kahvila")
    db.session.add(venue)
    db.session.flush()
    db.session.add(OutreachVisit(venue_id=venue.id, starts_at=start, ends_at=start + hour, staff1_id=facilitator.id))
    db.session.commit()
    statements = []
    listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        with app.test_request_context():
            found = find_conflicts([(start + timedelta(minutes=30), start + 2 * hour)], user_ids=[facilitator.id],
                                   room=" huone 7 ", viewer=facilitator)
            # The appointment's title is its kind, never the client.
            assert all(client.name not in c.message for c in found)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    kinds = sorted((c.kind, c.is_room) for c in found)
    assert kinds == [("appointment", True), ("group", False), ("meeting", False), ("outreach", False)]
    # One query for the bookings (the rest: names of the busy, who may see a meeting's purpose).
    assert sum("UNION ALL" in s for s in statements) == 1
    # Back-to-back is no conflict.
    assert find_conflicts([(start + hour, start + 2 * hour)], user_ids=[facilitator.id], room="Huone 7") == []


def _visit_with(facilitator):
    from outreach.models import OutreachVenue, OutreachVisit
    from register.models import PartnerOrganisation

    partner = PartnerOrganisation(name="Seurakunta", kind="other")
    db.session.add(partner)
    db.session.flush()
    venue = OutreachVenue(partner_id=partner.id, name="Kahvila")
    db.session.add(venue)
    db.session.flush()
    start = datetime(2030, 3, 5, 11, 0, tzinfo=__import__("datetime").UTC)
    visit = OutreachVisit(venue_id=venue.id, starts_at=start, ends_at=start + timedelta(hours=2))
    db.session.add(visit)
    db.session.commit()
    return visit


def test_outreach_pair_and_move_warn_of_an_appointment_before_saving(auth_client, facilitator, fresh_db):
    from appointments import services as appointments
    from outreach.models import OutreachVisit

    visit = _visit_with(facilitator)
    client = make_client(worker=facilitator)
    appointments.book(client=client, kind="phone", starts_at=visit.starts_at, ends_at=visit.starts_at + timedelta(minutes=30),
                      worker_ids=[facilitator.id])
    db.session.commit()
    url = f"/outreach/visits/{visit.id}/pair"
    response = auth_client.post_form(url, {"staff1_id": str(facilitator.id), "staff2_id": ""},
                                     token_from=f"/outreach/visits/{visit.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="clash-warning"' in page and "Fiia Facilitator" in page
    assert client.name not in page
    assert fresh_db.get(OutreachVisit, visit.id).staff1_id is None  # not saved
    response = auth_client.post_form(url, {"staff1_id": str(facilitator.id), "staff2_id": "", "confirm_clash": "y"},
                                     token_from=f"/outreach/visits/{visit.id}")
    assert response.status_code == 302 and fresh_db.get(OutreachVisit, visit.id).staff1_id == facilitator.id
    # Moving the visit onto another appointment of the worker is warned before saving too.
    later = visit.starts_at + timedelta(days=7)
    appointments.book(client=client, kind="office", starts_at=later, ends_at=later + timedelta(minutes=30),
                      worker_ids=[facilitator.id])
    db.session.commit()
    from core.timeutil import to_local

    local = to_local(later)
    move = f"/outreach/visits/{visit.id}/move"
    data = {"day": local.date().isoformat(), "start_time": local.strftime("%H:%M"),
            "end_time": (local + timedelta(hours=1)).strftime("%H:%M"), "version": str(fresh_db.get(OutreachVisit, visit.id).version)}
    response = auth_client.post_form(move, data)
    assert response.status_code == 200 and 'id="clash-warning"' in response.get_data(as_text=True)
    assert fresh_db.get(OutreachVisit, visit.id).starts_at == visit.starts_at
    assert auth_client.post_form(move, {**data, "confirm_clash": "y"}).status_code == 302
    assert fresh_db.get(OutreachVisit, visit.id).starts_at == later


def test_a_groups_clash_with_a_meeting_never_shows_the_meetings_purpose(app, facilitator):
    """groups.find_conflicts has no viewer: a meeting's purpose (often about the client) is then
    shown to nobody; that the facilitator is busy is enough."""
    from groups import schedule
    from groups.models import Group
    from meetings.models import Meeting, MeetingParticipant

    start = datetime(2030, 5, 6, 9, 0, tzinfo=__import__("datetime").UTC)
    meeting = Meeting(client_id=make_client().id, purpose="Häätöuhka", starts_at=start, ends_at=start + timedelta(hours=1))
    meeting.participants.append(MeetingParticipant(kind="staff", user_id=facilitator.id))
    group = Group(title="Ryhmä", facilitator1_id=facilitator.id)
    db.session.add_all([meeting, group])
    db.session.commit()
    with app.test_request_context():
        [clash] = schedule.find_conflicts(group, [(start, start + timedelta(hours=1))])
        assert clash.kind == "meeting" and clash.title == "" and "Häätöuhka" not in clash.message
        assert "Fiia Facilitator" in clash.message
