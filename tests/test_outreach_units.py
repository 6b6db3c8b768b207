"""Outreach follows the unit (issue #25, #23 leftovers): an attacker's tests. A venue is shared
(no unit) or one unit's; its visits, schedule, site details, poster, review and charts follow it.
The lead and a worker of unit A try every outreach URL with an id of unit B's venue and visit and
get 404 (and change nothing); unit B's own lead opening the same URLs gets the pages, so the 404
is the rule and not a broken page. The lists (rota, venues, report, start page) show nothing of B.
The venue and partner forms offer "shared" and the user's own units only; a forged unit id is an
error at the field, never a 500, and nothing is saved."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.timeutil import local_today
from outreach import services
from outreach.models import OutreachVenue, OutreachVisit, VisitReport
from register.models import PartnerOrganisation
from tests.factories import PASSWORD, login, make_partner

B_VENUE = "Itäkulman olohuone"
A_VENUE = "Keskustan kahvila"
SHARED_VENUE = "Kirjaston aula"


def staff(email: str, role: str, unit_ids: list[int]):
    from accounts.services import create_staff

    user = create_staff(email=email, name=email.split("@")[0].title(), password=PASSWORD, role=role,
                        unit_ids=unit_ids, language="en")
    db.session.commit()
    return user


def signed_in(app, user):
    c = app.test_client()
    login(c, user)
    return c


def venue_with_visits(name: str, unit_id: int | None, *, past_worker=None):
    partner = make_partner(name=f"Seurakunta {name}", kind="parish")
    venue = services.save_venue(None, partner_id=partner.id, name=name, address="Kirkkotie 1", active=True)
    venue.unit_id = unit_id
    spec = services.RuleSpec(frequency="weekly", weekday=local_today().weekday(),
                             valid_from=local_today() - timedelta(days=60))
    services.save_rule(venue, spec=spec, start_time=time(13), end_time=time(15))
    services.generate_visits(venue)
    now = utcnow()
    # One visit soon with one worker only (the lead's exceptions), one over and waiting for counts.
    soon = OutreachVisit(venue=venue, starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=2),
                         staff1_id=past_worker.id if past_worker else None)
    past = OutreachVisit(venue=venue, starts_at=now - timedelta(days=1), ends_at=now - timedelta(days=1, hours=-2),
                         staff1_id=past_worker.id if past_worker else None)
    db.session.add_all([soon, past])
    db.session.commit()
    return venue, soon, past


@pytest.fixture
def world(app):
    from accounts.units import create_unit

    unit_a = create_unit("Aikuissosiaalityö Keskusta", "keskusta")
    unit_b = create_unit("Aikuissosiaalityö Itä", "ita")
    db.session.commit()
    lead_a = staff("lead.a@example.fi", "lead", [unit_a.id])
    worker_a = staff("worker.a@example.fi", "facilitator", [unit_a.id])
    lead_b = staff("lead.b@example.fi", "lead", [unit_b.id])
    worker_b = staff("worker.b@example.fi", "facilitator", [unit_b.id])
    venue_b, soon_b, past_b = venue_with_visits(B_VENUE, unit_b.id, past_worker=worker_b)
    venue_a, _soon_a, _past_a = venue_with_visits(A_VENUE, unit_a.id)
    shared, _soon_s, _past_s = venue_with_visits(SHARED_VENUE, None)
    return {"unit_a": unit_a.id, "unit_b": unit_b.id, "lead_a": lead_a, "worker_a": worker_a, "lead_b": lead_b,
            "worker_b": worker_b, "venue_b": venue_b.id, "soon_b": soon_b.id, "past_b": past_b.id,
            "venue_a": venue_a.id, "shared": shared.id, "partner_b": venue_b.partner_id}


def get_urls(w) -> list[str]:
    v, s, p = w["venue_b"], w["soon_b"], w["past_b"]
    return [f"/outreach/venues/{v}", f"/outreach/venues/{v}/edit", f"/outreach/venues/{v}/rule",
            f"/outreach/venues/{v}/site", f"/outreach/venues/{v}/poster", f"/outreach/visits/{s}",
            f"/outreach/visits/{s}/move", f"/outreach/visits/{p}/counts"]


LEAD_GET_URLS = ("/outreach/venues/{v}/review", "/outreach/report/venues/{v}/chart.png",
                 "/outreach/report/venues/{v}/topics.png")


def test_unit_b_outreach_pages_are_404_for_unit_a_but_open_for_unit_b(app, world):
    own_lead = signed_in(app, world["lead_b"])
    lead_urls = [u.format(v=world["venue_b"]) for u in LEAD_GET_URLS]
    for url in get_urls(world) + lead_urls:
        response = own_lead.get(url)
        assert response.status_code == 200, (url, response.status_code)
    for attacker in (world["lead_a"], world["worker_a"]):
        c = signed_in(app, attacker)
        for url in get_urls(world) + (lead_urls if attacker.is_lead else []):
            response = c.get(url)
            assert response.status_code == 404, (attacker.email, url, response.status_code)
            assert B_VENUE not in response.get_data(as_text=True)
        # Their own unit's venue and the shared one open (the 404 is the unit rule, not a broken page).
        for venue_id in (world["venue_a"], world["shared"]):
            assert c.get(f"/outreach/venues/{venue_id}").status_code == 200


def test_unit_a_cannot_change_unit_b_venue_or_visits(app, world, fresh_db):
    v, s, p = world["venue_b"], world["soon_b"], world["past_b"]
    before_venue = fresh_db.get(OutreachVenue, v)
    before_soon = fresh_db.get(OutreachVisit, s)
    local = {"day": "1.1.2030", "start_time": "10:00", "end_time": "11:00", "version": "1"}
    posts = [
        (f"/outreach/venues/{v}/edit", {"partner_id": str(world["partner_b"]), "name": "Kaapattu", "address": "",
                                        "active": "y", "unit_id": "", "version": "1"}),
        (f"/outreach/venues/{v}/rule", {"frequency": "weekly", "weekday": "2", "nth": "1", "interval_weeks": "1",
                                        "valid_from": "1.1.2027", "start_time": "9:00", "end_time": "10:00",
                                        "version": "1"}),
        (f"/outreach/venues/{v}/generate", {}),
        (f"/outreach/venues/{v}/site", {"contact_name": "Kaappaaja", "version": "1"}),
        (f"/outreach/venues/{v}/review", {"decision": "end", "note": "", "version": "1"}),
        (f"/outreach/visits/{s}/pair", {"staff1_id": str(world["worker_a"].id), "staff2_id": ""}),
        (f"/outreach/visits/{s}/move", local),
        (f"/outreach/visits/{s}/cancel", {}),
        (f"/outreach/visits/{s}/restore", {}),
        (f"/outreach/visits/{p}/counts", {"held": "yes", "people_met": "3", "version": "0"}),
    ]
    for attacker in (world["lead_a"], world["worker_a"]):
        c = signed_in(app, attacker)
        for url, data in posts:
            response = c.post_form(url, data, token_from="/outreach/venues")
            expected = 404 if attacker.is_lead or not url.endswith("/review") else 403
            assert response.status_code == expected, (attacker.email, url, response.status_code)
    after_venue = fresh_db.get(OutreachVenue, v)
    assert (after_venue.name, after_venue.contact_name, after_venue.active, after_venue.version) == (
        before_venue.name, before_venue.contact_name, True, before_venue.version)
    after_soon = fresh_db.get(OutreachVisit, s)
    assert (after_soon.staff1_id, after_soon.status, after_soon.starts_at, after_soon.version) == (
        before_soon.staff1_id, "scheduled", before_soon.starts_at, before_soon.version)
    assert fresh_db.scalar(sa.select(sa.func.count(VisitReport.id))) == 0


def test_outreach_lists_show_nothing_of_unit_b_to_unit_a(app, world):
    own_lead = signed_in(app, world["lead_b"])
    soon_link = f'href="/outreach/visits/{world["soon_b"]}"'
    pages = [("/outreach/", B_VENUE), ("/outreach/venues", B_VENUE), ("/outreach/report", B_VENUE),
             # The start page's exceptions: B's coming visit has one worker.
             ("/", soon_link)]
    for url, secret in pages:
        theirs = own_lead.get(url)
        assert theirs.status_code == 200 and secret in theirs.get_data(as_text=True), url
    for attacker in (world["lead_a"], world["worker_a"]):
        c = signed_in(app, attacker)
        for url, secret in pages:
            if url == "/outreach/report" and not attacker.is_lead:
                continue
            mine = c.get(url)
            assert mine.status_code == 200, url
            body = mine.get_data(as_text=True)
            assert secret not in body, (attacker.email, url)
        # Their own and the shared venues are listed: the list is filtered, not empty.
        venues = c.get("/outreach/venues").get_data(as_text=True)
        assert A_VENUE in venues and SHARED_VENUE in venues


# --- the unit choosers ----------------------------------------------------------------------------

def venue_post(partner_id, name, unit_id, version=""):
    return {"partner_id": str(partner_id), "name": name, "address": "", "active": "y", "unit_id": unit_id,
            "version": version}


def test_venue_form_offers_shared_and_own_units_and_saves_the_choice(app, world, fresh_db):
    c = signed_in(app, world["worker_a"])
    page = c.get("/outreach/venues/new").get_data(as_text=True)
    assert "Shared by every unit (county-wide)" in page and "Aikuissosiaalityö Keskusta" in page
    assert "Aikuissosiaalityö Itä" not in page
    # The partner chooser offers no other unit's organisation either.
    other = db.session.get(PartnerOrganisation, world["partner_b"])
    other.unit_id = world["unit_b"]
    db.session.commit()
    assert f"Seurakunta {B_VENUE}" not in c.get("/outreach/venues/new").get_data(as_text=True)
    partner = make_partner(name="Kaupunginkirjasto", kind="other")
    response = c.post_form("/outreach/venues/new", venue_post(partner.id, "Lukusali", str(world["unit_a"])),
                           token_from="/outreach/venues/new")
    assert response.status_code == 302
    saved = fresh_db.scalar(sa.select(OutreachVenue).where(OutreachVenue.name == "Lukusali"))
    assert saved.unit_id == world["unit_a"]
    response = c.post_form(f"/outreach/venues/{saved.id}/edit", venue_post(partner.id, "Lukusali", "", "1"),
                           token_from="/outreach/venues")
    assert response.status_code == 302
    assert fresh_db.get(OutreachVenue, saved.id).unit_id is None


@pytest.mark.parametrize("forged", ["{unit_b}", "999999", "abc", "1e3", "-1"])
def test_venue_form_refuses_a_forged_unit_at_the_field(app, world, fresh_db, forged):
    c = signed_in(app, world["worker_a"])
    partner = make_partner(name="Kaupunginkirjasto", kind="other")
    value = forged.format(unit_b=world["unit_b"])
    response = c.post_form("/outreach/venues/new", venue_post(partner.id, "Väärennetty", value),
                           token_from="/outreach/venues/new")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="unit_id-error"' in body and "Choose shared, or one of your own units." in body
    assert 'value="Väärennetty"' in body  # the input comes back
    assert fresh_db.scalar(sa.select(OutreachVenue).where(OutreachVenue.name == "Väärennetty")) is None
    # Moving one's own venue into another unit is refused the same way.
    own = world["venue_a"]
    response = c.post_form(f"/outreach/venues/{own}/edit",
                           venue_post(fresh_db.get(OutreachVenue, own).partner_id, A_VENUE, value, "1"),
                           token_from="/outreach/venues")
    assert response.status_code == 200 and "Choose shared, or one of your own units." in response.get_data(as_text=True)
    assert fresh_db.get(OutreachVenue, own).unit_id == world["unit_a"]


def test_save_venue_refuses_another_units_unit_even_past_the_form(app, world):
    from accounts.units import UnitChoiceError

    partner = make_partner(name="Kaupunginkirjasto", kind="other")
    with pytest.raises(UnitChoiceError):
        services.save_venue(None, partner_id=partner.id, name="X", address="", active=True,
                            unit_id=world["unit_b"], user=world["worker_a"])


def partner_post(name, unit_id, version=""):
    return {"name": name, "kind": "parish", "address": "", "phone": "", "notes": "", "unit_id": unit_id,
            "version": version}


def test_partner_form_offers_shared_and_own_units_and_saves_the_choice(app, world, fresh_db):
    c = signed_in(app, world["worker_a"])
    page = c.get("/partners/new").get_data(as_text=True)
    assert "Shared by every unit (county-wide)" in page and "Aikuissosiaalityö Keskusta" in page
    assert "Aikuissosiaalityö Itä" not in page
    response = c.post_form("/partners/new", partner_post("Keskustan seurakunta", str(world["unit_a"])),
                           token_from="/partners/new")
    assert response.status_code == 302
    saved = fresh_db.scalar(sa.select(PartnerOrganisation).where(PartnerOrganisation.name == "Keskustan seurakunta"))
    assert saved.unit_id == world["unit_a"]
    # Unit B cannot see it; made shared, it can.
    assert signed_in(app, world["worker_b"]).get(f"/partners/{saved.id}").status_code == 404
    response = c.post_form(f"/partners/{saved.id}/edit", partner_post("Keskustan seurakunta", "", "1"),
                           token_from="/partners")
    assert response.status_code == 302
    assert fresh_db.get(PartnerOrganisation, saved.id).unit_id is None


@pytest.mark.parametrize("forged", ["{unit_b}", "999999", "abc"])
def test_partner_form_refuses_a_forged_unit_at_the_field(app, world, fresh_db, forged):
    c = signed_in(app, world["worker_a"])
    value = forged.format(unit_b=world["unit_b"])
    response = c.post_form("/partners/new", partner_post("Väärä seurakunta", value), token_from="/partners/new")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="unit_id-error"' in body and "Choose shared, or one of your own units." in body
    assert fresh_db.scalar(sa.select(PartnerOrganisation).where(PartnerOrganisation.name == "Väärä seurakunta")) is None
