"""Pair safety's taps (issue #25.5): a pair member of a home visit or an outreach visit taps "we are
there" and "we are done" through real forms (CSRF); the rows and the security log reach the
database; anyone else gets 404 and nothing is stored; a second "done" is harmless; forged ids are
404, never 500; a bad margin is refused at the field."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.models import SecurityEvent
from core.db import utcnow
from safety.models import FieldCheck
from tests.factories import login, make_client, make_home_visit, make_outreach_visit, make_user

SAFETY_KINDS = ("safety_arrived", "safety_done", "safety_alerted", "safety_resolved")


@pytest.fixture
def pair(app):
    return make_user(name="Paula Pari", email="paula@example.fi", language="en"), make_user(name="Kalle Kaveri", language="en",
                                                                              email="kalle@example.fi")


@pytest.fixture
def home_visit(app, pair, lead):
    client = make_client(name="Uniikki Asiakas", worker=pair[0])
    return make_home_visit(client=client, worker1=pair[0], worker2=pair[1], starts_at=utcnow() + timedelta(minutes=5))


def checks(fresh_db):
    return fresh_db.scalars(sa.select(FieldCheck).order_by(FieldCheck.id))


def events(fresh_db):
    return [(e.kind, e.user_id, e.actor_id) for e in fresh_db.scalars(
        sa.select(SecurityEvent).where(SecurityEvent.kind.in_(SAFETY_KINDS)).order_by(SecurityEvent.id))]


def test_pair_member_taps_there_and_done_and_a_second_done_changes_nothing(client, fresh_db, pair, lead, home_visit):
    worker, other = pair
    login(client, worker)
    base = f"/safety/home_visit/{home_visit.id}"
    page = client.get(base).get_data(as_text=True)
    assert "We are there" in page and "Uniikki" not in page and "Kotikatu" not in page
    response = client.post_form(f"{base}/arrived", {"margin": "45", "contact": str(lead.id)}, token_from=base)
    assert response.status_code == 302
    [row] = checks(fresh_db)
    assert (row.kind, row.appointment_id, row.outreach_visit_id) == ("home_visit", home_visit.id, None)
    assert row.arrived_at is not None and row.arrived_by_id == worker.id and row.done_at is None
    assert (row.margin_minutes, row.contact_id) == (45, lead.id)
    assert events(fresh_db) == [("safety_arrived", worker.id, worker.id)]
    assert "We are done" in client.get(base).get_data(as_text=True)

    assert client.post_form(f"{base}/done", {}, token_from=base).status_code == 302
    [row] = checks(fresh_db)
    first_done = row.done_at
    assert first_done is not None and row.done_by_id == worker.id

    # The other worker taps "done" too (a reload, a second phone): nothing changes.
    client2 = client.application.test_client()
    login(client2, other)
    assert client2.post_form(f"{base}/done", {}, token_from=base).status_code == 302
    [row] = checks(fresh_db)
    assert (row.done_at, row.done_by_id) == (first_done, worker.id)
    assert events(fresh_db) == [("safety_arrived", worker.id, worker.id), ("safety_done", worker.id, worker.id)]
    assert "The visit has ended" in client2.get(base).get_data(as_text=True)


def test_outreach_pair_member_taps_there(client, fresh_db, pair):
    visit = make_outreach_visit(staff=pair, starts_at=utcnow())
    login(client, pair[1])
    base = f"/safety/outreach/{visit.id}"
    response = client.post_form(f"{base}/arrived", {"margin": "30", "contact": "0"}, token_from=base)
    assert response.status_code == 302
    [row] = checks(fresh_db)
    assert (row.kind, row.outreach_visit_id, row.appointment_id, row.contact_id) == ("outreach", visit.id, None, None)
    assert row.arrived_by_id == pair[1].id


def test_others_get_404_and_nothing_is_stored(app, client, fresh_db, pair, lead, home_visit):
    stranger = make_user(name="Sivullinen", email="sivu@example.fi")
    outreach = make_outreach_visit(staff=pair, starts_at=utcnow())
    office = make_home_visit(client=home_visit.client, worker1=pair[0], starts_at=utcnow(), kind="office")
    for user in (stranger, lead):   # the lead may open the appointment, but is not on the pair
        c = app.test_client()
        login(c, user)
        for url in (f"/safety/home_visit/{home_visit.id}", f"/safety/outreach/{outreach.id}"):
            assert c.get(url).status_code == 404
            assert c.post_form(f"{url}/arrived", {"margin": "30", "contact": "0"}, token_from="/").status_code == 404
            assert c.post_form(f"{url}/done", {}, token_from="/").status_code == 404
    login(client, pair[0])
    # An office appointment has no pair-safety page, even for its worker.
    assert client.get(f"/safety/home_visit/{office.id}").status_code == 404
    assert checks(fresh_db) == [] and events(fresh_db) == []


@pytest.mark.parametrize("url", ["/safety/home_visit/abc", "/safety/home_visit/99999999999999999999999",
                                 "/safety/home_visit/-1", "/safety/outreach/0x10", "/safety/outreach/999999",
                                 "/safety/bogus/1", "/safety/home_visit/%00"])
def test_forged_ids_are_404(client, fresh_db, pair, home_visit, url):
    login(client, pair[0])
    assert client.get(url).status_code == 404
    assert client.post_form(f"{url}/arrived", {"margin": "30", "contact": "0"}, token_from="/").status_code == 404
    assert client.post_form(f"{url}/done", {}, token_from="/").status_code == 404
    assert checks(fresh_db) == []


@pytest.mark.parametrize("check_id", ["abc", "99999999999999999999999", "-1", "424242"])
def test_forged_resolve_ids_are_404(lead_client, check_id):
    assert lead_client.post_form(f"/safety/checks/{check_id}/resolve", {}, token_from="/").status_code == 404


def test_a_bad_margin_or_contact_is_refused_at_the_field(client, fresh_db, pair, lead, home_visit):
    login(client, pair[0])
    base = f"/safety/home_visit/{home_visit.id}"
    for data in ({"margin": "7", "contact": str(lead.id)}, {"margin": "abc", "contact": "0"},
                 {"margin": "30", "contact": str(pair[1].id)},  # the pair is not its own contact
                 {"margin": "30", "contact": "99999"}):
        response = client.post_form(f"{base}/arrived", data, token_from=base)
        assert response.status_code == 200
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert checks(fresh_db) == [] and events(fresh_db) == []


def test_the_visit_page_links_its_pair_to_the_tap_page(app, client, pair, lead, home_visit):
    login(client, pair[1])
    page = client.get(f"/appointments/{home_visit.id}").get_data(as_text=True)
    assert f"/safety/home_visit/{home_visit.id}" in page
    visit = make_outreach_visit(staff=pair, starts_at=utcnow())
    assert f"/safety/outreach/{visit.id}" in client.get(f"/outreach/visits/{visit.id}").get_data(as_text=True)
    # The lead opens the same appointment but is not on the pair: no link.
    c = app.test_client()
    login(c, lead)
    assert "/safety/" not in c.get(f"/appointments/{home_visit.id}").get_data(as_text=True)
