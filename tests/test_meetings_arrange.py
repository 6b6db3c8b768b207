"""Arranging a network meeting: participants of four kinds, single-worker flag, double bookings,
bad input, and the signal other features hook on."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from meetings.models import Meeting, MeetingParticipant
from register.models import AccessLog
from tests.factories import logged, make_client, make_user
from tests.test_meetings_support import add_relative, make_contact, make_meeting


def _form(day, **extra):
    data = {"purpose": "Activation plan", "day": day.isoformat(), "start": "13:00", "length": "60",
            "place_kind": "office", "place": "Room 2", "remote_link": "", "client_identification": "initials",
            "include_client": "y"}
    data.update(extra)
    return data


def test_arrange_meeting_with_all_four_kinds(auth_client, facilitator):
    colleague = make_user(name="Pekka Peltonen")
    client = make_client(name="Matti Kuusela", worker=facilitator)
    relative = add_relative(client)
    contact = make_contact("Sovatek")
    day = local_today() + timedelta(days=10)
    received = []
    from meetings.signals import meeting_changed

    def listener(sender, meeting, change):
        received.append((meeting.id, change))

    meeting_changed.connect(listener)
    try:
        response = auth_client.post_form(f"/meetings/new/{client.id}", _form(
            day, staff=[str(facilitator.id), str(colleague.id)], contacts=[str(contact.id)], relatives=[str(relative.id)]))
    finally:
        meeting_changed.disconnect(listener)
    assert response.status_code == 302
    meeting = db.session.scalar(sa.select(Meeting))
    assert meeting.starts_at == local_to_utc(day, time(13, 0))
    assert (meeting.ends_at - meeting.starts_at) == timedelta(minutes=60)
    kinds = sorted((p.kind, p.user_id or p.contact_id or p.relative_id) for p in meeting.participants)
    assert kinds == sorted([("staff", facilitator.id), ("staff", colleague.id), ("partner", contact.id),
                            ("relative", relative.id), ("client", None)])
    assert all(p.invitation_status == "invited" for p in meeting.participants)
    assert received == [(meeting.id, "created")]
    page = auth_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Matti Kuusela" in page and "Helena Kuusela" in page and contact.name in page
    assert 'id="single-worker-warning"' not in page  # two staff: pair work, no flag
    assert db.session.scalar(sa.select(sa.func.count(AccessLog.id)).where(AccessLog.client_id == client.id)) >= 2


def test_single_worker_is_flagged(auth_client, facilitator):
    meeting = make_meeting([facilitator])
    page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'id="single-worker-warning"' in page
    listing = auth_client.get("/meetings/").get_data(as_text=True)
    assert "single-worker-flag" in listing


def test_double_booking_is_warned_ignoring_cancelled(auth_client, facilitator, app):
    from groups.models import Group, GroupSession
    from meetings import arranging, services

    day = local_today() + timedelta(days=5)
    other = make_meeting([facilitator], day=day, at=time(9, 30), purpose="Earlier meeting")
    group = Group(title="Raharyhmä", facilitator1_id=facilitator.id)
    db.session.add(group)
    db.session.flush()
    start = local_to_utc(day, time(10, 0))
    db.session.add(GroupSession(group_id=group.id, number=1, starts_at=start, ends_at=start + timedelta(hours=2)))
    db.session.commit()
    client = make_client(worker=facilitator)
    # Warned BEFORE saving (the one conflict check): the form comes back with the clashes, and
    # nothing is stored until "save anyway" is ticked.
    response = auth_client.post_form(f"/meetings/new/{client.id}", _form(day, start="10:00", staff=[str(facilitator.id)]))
    warned = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="clash-warning"' in warned and "Raharyhmä" in warned
    assert 'name="confirm_clash"' in warned
    assert db.session.scalar(sa.select(sa.func.count(Meeting.id)).where(Meeting.client_id == client.id)) == 0
    response = auth_client.post_form(f"/meetings/new/{client.id}", _form(day, start="10:00", staff=[str(facilitator.id)],
                                                                          confirm_clash="y"))
    assert response.status_code == 302
    page = auth_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="conflict-warning"' in page and "Earlier meeting" in page and "Raharyhmä" in page
    new = db.session.scalar(sa.select(Meeting).where(Meeting.client_id == client.id))
    conflicts = services.meeting_conflicts(new, viewer=facilitator)
    assert [(c.kind, c.title) for c in conflicts] == [("meeting", "Earlier meeting"), ("group", "Raharyhmä")]
    assert conflicts[1].starts_at == start and all(c.ends_at.tzinfo is not None for c in conflicts)
    # Cancelled bookings do not count.
    arranging.cancel_meeting(other, user=facilitator)
    group.sessions[0].status = "cancelled"
    db.session.commit()
    assert services.meeting_conflicts(new, viewer=facilitator) == []


def test_forged_and_missing_values_are_refused_with_input_kept(auth_client, facilitator, fresh_db):
    client = make_client(worker=facilitator)
    other_client = make_client()
    foreign_relative = add_relative(other_client, name="Foreign Relative")
    db.session.commit()
    day = local_today() + timedelta(days=3)
    seen = len(logged(fresh_db, client.id))
    response = auth_client.post_form(f"/meetings/new/{client.id}", _form(
        day, purpose="Keep this purpose", staff=[str(facilitator.id)], relatives=[str(foreign_relative.id)]))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'value="Keep this purpose"' in page
    assert 'id="relatives-error"' in page
    response = auth_client.post_form(f"/meetings/new/{client.id}", _form(day, staff=[], place_kind="remote"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.count('class="error"') >= 2
    assert 'id="staff-error"' in page and 'id="remote_link-error"' in page
    response = auth_client.post_form(f"/meetings/new/{client.id}", _form(
        day, staff=[str(facilitator.id)], place_kind="remote", remote_link="javascript://example.com/%0aalert(1)"))
    assert response.status_code == 200 and 'id="remote_link-error"' in response.get_data(as_text=True)
    assert fresh_db.scalar(sa.select(sa.func.count(Meeting.id))) == 0
    # Each refused form showed the client: its access-log row was committed with the page.
    assert logged(fresh_db, client.id)[seen:] == [("view", "new meeting form")] * 3


def test_malformed_and_foreign_ids_are_404(auth_client, facilitator):
    for url in ("/meetings/abc", "/meetings/0", "/meetings/99999999999999999999", "/meetings/new/xyz",
                "/meetings/12345/plan"):
        assert auth_client.get(url).status_code == 404, url
    stranger = make_client()  # not the facilitator's client
    assert auth_client.get(f"/meetings/new/{stranger.id}").status_code == 404


def test_meetings_for_user_returns_overlapping_staff_meetings(app, facilitator):
    from meetings.services import meetings_for_user

    other = make_user()
    day = local_today() + timedelta(days=2)
    mine = make_meeting([facilitator], day=day)
    make_meeting([other], day=day)
    start, end = local_to_utc(day, time(0, 0)), local_to_utc(day + timedelta(days=1), time(0, 0))
    assert [m.id for m in meetings_for_user(facilitator.id, start, end)] == [mine.id]
    assert meetings_for_user(facilitator.id, end, end + timedelta(days=1)) == []


def test_invite_someone_else_later(auth_client, facilitator):

    client = make_client(worker=facilitator)
    relative = add_relative(client, name="Late Relative")
    foreign_relative = add_relative(make_client(), name="Foreign Relative")
    contact = make_contact()
    meeting = make_meeting([facilitator], client=client, include_client=False)
    url = f"/meetings/{meeting.id}/participants"
    # The meeting page links to the invite page, which lists only this client's relatives.
    assert f'href="{url}"' in auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    page = auth_client.get(url).get_data(as_text=True)
    assert f'value="relative:{relative.id}"' in page and f'value="relative:{foreign_relative.id}"' not in page
    assert f'value="staff:{facilitator.id}"' not in page  # already takes part
    for value in (f"relative:{relative.id}", f"partner:{contact.id}", "client"):
        assert auth_client.post_form(url, {"person": value}).status_code == 302, value
    # Forged, duplicate and malformed values are refused at the field.
    for value in (f"relative:{foreign_relative.id}", f"partner:{contact.id}", "staff:abc", "boss:1", ""):
        response = auth_client.post_form(url, {"person": value})
        assert response.status_code == 200 and 'id="person-error"' in response.get_data(as_text=True), value
    db.session.refresh(meeting)
    assert sorted(p.kind for p in meeting.participants) == ["client", "partner", "relative", "staff"]
    assert db.session.scalar(sa.select(sa.func.count(MeetingParticipant.id))) == 4
    # Everyone this client could invite is in now; the page says so.
    assert "ovat jo mukana" in auth_client.get(url).get_data(as_text=True)
