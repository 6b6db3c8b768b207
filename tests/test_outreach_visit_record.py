"""What an outreach visit records (#25.1), still without names: people new and known, one to one
and in a group, the unit's topics, errands sorted and referred, staff advised, a queue, a note
checked for names and identifiers (warning, save anyway), and a visit that did not take place.
Counts that do not add up are refused with the reason and the input kept. Every assertion on
what was stored reads through ``fresh_db`` (committed rows only)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import now_utc
from outreach import report, services
from outreach.models import OutreachVisit, VisitReport
from outreach.notecheck import identifying_bits
from tests.test_outreach_visits import make_venue, make_visit

FULL = {"version": "0", "held": "yes", "not_held_reason": "", "people_met": "8", "people_new": "3",
        "met_one_to_one": "5", "met_in_group": "4", "topic_money": "2", "topic_housing": "1", "topic_benefits": "3",
        "topic_work": "1", "topic_health": "0", "topic_substance": "1", "topic_loneliness": "2", "topic_other": "0",
        "errands_sorted": "3", "referred_office": "1", "referred_kela": "2", "guided_onward": "1",
        "appointments_booked": "1", "staff_advised": "2", "queue": "y",
        "note": "Kahvilan väki kysyi Kelan lomakkeista. Jonoa oli puolisen tuntia."}


@pytest.fixture(autouse=True)
def english(facilitator, lead):
    facilitator.language = lead.language = "en"
    db.session.commit()


@pytest.fixture
def past_visit():
    return make_visit(make_venue(), now_utc() - timedelta(hours=3))


def stored(fresh_db, visit_id):
    return fresh_db.scalar(sa.select(VisitReport).where(VisitReport.visit_id == visit_id))


def test_a_visit_records_everything_the_seeds_describe(auth_client, past_visit, fresh_db):
    url = f"/outreach/visits/{past_visit.id}/counts"
    response = auth_client.post_form(url, FULL, token_from=url)
    assert response.status_code == 302
    r = stored(fresh_db, past_visit.id)
    assert (r.people_met, r.people_new, r.met_one_to_one, r.met_in_group) == (8, 3, 5, 4)
    assert [getattr(r, f"topic_{t}") for t in ("money", "housing", "benefits", "work", "health", "substance",
                                                "loneliness", "other")] == [2, 1, 3, 1, 0, 1, 2, 0]
    assert (r.errands_sorted, r.referred_office, r.referred_kela, r.guided_onward) == (3, 1, 2, 1)
    assert (r.appointments_booked, r.staff_advised, r.queue, r.held) == (1, 2, True, True)
    assert r.note == FULL["note"] and r.not_held_reason == ""
    # The report counts every referral (office, Kela, partner) as guided onward.
    stats = report.figures(services.report_months(now_utc().date(), 1))
    assert [(s["people_met"], s["referred"], s["topic_loneliness"]) for s in stats.values()] == [(8, 4, 2)]


@pytest.mark.parametrize("changes, field, reason", [
    ({"people_new": "9"}, "people_new", "cannot be more than the people met (8)"),
    ({"met_one_to_one": "9"}, "met_one_to_one", "cannot be more than the people met (8)"),
    ({"met_one_to_one": "3", "met_in_group": "2"}, "met_in_group", "at least the people met (8)"),
    ({"topic_substance": "12"}, "topic_substance", "cannot be more than the people met (8)"),
    ({"referred_kela": "10"}, "referred_kela", "cannot be more than the people met (8)"),
    ({"errands_sorted": "-1"}, "errands_sorted", "cannot be below zero"),
    ({"staff_advised": "lots"}, "staff_advised", "Enter a number"),
])
def test_counts_that_do_not_add_up_are_refused_with_the_reason(auth_client, past_visit, fresh_db, changes, field,
                                                               reason):
    url = f"/outreach/visits/{past_visit.id}/counts"
    response = auth_client.post_form(url, dict(FULL, **changes), token_from=url)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="{field}-error"' in body and reason in body
    # The input comes back, including the note and the queue box.
    assert f'value="{next(iter(changes.values()))}"' in body and "Jonoa oli puolisen tuntia" in body
    assert '<input checked id="queue" name="queue" type="checkbox" value="y">' in body
    assert stored(fresh_db, past_visit.id) is None
    assert fresh_db.get(OutreachVisit, past_visit.id).status == "scheduled"


@pytest.mark.parametrize("note, expected", [
    ("Juteltiin Matin kanssa vuokrasta.", "Matin"),
    ("Soittaa itse numeroon 040 123 4567 huomenna.", "040 123 4567"),
    ("Hetu 010190-123A jäi lappuun.", "010190-123A"),
    ("Lähetti viestin osoitteeseen m.virtanen@example.fi eilen.", "m.virtanen@example.fi"),
])
def test_a_note_that_seems_to_identify_someone_warns_and_saves_only_when_told(auth_client, past_visit, fresh_db,
                                                                             note, expected):
    url = f"/outreach/visits/{past_visit.id}/counts"
    body = auth_client.post_form(url, dict(FULL, note=note), token_from=url).get_data(as_text=True)
    assert "seems to contain a name or something else that could identify a person" in body
    assert expected in body.split('class="warning name-warning"')[1].split("</div>")[0]
    assert 'name="save_anyway"' in body and 'value="8"' in body
    assert stored(fresh_db, past_visit.id) is None
    response = auth_client.post_form(url, dict(FULL, note=note, save_anyway="y"), token_from=url)
    assert response.status_code == 302
    assert stored(fresh_db, past_visit.id).note == note


def test_ordinary_notes_are_no_finding():
    venue = ("Diakoniakahvila Pysäkki", "Helsingin seurakuntayhtymä")
    for note in ("Kolme kysyi vuokrasta. Ohjattiin Kelaan ja Pysäkin väelle neuvoja.",
                 "Jonoa oli klo 13.30 asti, 2 uutta.", "Useampi kysyi Kela-korvauksista.", ""):
        assert identifying_bits(note, known=venue) == [], note
    assert identifying_bits("Tapasimme Liisa Virtasen.", known=venue) == ["Liisa", "Virtasen"]


def test_a_visit_not_held_is_recorded_with_a_reason_and_counts_as_cancelled(auth_client, past_visit, fresh_db):
    url = f"/outreach/visits/{past_visit.id}/counts"
    # Without a reason: refused, the choice kept.
    body = auth_client.post_form(url, dict(FULL, held="no", people_met=""), token_from=url).get_data(as_text=True)
    assert 'id="not_held_reason-error"' in body and "Choose why the visit did not take place." in body
    assert '<input checked id="held-1" name="held" type="radio" value="no">' in body
    assert stored(fresh_db, past_visit.id) is None
    # With a reason: counts typed by mistake are not kept.
    response = auth_client.post_form(url, dict(FULL, held="no", not_held_reason="venue_closed", people_met="abc"),
                                     token_from=url)
    assert response.status_code == 302
    r = stored(fresh_db, past_visit.id)
    assert (r.held, r.not_held_reason, r.people_met, r.topic_money, r.queue) == (False, "venue_closed", 0, 0, False)
    page = auth_client.get(f"/outreach/visits/{past_visit.id}").get_data(as_text=True)
    assert "The visit did not take place: The venue was closed" in page
    stats = report.figures(services.report_months(now_utc().date(), 1))
    assert [(s["held"], s["cancelled"]) for s in stats.values()] == [(0, 1)]
    # Service level: an unknown reason is refused.
    with pytest.raises(services.OutreachError):
        services.save_report(db.session.get(OutreachVisit, past_visit.id), None, {}, held=False,
                             not_held_reason="bored")
