"""The venue's calendar feed (#25.3): the address printed on the poster plus /calendar.ics gives
the venue's visits as the partner feeds give them (same source, same iCalendar writer), read here
by six independent readers (tests/ical_readers: ical.js, node-ical, libical, vobject, icalendar,
recurring-ical-events) at the right instants. It names no staff member and no client, holds no
other venue's visits, and an unknown token is a 404."""
from __future__ import annotations

from datetime import timedelta

from core.extensions import db
from core.timeutil import now_utc
from outreach import services
from outreach.models import OutreachVenue, OutreachVisit
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_partner, make_user
from tests.ical_readers.readers import disagreements, read_all


def test_venue_feed_is_read_alike_by_independent_readers_and_names_no_one(app):
    parish = make_partner(name="Jyväskylän seurakunta", kind="parish")
    anna, pekka = make_user(name="Anna Aalto"), make_user(name="Pekka Peltonen")
    make_client(name="Kaisa Koskinen")
    venue = services.save_venue(None, partner_id=parish.id, name="Diakoniakahvila", address="Kirkkotie 1", active=True)
    other = services.save_venue(None, partner_id=parish.id, name="Työpaja Verstas", address="", active=True)
    # One visit in summer time, one in winter time (the VTIMEZONE must be read right).
    base = now_utc().replace(minute=0, second=0, microsecond=0)
    visits = []
    for days in (10, 190):
        start = base + timedelta(days=days)
        visits.append(OutreachVisit(venue=venue, starts_at=start, ends_at=start + timedelta(hours=2),
                                    staff1_id=anna.id, staff2_id=pekka.id))
    elsewhere = OutreachVisit(venue=other, starts_at=base + timedelta(days=11), ends_at=base + timedelta(days=11, hours=1))
    db.session.add_all([*visits, elsewhere])
    db.session.commit()
    token = db.session.get(OutreachVenue, venue.id).public_token

    client = app.test_client()   # nobody signed in: the poster's readers
    response = client.get(f"/outreach/v/{token}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.data
    for name in (b"Anna", b"Pekka", b"Aalto", b"Kaisa", b"Koskinen", b"Verstas"):
        assert name not in body, name
    expected = {"venue": {calendar_uid("outreach", v.id): (v.starts_at, v.ends_at, "Jalkautuminen: Diakoniakahvila")
                          for v in visits}}
    readings = read_all({"venue": body})
    assert disagreements(readings, expected) == []
    assert client.get("/outreach/v/nope/calendar.ics").status_code == 404


def test_the_public_token_never_reaches_the_logs():
    from core.logging import redact

    token = "Zq3v0cD-x_Yk2mN8pQ4rT1"
    for path in (f"/outreach/v/{token}", f"/outreach/v/{token}/calendar.ics", f"/outreach/v/{token}?lang=sv"):
        assert token not in redact(f"GET {path} 200"), path
