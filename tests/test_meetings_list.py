"""The network-meeting list: upcoming and past meetings, paged, found by client or purpose;
and every paged list answering any ``page`` a URL can carry."""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from core.timeutil import local_today
from meetings import views
from tests.factories import login, make_client, make_user
from tests.test_meetings_support import make_meeting


def shown(page: str, section: str) -> list[str]:
    """The purposes listed in a section ("upcoming" or "past"), in order."""
    match = re.search(rf'aria-labelledby="{section}-heading">(.*?)</section>', page, re.S)
    return re.findall(r"<td[^>]*>(Kokous [^<]*?)(?: <span|</td>)", match.group(1)) if match else []


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(views, "LIST_PAGE", 3)
    monkeypatch.setattr(views, "RECENT_PAST", 2)


def test_upcoming_meetings_are_paged_soonest_first_and_nothing_repeats_or_is_skipped(app, auth_client, facilitator,
                                                                                     small_pages):
    today = local_today()
    for n in range(7):
        make_meeting([facilitator], purpose=f"Kokous {n}", day=today + timedelta(days=n + 1))
    first = auth_client.get("/meetings/").get_data(as_text=True)
    assert shown(first, "upcoming") == ["Kokous 0", "Kokous 1", "Kokous 2"]
    assert "Verkostopalavereja löytyi: 7" in first and "Sivu 1 / 3" in first
    second = auth_client.get("/meetings/?page=2").get_data(as_text=True)
    third = auth_client.get("/meetings/?page=3").get_data(as_text=True)
    assert shown(second, "upcoming") == ["Kokous 3", "Kokous 4", "Kokous 5"]
    assert shown(third, "upcoming") == ["Kokous 6"]
    assert 'href="/meetings/?page=2"' in third  # back to the previous page
    beyond = auth_client.get("/meetings/?page=4")
    assert beyond.status_code == 200
    assert shown(beyond.get_data(as_text=True), "upcoming") == []
    assert "Ei enempää verkostopalavereja." in beyond.get_data(as_text=True)


def test_default_view_shows_latest_past_and_links_to_all_past_meetings_paged_newest_first(app, auth_client,
                                                                                           facilitator, small_pages):
    today = local_today()
    for n in range(5):
        make_meeting([facilitator], purpose=f"Kokous {n}", day=today - timedelta(days=n + 1))
    default = auth_client.get("/meetings/").get_data(as_text=True)
    assert shown(default, "past") == ["Kokous 0", "Kokous 1"]
    assert 'href="/meetings/?show=past"' in default
    past = auth_client.get("/meetings/?show=past").get_data(as_text=True)
    assert "upcoming-heading" not in past
    assert shown(past, "past") == ["Kokous 0", "Kokous 1", "Kokous 2"]
    assert 'href="/meetings/?page=2&amp;show=past"' in past
    older = auth_client.get("/meetings/?page=2&show=past").get_data(as_text=True)
    assert shown(older, "past") == ["Kokous 3", "Kokous 4"]


def test_show_upcoming_hides_past(app, auth_client, facilitator):
    make_meeting([facilitator], purpose="Kokous tuleva", day=local_today() + timedelta(days=2))
    make_meeting([facilitator], purpose="Kokous mennyt", day=local_today() - timedelta(days=2))
    page = auth_client.get("/meetings/?show=upcoming").get_data(as_text=True)
    assert shown(page, "upcoming") == ["Kokous tuleva"]
    assert "past-heading" not in page and "Kokous mennyt" not in page
    assert '<option value="upcoming" selected>' in page


def test_search_by_client_name_or_purpose_within_own_meetings(app, client, facilitator):
    other = make_user()
    aino = make_client(name="Aino Virtanen")
    make_meeting([facilitator], client=aino, purpose="Kokous A", day=local_today() + timedelta(days=1))
    make_meeting([facilitator], client=make_client(name="Pekka Laine"), purpose="Kokous velkaneuvonta",
                 day=local_today() + timedelta(days=2))
    make_meeting([facilitator], client=aino, purpose="Kokous aiempi", day=local_today() - timedelta(days=3))
    make_meeting([other], client=aino, purpose="Kokous toisen", day=local_today() + timedelta(days=3))
    login(client, facilitator)
    page = client.get("/meetings/?q=virtanen").get_data(as_text=True)
    # Another worker's meeting with the same client stays hidden: a search only narrows.
    assert shown(page, "upcoming") == ["Kokous A"] and shown(page, "past") == ["Kokous aiempi"]
    assert 'value="virtanen"' in page
    assert 'href="/meetings/?show=past&amp;q=virtanen"' in page
    assert shown(client.get("/meetings/?q=VELKA").get_data(as_text=True), "upcoming") == ["Kokous velkaneuvonta"]
    # Typed wildcards are text to find, not "anything".
    for wildcard in ("%25", "_", "Kokous%25A"):
        nothing = client.get(f"/meetings/?q={wildcard}").get_data(as_text=True)
        assert shown(nothing, "upcoming") == [] and "Ei verkostopalavereja." in nothing, wildcard


def test_search_folds_the_case_of_finnish_letters(app, lead_client, facilitator):
    make_meeting([facilitator], client=make_client(name="Äijälä Öhman"), purpose="Kokous Ä",
                 day=local_today() + timedelta(days=1))
    make_meeting([facilitator], client=make_client(name="Åsa Lind"), purpose="Kokous ÅLAND 50 %",
                 day=local_today() + timedelta(days=2))
    assert shown(lead_client.get("/meetings/?q=äijälä").get_data(as_text=True), "upcoming") == ["Kokous Ä"]
    assert shown(lead_client.get("/meetings/?q=ÖHMAN").get_data(as_text=True), "upcoming") == ["Kokous Ä"]
    assert shown(lead_client.get("/meetings/?q=åland").get_data(as_text=True), "upcoming") == ["Kokous ÅLAND 50 %"]
    assert shown(lead_client.get("/meetings/?q=50 %25").get_data(as_text=True), "upcoming") == ["Kokous ÅLAND 50 %"]


def test_search_keeps_to_the_leads_whole_unit(app, lead_client, facilitator):
    make_meeting([facilitator], client=make_client(name="Aino Virtanen"), purpose="Kokous A")
    assert shown(lead_client.get("/meetings/?q=aino").get_data(as_text=True), "upcoming") == ["Kokous A"]


@pytest.mark.parametrize("query, listed", [
    ("show=everything", True), ("show=", True), ("page=abc", True), ("page=-4", True), ("page=0", True),
    ("page=1e9", True), ("show=past&page=%20", False), ("page=99999999999999999999999", False),
    ("q=" + "x" * 5000, False), ("q=%00", True), ("q=Kokous%00A", False), ("q=Kokous%00 A", True)])
def test_meeting_list_answers_whatever_the_url_carries(app, auth_client, facilitator, query, listed):
    make_meeting([facilitator], purpose="Kokous A")
    response = auth_client.get(f"/meetings/?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Verkostopalaverit" in page
    assert ("Kokous A" in page) is listed


@pytest.mark.parametrize("url", ["/groups/", "/clients", "/clients/{client}/access-log", "/reminders/outbox"])
@pytest.mark.parametrize("page", ["99999999999999999999999", "-1", "x", "9" * 5000])
def test_paged_lists_answer_any_page_number(app, lead_client, url, page):
    # An OFFSET beyond the database's integer range used to be a 500.
    client_id = make_client(name="Aino Virtanen").id
    response = lead_client.get(url.format(client=client_id) + f"?page={page}")
    assert response.status_code == 200


@pytest.mark.parametrize("query, listed", [("q=a%00b", False), ("q=%25", False), ("q=_", False),
                                           ("q=" + "ä" * 3000, False), ("q=%01%02", True), ("q=Ai%00no", True)])
def test_client_search_answers_any_text(app, lead_client, query, listed):
    # Control characters are dropped (NUL used to be a 500 on PostgreSQL); wildcards are text.
    make_client(name="Aino Virtanen")
    response = lead_client.get(f"/clients?{query}")
    assert response.status_code == 200
    assert ("Aino Virtanen" in response.get_data(as_text=True)) is listed


def test_client_search_folds_the_case_of_finnish_letters(app, lead_client):
    make_client(name="Äino Virtanen")
    assert "Äino Virtanen" in lead_client.get("/clients?q=%C3%A4ino").get_data(as_text=True)  # "äino"
    assert "Äino Virtanen" in lead_client.get("/clients?q=VIRTANEN").get_data(as_text=True)


@pytest.mark.parametrize("query", ["theme=a%00b", "theme=%25", "facilitator=99999999999999999999999",
                                   "facilitator=-1", "facilitator=x", "when=%00"])
def test_group_search_answers_any_text(app, lead_client, facilitator, query):
    from core.extensions import db
    from tests.test_calendar_export_data import make_group

    make_group(title="Rahat haltuun", facilitators=(facilitator,))
    db.session.commit()
    response = lead_client.get(f"/groups/?{query}")
    assert response.status_code == 200
    listed = "Rahat haltuun" in response.get_data(as_text=True)
    assert listed is query.startswith(("facilitator", "when"))


def test_a_leads_pages_merge_the_units_meetings_with_their_own_elsewhere_in_time_order(app, small_pages):
    """A lead's list is the units' meetings and the lead's own ones in other units, each read by
    its own index up to the page shown (meetings.services._first_openable_ids): the pages
    together hold each of them once, in time order, and no other unit's meeting. Upcoming and
    past, with the pages small enough that both kinds fall on every page."""
    from tests.factories import make_member, make_two_units

    unit_a, unit_b = make_two_units()
    lead = make_member(email="lead.a@example.fi", name="Liisa Lead", role="lead", unit_id=unit_a)
    worker_a = make_member(email="worker.a@example.fi", name="Aku A", role="facilitator", unit_id=unit_a)
    worker_b = make_member(email="worker.b@example.fi", name="Bea B", role="facilitator", unit_id=unit_b)
    ours, theirs = make_client(name="Aino Aa", worker=worker_a), make_client(name="Bertta Bee", worker=worker_b)
    today = local_today()
    expected: dict[str, list[str]] = {"upcoming": [], "past": []}
    for n in range(1, 9):
        for section, day in (("upcoming", today + timedelta(days=n)), ("past", today - timedelta(days=n))):
            # Days 1, 4, 7: the lead in another unit's meeting; days 3, 6: another unit's without them.
            day_order = [f"Kokous {section} {n}"]  # the unit's meeting at 10.00
            make_meeting([worker_a], client=ours, purpose=day_order[0], day=day)
            if n % 3 == 1:  # at 9.00: before the unit's when coming, after it when past (newest first)
                make_meeting([worker_b, lead], client=theirs, purpose=f"Kokous {section} {n} muualla", day=day,
                             at=time(9, 0))
                day_order.insert(0 if section == "upcoming" else 1, f"Kokous {section} {n} muualla")
            elif n % 3 == 0:
                make_meeting([worker_b], client=theirs, purpose=f"Kokous {section} {n} ei näy", day=day)
            expected[section] += day_order
    c = app.test_client()
    login(c, lead)

    def pages(section: str, show: str) -> list[str]:
        listed: list[str] = []
        for page in range(1, 6):
            listed += shown(c.get(f"/meetings/?show={show}&page={page}").get_data(as_text=True), section)
        return listed

    assert pages("upcoming", "upcoming") == expected["upcoming"]
    assert pages("past", "past") == expected["past"]  # newest first: day 1 back, then day 2 ...
    for show in ("upcoming", "past"):  # the count: each meeting once, the lead's own elsewhere too
        assert f"Verkostopalavereja löytyi: {len(expected[show])}" in c.get(f"/meetings/?show={show}").get_data(
            as_text=True)
    assert shown(c.get("/meetings/").get_data(as_text=True), "past") == expected["past"][:2]  # the latest past
