"""Units (issue #23 part 2, #26): an attacker's tests. The lead of unit A tries every kind of record
of unit B by URL and gets 404, and finds none of them in the lists; unit B's own lead, opening the
same URLs, gets the pages (so a 404 here is the rule, not a broken page). A county administrator
manages staff and units but sees no client."""
from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa

from core.extensions import db
from tests.factories import PASSWORD, login, make_group_with_session, make_meeting

B_CLIENT = "Bertta Bee"
B_GROUP = "Itäryhmä"


def staff(email: str, role: str, unit_ids: list[int]):
    from accounts.services import create_staff

    user = create_staff(email=email, name=email.split("@")[0].title(), password=PASSWORD, role=role,
                        unit_ids=unit_ids)
    db.session.commit()
    return user


def signed_in(app, user):
    c = app.test_client()
    login(c, user)
    return c


@pytest.fixture
def world(app):
    """Two units; unit B has a client with a group, a network meeting, an appointment and a unit
    calendar feed; unit A has its own lead and client."""
    from accounts.units import create_unit
    from appointments import services as appointments
    from calendar_export.services import create_subscription
    from core.db import utcnow
    from register.services import create_client

    unit_a = create_unit("Aikuissosiaalityö Keskusta", "keskusta")
    unit_b = create_unit("Aikuissosiaalityö Itä", "ita")
    db.session.commit()
    lead_a = staff("lead.a@example.fi", "lead", [unit_a.id])
    lead_b = staff("lead.b@example.fi", "lead", [unit_b.id])
    worker_b = staff("worker.b@example.fi", "facilitator", [unit_b.id])
    client_a = create_client(name="Aino Aa", created_by=lead_a)
    client_b = create_client(name=B_CLIENT, phone="+358401112233", created_by=worker_b)
    db.session.commit()
    soon = utcnow() + timedelta(days=3)
    group, session = make_group_with_session(facilitator=worker_b, clients=[client_b], starts_at=soon)
    group.title = B_GROUP
    group.unit_id = unit_b.id
    meeting = make_meeting(client=client_b, starts_at=soon + timedelta(days=1), staff=worker_b)
    appointment = appointments.book(client=client_b, kind="office", starts_at=soon + timedelta(days=2),
                                    ends_at=soon + timedelta(days=2, hours=1), worker_ids=[worker_b.id],
                                    created_by=worker_b)
    feed_b, token_b = create_subscription(kind="unit", target_id=None, label="Idän seinäkalenteri", created_by=lead_b)
    db.session.commit()
    return {"unit_a": unit_a.id, "unit_b": unit_b.id, "lead_a": lead_a, "lead_b": lead_b, "worker_b": worker_b,
            "client_a": client_a.id, "client_b": client_b.id, "group": group.id, "session": session.id,
            "meeting": meeting.id, "appointment": appointment.id, "feed_b": feed_b.id, "token_b": token_b}


def record_urls(w) -> list[str]:
    c, g = w["client_b"], w["group"]
    return [
        f"/clients/{c}", f"/clients/{c}/edit", f"/clients/{c}/erase", f"/clients/{c}/copy", f"/clients/{c}/copy.json",
        f"/clients/{c}/access-log",
        f"/groups/{g}", f"/groups/{g}/participants", f"/groups/{g}/edit", f"/groups/{g}/sessions/{w['session']}",
        f"/meetings/{w['meeting']}", f"/meetings/{w['meeting']}/edit",
        f"/appointments/{w['appointment']}",
        f"/calendar/subscriptions/{w['feed_b']}/link", f"/calendar/subscriptions/{w['feed_b']}/rotate",
    ]


def test_unit_b_records_are_not_found_for_unit_a_lead_but_open_for_unit_b_lead(app, world):
    own_lead = signed_in(app, world["lead_b"])
    for url in record_urls(world):
        # The feed's link page shows a new token only once; its "rotate" page is the same check.
        if url.endswith("/link"):
            continue
        assert own_lead.get(url).status_code == 200, url
    attacker = signed_in(app, world["lead_a"])
    for url in record_urls(world):
        response = attacker.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert B_CLIENT not in response.get_data(as_text=True)


def test_unit_a_lead_cannot_change_erase_or_revoke_unit_b_records(app, world, fresh_db):
    from calendar_export.models import CalendarSubscription
    from register.models import Client

    attacker = signed_in(app, world["lead_a"])
    c = world["client_b"]
    edit = attacker.post_form(f"/clients/{c}/edit", {"name": "Muutettu", "language": "fi", "version": "1"},
                              token_from="/clients")
    assert edit.status_code == 404
    erase = attacker.post_form(f"/clients/{c}/erase", {}, token_from="/clients")
    assert erase.status_code == 404
    revoke = attacker.post_form(f"/calendar/subscriptions/{world['feed_b']}/revoke", {},
                                token_from="/calendar/subscriptions")
    assert revoke.status_code == 404
    row = fresh_db.get(Client, c)
    assert row.name == B_CLIENT and row.erased_at is None
    assert fresh_db.get(CalendarSubscription, world["feed_b"]).revoked_at is None


def test_lists_show_nothing_of_unit_b_to_unit_a_lead(app, world):
    attacker = signed_in(app, world["lead_a"])
    own_lead = signed_in(app, world["lead_b"])
    for url, secret in (("/clients", B_CLIENT), ("/groups/", B_GROUP), ("/meetings/", B_CLIENT),
                        ("/calendar/subscriptions", "Idän seinäkalenteri"), ("/meetings/new", B_CLIENT),
                        ("/appointments/new", B_CLIENT),
                        # The start page's exceptions: B's meeting has one worker (pair work is the norm).
                        ("/", f'href="/meetings/{world["meeting"]}"')):
        theirs = own_lead.get(url)
        assert theirs.status_code == 200 and secret in theirs.get_data(as_text=True), url
        mine = attacker.get(url)
        assert mine.status_code == 200, url
        assert secret not in mine.get_data(as_text=True), url
    # Unit A's own client is there: the list works, it is only filtered.
    assert "Aino Aa" in attacker.get("/clients").get_data(as_text=True)


def test_unit_feed_holds_only_its_own_units_events(app, world):
    from calendar_export.services import create_subscription

    _sub, token_a = create_subscription(kind="unit", target_id=None, created_by=world["lead_a"])
    db.session.commit()

    def uids(token):
        response = app.test_client().get(f"/calendar/{token}.ics")
        assert response.status_code == 200
        return {str(ev["UID"]).split("@")[0] for ev in icalendar.Calendar.from_ical(response.get_data()).walk("VEVENT")}

    theirs = {f"session-{world['session']}", f"meeting-{world['meeting']}", f"appointment-{world['appointment']}"}
    assert theirs <= uids(world["token_b"])
    assert not theirs & uids(token_a)


def test_erasure_of_another_units_client_is_404_even_for_a_lead_who_works_with_the_client(app, world, fresh_db):
    """#26: lead A is one of the client's workers (a reason that crosses units: the client page
    opens), but erasure, the data copy and the access log are the client's own unit's leads'."""
    from register.models import Client, ClientWorker

    db.session.add(ClientWorker(client_id=world["client_b"], user_id=world["lead_a"].id))
    db.session.commit()
    attacker = signed_in(app, world["lead_a"])
    c = world["client_b"]
    assert attacker.get(f"/clients/{c}").status_code == 200
    for url in (f"/clients/{c}/erase", f"/clients/{c}/copy", f"/clients/{c}/access-log"):
        assert attacker.get(url).status_code == 404, url
    assert attacker.post_form(f"/clients/{c}/erase", {}, token_from="/clients").status_code == 404
    assert fresh_db.get(Client, c).erased_at is None
    # The client's own lead may (here the page says what still blocks it: the coming group).
    own_lead = signed_in(app, world["lead_b"])
    for url in (f"/clients/{c}/erase", f"/clients/{c}/copy", f"/clients/{c}/access-log"):
        assert own_lead.get(url).status_code == 200, url


def test_feedback_report_counts_only_the_leads_units(app, world):
    from core.timeutil import local_today

    today = local_today()
    query = f"?start={(today - timedelta(days=30)).isoformat()}&end={(today + timedelta(days=30)).isoformat()}"
    attacker = signed_in(app, world["lead_a"])
    own_lead = signed_in(app, world["lead_b"])

    def groups_held(c) -> str:
        body = c.get("/feedback/report.csv" + query)
        assert body.status_code == 200
        # Third line: "Groups held" and its number (core.csvfile's separator).
        return body.get_data(as_text=True).splitlines()[2]

    assert groups_held(own_lead).rstrip()[-1] == "1"   # unit B's group with its session this month
    assert groups_held(attacker).rstrip()[-1] == "0"


def test_county_admin_manages_staff_and_units_but_sees_no_client(app, world, fresh_db):
    from accounts.models import Unit, UnitMembership, User

    admin = staff("hallinto@example.fi", "county_admin", [])
    c = signed_in(app, admin)
    assert c.get(f"/clients/{world['client_b']}").status_code == 404
    assert c.get(f"/clients/{world['client_a']}").status_code == 404
    assert B_CLIENT not in c.get("/clients").get_data(as_text=True)
    assert c.get(f"/groups/{world['group']}").status_code == 404
    assert c.get(f"/meetings/{world['meeting']}").status_code == 404
    listing = c.get("/staff").get_data(as_text=True)
    assert "lead.a@example.fi" in listing and "lead.b@example.fi" in listing
    made = c.post_form("/units/new", {"name": "Aikuissosiaalityö Länsi", "slug": ""}, token_from="/units/new")
    assert made.status_code == 302
    west = fresh_db.scalar(sa.select(Unit).where(Unit.name == "Aikuissosiaalityö Länsi"))
    assert west is not None and west.slug == "aikuissosiaalityo-lansi"
    added = c.post_form("/staff/new", {"name": "Ville Länsi", "email": "ville@example.fi", "role": "lead",
                                       "unit_ids": [str(west.id)], "language": "fi",
                                       "password": "a long enough password"}, token_from="/staff/new")
    assert added.status_code == 302, added.get_data(as_text=True)[-2000:]
    ville = fresh_db.scalar(sa.select(User).where(User.email == "ville@example.fi"))
    assert fresh_db.scalars(sa.select(UnitMembership.unit_id).where(UnitMembership.user_id == ville.id)) == [west.id]


def test_a_lead_manages_only_the_staff_of_the_units_they_lead(app, world, fresh_db):
    from accounts.models import User

    attacker = signed_in(app, world["lead_a"])
    listing = attacker.get("/staff").get_data(as_text=True)
    assert "worker.b@example.fi" not in listing and "lead.a@example.fi" in listing
    assert attacker.get(f"/staff/{world['worker_b'].id}/edit").status_code == 404
    toggle = attacker.post_form(f"/staff/{world['worker_b'].id}/active", {}, token_from="/staff")
    assert toggle.status_code == 404
    assert fresh_db.get(User, world["worker_b"].id).active is True
    # Nor may a lead make a county administrator.
    refused = attacker.post_form("/staff/new", {"name": "X", "email": "x@example.fi", "role": "county_admin",
                                                "unit_ids": [str(world["unit_a"])], "language": "fi",
                                                "password": "a long enough password"}, token_from="/staff/new")
    assert refused.status_code == 200
    assert fresh_db.scalar(sa.select(User).where(User.email == "x@example.fi")) is None


def test_a_new_client_goes_to_the_creators_unit_and_a_two_unit_worker_chooses(app, world, fresh_db):
    from register.models import Client

    worker = signed_in(app, world["worker_b"])
    assert worker.post_form("/clients/new", {"name": "Uusi Asiakas", "language": "fi"},
                            token_from="/clients/new").status_code == 302
    assert fresh_db.scalar(sa.select(Client.unit_id).where(Client.name == "Uusi Asiakas")) == world["unit_b"]

    both = staff("both@example.fi", "facilitator", [world["unit_a"], world["unit_b"]])
    c = signed_in(app, both)
    form = c.get("/clients/new").get_data(as_text=True)
    assert "Aikuissosiaalityö Itä" in form and "Aikuissosiaalityö Keskusta" in form
    assert c.post_form("/clients/new", {"name": "Kahden Yksikön", "language": "fi", "unit_id": str(world["unit_b"])},
                       token_from="/clients/new").status_code == 302
    assert fresh_db.scalar(sa.select(Client.unit_id).where(Client.name == "Kahden Yksikön")) == world["unit_b"]
    # A unit the worker is not in is refused at the field, nothing stored.
    other = staff("only.a@example.fi", "facilitator", [world["unit_a"]])
    staff("also.a@example.fi", "facilitator", [world["unit_a"]])
    c2 = signed_in(app, other)
    response = c2.post_form("/clients/new", {"name": "Väärä Yksikkö", "language": "fi",
                                             "unit_id": str(world["unit_b"])}, token_from="/clients/new")
    assert response.status_code == 302  # one unit: no chooser, the client goes to the worker's unit
    assert fresh_db.scalar(sa.select(Client.unit_id).where(Client.name == "Väärä Yksikkö")) == world["unit_a"]


def test_demo_has_two_units_and_each_lead_sees_their_own_clients(app):
    from core.demo import DEMO_LOGINS, DEMO_PASSWORD, seed_all

    seed_all()
    db.session.commit()
    emails = [email for email, _role in DEMO_LOGINS]
    assert "vastaava.ita@example.fi" in emails and "hallinto@example.fi" in emails
    east, centre, admin = app.test_client(), app.test_client(), app.test_client()
    login(east, "vastaava.ita@example.fi", DEMO_PASSWORD)
    login(centre, "vastaava@example.fi", DEMO_PASSWORD)
    login(admin, "hallinto@example.fi", DEMO_PASSWORD)
    east_list, centre_list = east.get("/clients").get_data(as_text=True), centre.get("/clients").get_data(as_text=True)
    assert "Riikka V." in east_list and "Matti K." not in east_list
    assert "Matti K." in centre_list and "Riikka V." not in centre_list
    assert "Matti K." not in admin.get("/clients").get_data(as_text=True)
    assert "Aikuissosiaalityö Itä" in admin.get("/units").get_data(as_text=True)


def test_start_page_overview_reads_only_the_leads_units(app, world):
    """The lead's overview (workload counts, overdue records, exceptions) is of the units the lead
    leads: unit A's lead does not see that unit B's worker has a roll call to take, how many
    records are overdue in unit B, or unit B's group title with its waiting list. (The overview
    read the whole county and filtered the counts afterwards: unit B's overdue total and group
    title reached unit A's lead, and its cost grew with every unit.)"""
    from core.db import utcnow
    from groups.models import Enrolment, Group
    from register.models import Client
    from register.services import create_client

    worker_b = world["worker_b"]
    waiting = create_client(name="Veera Vee", created_by=worker_b)
    db.session.flush()
    past, _session = make_group_with_session(facilitator=worker_b, clients=[db.session.get(Client, world["client_b"])],
                                             starts_at=utcnow() - timedelta(days=10))
    past.unit_id = world["unit_b"]
    group = db.session.get(Group, world["group"])
    group.capacity = 5
    group.status = "enrolling"
    db.session.add(Enrolment(group_id=group.id, client_id=waiting.id, status="waiting"))
    db.session.commit()

    theirs = signed_in(app, world["lead_b"]).get("/").get_data(as_text=True)
    overview = theirs[theirs.index('id="unit-heading"'):]
    # B's own lead sees the waiting list and worker B's open record (so their absence below is the rule).
    assert B_GROUP in overview and worker_b.name in overview

    mine = signed_in(app, world["lead_a"]).get("/")
    assert mine.status_code == 200
    html = mine.get_data(as_text=True)
    assert 'id="unit-heading"' in html
    assert B_GROUP not in html
    assert worker_b.name not in html


def test_start_page_exceptions_of_pair_work_are_the_leads_units_only(app, world):
    """A home visit booked alone and a network meeting with one worker in the next two weeks are
    exceptions for the lead of the client's unit, and for no other lead."""
    from appointments import services as appointments
    from core.db import utcnow
    from register.models import Client

    soon = utcnow() + timedelta(days=4)
    alone = appointments.book(client=db.session.get(Client, world["client_b"]),
                              kind="home_visit", starts_at=soon, ends_at=soon + timedelta(hours=1),
                              worker_ids=[world["worker_b"].id], created_by=world["worker_b"])
    db.session.commit()
    links = (f'href="/appointments/{alone.id}"', f'href="/meetings/{world["meeting"]}"')
    theirs = signed_in(app, world["lead_b"]).get("/").get_data(as_text=True)
    unit_part = theirs[theirs.index('id="unit-heading"'):]
    assert all(link in unit_part for link in links)
    mine = signed_in(app, world["lead_a"]).get("/").get_data(as_text=True)
    assert 'id="unit-heading"' in mine
    assert not any(link in mine for link in links)


def test_staff_choosers_on_the_group_pages_list_the_users_units(app, world):
    """The group list's facilitator filter and the group form's facilitator choosers offer the
    staff of the user's own units (they listed every staff member of the county), and a group
    whose facilitator is from another unit keeps them when edited."""
    from groups.models import Group

    worker_b = world["worker_b"]
    lead_a = signed_in(app, world["lead_a"])
    for url in ("/groups/", "/groups/new"):
        page = lead_a.get(url).get_data(as_text=True)
        assert world["lead_a"].name in page, url  # the chooser is there, with the user's own unit
        assert worker_b.name not in page, url
    theirs = signed_in(app, world["lead_b"]).get("/groups/").get_data(as_text=True)
    assert f'<option value="{worker_b.id}"' in theirs

    # A unit-A group co-facilitated by unit B's worker: the edit form keeps them.
    shared = Group(title="Yhteinen ryhmä", status="planning", facilitator1_id=world["lead_a"].id,
                   facilitator2_id=worker_b.id, unit_id=world["unit_a"])
    db.session.add(shared)
    db.session.commit()
    form = lead_a.get(f"/groups/{shared.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{worker_b.id}"' in form or f'<option value="{worker_b.id}" selected' in form
