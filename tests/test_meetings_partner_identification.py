"""A partner's personal link shows the client only as the meetings' identification setting says,
per meeting: a client's section of the page shows several meetings (open items of one, the time
of the next), and it names the client no more than the strictest of them allows. Reading the
page writes an access-log row for each client it shows, in the partner's name."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today
from meetings import partner_links, plan
from register.models import AccessLog
from tests.factories import make_client
from tests.test_meetings_support import make_contact, make_meeting, participant


def _partner_page(app, facilitator, *, held_shows: str, next_shows: str):
    """A held meeting with the partner's open item, and its follow-up (the next meeting)."""
    client = make_client(name="Pertti Nieminen", worker=facilitator)
    contact = make_contact("Sovatek")
    held = make_meeting([facilitator], client=client, contacts=[contact], day=local_today() - timedelta(days=7))
    plan.add_item(held, responsible_id=participant(held, "partner", contact_id=contact.id).id,
                      what="Varaa arviointiaika")
    upcoming = plan.schedule_follow_up(held, user=facilitator, starts_at=held.starts_at + timedelta(days=21),
                                           ends_at=held.ends_at + timedelta(days=21))
    held.client_identification, upcoming.client_identification = held_shows, next_shows
    _link, token = partner_links.create_partner_link(contact, user=facilitator)
    db.session.commit()
    response = app.test_client().get(f"/p/{token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Varaa arviointiaika" in page
    return client, contact, page


@pytest.mark.parametrize("held_shows, next_shows", [("name", "none"), ("none", "name"), ("name", "initials"),
                                                    ("initials", "none")])
def test_the_strictest_setting_of_the_meetings_shown_wins(app, facilitator, held_shows, next_shows):
    _client, _contact, page = _partner_page(app, facilitator, held_shows=held_shows, next_shows=next_shows)
    strictest = "none" if "none" in (held_shows, next_shows) else "initials"
    assert "Pertti" not in page and "Nieminen" not in page
    if strictest == "none":
        assert "P.N." not in page
    else:
        assert "P.N." in page


def test_first_name_when_every_meeting_allows_it(app, facilitator):
    _client, _contact, page = _partner_page(app, facilitator, held_shows="name", next_shows="name")
    assert "Pertti" in page and "Nieminen" not in page


def test_the_partners_view_is_in_the_access_log(app, facilitator, fresh_db):
    client, contact, _page = _partner_page(app, facilitator, held_shows="initials", next_shows="initials")
    rows = fresh_db.scalars(sa.select(AccessLog).where(AccessLog.client_id == client.id,
                                                       AccessLog.detail == "partner link"))
    assert len(rows) == 1
    assert rows[0].user_id is None and contact.name in rows[0].user_name
