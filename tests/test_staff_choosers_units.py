"""Every staff chooser lists the staff of the user's own units (accounts.units.staff_choices),
and keeps whoever is already chosen from elsewhere (issue #23: a county's 500 staff in each
chooser were unusable, and a cost of those pages that grew with every unit). Checked on the
pages as a user sees them: the meeting's "invite a participant" page, the new meeting and
appointment forms, the client page's "add a worker" and the outreach visit's pair; another
unit's partner contacts are not offered either."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import utcnow
from core.extensions import db
from tests.factories import login, make_meeting, make_member, make_outreach_visit, make_two_units

OTHER_UNIT_NAME = "Ulla Ulkopuolinen"
COLLEAGUE_NAME = "Kalle Kollega"


@pytest.fixture
def world(app):
    from register.services import create_client, save_contact, save_partner

    unit_a, unit_b = make_two_units()
    lead = make_member(email="lead.a@example.fi", name="Lea Lead", role="lead", unit_id=unit_a)
    make_member(email="kalle@example.fi", name=COLLEAGUE_NAME, role="facilitator", unit_id=unit_a)
    other = make_member(email="ulla@example.fi", name=OTHER_UNIT_NAME, role="facilitator", unit_id=unit_b)
    client = create_client(name="Aino Aa", created_by=lead)
    partner_b = save_partner(None, name="Idän oma kumppani", kind="employment", unit_id=unit_b, user=other)
    save_contact(partner_b, None, name="Idän Yhteyshenkilö", email="ita@partner.example")
    shared = save_partner(None, name="Yhteinen kumppani", kind="employment")
    save_contact(shared, None, name="Yhteinen Yhteyshenkilö", email="yht@partner.example")
    db.session.commit()
    soon = utcnow() + timedelta(days=2)
    meeting = make_meeting(client=client, starts_at=soon, staff=lead)
    db.session.commit()
    c = app.test_client()
    login(c, lead)
    return {"c": c, "lead": lead, "other": other, "client": client.id, "meeting": meeting.id, "unit_a": unit_a,
            "soon": soon}


@pytest.mark.parametrize("path", ["/meetings/{meeting}/participants", "/meetings/new/{client}", "/appointments/new/{client}",
                                  "/clients/{client}"])
def test_a_staff_chooser_lists_the_users_units_staff_only(world, path):
    html = world["c"].get(path.format(**world)).get_data(as_text=True)
    assert COLLEAGUE_NAME in html
    assert OTHER_UNIT_NAME not in html


@pytest.mark.parametrize("path", ["/meetings/{meeting}/participants", "/meetings/new/{client}"])
def test_another_units_own_partner_contacts_are_not_offered(world, path):
    html = world["c"].get(path.format(**world)).get_data(as_text=True)
    assert "Yhteinen Yhteyshenkilö" in html
    assert "Idän Yhteyshenkilö" not in html


def test_a_pair_from_another_unit_stays_choosable_on_the_visit(app, world):
    visit = make_outreach_visit(staff=[world["lead"], world["other"]], starts_at=world["soon"],
                                unit_id=world["unit_a"])
    html = world["c"].get(f"/outreach/visits/{visit.id}").get_data(as_text=True)
    assert html.count(OTHER_UNIT_NAME) >= 2  # chosen as the second worker, in both choosers
    assert COLLEAGUE_NAME in html
