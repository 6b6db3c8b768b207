"""Time sense: what needs its date to have come (a roll call, a group "running" or "finished", a
meeting "held") is refused before that date, with the reason in the user's language, and
nothing of it reaches the database. The printable plan of a meeting still to come does not say
"we met on"."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today, to_local
from groups.models import Attendance, Enrolment, Group
from meetings.models import Meeting
from tests.factories import logged, make_client, make_user
from tests.test_groups_support import make_group, text_of
from tests.test_meetings_support import make_meeting


def _enrolled_group(facilitator, *, first: date, status: str, weeks: int = 3):
    other = make_user(name="Toinen Ohjaaja")
    group = make_group(facilitator, other, weeks=weeks, first=first, status=status)
    client = make_client(name="Anna Aalto", worker=facilitator)
    db.session.add(Enrolment(group_id=group.id, client_id=client.id, status="enrolled"))
    db.session.commit()
    return group


def test_roll_call_of_a_future_session_is_refused_with_the_reason(auth_client, facilitator, fresh_db):
    future = local_today() + timedelta(days=30)
    group = _enrolled_group(facilitator, first=future, status="running")
    session, enrolment = group.sessions[0], group.enrolments[0]
    url = f"/groups/{group.id}/sessions/{session.id}/roll-call"

    page = text_of(auth_client.get(url))
    assert "Läsnäolot voi kirjata ryhmäkerran päivästä alkaen" in page
    assert 'id="roll-call-refusal"' in page
    assert f'name="att-{enrolment.id}"' not in page  # no form to fill in for nothing

    seen = len(logged(fresh_db, enrolment.client_id))
    response = auth_client.post_form(url, {f"att-{enrolment.id}": "present"}, token_from=f"/groups/{group.id}")
    # The refused roll call showed the client: its access-log row was committed with the page.
    assert logged(fresh_db, enrolment.client_id)[seen:] == [("view", f"roll call, session {session.id}")]
    body = text_of(response)
    assert response.status_code == 200
    assert 'class="error-summary"' in body
    # The session's own day: the schedule moves a session off a public holiday (today + 30 days
    # was Epiphany on 7.12.2026).
    first_day = to_local(session.starts_at).date()
    assert f"{first_day.day}.{first_day.month}.{first_day.year}" in body
    assert fresh_db.scalar(sa.select(sa.func.count(Attendance.id))) == 0


def test_roll_call_on_the_day_of_the_session_is_taken(auth_client, facilitator, fresh_db):
    group = _enrolled_group(facilitator, first=local_today() + timedelta(days=7), status="running", weeks=1)
    session, enrolment = group.sessions[0], group.enrolments[0]
    # Later today (today may be a public holiday, which the schedule skips).
    session.starts_at = local_to_utc(local_today(), time(23, 0))
    session.ends_at = session.starts_at + timedelta(minutes=30)
    db.session.commit()
    url = f"/groups/{group.id}/sessions/{session.id}/roll-call"
    response = auth_client.post_form(url, {f"att-{enrolment.id}": "present"}, token_from=url)
    assert response.status_code == 302, re.findall(r'error-summary.*?</div>', text_of(response), re.S)
    assert fresh_db.scalar(sa.select(Attendance.status).where(Attendance.enrolment_id == enrolment.id)) == "present"


def test_running_and_finished_are_refused_before_their_sessions(auth_client, facilitator, fresh_db):
    first = local_today() + timedelta(days=14)
    group = _enrolled_group(facilitator, first=first, status="enrolling")
    url = f"/groups/{group.id}"

    page = text_of(auth_client.get(url))
    assert f"ensimmäisestä kerrasta alkaen ({first.strftime('%-d.%-m.%Y')})" in page

    response = auth_client.post_form(f"{url}/status", {"target": "running"}, token_from=url)
    assert fresh_db.scalar(sa.select(Group.status).where(Group.id == group.id)) == "enrolling"
    followed = text_of(auth_client.get(response.location)) if response.status_code == 302 else text_of(response)
    assert "ensimmäisestä kerrasta alkaen" in followed

    # Started last week, last session in a fortnight: running is fine, finished is not yet.
    started = _enrolled_group(facilitator, first=local_today() - timedelta(days=7), status="enrolling", weeks=4)
    surl = f"/groups/{started.id}"
    auth_client.post_form(f"{surl}/status", {"target": "running"}, token_from=surl)
    assert fresh_db.scalar(sa.select(Group.status).where(Group.id == started.id)) == "running"
    auth_client.post_form(f"{surl}/status", {"target": "finished"}, token_from=surl)
    assert fresh_db.scalar(sa.select(Group.status).where(Group.id == started.id)) == "running"
    assert "viimeisestä kerrasta alkaen" in text_of(auth_client.get(surl))


def test_a_future_meeting_cannot_be_marked_held(auth_client, facilitator, fresh_db):
    meeting = make_meeting([facilitator], day=local_today() + timedelta(days=3))
    url = f"/meetings/{meeting.id}"
    db.session.commit()
    seen = len(logged(fresh_db, meeting.client_id))
    response = auth_client.post_form(f"{url}/notes", {"summary": "Sovittiin asiat.", "held": "y",
                                                      "version": str(meeting.version)}, token_from=url)
    # The meeting page and the refused notes form both showed the client: both rows were committed.
    assert logged(fresh_db, meeting.client_id)[seen:] == [("view", f"meeting {meeting.id}")] * 2
    body = text_of(response)
    assert response.status_code == 200
    assert 'id="held-error"' in body
    assert "vasta kun se on alkanut" in body
    assert "Sovittiin asiat." in body  # the input is kept
    stored = fresh_db.get(Meeting, meeting.id)
    assert stored.status == "planned" and not stored.summary

    # Its printable plan speaks of the meeting to come.
    plan = text_of(auth_client.get(f"{url}/plan"))
    assert "Tapasimme" not in plan
    assert "Tapaamme" in plan


def test_a_past_meeting_is_marked_held_and_its_plan_says_we_met(auth_client, facilitator, fresh_db):
    meeting = make_meeting([facilitator], day=local_today() - timedelta(days=1))
    url = f"/meetings/{meeting.id}"
    response = auth_client.post_form(f"{url}/notes", {"summary": "Sovittiin asiat.", "held": "y",
                                                      "version": str(meeting.version)}, token_from=url)
    assert response.status_code == 302
    assert fresh_db.get(Meeting, meeting.id).status == "held"
    assert re.search(r"Tapasimme \w+ \d", text_of(auth_client.get(f"{url}/plan")))
