"""Subscribed feeds over HTTP: who sees what, privacy, DST, changes, caching, revocation."""
from __future__ import annotations

import logging
import urllib.request
from datetime import UTC, timedelta

import icalendar
import pytest
import sqlalchemy as sa
from ical.calendar_stream import IcsCalendarStream

from calendar_export.models import CalendarSubscription
from core.db import utcnow
from core.extensions import db
from groups.models import GroupSession
from meetings.models import Meeting
from register.models import AccessLog
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_partner, make_user
from tests.sqlcapture import captured_statements
from tests.test_calendar_export_data import (
    hel,
    make_group,
    make_meeting,
    make_session,
    next_dst_change,
    soon,
    subscribe,
)

CLIENT_NAME = "Matti Meikäläinen"
PURPOSE = "Matin asumisasiat ja velat"
HOME = "Kotikatu 7 B 12"
OTHER_CLIENT = "Liisa Esimerkki"
LINK = "https://meet.example/secret-room-123"


@pytest.fixture
def world(app, facilitator, lead):
    """Two partners, a client, a group co-hosted by Sovatek, meetings for Sovatek and for TYP."""
    other = make_user(name="Olli Other", email="olli@example.fi")
    sovatek = make_partner(name="Sovatek-säätiö")
    typ = make_partner(name="TYP")
    client = make_client(name=CLIENT_NAME)
    client2 = make_client(name=OTHER_CLIENT)
    money = make_group("Raharyhmä", (facilitator, lead), partners=[sovatek])
    other_group = make_group("Liikuntaryhmä", (other, lead))
    s1 = make_session(money, 1, soon(7), topic="Budjetti")
    s2 = make_session(money, 2, soon(14), topic="Kela-etuudet")
    s3 = make_session(other_group, 1, soon(8), topic="Kävely")
    m_sov = make_meeting(client, soon(3, 10), staff=[facilitator], contacts=sovatek.contacts, purpose=PURPOSE,
                         place_kind="home_visit", place=HOME)
    m_typ = make_meeting(client2, soon(4, 12), staff=[other], contacts=typ.contacts, purpose=PURPOSE,
                         place_kind="remote", place="", remote_link=LINK)
    db.session.commit()
    return dict(facilitator=facilitator, lead=lead, other=other, sovatek=sovatek, typ=typ, client=client,
                money=money, other_group=other_group, s1=s1, s2=s2, s3=s3, m_sov=m_sov, m_typ=m_typ)


def get_feed(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    data = response.get_data()
    cal = icalendar.Calendar.from_ical(data)
    other = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    uids = sorted(str(ev["UID"]) for ev in cal.walk("VEVENT"))
    assert sorted(e.uid for e in other.events) == uids
    return response, cal, uids


def uid(row) -> str:
    return calendar_uid('session' if isinstance(row, GroupSession) else 'meeting', row.id)


def test_each_kind_of_feed_holds_its_events(client, world):
    w = world
    expected = {
        ("partner", w["sovatek"].id): [w["s1"], w["s2"], w["m_sov"]],
        ("partner", w["typ"].id): [w["m_typ"]],
        ("staff", w["facilitator"].id): [w["s1"], w["s2"], w["m_sov"]],
        ("staff", w["other"].id): [w["s3"], w["m_typ"]],
        ("group", w["money"].id): [w["s1"], w["s2"]],
        ("unit", None): [w["s1"], w["s2"], w["s3"], w["m_sov"], w["m_typ"]],
    }
    for (kind, target), rows in expected.items():
        _response, cal, uids = get_feed(client, subscribe(kind, target))
        assert uids == sorted(uid(r) for r in rows), (kind, target)
        assert "METHOD" not in cal
        assert str(cal["X-WR-CALNAME"]).startswith("Kohtaamo")


def test_content_is_in_finnish_and_has_no_client_data(client, world):
    w = world
    for kind, target in (("partner", w["sovatek"].id), ("partner", w["typ"].id), ("staff", w["facilitator"].id),
                         ("staff", w["other"].id), ("group", w["money"].id), ("unit", None)):
        text = client.get(subscribe(kind, target)).get_data(as_text=True)
        unfolded = text.replace("\r\n ", "")
        for secret in (CLIENT_NAME, OTHER_CLIENT, "Matti", PURPOSE, HOME, LINK, "secret-room"):
            assert secret not in unfolded, (kind, secret)
    _r, cal, _uids = get_feed(client, subscribe("unit"))
    events = {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}
    session = events[uid(w["s2"])]
    assert session["SUMMARY"] == "Raharyhmä 2/2: Kela-etuudet"
    assert session["LOCATION"] == "Iso sali, Kohtaamo, Kauppakatu 5"
    assert session["DESCRIPTION"] == "Ohjaajat: Fiia Facilitator, Leo Lead"
    home = events[uid(w["m_sov"])]
    assert home["SUMMARY"] == "Verkostopalaveri"
    assert home["LOCATION"] == "Kotikäynti"
    assert home["DESCRIPTION"] == "Työntekijät: Fiia Facilitator"
    remote = events[uid(w["m_typ"])]
    assert remote["LOCATION"] == "Etäpalaveri (linkki on kutsussa)"
    assert cal["X-WR-CALNAME"] == "Kohtaamo: koko yksikkö"


def test_dst_instants_in_a_feed(client, facilitator):
    group = make_group("Raharyhmä", (facilitator,))
    rows = []
    for n, month in enumerate((3, 10)):
        sunday = next_dst_change(month)
        rows.append(make_session(group, 2 * n + 1, hel(sunday - timedelta(days=5), 17)))
        rows.append(make_session(group, 2 * n + 2, hel(sunday + timedelta(days=2), 17)))
    db.session.commit()
    _r, cal, _uids = get_feed(client, subscribe("group", group.id))
    starts = {str(ev["UID"]): ev.decoded("DTSTART") for ev in cal.walk("VEVENT")}
    for row in rows:
        local = starts[uid(row)]
        assert local.hour == 17 and str(local.tzinfo) == "Europe/Helsinki"
        assert local.astimezone(UTC) == row.starts_at
    spring_before, spring_after, autumn_before, autumn_after = (r.starts_at.hour for r in rows)
    assert (spring_before, spring_after, autumn_before, autumn_after) == (15, 14, 14, 15)


def test_window_and_cancellations(client, facilitator):
    group = make_group("Raharyhmä", (facilitator,))
    now = utcnow()
    inside_past = make_session(group, 1, now - timedelta(days=59))
    too_old = make_session(group, 2, now - timedelta(days=61))
    too_far = make_session(group, 3, now + timedelta(days=560))
    cancelled_recently = make_session(group, 4, now + timedelta(days=10), status="cancelled")
    cancelled_long_ago = make_session(group, 5, now + timedelta(days=11), status="cancelled")
    db.session.commit()
    db.session.execute(sa.update(GroupSession).where(GroupSession.id == cancelled_long_ago.id)
                       .values(updated_at=now - timedelta(days=31), sequence=1))
    db.session.execute(sa.update(GroupSession).where(GroupSession.id == cancelled_recently.id)
                       .values(updated_at=now - timedelta(days=29), sequence=1))
    db.session.commit()
    _r, cal, uids = get_feed(client, subscribe("group", group.id))
    assert uids == sorted([uid(inside_past), uid(cancelled_recently)])
    assert uid(too_old) not in uids and uid(too_far) not in uids and uid(cancelled_long_ago) not in uids
    cancelled = [ev for ev in cal.walk("VEVENT") if str(ev["UID"]) == uid(cancelled_recently)][0]
    assert cancelled["STATUS"] == "CANCELLED" and cancelled["SEQUENCE"] == 1


def test_move_raises_sequence_keeps_uid_and_changes_etag(client, world):
    url = subscribe("group", world["money"].id)
    first, cal1, uids1 = get_feed(client, url)
    again, _cal, _u = get_feed(client, url)
    assert again.get_data() == first.get_data()  # unchanged data, identical bytes
    assert again.headers["ETag"] == first.headers["ETag"]

    s1 = db.session.get(GroupSession, world["s1"].id)
    s1.starts_at += timedelta(hours=2)
    s1.ends_at += timedelta(hours=2)
    s1.sequence += 1
    db.session.commit()
    moved, cal2, uids2 = get_feed(client, url)
    assert uids2 == uids1
    assert moved.headers["ETag"] != first.headers["ETag"]
    ev = [e for e in cal2.walk("VEVENT") if str(e["UID"]) == uid(s1)][0]
    assert ev["SEQUENCE"] == 1
    assert ev.decoded("DTSTART").astimezone(UTC) == s1.starts_at
    assert ev.decoded("LAST-MODIFIED") == s1.updated_at.replace(microsecond=0)


def test_conditional_requests_give_304(client, world):
    url = subscribe("partner", world["sovatek"].id)
    first = client.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == etag
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200

    meeting = db.session.get(Meeting, world["m_sov"].id)
    meeting.status = "cancelled"
    meeting.sequence += 1
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    ev = [e for e in icalendar.Calendar.from_ical(changed.get_data()).walk("VEVENT")
          if str(e["UID"]) == uid(meeting)][0]
    assert ev["STATUS"] == "CANCELLED" and ev["SEQUENCE"] == 1


def test_headers(client, world):
    url = subscribe("unit")
    response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Content-Encoding" not in response.headers
    assert response.headers["Cache-Control"].startswith("private, max-age=")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert "Set-Cookie" not in response.headers


def test_unknown_revoked_and_rotated_tokens(client, world):
    from calendar_export import services

    assert client.get("/calendar/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/calendar/short.ics").status_code == 404
    assert client.get("/calendar/" + "a" * 500 + ".ics").status_code == 404
    url = subscribe("partner", world["sovatek"].id)
    sub = db.session.scalar(sa.select(CalendarSubscription))
    new_token = services.rotate(sub)
    db.session.commit()
    assert client.get(url).status_code == 404
    new_url = f"/calendar/{new_token}.ics"
    assert client.get(new_url).status_code == 200
    services.revoke(sub)
    db.session.commit()
    assert client.get(new_url).status_code == 404


def test_feed_of_a_removed_target_is_gone(client, world):
    url = subscribe("group", world["other_group"].id)
    assert client.get(url).status_code == 200
    db.session.delete(db.session.get(type(world["other_group"]), world["other_group"].id))
    db.session.commit()
    assert client.get(url).status_code == 404
    staff_url = subscribe("staff", world["other"].id)
    world["other"].active = False
    db.session.commit()
    assert client.get(staff_url).status_code == 404
    partner_url = subscribe("partner", world["typ"].id)
    world["typ"].active = False
    db.session.commit()
    assert client.get(partner_url).status_code == 404


def test_last_use_is_recorded_but_not_on_every_poll(client, world):
    url = subscribe("partner", world["sovatek"].id)
    sub = db.session.scalar(sa.select(CalendarSubscription))
    assert sub.last_used_at is None
    client.get(url)
    db.session.expire_all()
    first_use = db.session.get(CalendarSubscription, sub.id).last_used_at
    assert first_use is not None and utcnow() - first_use < timedelta(minutes=1)
    client.get(url)
    db.session.expire_all()
    assert db.session.get(CalendarSubscription, sub.id).last_used_at == first_use
    earlier = utcnow() - timedelta(minutes=11)
    db.session.execute(sa.update(CalendarSubscription).values(last_used_at=earlier))
    db.session.commit()
    client.get(url, headers={"If-None-Match": client.get(url).headers["ETag"]})
    db.session.expire_all()
    assert db.session.get(CalendarSubscription, sub.id).last_used_at > earlier + timedelta(minutes=10)


def test_token_never_reaches_the_server_log(world, live_server, caplog):
    url = subscribe("partner", world["sovatek"].id)
    token = url.split("/")[-1][:-4]
    caplog.set_level(logging.INFO)
    with urllib.request.urlopen(live_server.url + url) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(live_server.url + "/calendar/" + "Z" * 43 + ".ics")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/calendar/[redacted]" in logged
    assert token not in logged and "Z" * 43 not in logged


def _bulk_sessions(group, count: int, start):
    now = utcnow()
    db.session.execute(sa.insert(GroupSession), [
        dict(group_id=group.id, number=i + 1, starts_at=start + timedelta(hours=12 * i),
             ends_at=start + timedelta(hours=12 * i, minutes=90), topic=f"Aihe {i + 1}", room="",
             plan_notes="", status="scheduled", sequence=0, created_at=now, updated_at=now, version=1)
        for i in range(count)
    ])
    db.session.commit()


def test_feed_of_a_thousand_events(client, facilitator, lead):
    group = make_group("Iso ryhmä", (facilitator, lead))
    _bulk_sessions(group, 1000, utcnow() - timedelta(days=50))
    response, cal, uids = get_feed(client, subscribe("staff", facilitator.id))
    assert len(uids) == 1000 and len(set(uids)) == 1000
    summaries = {str(ev["SUMMARY"]) for ev in cal.walk("VEVENT")}
    assert "Iso ryhmä 1000/1000: Aihe 1000" in summaries
    assert client.get(subscribe("staff", facilitator.id)).get_data() == response.get_data()


def _count_queries(app, fn) -> int:
    with captured_statements() as seen:
        fn()
    return len([s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"))])


def test_queries_do_not_grow_with_the_events(app, client, facilitator, lead):
    """Both ways a full GET is answered: rendering after a change, and the stored body after that."""
    partner = make_partner(name="Sovatek-säätiö", contacts=2)
    small_group = make_group("Pieni", (facilitator, lead), partners=[partner])
    make_session(small_group, 1, soon(5))
    person = make_client(name="Asiakas Yksi")
    make_meeting(person, soon(6), staff=[facilitator, lead], contacts=partner.contacts)
    db.session.commit()
    url = subscribe("unit")
    client.get(url)  # records the use, so later polls are read-only

    def fetch():
        assert client.get(url).status_code == 200

    def rendered_and_stored():
        small_group.room = small_group.room + "+"  # any change to feed data: the next GET renders
        db.session.commit()
        return _count_queries(app, fetch), _count_queries(app, fetch)

    few = rendered_and_stored()
    for n in range(2, 40):
        g = make_group(f"Ryhmä {n}", (facilitator, make_user()), partners=[partner])
        make_session(g, 1, soon(5 + n))
        make_session(g, 2, soon(6 + n))
        make_meeting(make_client(), soon(6 + n), staff=[facilitator, make_user()], contacts=partner.contacts)
    db.session.commit()
    many = rendered_and_stored()
    assert many == few, (few, many)
    render, stored = few
    assert render <= 12 and stored <= 2, few


def test_single_event_downloads(client, auth_client, world, facilitator):
    w = world
    anonymous = client.application.test_client()
    assert anonymous.get(f"/calendar/session/{w['s1'].id}.ics").status_code == 302

    response = auth_client.get(f"/calendar/session/{w['s1'].id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    cal = icalendar.Calendar.from_ical(response.get_data())
    IcsCalendarStream.calendar_from_ics(response.get_data(as_text=True))
    assert "METHOD" not in cal and str(cal.walk("VEVENT")[0]["UID"]) == uid(w["s1"])

    for bad in ("abc", "0", "-1", "99999", "1e3"):
        assert auth_client.get(f"/calendar/session/{bad}.ics").status_code == 404
        assert auth_client.get(f"/calendar/meeting/{bad}.ics").status_code == 404

    # A meeting the facilitator takes part in: downloadable, logged, no client data in it.
    before = db.session.scalar(sa.select(sa.func.count(AccessLog.id)))
    mine = auth_client.get(f"/calendar/meeting/{w['m_sov'].id}.ics")
    assert mine.status_code == 200
    assert CLIENT_NAME not in mine.get_data(as_text=True) and PURPOSE not in mine.get_data(as_text=True)
    log = db.session.scalars(sa.select(AccessLog).order_by(AccessLog.id.desc())).first()
    assert db.session.scalar(sa.select(sa.func.count(AccessLog.id))) == before + 1
    assert (log.client_id, log.user_id, log.action) == (w["client"].id, facilitator.id, "calendar_download")

    # Another staff member's meeting about a client the facilitator has no reason to see: 404.
    assert auth_client.get(f"/calendar/meeting/{w['m_typ'].id}.ics").status_code == 404


def test_remote_link_only_in_the_download_for_staff_who_take_part(app, world):
    from tests.factories import login

    c = app.test_client()
    login(c, world["other"])
    text = c.get(f"/calendar/meeting/{world['m_typ'].id}.ics").get_data(as_text=True).replace("\r\n ", "")
    assert LINK in text
    assert CLIENT_NAME not in text


def test_token_not_in_the_app_log_when_a_feed_fails(client, world, monkeypatch, caplog):
    import calendar_export.views as views

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(views, "collect_events", broken)
    url = subscribe("unit")
    token = url.split("/")[-1][:-4]
    caplog.set_level(logging.INFO)
    assert client.get(url).status_code == 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Unhandled error on GET /calendar/[redacted].ics" in logged
    assert token not in logged


def test_meeting_download_follows_the_meeting_rule_not_the_client_rule(app, world, facilitator):
    """Working with the client is not enough: only the meeting's own staff (and leads) may
    download it, as only they may open it."""
    from register.services import add_worker

    add_worker(db.session.get(type(world["client"]), world["client"].id), world["other"].id)
    db.session.commit()
    from tests.factories import login

    other = app.test_client()
    login(other, world["other"])
    assert other.get(f"/clients/{world['client'].id}").status_code == 200
    assert other.get(f"/calendar/meeting/{world['m_sov'].id}.ics").status_code == 404
    assert other.get(f"/calendar/meeting/{world['m_typ'].id}.ics").status_code == 200
