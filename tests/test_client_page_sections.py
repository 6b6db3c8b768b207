"""The client's page shows the client's network meetings and groups (sections the features add),
and the meeting list narrows to one client."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from core.extensions import db
from core.timeutil import local_today
from groups import enrolment
from meetings import panels as meeting_panels
from tests.factories import login, make_client, make_user
from tests.test_groups_support import make_group
from tests.test_meetings_support import make_meeting


def section(page: str, heading_id: str) -> str:
    match = re.search(rf'aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert match, f"no section {heading_id}"
    return match.group(1)


def test_client_page_lists_the_clients_meetings_the_user_takes_part_in(app, client, facilitator):
    other = make_user()
    matti = make_client(name="Matti K.", worker=facilitator)
    make_meeting([facilitator], client=matti, purpose="Tuleva palaveri", day=local_today() + timedelta(days=4))
    make_meeting([facilitator], client=matti, purpose="Mennyt palaveri", day=local_today() - timedelta(days=4))
    make_meeting([other], client=matti, purpose="Toisen palaveri", day=local_today() + timedelta(days=5))
    make_meeting([facilitator], client=make_client(name="Liisa L."), purpose="Eri asiakkaan palaveri")
    login(client, facilitator)
    meetings = section(client.get(f"/clients/{matti.id}").get_data(as_text=True), "client-meetings-heading")
    # Upcoming first, then past; another worker's meeting (which the user could not open) and
    # another client's meeting are not listed.
    assert meetings.index("Tuleva palaveri") < meetings.index("Mennyt palaveri")
    assert "Toisen palaveri" not in meetings and "Eri asiakkaan palaveri" not in meetings
    assert f'href="/meetings/new/{matti.id}"' in meetings


def test_lead_sees_every_meeting_of_the_client_and_a_link_to_all_when_there_are_more(app, lead_client, facilitator,
                                                                                     monkeypatch):
    monkeypatch.setattr(meeting_panels, "CLIENT_PAST", 2)
    matti = make_client(name="Matti K.")
    for n in range(3):
        make_meeting([facilitator], client=matti, purpose=f"Palaveri {n}", day=local_today() - timedelta(days=n + 1))
    meetings = section(lead_client.get(f"/clients/{matti.id}").get_data(as_text=True), "client-meetings-heading")
    assert "Palaveri 0" in meetings and "Palaveri 1" in meetings and "Palaveri 2" not in meetings
    assert f'href="/meetings/?client={matti.id}"' in meetings
    listing = lead_client.get(f"/meetings/?client={matti.id}&show=past").get_data(as_text=True)
    assert all(f"Palaveri {n}" in listing for n in range(3))


def test_client_without_meetings_or_groups_says_so(app, lead_client):
    aino = make_client(name="Aino A.")
    page = lead_client.get(f"/clients/{aino.id}").get_data(as_text=True)
    assert "Ei verkostopalavereja." in section(page, "client-meetings-heading")
    assert "Ei ilmoittautunut mihinkään ryhmään." in section(page, "client-groups-heading")
    assert f'href="/clients/{aino.id}"' not in section(page, "client-meetings-heading")  # no "all" link


def test_client_page_lists_the_clients_groups_with_enrolment_status(app, lead_client, facilitator):
    matti = make_client(name="Matti K.")
    full = make_group(facilitator, title="Raharyhmä", capacity=1, weeks=2, first=date(2027, 1, 4), status="enrolling")
    enrolment.enrol(full, make_client().id)
    enrolment.enrol(full, matti.id)  # the one place is taken: on the waiting list
    other = make_group(facilitator, title="Arjen hallinta", status="running")
    enrolment.enrol(other, matti.id)
    make_group(facilitator, title="Ei Matin ryhmä", status="running")
    db.session.commit()
    groups = section(lead_client.get(f"/clients/{matti.id}").get_data(as_text=True), "client-groups-heading")
    rows = re.findall(r"<tr>(.*?)</tr>", groups, re.S)[1:]
    assert len(rows) == 2 and "Ei Matin ryhmä" not in groups
    # The newest group first.
    assert "Arjen hallinta" in rows[0] and "Mukana ryhmässä" in rows[0] and "Aikataulua ei ole vielä sovittu" in rows[0]
    waiting = rows[1]
    assert "Raharyhmä" in waiting and "Jonossa" in waiting
    assert "4.1.2027–11.1.2027" in waiting
    assert f'href="/groups/{full.id}"' in waiting


@pytest.mark.parametrize("value", ["abc", "0", "-1", "99999999999999999999999", "%00"])
def test_meeting_list_for_a_client_that_is_not_there_is_404(app, lead_client, value):
    assert lead_client.get(f"/meetings/?client={value}").status_code == 404


def test_meeting_list_for_a_client_the_user_may_not_see_is_404(app, client, facilitator):
    stranger = make_client(name="Laura S.")
    login(client, facilitator)
    assert client.get(f"/meetings/?client={stranger.id}").status_code == 404
    assert client.get(f"/clients/{stranger.id}").status_code == 404


def test_meeting_list_for_one_client_keeps_the_client_in_its_links(app, lead_client, facilitator, monkeypatch):
    from meetings import views

    monkeypatch.setattr(views, "LIST_PAGE", 1)
    matti = make_client(name="Matti K.")
    for n in range(2):
        make_meeting([facilitator], client=matti, purpose=f"Palaveri {n}", day=local_today() + timedelta(days=n + 1))
    make_meeting([facilitator], client=make_client(name="Liisa L."), purpose="Liisan palaveri")
    page = lead_client.get(f"/meetings/?client={matti.id}").get_data(as_text=True)
    assert "Verkostopalaverit: Matti K." in page and "Liisan palaveri" not in page
    assert f'href="/meetings/?page=2&amp;client={matti.id}"' in page
    assert f'<input type="hidden" name="client" value="{matti.id}">' in page
    assert "Palaveri 1" in lead_client.get(f"/meetings/?page=2&client={matti.id}").get_data(as_text=True)
