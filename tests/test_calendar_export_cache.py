"""Feed freshness without reading the events: the data counter changes the ETag on every change a
feed shows (and at local midnight), the stored body is served while nothing changed and
re-rendered after a change, unrelated writes leave it alone, and two app instances agree."""
from __future__ import annotations

from datetime import time, timedelta

import icalendar
import pytest
import sqlalchemy as sa

import calendar_export.sources as sources_module
import calendar_export.views as views
from calendar_export import changes, services
from calendar_export.models import CalendarDataVersion, CalendarFeedCache, CalendarSubscription
from calendar_export.sources import Window
from core.db import utcnow
from core.extensions import db
from core.timeutil import local_to_utc, local_today, to_local
from groups.models import GroupPartner, GroupSession
from meetings.models import Meeting, MeetingParticipant
from register.models import PartnerContact
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_partner
from tests.sqlcapture import captured_statements
from tests.test_calendar_export_data import make_group, make_meeting, make_session, soon, subscribe


@pytest.fixture
def renders(monkeypatch):
    """How many times a feed body was rendered (build_feed_ics called)."""
    count = {"n": 0}
    real = views.build_feed_ics

    def counting(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "build_feed_ics", counting)
    return count


@pytest.fixture
def world(app, facilitator, lead):
    from outreach import services as outreach
    from outreach.models import OutreachVisit

    sovatek = make_partner(name="Sovatek-säätiö")
    typ = make_partner(name="TYP")
    client = make_client(name="Matti Meikäläinen")
    money = make_group("Raharyhmä", (facilitator, lead), partners=[sovatek])
    walking = make_group("Liikuntaryhmä", (lead,))
    s1 = make_session(money, 1, soon(7), topic="Budjetti")
    s3 = make_session(walking, 1, soon(8), topic="Kävely")
    meeting = make_meeting(client, soon(3, 10), staff=[facilitator], contacts=sovatek.contacts)
    venue = outreach.save_venue(None, partner_id=sovatek.id, name="Kahvila", address="Kirkkotie 1", active=True)
    starts = soon(12, 10)
    visit = OutreachVisit(venue=venue, starts_at=starts, ends_at=starts + timedelta(hours=2),
                          staff1_id=facilitator.id)
    db.session.add(visit)
    db.session.commit()
    urls = {"partner": subscribe("partner", sovatek.id), "staff": subscribe("staff", facilitator.id),
            "unit": subscribe("unit"), "group": subscribe("group", walking.id)}
    return dict(facilitator=facilitator, lead=lead, sovatek=sovatek, typ=typ, client=client, money=money,
                walking=walking, s1=s1, s3=s3, meeting=meeting, venue=venue, visit=visit, urls=urls)


def fetch(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.status_code
    return response


def events_of(body: bytes) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}


def counter() -> int:
    db.session.expire_all()
    row = db.session.get(CalendarDataVersion, changes.COUNTER)
    return row.value if row else 0


def _count_statements(app, fn) -> list[str]:
    with captured_statements() as seen:
        fn()
    return [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE"))]


# --- served from the store while nothing changes -----------------------------------------------

def test_unchanged_feed_is_served_from_the_store(app, client, world, renders):
    url = world["urls"]["partner"]
    first = fetch(client, url)
    assert renders["n"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarFeedCache)) == 1

    holder = {}
    statements = _count_statements(app, lambda: holder.setdefault("r", fetch(client, url)))
    again = holder["r"]
    assert renders["n"] == 1, "an unchanged feed was rendered again"
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    # The subscription (with its target and the counter), then the stored body: no event tables.
    assert len(statements) == 2, statements
    assert not any("group_session" in s or "FROM meeting" in s or "outreach_visit" in s for s in statements)


def test_conditional_get_is_one_indexed_query_and_writes_nothing(app, client, world, renders):
    url = world["urls"]["partner"]
    etag = fetch(client, url).headers["ETag"]
    holder = {}
    statements = _count_statements(
        app, lambda: holder.setdefault("r", client.get(url, headers={"If-None-Match": etag})))
    assert holder["r"].status_code == 304
    assert len(statements) == 1, statements
    lowered = " ".join(statements).lower()
    assert "count(" not in lowered and "sum(" not in lowered and "max(" not in lowered
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for s in statements)
    assert renders["n"] == 1


def test_subscriptions_of_the_same_feed_share_the_rendered_body(client, world, renders):
    other = subscribe("partner", world["sovatek"].id)
    first = fetch(client, world["urls"]["partner"])
    second = fetch(client, other)
    assert renders["n"] == 1 and second.get_data() == first.get_data()
    assert second.headers["ETag"] == first.headers["ETag"]


# --- every change a feed shows changes the ETag and the body -----------------------------------

def _move_session(w):
    from groups.schedule import update_session

    s1 = db.session.get(GroupSession, w["s1"].id)
    update_session(s1, starts_at=s1.starts_at + timedelta(hours=2), ends_at=s1.ends_at + timedelta(hours=2),
                   topic=s1.topic, room=s1.room, plan_notes="")
    return lambda ev: ev[calendar_uid("session", s1.id)].decoded("DTSTART").astimezone(s1.starts_at.tzinfo) == s1.starts_at


def _rename_group(w):
    w["money"].title = "Rahapaja"
    return lambda ev: str(ev[calendar_uid("session", w['s1'].id)]["SUMMARY"]).startswith("Rahapaja 1/1")


def _cancel_meeting(w):
    from meetings.arranging import cancel_meeting

    cancel_meeting(db.session.get(Meeting, w["meeting"].id), user=w["lead"])
    return lambda ev: str(ev[calendar_uid("meeting", w['meeting'].id)]["STATUS"]) == "CANCELLED"


def _add_partner_to_group(w):
    db.session.add(GroupPartner(group_id=w["walking"].id, partner_id=w["sovatek"].id))
    return lambda ev: calendar_uid("session", w['s3'].id) in ev


def _rename_facilitator(w):
    w["facilitator"].name = "Fiia Uusinimi"
    return lambda ev: "Fiia Uusinimi" in str(ev[calendar_uid("session", w['s1'].id)]["DESCRIPTION"])


def _move_outreach_visit(w):
    from outreach import services as outreach

    visit = w["visit"]
    day = to_local(visit.starts_at).date() + timedelta(days=1)
    outreach.move_visit(visit, day, time(12, 0), time(14, 0))
    return lambda ev: ev[calendar_uid("outreach", visit.id)].decoded("DTSTART").hour == 12


def _outreach_pair(w):
    from outreach import services as outreach

    outreach.assign_pair(w["visit"], w["facilitator"].id, w["lead"].id)
    return lambda ev: "Leo Lead" in str(ev[calendar_uid("outreach", w['visit'].id)]["DESCRIPTION"])


def _rename_venue(w):
    w["venue"].name = "Diakoniakahvila"
    return lambda ev: "Diakoniakahvila" in str(ev[calendar_uid("outreach", w['visit'].id)]["SUMMARY"])


def _contact_moves_to_another_organisation(w):
    contact = db.session.get(PartnerContact, w["sovatek"].contacts[0].id)
    contact.organisation_id = w["typ"].id
    return lambda ev: calendar_uid("meeting", w['meeting'].id) not in ev


def _staff_leaves_meeting(w):
    db.session.execute(sa.delete(MeetingParticipant).where(MeetingParticipant.meeting_id == w["meeting"].id,
                                                          MeetingParticipant.kind == "staff"))
    return lambda ev: "DESCRIPTION" not in ev[calendar_uid("meeting", w['meeting'].id)]


def _bulk_update_topic(w):
    db.session.execute(sa.update(GroupSession).where(GroupSession.id == w["s1"].id).values(topic="Säästäminen"))
    return lambda ev: str(ev[calendar_uid("session", w['s1'].id)]["SUMMARY"]).endswith("Säästäminen")


def _bulk_insert_session(w):
    now = utcnow()
    db.session.execute(sa.insert(GroupSession), [dict(
        group_id=w["money"].id, number=2, starts_at=soon(14), ends_at=soon(14) + timedelta(hours=1), topic="Uusi",
        room="", plan_notes="", status="scheduled", sequence=0, created_at=now, updated_at=now, version=1)])
    # The new session also changes the first one's "1/1" to "1/2".
    return lambda ev: str(ev[calendar_uid("session", w['s1'].id)]["SUMMARY"]).startswith("Raharyhmä 1/2")


def _delete_client(w):
    # The client's meetings go with it inside the database (ON DELETE CASCADE), unseen by the ORM.
    meeting_id = w["meeting"].id
    db.session.delete(db.session.get(type(w["client"]), w["client"].id))
    return lambda ev: calendar_uid("meeting", meeting_id) not in ev


CHANGES = {
    "session time": ("partner", _move_session),
    "group renamed": ("partner", _rename_group),
    "meeting cancelled": ("partner", _cancel_meeting),
    "partner added to a group": ("partner", _add_partner_to_group),
    "facilitator renamed": ("staff", _rename_facilitator),
    "outreach visit moved": ("partner", _move_outreach_visit),
    "outreach pair changed": ("staff", _outreach_pair),
    "outreach venue renamed": ("partner", _rename_venue),
    "contact moves organisation": ("partner", _contact_moves_to_another_organisation),
    "staff removed (bulk delete)": ("unit", _staff_leaves_meeting),
    "session topic (bulk update)": ("unit", _bulk_update_topic),
    "session added (bulk insert)": ("group_money", _bulk_insert_session),
    "client deleted (database cascade)": ("unit", _delete_client),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_changes_the_etag_and_the_body(client, world, renders, change):
    kind, apply = CHANGES[change]
    url = subscribe("group", world["money"].id) if kind == "group_money" else world["urls"][kind]
    before = fetch(client, url)
    assert client.get(url, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    rendered = renders["n"]

    check = apply(world)
    db.session.commit()

    assert client.get(url, headers={"If-None-Match": before.headers["ETag"]}).status_code == 200
    after = fetch(client, url)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert renders["n"] == rendered + 1, "rendered once after the change, then served from the store"
    assert check(events_of(after.get_data())), change
    assert client.get(url, headers={"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_the_etag_changes_when_the_day_rolls_over(client, world, frozen_time, renders):
    # "Today" is tomorrow, so the whole app's clock only moves forward from the world's setup.
    today = local_today() + timedelta(days=1)
    window = Window.for_day(today)
    # Ends just after today's window starts: in today's feed, out of tomorrow's.
    edge = make_session(world["money"], 9, window.start - timedelta(minutes=30), minutes=60, topic="Reuna")
    db.session.commit()
    url = world["urls"]["partner"]

    frozen_time(local_to_utc(today, time(0, 5)))
    morning = fetch(client, url)
    frozen_time(local_to_utc(today, time(23, 55)))
    assert client.get(url, headers={"If-None-Match": morning.headers["ETag"]}).status_code == 304
    evening = fetch(client, url)
    assert evening.headers["ETag"] == morning.headers["ETag"] and renders["n"] == 1
    assert calendar_uid("session", edge.id) in events_of(evening.get_data())

    frozen_time(local_to_utc(today + timedelta(days=1), time(0, 5)))
    assert client.get(url, headers={"If-None-Match": morning.headers["ETag"]}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": morning.headers["Last-Modified"]}).status_code == 200
    tomorrow = fetch(client, url)
    assert tomorrow.headers["ETag"] != morning.headers["ETag"]
    assert calendar_uid("session", edge.id) not in events_of(tomorrow.get_data())


def test_window_edges_are_local_midnights():
    day = local_today()
    window = Window.for_day(day)
    assert Window.around(local_to_utc(day, time(0, 0))) == window == Window.around(local_to_utc(day, time(23, 59)))
    for edge in (window.start, window.end, window.cancelled_since, window.day_start):
        assert to_local(edge).time() == time(0, 0)
    assert window.day_start == local_to_utc(day, time(0, 0))


def test_last_modified_follows_changes(client, world):
    url = world["urls"]["partner"]
    first = fetch(client, url)
    assert client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]}).status_code == 304
    world["money"].title = "Rahapaja"
    db.session.commit()
    db.session.expire_all()
    changed_at = db.session.get(CalendarDataVersion, changes.COUNTER).changed_at
    second = client.get(url, headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert second.status_code == 200
    assert second.last_modified == max(changed_at, Window.around().day_start).replace(microsecond=0)


# --- what does not count -----------------------------------------------------------------------

def test_unrelated_writes_keep_the_counter_and_the_stored_body(client, world, renders):
    from groups.enrolment import enrol
    from register.access import log_access

    url = world["urls"]["partner"]
    first = fetch(client, url)
    value = counter()
    # Polls (last_used_at), new subscriptions, rotation, enrolment and access logs show in no feed.
    db.session.execute(sa.update(CalendarSubscription).values(last_used_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    fetch(client, url)
    subscribe("unit")
    services.rotate(db.session.scalars(sa.select(CalendarSubscription).order_by(CalendarSubscription.id)).all()[-1])
    enrol(world["money"], world["client"].id)
    log_access(world["client"].id, "view", user=world["lead"])
    db.session.commit()
    assert counter() == value
    assert fetch(client, url).headers["ETag"] == first.headers["ETag"] and renders["n"] == 1


def test_a_rolled_back_change_does_not_count(world):
    value = counter()
    world["money"].title = "Ei tallennettu"
    db.session.flush()
    db.session.rollback()
    assert counter() == value


def test_a_change_before_a_rolled_back_savepoint_still_counts(world):
    value = counter()
    world["money"].title = "Tallennettu"
    db.session.flush()
    nested = db.session.begin_nested()
    world["walking"].title = "Peruttu"
    db.session.flush()
    nested.rollback()
    db.session.commit()
    assert counter() == value + 1


def test_counter_row_is_created_when_missing_and_never_goes_back(app, client, world):
    db.session.execute(sa.delete(CalendarDataVersion))
    db.session.commit()
    assert counter() == 0
    assert fetch(client, world["urls"]["partner"]).headers["ETag"]
    world["money"].title = "Uusi"
    db.session.commit()
    assert counter() == 1
    latest = db.session.get(CalendarDataVersion, changes.COUNTER).changed_at
    # A server whose clock is behind raises the value but does not move the time back.
    changes.bump(db.session.connection(), now=latest - timedelta(minutes=5))
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(CalendarDataVersion, changes.COUNTER)
    assert (row.value, row.changed_at) == (2, latest)


def test_concurrent_changes_are_all_counted(app, world):
    """Two transactions raise the counter at once: the second waits for the first (row lock on
    PostgreSQL, the write lock on SQLite) and neither increment is lost."""
    import threading

    value = counter()
    db.session.close()
    engine = db.engine
    done = threading.Event()

    def other_writer():
        with engine.begin() as conn:
            changes.bump(conn)
        done.set()

    with engine.connect() as first:
        first.begin()
        changes.bump(first)
        thread = threading.Thread(target=other_writer)
        thread.start()
        assert not done.wait(0.5), "the second writer did not wait for the first"
        first.commit()
    thread.join(timeout=30)
    assert done.is_set()
    assert counter() == value + 2


def test_one_stored_body_per_subscription_and_none_after_revocation(client, world):
    url = world["urls"]["partner"]
    for title in ("Yksi", "Kaksi", "Kolme"):
        world["money"].title = title
        db.session.commit()
        fetch(client, url)
    rows = db.session.scalars(sa.select(CalendarFeedCache)).all()
    assert len(rows) == 1
    sub = db.session.get(CalendarSubscription, rows[0].subscription_id)
    services.revoke(sub)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarFeedCache)) == 0
    assert client.get(url).status_code == 404


def test_a_source_without_tables_is_asked_for_its_version(app, client, world, monkeypatch):
    """A feature that registers a source without naming its tables still gets fresh feeds."""
    from calendar_export.ical import EventRecord

    state = {"version": 1}

    class Legacy:
        name = "legacy"

        def events(self, scope, window):
            start = soon(20)
            return [EventRecord(uid=f"legacy-{state['version']}@kohtaamo", summary="Vanha", starts_at=start,
                                ends_at=start + timedelta(hours=1), updated_at=start)]

        def version(self, scope, window):
            return (state["version"], None, 0)

    sources_module.register_source(app, Legacy())  # on this test's app only (core.registry)
    url = world["urls"]["unit"]
    first = fetch(client, url)
    state["version"] = 2
    second = fetch(client, url)
    assert second.headers["ETag"] != first.headers["ETag"]
    assert calendar_uid("legacy", 2) in events_of(second.get_data())


# --- two app instances on one database ---------------------------------------------------------

def test_two_app_instances_agree(app, client, world, renders, database_url):
    from tests.conftest import _make_test_app

    other = _make_test_app(database_url)
    try:
        other_client = other.test_client()
        url = world["urls"]["partner"]
        first = fetch(client, url)
        assert other_client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        from_other = other_client.get(url)
        assert from_other.status_code == 200 and from_other.headers["ETag"] == first.headers["ETag"]
        assert from_other.get_data() == first.get_data() and renders["n"] == 1

        # A change made through the other instance is seen by this one.
        with other.app_context():
            db.session.get(type(world["money"]), world["money"].id).title = "Toisen instanssin nimi"
            db.session.commit()
        # A real request starts with an empty session; the test shares its session with the app.
        db.session.close()
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
        changed = fetch(client, url)
        assert "Toisen instanssin nimi" in changed.get_data(as_text=True).replace("\r\n ", "")
        again = other_client.get(url)
        assert again.headers["ETag"] == changed.headers["ETag"] and again.get_data() == changed.get_data()
        assert renders["n"] == 2
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_migrated_database_has_the_counter_row(empty_database_url):
    from flask_migrate import upgrade

    from tests.conftest import _make_test_app

    app = _make_test_app(empty_database_url)
    with app.app_context():
        upgrade()
        row = db.session.get(CalendarDataVersion, changes.COUNTER)
        assert row is not None and row.value >= 1 and row.changed_at is not None
        db.session.remove()
        db.engine.dispose()
