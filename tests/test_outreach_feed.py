"""Outreach visits in the calendar feeds: the venue's partner finds its visits (Finnish summary,
venue address, staff pair, Helsinki times), other partners do not; cancelling keeps the event
with STATUS:CANCELLED and a raised SEQUENCE, and changes the ETag."""
from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest

from core.extensions import db
from core.timeutil import HELSINKI, now_utc
from outreach import services
from tests.calendar_uids import calendar_uid
from tests.factories import make_partner, make_user


def subscribe(kind, target_id):
    from calendar_export.services import create_subscription

    _sub, token = create_subscription(kind=kind, target_id=target_id, label="test")
    db.session.commit()
    return f"/calendar/{token}.ics"


def events_of(client, url):
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(response.data)
    return response, {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def setup(app):
    parish = make_partner(name="Jyväskylän seurakunta", kind="parish")
    other = make_partner(name="Sovatek", kind="substance_abuse")
    anna, pekka = make_user(name="Anna Aalto"), make_user(name="Pekka Peltonen")
    venue = services.save_venue(None, partner_id=parish.id, name="Diakoniakahvila", address="Kirkkotie 1, Jyväskylä",
                                active=True)
    from outreach.models import OutreachVisit

    starts = (now_utc() + timedelta(days=12)).replace(minute=0, second=0, microsecond=0)
    visit = OutreachVisit(venue=venue, starts_at=starts, ends_at=starts + timedelta(hours=2), staff1_id=anna.id,
                          staff2_id=pekka.id)
    db.session.add(visit)
    db.session.commit()
    return parish, other, anna, visit


def test_partner_feed_shows_its_venue_visits(client, setup):
    parish, other, anna, visit = setup
    _response, events = events_of(client, subscribe("partner", parish.id))
    event = events[calendar_uid("outreach", visit.id)]
    assert str(event["SUMMARY"]) == "Jalkautuminen: Diakoniakahvila"
    assert str(event["LOCATION"]) == "Kirkkotie 1, Jyväskylä"
    assert "Anna Aalto" in str(event["DESCRIPTION"]) and "Pekka Peltonen" in str(event["DESCRIPTION"])
    assert event["DTSTART"].dt == visit.starts_at.astimezone(HELSINKI)
    assert event["DTSTART"].params["TZID"] == "Europe/Helsinki"
    assert str(event["STATUS"]) == "CONFIRMED"

    _response, other_events = events_of(client, subscribe("partner", other.id))
    assert not any(uid.startswith("outreach-") for uid in other_events)
    _response, staff_events = events_of(client, subscribe("staff", anna.id))
    assert calendar_uid("outreach", visit.id) in staff_events


def test_cancelled_visit_stays_with_raised_sequence_and_new_etag(client, setup):
    parish, _other, _anna, visit = setup
    url = subscribe("partner", parish.id)
    first, _events = events_of(client, url)
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    services.cancel_visit(visit)
    db.session.commit()
    second, events = events_of(client, url)
    assert second.headers["ETag"] != first.headers["ETag"]
    event = events[calendar_uid("outreach", visit.id)]
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1

    # Renaming the venue changes the feed too (summary), even with no visit row touched.
    services.save_venue(visit.venue, partner_id=parish.id, name="Kirkon kahvila", address=visit.venue.address,
                        active=True)
    db.session.commit()
    third, events = events_of(client, url)
    assert third.headers["ETag"] != second.headers["ETag"]
    assert str(events[calendar_uid("outreach", visit.id)]["SUMMARY"]) == "Peruttu: Jalkautuminen: Kirkon kahvila"  # cancelled
