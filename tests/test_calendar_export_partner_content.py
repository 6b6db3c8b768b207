"""What a partner's feed says of a network meeting: the partner's own people and their part (with
their open tasks in the plan counted), and the staff contact with work phone and e-mail; and never
the client: the client's name and initials appear in no feed's bytes, whatever kind of feed."""
from __future__ import annotations

import icalendar
import pytest

from core.extensions import db
from meetings.models import ActionItem
from register.services import save_contact
from tests.calendar_uids import calendar_uid
from tests.factories import make_client, make_partner
from tests.test_calendar_export_data import make_group, make_meeting, make_session, soon, subscribe

CLIENT_NAME = "Matti Meikäläinen"


@pytest.fixture
def scene(app, facilitator, lead):
    facilitator.phone = "040 123 4567"
    partner = make_partner(name="Sovatek-säätiö", contacts=0)
    liisa = save_contact(partner, None, name="Liisa Laine", title="Päihdetyöntekijä", email="liisa@sovatek.example")
    other = make_partner(name="TYP", contacts=0)
    pekka = save_contact(other, None, name="Pekka Typpi", title="Ohjaaja", email="pekka@typ.example")
    client = make_client(name=CLIENT_NAME)
    meeting = make_meeting(client, soon(3, 10), staff=[facilitator, lead], contacts=[liisa, pekka],
                           purpose=f"{CLIENT_NAME}in asumisen tuki", place="Sovatek, Kauppakatu 2")
    meeting.worries = "M.M. on vaarassa menettää asuntonsa"
    ours = next(p for p in meeting.participants if p.contact_id == liisa.id)
    theirs = next(p for p in meeting.participants if p.contact_id == pekka.id)
    db.session.add_all([
        ActionItem(meeting_id=meeting.id, responsible_id=ours.id, what=f"Soita {CLIENT_NAME}lle"),
        ActionItem(meeting_id=meeting.id, responsible_id=ours.id, what="Varaa aika M.M.:lle"),
        ActionItem(meeting_id=meeting.id, responsible_id=ours.id, what="Valmis jo", status="done"),
        ActionItem(meeting_id=meeting.id, responsible_id=theirs.id, what="TYP:n tehtävä"),
    ])
    group = make_group("Raharyhmä", (facilitator,), partners=[partner])
    make_session(group, 1, soon(7), topic="Budjetti")
    db.session.commit()
    return dict(partner=partner, other=other, client=client, meeting=meeting, group=group,
                facilitator=facilitator, lead=lead)


def unfolded(body: bytes) -> str:
    # RFC 5545 folds long lines (CRLF and a space may split a name); unfold before searching.
    return body.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode()


def meeting_event(body: bytes, meeting_id: int) -> icalendar.Event:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}[calendar_uid("meeting", meeting_id)]


def test_partner_feed_says_the_partners_part_and_whom_to_contact(client, scene):
    body = client.get(subscribe("partner", scene["partner"].id, created_by=scene["lead"])).get_data()
    description = str(meeting_event(body, scene["meeting"].id)["DESCRIPTION"])
    lines = description.split("\n")
    assert "Osallistuu organisaatiostanne: Liisa Laine (Päihdetyöntekijä)" in lines
    assert "Avoimia tehtäviä suunnitelmassa (Liisa Laine): 2" in lines
    assert "Yhteyshenkilö: Fiia Facilitator, 040 123 4567, fiia@example.fi" in lines
    assert "Työntekijät: Fiia Facilitator, Leo Lead" in lines
    # Only this partner's people: the other organisation's contact and tasks are not here.
    assert "Pekka Typpi" not in description and "TYP" not in description


def test_other_feeds_keep_the_short_meeting_event(client, scene):
    body = client.get(subscribe("staff", scene["facilitator"].id, created_by=scene["facilitator"])).get_data()
    event = meeting_event(body, scene["meeting"].id)
    assert str(event["SUMMARY"]) == "Verkostopalaveri"
    assert str(event["DESCRIPTION"]) == "Työntekijät: Fiia Facilitator, Leo Lead"


def test_the_client_is_in_no_feed(client, scene):
    feeds = {
        "partner (lead)": subscribe("partner", scene["partner"].id, created_by=scene["lead"]),
        "partner (facilitator)": subscribe("partner", scene["partner"].id, created_by=scene["facilitator"]),
        "other partner": subscribe("partner", scene["other"].id),
        "staff": subscribe("staff", scene["facilitator"].id, created_by=scene["facilitator"]),
        "group": subscribe("group", scene["group"].id),
        "unit": subscribe("unit", created_by=scene["lead"]),
    }
    client_row = scene["client"]
    for kind, url in feeds.items():
        response = client.get(url)
        assert response.status_code == 200, kind
        text = unfolded(response.get_data())
        if kind != "group":
            assert calendar_uid("meeting", scene['meeting'].id) in text, kind  # the meeting is there...
        for secret in (CLIENT_NAME, "Matti", "Meikäläinen", client_row.initials, "M.M", "asumisen", "asuntonsa"):
            assert secret not in text, (kind, secret)  # ...but not the client
        assert f"client-{client_row.id}" not in text and "/clients/" not in text, kind
