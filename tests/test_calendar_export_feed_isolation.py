"""Each feed changes only when its own content does: a change to a record another feed shows (the
unit-wide data counter moves) leaves this feed's ETag, Last-Modified and bytes as they were, and a
poll with the old ETag still gets 304; a change to its own content gives a new ETag and a 200. For
every kind of feed: staff, group, partner, unit, and a partner's outreach venue."""
from __future__ import annotations

from datetime import time, timedelta

import pytest

from calendar_export import changes
from calendar_export.models import CalendarDataVersion
from core.extensions import db
from core.timeutil import to_local
from groups.models import GroupSession
from meetings.models import Meeting
from outreach.models import OutreachVisit
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_partner, make_user
from tests.test_calendar_export_data import make_group, make_meeting, make_session, soon, subscribe


@pytest.fixture
def world(app, facilitator, lead):
    from outreach import services as outreach

    sovatek = make_partner(name="Sovatek-säätiö")
    typ = make_partner(name="TYP")
    other = make_user(name="Outi Other")
    client = make_client(name="Matti Meikäläinen")
    money = make_group("Raharyhmä", (facilitator,), partners=[sovatek])
    walking = make_group("Liikuntaryhmä", (lead,))
    s1 = make_session(money, 1, soon(7), topic="Budjetti")
    s3 = make_session(walking, 1, soon(8), topic="Kävely")
    meeting = make_meeting(client, soon(3, 10), staff=[facilitator], contacts=sovatek.contacts)
    typ_meeting = make_meeting(client, soon(4, 10), staff=[other], contacts=typ.contacts)
    # Beyond every feed's window (18 months ahead): in no feed's bytes, though in the unit's scope.
    far_meeting = make_meeting(client, soon(700, 10), staff=[facilitator], contacts=sovatek.contacts)
    cafe = outreach.save_venue(None, partner_id=sovatek.id, name="Kahvila", address="Kirkkotie 1", active=True)
    hall = outreach.save_venue(None, partner_id=typ.id, name="TYP-talo", address="Väinönkatu 7", active=True)
    visits = {}
    for venue, staff, days in ((cafe, facilitator, 12), (hall, other, 13)):
        starts = soon(days, 10)
        visits[venue.name] = OutreachVisit(venue=venue, starts_at=starts, ends_at=starts + timedelta(hours=2),
                                           staff1_id=staff.id)
        db.session.add(visits[venue.name])
    db.session.commit()
    return dict(facilitator=facilitator, lead=lead, other=other, sovatek=sovatek, typ=typ, client=client,
                money=money, walking=walking, s1=s1, s3=s3, meeting=meeting, typ_meeting=typ_meeting,
                far_meeting=far_meeting,
                cafe_visit=visits["Kahvila"], hall_visit=visits["TYP-talo"])


def _topic(key, text):
    def apply(w):
        db.session.get(GroupSession, w[key].id).topic = text
    return apply


def _meeting_place(key, place):
    def apply(w):
        db.session.get(Meeting, w[key].id).place = place
    return apply


def _move_visit(key):
    def apply(w):
        from outreach import services as outreach

        visit = db.session.get(OutreachVisit, w[key].id)
        outreach.move_visit(visit, to_local(visit.starts_at).date() + timedelta(days=1), time(12, 0), time(14, 0))
    return apply


def _rename(key, name):
    def apply(w):
        w[key].name = name
    return apply


FEEDS = {
    # feed: (how to subscribe, a change elsewhere, a change of its own content)
    "group": (lambda w: subscribe("group", w["walking"].id), _topic("s1", "Säästäminen"), _topic("s3", "Sauvakävely")),
    "group, a staff member it does not show renamed": (
        lambda w: subscribe("group", w["walking"].id), _rename("other", "Outi Uusi"), _rename("lead", "Leo Uusi")),
    "staff": (lambda w: subscribe("staff", w["facilitator"].id, created_by=w["facilitator"]),
              _topic("s3", "Sauvakävely"), _topic("s1", "Säästäminen")),
    "partner": (lambda w: subscribe("partner", w["sovatek"].id, created_by=w["lead"]),
                _meeting_place("typ_meeting", "TYP, huone 2"), _meeting_place("meeting", "Sovatek, huone 5")),
    "unit": (lambda w: subscribe("unit", created_by=w["lead"]), _meeting_place("far_meeting", "Sovatek, huone 9"),
             _meeting_place("meeting", "Sovatek, huone 5")),
    "outreach venue (partner)": (lambda w: subscribe("partner", w["typ"].id, created_by=w["lead"]),
                                 _move_visit("cafe_visit"), _move_visit("hall_visit")),
}


def counter() -> int:
    db.session.expire_all()
    row = db.session.get(CalendarDataVersion, changes.COUNTER)
    return row.value if row else 0


def fetch(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    return response


@pytest.mark.parametrize("feed", list(FEEDS))
def test_a_feed_changes_only_with_its_own_content(client, world, feed):
    make_url, elsewhere, own = FEEDS[feed]
    url = make_url(world)
    before = fetch(client, url)
    etag = before.headers["ETag"]

    value = counter()
    elsewhere(world)
    db.session.commit()
    assert counter() > value, "the change elsewhere must be one the feeds watch, or this proves nothing"

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    again = fetch(client, url)
    assert again.headers["ETag"] == etag
    assert again.headers["Last-Modified"] == before.headers["Last-Modified"]
    assert again.get_data() == before.get_data()
    # And when the early answer (calendar_export.fastpath) has the new state stored.
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    own(world)
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag and changed.get_data() != before.get_data()
    assert client.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_feeds_of_the_same_partner_by_different_creators_do_not_share_bodies(client, world):
    """The stored body is keyed by the feed's scope, creator included (#20.7): a facilitator's
    narrower feed is never served a lead's fuller body."""
    full = fetch(client, subscribe("partner", world["sovatek"].id, created_by=world["lead"])).get_data()
    narrow = fetch(client, subscribe("partner", world["sovatek"].id, created_by=world["other"])).get_data()
    meeting_uid = calendar_uid("meeting", world['meeting'].id).encode()
    assert meeting_uid in full and meeting_uid not in narrow
