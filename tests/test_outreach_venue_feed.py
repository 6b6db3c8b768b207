"""The venue's calendar feed (#25.3) as a revocable calendar subscription: a staff member makes a
calendar link on the venue's page (a CalendarSubscription, its token in the URL, only its hash
stored, shown once on the calendar link page as every new link is), and the calendar feeds' own
route serves the venue's visits as the partner feeds give them (same source, same iCalendar
writer), read here by six independent readers (tests/ical_readers: ical.js, node-ical, libical,
vobject, icalendar, recurring-ical-events) at the right instants. It names no staff member and no
client and holds no other venue's visits. Revoked on the venue's page (recorded: who made it,
when it was last used, when it was revoked), the link is a 404 as a revoked partner feed is; a
venue no longer visited has no feed; another unit's staff cannot revoke it; the old address
under the venue's page token (which could not be revoked) is 410 Gone."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from calendar_export.models import CalendarSubscription
from core.extensions import db
from core.timeutil import now_utc
from outreach import services
from outreach.models import OutreachVenue, OutreachVisit
from tests.calendar_uids import calendar_uid
from tests.factories import login, make_client, make_partner, make_user
from tests.ical_readers.readers import disagreements, read_all

FEED_URL_RE = re.compile(r'id="feed-url"[^>]*value="https?://[^/"]+(/calendar/[^"]+\.ics)"')


def venue_with_visits():
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
    return venue.id, visits


def make_link(staff_client, venue_id, label="Kahvilan seinäkalenteri") -> str:
    response = staff_client.post_form(f"/outreach/venues/{venue_id}/calendar-links", {"label": label},
                                      token_from=f"/outreach/venues/{venue_id}")
    assert response.status_code == 302, response.status_code
    page = staff_client.get(response.location).get_data(as_text=True)
    match = FEED_URL_RE.search(page)
    assert match, page[:3000]
    return match.group(1)


def test_venue_feed_is_a_subscription_read_alike_by_independent_readers_and_naming_no_one(app, fresh_db):
    venue_id, visits = venue_with_visits()
    worker = make_user(name="Ville Vastaava")
    staff_client = app.test_client()
    login(staff_client, worker)
    path = make_link(staff_client, venue_id)
    token = path.split("/")[2][:-4]
    # A calendar subscription of the venue, only the token's hash stored, made by the worker.
    sub = fresh_db.scalar(sa.select(CalendarSubscription))
    assert (sub.kind, sub.target_id, sub.created_by_id, sub.label) == ("outreach_venue", venue_id, worker.id,
                                                                       "Kahvilan seinäkalenteri")
    assert token not in sub.token_hash and sub.revoked_at is None

    reader = app.test_client()   # nobody signed in: the calendar app
    response = reader.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.data
    for name in (b"Anna", b"Pekka", b"Aalto", b"Kaisa", b"Koskinen", b"Verstas", b"Ville"):
        assert name not in body, name
    expected = {"venue": {calendar_uid("outreach", v.id): (v.starts_at, v.ends_at, "Jalkautuminen: Diakoniakahvila")
                          for v in visits}}
    readings = read_all({"venue": body})
    assert disagreements(readings, expected) == []
    assert "Kohtaamo: Diakoniakahvila" in {n for r in readings["venue"].values() for n in r.get("names", ())}
    # Its use is recorded, as a partner feed's is.
    assert fresh_db.get(CalendarSubscription, sub.id).last_used_at is not None
    # The venue's page lists the link; the subscriptions page names the venue.
    venue_page = staff_client.get(f"/outreach/venues/{venue_id}").get_data(as_text=True)
    assert "Kahvilan seinäkalenteri" in venue_page
    assert "Diakoniakahvila" in staff_client.get("/calendar/subscriptions").get_data(as_text=True)


def test_venue_feed_revoked_on_the_venue_page_is_gone_and_the_old_address_is_410(app, fresh_db):
    venue_id, _visits = venue_with_visits()
    worker = make_user(name="Ville Vastaava")
    staff_client = app.test_client()
    login(staff_client, worker)
    path = make_link(staff_client, venue_id)
    keep = make_link(staff_client, venue_id, label="Toinen")
    reader = app.test_client()
    assert reader.get(path).status_code == 200
    sub = fresh_db.scalar(sa.select(CalendarSubscription).where(CalendarSubscription.label != "Toinen"))
    revoked = staff_client.post_form(f"/outreach/venues/{venue_id}/calendar-links/{sub.id}/revoke", {},
                                     token_from=f"/outreach/venues/{venue_id}")
    assert revoked.status_code == 302
    assert fresh_db.get(CalendarSubscription, sub.id).revoked_at is not None
    assert reader.get(path).status_code == 404
    assert reader.get(path.replace(".ics", "/subscribe")).status_code == 404
    assert reader.get(keep).status_code == 200   # only that link was revoked
    # A subscription of another kind or venue cannot be revoked through this venue's page.
    other = fresh_db.scalar(sa.select(CalendarSubscription).where(CalendarSubscription.label == "Toinen"))
    other_venue = services.save_venue(None, partner_id=make_partner().id, name="Muu", address="", active=True)
    db.session.commit()
    wrong = staff_client.post_form(f"/outreach/venues/{other_venue.id}/calendar-links/{other.id}/revoke", {},
                                   token_from=f"/outreach/venues/{venue_id}")
    assert wrong.status_code == 404
    assert fresh_db.get(CalendarSubscription, other.id).revoked_at is None
    # A venue no longer visited has no feed.
    venue = db.session.get(OutreachVenue, venue_id)
    services.save_venue(venue, partner_id=venue.partner_id, name=venue.name, address=venue.address, active=False)
    db.session.commit()
    assert reader.get(keep).status_code == 404
    # The old address under the venue's page token could not be revoked: it is gone for good.
    token = db.session.get(OutreachVenue, venue_id).public_token
    gone = reader.get(f"/outreach/v/{token}/calendar.ics")
    assert gone.status_code == 410 and b"BEGIN:VCALENDAR" not in gone.data
    assert b"calendar.ics" not in reader.get(f"/outreach/v/{token}").data


def test_another_units_staff_cannot_make_or_revoke_a_venues_calendar_link(app, fresh_db):
    from accounts.services import create_staff
    from accounts.units import create_unit

    unit_a, unit_b = create_unit("Keskusta", "keskusta"), create_unit("Itä", "ita")
    db.session.commit()
    owner = create_staff(email="b@example.fi", name="Bee", password="correct horse battery", unit_ids=[unit_b.id])
    stranger = create_staff(email="a@example.fi", name="Aa", password="correct horse battery", unit_ids=[unit_a.id])
    db.session.commit()
    venue_id, _visits = venue_with_visits()
    db.session.get(OutreachVenue, venue_id).unit_id = unit_b.id
    db.session.commit()
    owner_client, stranger_client = app.test_client(), app.test_client()
    login(owner_client, owner)
    login(stranger_client, stranger)
    make_link(owner_client, venue_id)
    sub = fresh_db.scalar(sa.select(CalendarSubscription))
    made = stranger_client.post_form(f"/outreach/venues/{venue_id}/calendar-links", {"label": "x"},
                                     token_from="/outreach/venues")
    revoke = stranger_client.post_form(f"/outreach/venues/{venue_id}/calendar-links/{sub.id}/revoke", {},
                                       token_from="/outreach/venues")
    assert (made.status_code, revoke.status_code) == (404, 404)
    assert fresh_db.scalar(sa.select(sa.func.count(CalendarSubscription.id))) == 1
    assert fresh_db.get(CalendarSubscription, sub.id).revoked_at is None


def test_a_too_long_link_name_comes_back_at_the_field(app, fresh_db):
    venue_id, _visits = venue_with_visits()
    staff_client = app.test_client()
    login(staff_client, make_user())
    response = staff_client.post_form(f"/outreach/venues/{venue_id}/calendar-links", {"label": "x" * 121},
                                      token_from=f"/outreach/venues/{venue_id}")
    assert response.status_code == 200
    assert 'id="label-error"' in response.get_data(as_text=True)
    assert fresh_db.scalar(sa.select(sa.func.count(CalendarSubscription.id))) == 0


def test_the_public_token_never_reaches_the_logs():
    from core.logging import redact

    token = "Zq3v0cD-x_Yk2mN8pQ4rT1"
    for path in (f"/outreach/v/{token}", f"/outreach/v/{token}/calendar.ics", f"/outreach/v/{token}?lang=sv"):
        assert token not in redact(f"GET {path} 200"), path


def test_a_deleted_venue_takes_its_calendar_links_along(app, fresh_db):
    from calendar_export.services import create_subscription

    venue_id, _visits = venue_with_visits()
    create_subscription(kind="outreach_venue", target_id=venue_id, label="", created_by=None)
    db.session.commit()
    db.session.delete(db.session.get(OutreachVenue, venue_id))
    db.session.commit()
    assert fresh_db.scalar(sa.select(sa.func.count(CalendarSubscription.id))) == 0


def test_the_venue_page_has_one_calendar_links_section_and_a_plain_title(app):
    """The calendar-links section was pasted into the page's title block too: the browser tab and
    a screen reader's page name read a whole form's markup as text."""
    from bs4 import BeautifulSoup

    venue_id, _visits = venue_with_visits()
    staff_client = app.test_client()
    login(staff_client, make_user(name="Ville Vastaava"))
    page = BeautifulSoup(staff_client.get(f"/outreach/venues/{venue_id}").get_data(as_text=True), "html.parser")
    title = page.title.get_text()
    assert title.startswith("Diakoniakahvila") and "<" not in title and "feeds-heading" not in title, title
    assert len(page.select("#feeds-heading")) == 1
