"""Security finding #20.7: a partner feed made by a facilitator holds only the network meetings that
facilitator may open (the meetings' own rule, ``meetings.services.can_open``), decided at fetch
time from the feed's creator; only a lead (or the operator's command line) makes a partner's full
feed. Written as an attacker: a facilitator outside the meeting makes a feed and fetches it."""
from __future__ import annotations

import re

import icalendar
import pytest
import sqlalchemy as sa

from calendar_export.models import CalendarSubscription
from core.extensions import db
from tests.calendar_uids import calendar_uid
from tests.factories import login, make_client, make_partner, make_user
from tests.test_calendar_export_data import make_meeting, soon, subscribe

FEED_RE = re.compile(r'value="http://localhost(/calendar/[A-Za-z0-9_\-]{43}\.ics)"')


def uids(body: bytes) -> set[str]:
    return {str(e["UID"]) for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}


@pytest.fixture
def scene(app, facilitator, lead):
    partner = make_partner(name="Sovatek-säätiö")
    outsider = make_user(name="Olli Outsider", email="olli@example.fi")
    client = make_client(name="Matti Meikäläinen")
    meeting = make_meeting(client, soon(3, 10), staff=[facilitator], contacts=partner.contacts,
                           place="Sovatek, Kauppakatu 2")
    db.session.commit()
    return dict(partner=partner, outsider=outsider, meeting=meeting, facilitator=facilitator, lead=lead)


def test_a_facilitator_outside_the_meeting_cannot_see_it_through_a_partner_feed(client, scene):
    # The attacker uses the app as any facilitator can: the form, then the link it shows once.
    login(client, scene["outsider"])
    response = client.post_form("/calendar/subscriptions/new",
                                {"kind": "partner", "partner_id": str(scene["partner"].id), "label": ""},
                                token_from="/calendar/subscriptions/new")
    assert response.status_code == 302
    path = FEED_RE.search(client.get(response.headers["Location"]).get_data(as_text=True)).group(1)
    client.get("/logout")

    body = client.get(path).get_data()
    assert calendar_uid("meeting", scene['meeting'].id) not in uids(body)
    unfolded = body.replace(b"\r\n ", b"")
    assert b"Sovatek, Kauppakatu 2" not in unfolded
    assert scene["facilitator"].name.encode() not in unfolded


def test_the_meetings_own_staff_and_leads_see_it(client, scene):
    meeting_uid = calendar_uid("meeting", scene['meeting'].id)
    own = subscribe("partner", scene["partner"].id, created_by=scene["facilitator"])
    full = subscribe("partner", scene["partner"].id, created_by=scene["lead"])
    operator = subscribe("partner", scene["partner"].id)  # flask calendar create: no creator
    for path in (own, full, operator):
        assert meeting_uid in uids(client.get(path).get_data()), path


def test_the_scope_follows_the_creator_at_fetch_time(client, scene):
    """A feed made by a lead narrows when the lead becomes a facilitator, and a feed whose creator
    was deactivated shows no meetings at all; the ETag changes with it, so no 304 keeps an old body."""
    meeting_uid = calendar_uid("meeting", scene['meeting'].id)
    lead = scene["lead"]
    path = subscribe("partner", scene["partner"].id, created_by=lead)
    first = client.get(path)
    assert meeting_uid in uids(first.get_data())

    lead.role = "facilitator"
    db.session.commit()
    demoted = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert demoted.status_code == 200 and meeting_uid not in uids(demoted.get_data())

    # Joining the meeting gives the access back, as on the meeting page.
    from meetings.models import MeetingParticipant

    db.session.add(MeetingParticipant(meeting_id=scene["meeting"].id, kind="staff", user_id=lead.id))
    db.session.commit()
    assert meeting_uid in uids(client.get(path).get_data())

    lead.active = False
    db.session.commit()
    assert meeting_uid not in uids(client.get(path).get_data())


def test_the_form_says_a_facilitators_partner_feed_holds_only_their_meetings(auth_client, scene):
    scene["facilitator"].language = "en"
    db.session.commit()
    html = auth_client.get("/calendar/subscriptions/new").get_data(as_text=True)
    assert "only the network meetings you take part in" in html


def test_existing_facilitator_feeds_are_narrowed_too(client, scene):
    """A feed made before the fix (same row, same token) is scoped at fetch time, not at creation."""
    path = subscribe("partner", scene["partner"].id, created_by=scene["outsider"])
    sub = db.session.scalars(sa.select(CalendarSubscription)).one()
    assert sub.created_by_id == scene["outsider"].id
    assert calendar_uid("meeting", scene['meeting'].id) not in uids(client.get(path).get_data())
