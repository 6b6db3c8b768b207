"""Pages that show a meeting through another record show of it only what the meeting's own rule
(meetings.services.can_open / openable_among: its staff participants and leads) allows.

- A meeting's clash warning names a colleague's other booking: its purpose (free text, often
  about the client) only to those who may open that meeting; to others only that the colleague
  is busy then. This held for no one before: any staff member arranging a meeting with a
  colleague read the purpose of the colleague's other meetings.
- The client page's section of meetings lists only the meetings the viewer may open, also for a
  facilitator whose reason to see the client is passing (the client is in their group)."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today
from groups import enrolment
from meetings.models import Meeting
from tests.factories import login, make_client, make_user
from tests.test_groups_support import make_group
from tests.test_meetings_support import make_meeting

SECRET = "Häätöuhka, vuokrarästit 4 kk"


def _colleague_with_a_meeting():
    """Sanna's meeting about another worker's client, at 10:00 in five days."""
    sanna = make_user(name="Sanna Saarinen")
    other_client = make_client(name="Pertti Nieminen", worker=sanna)
    day = local_today() + timedelta(days=5)
    theirs = make_meeting([sanna], client=other_client, day=day, at=time(10, 0), purpose=SECRET)
    return sanna, other_client, theirs, day


def _arrange_with(http, client, day, staff, **extra):
    data = {**extra, "purpose": "Seuranta", "day": day.isoformat(), "start": "10:00", "length": "60",
            "place_kind": "office", "place": "", "remote_link": "", "client_identification": "initials",
            "staff": [str(u.id) for u in staff], "include_client": "y"}
    url = f"/meetings/new/{client.id}"
    return http.post_form(url, data, token_from=url)


def _check_hidden(http, client, day, me, sanna):
    # The clash is warned before saving (the one conflict check): the form comes back with it.
    warned = _arrange_with(http, client, day, [me, sanna])
    assert warned.status_code == 200
    text = warned.get_data(as_text=True)
    assert 'id="clash-warning"' in text and "Sanna Saarinen" in text and "Häätöuhka" not in text
    response = _arrange_with(http, client, day, [me, sanna], confirm_clash="y")
    assert response.status_code == 302
    page = http.get(response.headers["Location"]).get_data(as_text=True)  # flashes and the page
    assert 'id="conflict-warning"' in page and "Sanna Saarinen" in page  # that she is busy...
    assert SECRET not in page and "Häätöuhka" not in page  # ...not what about
    mine = db.session.scalar(sa.select(Meeting).where(Meeting.client_id == client.id, Meeting.purpose == "Seuranta"))
    again = http.get(f"/meetings/{mine.id}").get_data(as_text=True)
    assert "Sanna Saarinen" in again and "Häätöuhka" not in again


def test_a_facilitator_without_a_reason_does_not_read_a_colleagues_meeting(app, facilitator):
    sanna, _other_client, _theirs, day = _colleague_with_a_meeting()
    mine = make_client(name="Oma Asiakas", worker=facilitator)
    http = app.test_client()
    login(http, facilitator)
    _check_hidden(http, mine, day, facilitator, sanna)


def test_a_passing_reason_to_see_the_client_does_not_open_its_meetings(app, facilitator):
    sanna, other_client, theirs, day = _colleague_with_a_meeting()
    group = make_group(facilitator, status="enrolling")
    enrolment.enrol(group, other_client.id)  # the facilitator may now see Pertti...
    db.session.commit()
    http = app.test_client()
    login(http, facilitator)
    client_page = http.get(f"/clients/{other_client.id}")
    assert client_page.status_code == 200
    # ...but the client page's meetings section does not list Sanna's meeting, nor can it be opened.
    assert SECRET not in client_page.get_data(as_text=True)
    assert f"/meetings/{theirs.id}\"" not in client_page.get_data(as_text=True)
    assert http.get(f"/meetings/{theirs.id}").status_code == 404
    # Arranging a meeting for that client with Sanna: the clash does not show her meeting's purpose.
    _check_hidden(http, other_client, day, facilitator, sanna)


def test_those_who_may_open_the_other_meeting_see_its_purpose(app, lead):
    sanna, _other_client, _theirs, day = _colleague_with_a_meeting()
    # A lead may open every meeting.
    http = app.test_client()
    login(http, lead)
    lyyti = make_client(name="Lyyti Laine")
    assert SECRET in _arrange_with(http, lyyti, day, [lead, sanna]).get_data(as_text=True)  # warned before saving
    response = _arrange_with(http, lyyti, day, [lead, sanna], confirm_clash="y")
    assert SECRET in http.get(response.headers["Location"]).get_data(as_text=True)
    # Sanna takes part in both meetings: she sees her own meeting's purpose on the new one's page.
    mine = db.session.scalar(sa.select(Meeting).where(Meeting.purpose == "Seuranta"))
    http = app.test_client()
    login(http, sanna)
    assert SECRET in http.get(f"/meetings/{mine.id}").get_data(as_text=True)


def test_the_set_form_of_the_rule_agrees_with_can_open(app, lead, facilitator):
    """openable_among is can_open for many meetings at once: they must never disagree."""
    from meetings import services

    sanna, _client, theirs, _day = _colleague_with_a_meeting()
    ours = make_meeting([facilitator, sanna], client=make_client(worker=facilitator))
    stranger = make_user()
    meetings = [services.load_meeting_page(m.id) for m in (theirs, ours)]
    for user in (lead, facilitator, sanna, stranger):
        openable = services.openable_among(user, [m.id for m in meetings])
        assert {m.id for m in meetings if services.can_open(user, m)} == openable, user.name
    assert services.openable_among(stranger, [theirs.id, ours.id]) == set()
    assert services.openable_among(sanna, [theirs.id, ours.id]) == {theirs.id, ours.id}
