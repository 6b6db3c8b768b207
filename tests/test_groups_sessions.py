"""Moving, re-topicing and cancelling one session; conflicts and holiday warnings; copying a round."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, to_local
from groups import schedule
from groups.models import Group, GroupEvaluation, GroupSession, SessionChange
from meetings.models import Meeting, MeetingParticipant
from tests.factories import make_client, make_user
from tests.test_groups_support import make_group, text_of

# The groups' clock, fixed before make_group's default first session (Monday 4 January 2027), for
# the tests that need "coming" and "past" sessions around it: with the real clock that session
# would one day be in the past.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def fixed_clock(frozen_time):
    """The whole app's clock, stopped at NOW (before the test logs in: a later session cookie
    would be refused as from the future)."""
    frozen_time(NOW)
    return NOW


def _edit(client, group, session, **overrides):
    local = to_local(session.starts_at)
    data = {"day": local.date().isoformat(), "start_time": local.strftime("%H:%M"),
            "end_time": to_local(session.ends_at).strftime("%H:%M"), "topic": session.topic, "room": session.room,
            "plan_notes": session.plan_notes, "version": str(session.version)}
    data.update(overrides)
    url = f"/groups/{group.id}/sessions/{session.id}/edit"
    return client.post_form(url, data, token_from=url)


def test_moving_one_session_raises_sequence_and_records_change(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=3, topics=["Kela-etuudet", "Budjetointi", "Velat"])
    first, second, third = group.sessions
    before = (second.sequence, second.updated_at)
    response = _edit(auth_client, group, second, day="2027-01-13", start_time="14:00", end_time="15:30")
    assert response.status_code == 302
    db.session.expire_all()
    second = db.session.get(GroupSession, second.id)
    assert second.starts_at == local_to_utc(date(2027, 1, 13), time(14, 0))
    assert second.sequence == before[0] + 1 and second.updated_at > before[1]
    change = db.session.scalar(sa.select(SessionChange).where(SessionChange.session_id == second.id))
    assert change.field == "time" and change.old_value == "2027-01-11 13:00–14:30"
    assert change.new_value == "2027-01-13 14:00–15:30" and change.changed_by_id == facilitator.id
    # The others are untouched.
    assert db.session.get(GroupSession, first.id).sequence == 0
    assert to_local(db.session.get(GroupSession, third.id).starts_at).date() == date(2027, 1, 18)
    page = text_of(auth_client.get(f"/groups/{group.id}/sessions/{second.id}"))
    assert "Muutokset" in page and "13.1.2027 14.00–15.30" in page


def test_room_and_topic_changes_are_recorded(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=2)
    session = group.sessions[0]
    _edit(auth_client, group, session, room="Sali 2", topic="Budjetointi")
    db.session.expire_all()
    session = db.session.get(GroupSession, session.id)
    assert (session.room, session.topic, session.sequence) == ("Sali 2", "Budjetointi", 1)
    assert sorted(c.field for c in session.changes) == ["room", "topic"]


def test_cancelling_and_restoring_a_session(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=2)
    session = group.sessions[0]
    url = f"/groups/{group.id}/sessions/{session.id}/status"
    auth_client.post_form(url, {"status": "cancelled"}, token_from=f"/groups/{group.id}/sessions/{session.id}")
    db.session.expire_all()
    session = db.session.get(GroupSession, session.id)
    assert session.status == "cancelled" and session.sequence == 1
    assert [(c.field, c.old_value, c.new_value) for c in session.changes] == [("status", "scheduled", "cancelled")]
    assert db.session.get(GroupSession, group.sessions[1].id).status == "scheduled"
    assert "Tämä ryhmäkerta on peruttu." in text_of(auth_client.get(f"/groups/{group.id}/sessions/{session.id}"))
    auth_client.post_form(url, {"status": "scheduled"}, token_from=f"/groups/{group.id}/sessions/{session.id}")
    db.session.expire_all()
    assert db.session.get(GroupSession, session.id).sequence == 2
    assert auth_client.post_form(url, {"status": "bogus"}, token_from="/groups/").status_code == 400


def test_end_before_start_refused_with_input_kept(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1)
    session = group.sessions[0]
    response = _edit(auth_client, group, session, start_time="15:00", end_time="14:00", topic="Säästäminen")
    html = text_of(response)
    assert "Päättymisajan pitää olla alkamisajan jälkeen." in html and 'value="Säästäminen"' in html
    db.session.expire_all()
    assert db.session.get(GroupSession, session.id).sequence == 0


def test_moving_onto_a_holiday_warns_then_saves_when_confirmed(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1, first=date(2027, 11, 29))
    session = group.sessions[0]
    response = _edit(auth_client, group, session, day="2027-12-06")
    html = text_of(response)
    assert response.status_code == 200 and "6.12.2027 on arkipyhä (Itsenäisyyspäivä)" in html
    db.session.expire_all()
    assert to_local(db.session.get(GroupSession, session.id).starts_at).date() == date(2027, 11, 29)
    response = _edit(auth_client, group, session, day="2027-12-06", confirm="y")
    assert response.status_code == 302
    db.session.expire_all()
    assert to_local(db.session.get(GroupSession, session.id).starts_at).date() == date(2027, 12, 6)


def test_stale_session_edit_refused(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1)
    session = group.sessions[0]
    schedule.update_session(session, starts_at=session.starts_at, ends_at=session.ends_at, topic="Toinen",
                            room=session.room, plan_notes="")
    db.session.commit()
    response = _edit(auth_client, group, session, topic="Minun", version="1")
    assert "Joku muu tallensi nämä tiedot" in text_of(response)
    db.session.expire_all()
    assert db.session.get(GroupSession, session.id).topic == "Toinen"


def test_facilitator_conflict_with_another_group_warns_before_saving(auth_client, facilitator):
    busy = make_group(facilitator, make_user(), title="Kahviryhmä", room="Sali", weeks=1, first=date(2027, 2, 1))
    group = make_group(facilitator, make_user(), room="Ryhmähuone 1")
    data = {"first_date": "2027-02-01", "weekday": "0", "start_time": "14:00", "minutes": "60", "weeks": "2",
            "break_weeks": ""}
    url = f"/groups/{group.id}/schedule"
    html = text_of(auth_client.post_form(url, data, token_from=url))
    assert "Fiia Facilitator ohjaa samaan aikaan ryhmää ”Kahviryhmä”" in html
    assert db.session.scalar(sa.select(sa.func.count(GroupSession.id)).where(GroupSession.group_id == group.id)) == 0
    assert auth_client.post_form(url, {**data, "confirm": "y"}, token_from=url).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(GroupSession.id)).where(GroupSession.group_id == group.id)) == 2
    # A cancelled session does not count.
    schedule.set_session_status(busy.sessions[0], "cancelled")
    db.session.commit()
    assert schedule.find_conflicts(group, [(busy.sessions[0].starts_at, busy.sessions[0].ends_at)]) == []


def test_room_conflict(facilitator, app):
    make_group(make_user(), make_user(), title="Kahviryhmä", room="Sali 2", weeks=1, first=date(2027, 2, 1))
    group = make_group(facilitator, make_user(), room="sali 2 ")
    start = local_to_utc(date(2027, 2, 1), time(14, 0))
    with app.test_request_context():
        messages = [c.message for c in schedule.find_conflicts(group, [(start, start + timedelta(hours=1))])]
        assert any("Sali 2" in m and "Kahviryhmä" in m for m in messages)
        # Back-to-back is no conflict.
        later = local_to_utc(date(2027, 2, 1), time(14, 30))
        assert schedule.find_conflicts(group, [(later, later + timedelta(hours=1))]) == []


def test_network_meeting_conflict_and_cancelled_meeting_ignored(facilitator, app):
    group = make_group(facilitator, make_user())
    start = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    meeting = Meeting(client_id=make_client().id, starts_at=start, ends_at=start + timedelta(hours=1))
    meeting.participants.append(MeetingParticipant(kind="staff", user_id=facilitator.id))
    db.session.add(meeting)
    db.session.commit()
    slot = [(start + timedelta(minutes=30), start + timedelta(minutes=120))]
    with app.test_request_context():
        assert any("verkostopalaverissa" in c.message for c in schedule.find_conflicts(group, slot))
        meeting.status = "cancelled"
        db.session.commit()
        assert schedule.find_conflicts(group, slot) == []


def test_copy_a_group_as_a_new_round(auth_client, facilitator):
    topics = ["Kela-etuudet", "Budjetointi", "Velat ja ulosotto"]
    old = make_group(facilitator, make_user(), weeks=3, first=date(2026, 9, 7), start=time(13, 0), topics=topics,
                     status="evaluated")
    db.session.add(GroupEvaluation(group_id=old.id, interesting="yes", continue_decision="with_changes",
                                   improvements="Enemmän aikaa budjetointiin"))
    old.planning_notes = "Kahvit ja pullat"
    db.session.commit()
    page = text_of(auth_client.get(f"/groups/{old.id}/copy"))
    assert "Enemmän aikaa budjetointiin" in page
    response = auth_client.post_form(f"/groups/{old.id}/copy", {"title": "Raharyhmä kevät 2027",
                                                                "first_date": "2027-01-01"},
                                     token_from=f"/groups/{old.id}/copy")
    assert response.status_code == 302
    new = db.session.scalar(sa.select(Group).where(Group.title == "Raharyhmä kevät 2027"))
    assert new.previous_round_id == old.id and new.status == "planning"
    assert (new.theme, new.room, new.capacity, new.planning_notes) == (old.theme, old.room, old.capacity,
                                                                      "Kahvit ja pullat")
    assert new.facilitator_ids == old.facilitator_ids
    assert [s.topic for s in new.sessions] == topics
    # Same weekday and local time, new dates (6.1. is Epiphany, so the series moves on a week).
    assert [to_local(s.starts_at).date() for s in new.sessions] == [date(2027, 1, 4), date(2027, 1, 11),
                                                                    date(2027, 1, 18)]
    assert all(to_local(s.starts_at).time() == time(13, 0) for s in new.sessions)
    page = text_of(auth_client.get(f"/groups/{new.id}"))
    assert "Edellinen kierros: Raharyhmä" in page and "Enemmän aikaa budjetointiin" in page
    assert "Enemmän aikaa budjetointiin" in text_of(auth_client.get(f"/groups/{new.id}/edit"))


def test_holiday_warning_names_the_holiday_in_swedish(app, facilitator):
    from tests.factories import login
    swede = make_user(email="sv2@example.fi", language="sv")
    group = make_group(swede, facilitator, weeks=1, first=date(2027, 11, 29))
    session = group.sessions[0]
    c = app.test_client()
    login(c, swede)
    c.post_form("/language", {"language": "sv", "next": "/groups/"})
    html = text_of(_edit(c, group, session, day="2027-12-06"))
    assert "6.12.2027 är en helgdag (Självständighetsdagen)." in html


def test_session_page_links_to_calendar_and_feedback_when_installed(app, auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1)
    session = group.sessions[0]
    html = text_of(auth_client.get(f"/groups/{group.id}/sessions/{session.id}"))
    for endpoint, path in (("calendar_export.session_ics", f"/calendar/session/{session.id}.ics"),
                           ("feedback.session_show", f"/feedback/sessions/{session.id}/show")):
        if endpoint in app.view_functions:
            assert f'href="{path}"' in html
        else:
            assert path not in html


def test_new_room_or_venue_moves_future_sessions_and_is_recorded(fixed_clock, auth_client, facilitator):
    today = to_local(fixed_clock).date()
    group = make_group(facilitator, make_user(), weeks=1, room="Kipinä")
    past_start = fixed_clock - timedelta(days=7)
    group.sessions.append(GroupSession(number=0, starts_at=past_start, ends_at=past_start + timedelta(hours=1),
                                       room="Kipinä"))
    own_room = group.sessions[0]
    own_room.room = "Sali 3"
    future = GroupSession(number=2, starts_at=local_to_utc(today + timedelta(days=30), time(12, 0)),
                          ends_at=local_to_utc(today + timedelta(days=30), time(13, 0)), room="Kipinä")
    group.sessions.append(future)
    db.session.commit()
    data = {"title": group.title, "theme": group.theme, "venue": "Uusi talo", "room": "Liekki", "capacity": "8",
            "language": "fi", "facilitator1_id": str(group.facilitator1_id),
            "facilitator2_id": str(group.facilitator2_id), "version": str(group.version)}
    response = auth_client.post_form(f"/groups/{group.id}/edit", data, token_from=f"/groups/{group.id}/edit")
    assert response.status_code == 302
    db.session.expire_all()
    future = db.session.get(GroupSession, future.id)
    assert future.room == "Liekki" and future.sequence == 1
    assert sorted((c.field, c.old_value, c.new_value) for c in future.changes) == [
        ("room", "Kipinä", "Liekki"), ("venue", "Kauppakatu 1", "Uusi talo")]
    own = db.session.get(GroupSession, own_room.id)
    assert own.room == "Sali 3" and [c.field for c in own.changes] == ["venue"]
    past = db.session.scalar(sa.select(GroupSession).where(GroupSession.number == 0))
    assert past.room == "Kipinä" and past.sequence == 0
