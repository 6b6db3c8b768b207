"""Free texts that partners see (an item's what and with whom on their personal link, a meeting's
place in their invitations) carry a hint not to write the client's name, tied to the field; a
save whose text seems to name the client or a relative is held back with a warning, the input
kept, until the user ticks "save anyway". Names are found in any case, without accents, in
Finnish inflected forms and as "Firstname S."; initials are not names here."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from core.extensions import db
from meetings.models import ActionItem, Meeting
from register.services import names_in_text
from tests.factories import make_client
from tests.test_meetings_support import add_relative, make_meeting, participant

HINT_FI = "Kumppanit näkevät tämän: älä kirjoita tähän asiakkaan nimeä."


@pytest.mark.parametrize("text, found", [
    ("mukana: Pertti N.", ["Pertti"]),
    ("PERTTI", ["Pertti"]),
    ("pertti", ["Pertti"]),
    ("Pertin kanssa", ["Pertti"]),            # genitive: consonant gradation tt -> t
    ("Niemisen perhe", ["Nieminen"]),          # -nen surnames inflect -sen
    ("P. Nieminen", ["Nieminen"]),
    ("Laura S:n koti", ["Laura"]),             # the relative's first name, "Firstname S." form
    ("Lauralle soitto", ["Laura"]),
    ("Jönssonin luona", ["Jönsson"]),          # accents either way
    ("Jonsson", ["Jönsson"]),
    ("äiti ja P.N.", []),                      # initials are how partners may see the client
    ("Sovatekin työntekijä", []),
    ("lauantaina toimistolla", []),
    ("", []),
])
def test_names_are_found_as_finnish_needs(app, text, found):
    client = make_client(name="Pertti Nieminen")
    add_relative(client, name="Laura Salminen", relation="sisko")
    add_relative(client, name="Åke Jönsson", relation="isä")
    db.session.refresh(client)
    assert [n for n in names_in_text(client, text) if n != "Salminen"] == found


def _hint_of(page: str, field_id: str) -> str:
    soup = BeautifulSoup(page, "html.parser")
    field = soup.find(id=field_id)
    assert field is not None, field_id
    described = (field.get("aria-describedby") or "").split()
    return " ".join(soup.find(id=i).get_text(" ", strip=True) for i in described)


def test_fields_partners_see_carry_the_hint(auth_client, facilitator):
    meeting = make_meeting([facilitator], client=make_client(name="Pertti Nieminen", worker=facilitator))
    item = ActionItem(meeting_id=meeting.id, responsible_id=participant(meeting, "staff").id, what="Soita")
    db.session.add(item)
    db.session.commit()
    show = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert HINT_FI in _hint_of(show, "what") and HINT_FI in _hint_of(show, "with_whom")
    edit_item = auth_client.get(f"/meetings/{meeting.id}/items/{item.id}/edit").get_data(as_text=True)
    assert HINT_FI in _hint_of(edit_item, "what") and HINT_FI in _hint_of(edit_item, "with_whom")
    for url in (f"/meetings/{meeting.id}/edit", f"/meetings/new/{meeting.client_id}"):
        assert HINT_FI in _hint_of(auth_client.get(url).get_data(as_text=True), "place"), url


def test_an_item_naming_the_client_waits_for_save_anyway(auth_client, facilitator, fresh_db):
    meeting = make_meeting([facilitator], client=make_client(name="Pertti Nieminen", worker=facilitator))
    url = f"/meetings/{meeting.id}/items"
    data = {"responsible": str(participant(meeting, "staff").id), "what": "Varaa aika",
            "with_whom": "mukana: Pertti N.", "due_date": ""}
    response = auth_client.post_form(url, data, token_from=f"/meetings/{meeting.id}")
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    warning = soup.select_one(".name-warning")
    assert warning is not None and warning.get("role") == "alert"
    assert "Pertti" in warning.get_text() and warning.find("a", href="#with_whom") is not None
    assert soup.find(id="with_whom")["value"] == "mukana: Pertti N."  # the input is kept
    assert soup.find(id="what")["value"] == "Varaa aika"
    box = soup.find("input", id="save_anyway")
    assert box is not None and box.get("type") == "checkbox" and soup.find("label", attrs={"for": "save_anyway"})
    assert fresh_db.scalar(sa.select(sa.func.count(ActionItem.id))) == 0

    response = auth_client.post_form(url, {**data, "save_anyway": "y"}, token_from=f"/meetings/{meeting.id}")
    assert response.status_code == 302
    assert fresh_db.scalars(sa.select(ActionItem.with_whom)) == ["mukana: Pertti N."]


def test_text_without_names_saves_at_once(auth_client, facilitator, fresh_db):
    meeting = make_meeting([facilitator], client=make_client(name="Pertti Nieminen", worker=facilitator))
    response = auth_client.post_form(f"/meetings/{meeting.id}/items",
                                     {"responsible": str(participant(meeting, "staff").id), "what": "Varaa aika",
                                      "with_whom": "P.N. ja äiti", "due_date": ""},
                                     token_from=f"/meetings/{meeting.id}")
    assert response.status_code == 302
    assert fresh_db.scalars(sa.select(ActionItem.what)) == ["Varaa aika"]


def test_editing_an_item_to_name_a_relative_warns(auth_client, facilitator, fresh_db):
    client = make_client(name="Pertti Nieminen", worker=facilitator)
    add_relative(client, name="Laura Salminen", relation="sisko")
    meeting = make_meeting([facilitator], client=client)
    item = ActionItem(meeting_id=meeting.id, responsible_id=participant(meeting, "staff").id, what="Soita")
    db.session.add(item)
    db.session.commit()
    url = f"/meetings/{meeting.id}/items/{item.id}/edit"
    data = {"responsible": str(item.responsible_id), "what": "Soita Lauralle", "with_whom": "", "due_date": "",
            "version": "1"}
    response = auth_client.post_form(url, data, token_from=url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'class="warning name-warning"' in page and 'value="Soita Lauralle"' in page
    assert fresh_db.get(ActionItem, item.id).what == "Soita"
    assert auth_client.post_form(url, {**data, "save_anyway": "y"}, token_from=url).status_code == 302
    assert fresh_db.get(ActionItem, item.id).what == "Soita Lauralle"


def test_a_place_naming_the_client_warns_on_edit_and_on_arranging(auth_client, facilitator, fresh_db):
    client = make_client(name="Laura Salminen", worker=facilitator)
    meeting = make_meeting([facilitator], client=client)
    url = f"/meetings/{meeting.id}/edit"
    data = {"purpose": "Seuranta", "day": "2031-03-04", "start": "10:00", "length": "60",
            "place_kind": "partner_venue", "place": "Laura S:n koti", "remote_link": "",
            "client_identification": "initials", "version": str(meeting.version)}
    response = auth_client.post_form(url, data, token_from=url)
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert soup.select_one(".name-warning") is not None and soup.find(id="place")["value"] == "Laura S:n koti"
    assert fresh_db.get(Meeting, meeting.id).place != "Laura S:n koti"
    assert auth_client.post_form(url, {**data, "save_anyway": "y"}, token_from=url).status_code == 302
    assert fresh_db.get(Meeting, meeting.id).place == "Laura S:n koti"

    new_url = f"/meetings/new/{client.id}"
    arrange = {**data, "staff": str(facilitator.id), "include_client": "y"}
    arrange.pop("version")
    response = auth_client.post_form(new_url, arrange, token_from=new_url)
    assert response.status_code == 200 and 'class="warning name-warning"' in response.get_data(as_text=True)
    assert fresh_db.scalar(sa.select(sa.func.count(Meeting.id))) == 1
    # (The new meeting clashes with the edited one: the same staff at the same time; the clash
    # warning comes before saving too, and is confirmed in the same way.)
    confirmed = {**arrange, "save_anyway": "y", "confirm_clash": "y"}
    assert auth_client.post_form(new_url, confirmed, token_from=new_url).status_code == 302
    assert fresh_db.scalar(sa.select(sa.func.count(Meeting.id))) == 2
