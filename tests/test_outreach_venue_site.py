"""The venue on site (#25.2): its contact person, opening hours, a private place to talk and
safety, a trial period with a review date; the lead's review shows the venue's figures and records
continue / change / end (end stops the visits). Stored rows are read through ``fresh_db``."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.extensions import db
from core.timeutil import now_utc
from outreach import services
from outreach.models import OutreachVenue, OutreachVisit
from tests.test_outreach_visits import make_venue, make_visit

SITE = {"contact_name": "Riitta (kahvilan vastaava)", "contact_phone": "040 123 4567",
        "contact_email": "riitta@seurakunta.example.fi", "opening_hours": "ma–pe 10–16",
        "private_space_note": "Pappilan puolella pieni neuvotteluhuone.", "safety_note": "Takaovi auki klo 15 asti.",
        "trial_review_on": "2027-03-31"}


@pytest.fixture(autouse=True)
def english(facilitator, lead):
    facilitator.language = lead.language = "en"
    db.session.commit()


def test_site_details_are_saved_and_shown(auth_client, fresh_db):
    venue = make_venue()
    url = f"/outreach/venues/{venue.id}/site"
    response = auth_client.post_form(url, dict(SITE, version=str(venue.version)), token_from=url)
    assert response.status_code == 302
    v = fresh_db.get(OutreachVenue, venue.id)
    assert (v.contact_name, v.contact_phone, v.contact_email) == (SITE["contact_name"], "+358401234567",
                                                                  SITE["contact_email"])
    assert (v.opening_hours, v.trial_review_on) == ("ma–pe 10–16", date(2027, 3, 31))
    assert v.private_space_note.startswith("Pappilan") and v.safety_note.startswith("Takaovi")
    page = auth_client.get(f"/outreach/venues/{venue.id}").get_data(as_text=True)
    assert 'href="tel:+358401234567"' in page and "Takaovi auki" in page and "neuvotteluhuone" in page


@pytest.mark.parametrize("changes, field", [({"contact_phone": "12"}, "contact_phone"),
                                            ({"contact_email": "riitta@"}, "contact_email"),
                                            ({"trial_review_on": "31.13.2027"}, "trial_review_on"),
                                            ({"opening_hours": "ma\u0000pe"}, "opening_hours")])
def test_bad_site_details_come_back_with_the_error_at_the_field(auth_client, fresh_db, changes, field):
    venue = make_venue()
    url = f"/outreach/venues/{venue.id}/site"
    response = auth_client.post_form(url, dict(SITE, version=str(venue.version), **changes), token_from=url)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="{field}-error"' in body and "neuvotteluhuone" in body
    assert fresh_db.get(OutreachVenue, venue.id).contact_name == ""


def test_review_shows_the_figures_and_end_stops_the_visits(auth_client, lead_client, facilitator, fresh_db):
    venue = make_venue()
    past = make_visit(venue, now_utc() - timedelta(days=3))
    services.save_report(past, facilitator, {"people_met": 7, "met_one_to_one": 7, "topic_housing": 3})
    coming = make_visit(venue, now_utc() + timedelta(days=5))
    db.session.commit()
    url = f"/outreach/venues/{venue.id}/review"
    # Only a lead reviews.
    assert auth_client.get(url).status_code == 403
    client = lead_client
    page = client.get(url).get_data(as_text=True)
    assert "<dt>People met</dt><dd>7</dd>" in page and "<dt>Visits held</dt><dd>1</dd>" in page
    body = client.post_form(url, {"version": str(venue.version), "note": "x"}, token_from=url).get_data(as_text=True)
    assert 'id="decision-error"' in body
    response = client.post_form(url, {"version": str(venue.version), "decision": "end",
                                      "note": "Liian vähän kävijöitä."}, token_from=url)
    assert response.status_code == 302
    v = fresh_db.get(OutreachVenue, venue.id)
    assert (v.review_decision, v.active, v.review_note) == ("end", False, "Liian vähän kävijöitä.")
    assert v.reviewed_at is not None
    assert fresh_db.get(OutreachVisit, coming.id).status == "cancelled"
    assert fresh_db.get(OutreachVisit, past.id).status == "done"
    assert "End the visits" in client.get(f"/outreach/venues/{venue.id}").get_data(as_text=True)
