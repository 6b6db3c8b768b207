"""The client's own copy of their data (GDPR Art. 15): everything Kohtaamo holds about one
client, as a printable page in the client's language and as JSON; lead-only; itself logged.

The seeded data is distinctive text in every kind of record; the test looks for each piece on
the page and in the JSON as parsed by the standard library, and for the other client's data
nowhere."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from groups.models import Attendance, Enrolment
from meetings.models import ActionItem, MeetingParticipant
from register.access import log_access
from register.models import AccessLog, Relative
from reminders.models import FollowUpTask, OutboxMessage
from tests.factories import login, make_client, make_group_with_session, make_meeting, make_user

SV_ABSENT = "Frånvarande"
SECTIONS = {"client", "relatives", "workers", "groups", "meetings", "messages", "follow_ups", "access_log"}


def _seed(facilitator, language="sv"):
    client = make_client(name="Saga Söderholm", worker=facilitator, phone="040 111 2233", consent=True,
                         language=language)
    client.email = "saga@example.fi"
    other = make_client(name="Otto Toinen", worker=facilitator, phone="050 999 8877")
    db.session.add(Relative(client_id=client.id, name="Rune Söderholm", relation="bror", phone="044 555 6677"))
    starts = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    group, session = make_group_with_session(facilitator=facilitator, clients=[client, other], starts_at=starts)
    session.topic = "Budjettiharjoitus"
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.client_id == client.id))
    db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status="absent"))
    meeting = make_meeting(client=client, starts_at=starts + timedelta(days=3), staff=facilitator)
    meeting.worries = "Vuokrarästit huolettavat"
    meeting.summary = "Sovittiin maksusuunnitelmasta"
    ours = db.session.scalar(sa.select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id,
                                                                 MeetingParticipant.kind == "client"))
    db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=ours.id, what="Soita vuokranantajalle",
                              due_date=date(2026, 10, 20)))
    other_meeting = make_meeting(client=other, starts_at=starts + timedelta(days=4), staff=facilitator)
    other_meeting.worries = "Toisen asiakkaan huoli"
    db.session.add(OutboxMessage(kind="reminder", target_kind="session", target_id=session.id,
                                 recipient_kind="client", recipient_id=client.id, slot="day_before@x",
                                 channel="sms", client_id=client.id, address="+358401112233", status="sent",
                                 sent_at=starts - timedelta(days=1), body="Påminnelse: gruppen i morgon kl. 11"))
    db.session.add(OutboxMessage(kind="reminder", target_kind="session", target_id=session.id,
                                 recipient_kind="client", recipient_id=other.id, slot="day_before@x",
                                 channel="sms", client_id=other.id, address="+358509998877", status="sent",
                                 body="Muistutus toiselle asiakkaalle"))
    db.session.add(FollowUpTask(source_kind="session", source_id=session.id, client_id=client.id,
                                missed_at=starts, due_on=date(2026, 10, 6), status="reached",
                                note="Uusi aika sovittu puhelimessa"))
    log_access(client.id, "view", "earlier visit", user=facilitator)
    db.session.commit()
    return client, other


PIECES = ["Saga Söderholm", "040 111 2233", "saga@example.fi", "Rune Söderholm", "044 555 6677",
          "Fiia Facilitator", "Raharyhmä", "Budjettiharjoitus", "Vuokrarästit huolettavat",
          "Sovittiin maksusuunnitelmasta", "Soita vuokranantajalle", "Påminnelse: gruppen i morgon kl. 11",
          "+358401112233", "Uusi aika sovittu puhelimessa", "earlier visit"]
OTHERS = ["Otto Toinen", "050 999 8877", "Toisen asiakkaan huoli", "Muistutus toiselle asiakkaalle"]


def test_printable_copy_has_every_kind_of_data_in_the_clients_language(app, lead_client, facilitator):
    client, _ = _seed(facilitator, language="sv")
    response = lead_client.get(f"/clients/{client.id}/copy")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for piece in PIECES:
        assert piece in page, piece
    for piece in OTHERS:
        assert piece not in page, piece
    # The lead's own language is Finnish; the page is in the client's (Swedish).
    assert "<h1>Dina uppgifter i Kohtaamo</h1>" in page
    assert 'lang="sv"' in page
    assert SV_ABSENT in page  # attendance in Swedish words
    assert "Tietosi Kohtaamossa" not in page


def test_json_download_parses_and_has_every_section(app, lead_client, facilitator):
    client, _ = _seed(facilitator)
    response = lead_client.get(f"/clients/{client.id}/copy.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "Saga" not in disposition
    data = json.loads(response.get_data(as_text=True))
    assert set(data) >= SECTIONS
    assert data["client"]["name"] == "Saga Söderholm"
    assert data["client"]["email"] == "saga@example.fi"
    assert data["client"]["reminder_consent"] is True
    assert [r["name"] for r in data["relatives"]] == ["Rune Söderholm"]
    assert data["workers"] == ["Fiia Facilitator"]
    [group] = data["groups"]
    assert group["title"] == "Raharyhmä"
    assert group["attendance"] == [{"session": 1, "starts_at": "2026-10-05T09:00:00+00:00",
                                    "topic": "Budjettiharjoitus", "status": "absent"}]
    [meeting] = data["meetings"]
    assert meeting["worries"] == "Vuokrarästit huolettavat"
    assert [i["what"] for i in meeting["items"]] == ["Soita vuokranantajalle"]
    assert meeting["items"][0]["due_date"] == "2026-10-20"
    [message] = data["messages"]
    assert message["body"] == "Påminnelse: gruppen i morgon kl. 11"
    assert datetime.fromisoformat(message["sent_at"]) == datetime(2026, 10, 4, 9, 0, tzinfo=UTC)
    [follow_up] = data["follow_ups"]
    assert follow_up["note"] == "Uusi aika sovittu puhelimessa"
    assert any(row["detail"] == "earlier visit" and row["user"] == "Fiia Facilitator" for row in data["access_log"])
    text = json.dumps(data, ensure_ascii=False)
    for piece in OTHERS:
        assert piece not in text, piece


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_producing_the_copy_is_logged(app, lead_client, lead, facilitator, fresh_db, suffix):
    client, _ = _seed(facilitator)
    assert lead_client.get(f"/clients/{client.id}/copy{suffix}").status_code == 200
    rows = fresh_db.execute(sa.select(AccessLog.user_id, AccessLog.action, AccessLog.detail)
                            .where(AccessLog.client_id == client.id, AccessLog.action == "data_copy"))
    assert len(rows) == 1
    assert rows[0].user_id == lead.id


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_facilitator_may_not_produce_the_copy(app, client, facilitator, fresh_db, suffix):
    seeded, _ = _seed(facilitator)
    login(client, facilitator)  # the client's own worker, who may see the client's page
    assert client.get(f"/clients/{seeded.id}").status_code == 200
    response = client.get(f"/clients/{seeded.id}/copy{suffix}")
    assert response.status_code == 403
    assert "Saga" not in response.get_data(as_text=True)
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLog)
                           .where(AccessLog.action == "data_copy")) == 0


def test_unknown_or_malformed_client_is_404(app, lead_client):
    assert lead_client.get("/clients/999999/copy").status_code == 404
    assert lead_client.get("/clients/abc/copy.json").status_code == 404


def test_client_page_links_the_copy_for_leads_only(app, lead_client, facilitator, client):
    seeded, _ = _seed(facilitator)
    assert f"/clients/{seeded.id}/copy" in lead_client.get(f"/clients/{seeded.id}").get_data(as_text=True)
    login(client, facilitator)
    assert f"/clients/{seeded.id}/copy" not in client.get(f"/clients/{seeded.id}").get_data(as_text=True)


def _selects(lead_client, client_id) -> int:
    from tests.sqlcapture import captured_statements

    with captured_statements() as statements:
        assert lead_client.get(f"/clients/{client_id}/copy").status_code == 200
    return sum(1 for s in statements if s.startswith("SELECT"))


def test_copy_reads_a_fixed_number_of_times(app, lead_client, facilitator):
    client, _ = _seed(facilitator)
    few = _selects(lead_client, client.id)
    # Much more of everything: more meetings with participants and items, messages, log rows.
    starts = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    partner = make_user(name="Pia Partner-staff")
    for n in range(5):
        meeting = make_meeting(client=client, starts_at=starts + timedelta(days=n), staff=partner)
        ours = meeting.participants[0]
        db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=ours.id, what=f"Tehtävä {n}"))
        log_access(client.id, "view", f"visit {n}", user=partner)
    db.session.commit()
    assert _selects(lead_client, client.id) == few


@pytest.mark.parametrize("language, heading, absent", [("fi", "Tietosi Kohtaamossa", "Poissa"),
                                                      ("en", "Your data in Kohtaamo", "Absent")])
def test_copy_follows_the_clients_language_not_the_leads(app, lead_client, lead, facilitator, language, heading,
                                                         absent):
    lead.language = "sv" if language == "fi" else "fi"
    db.session.commit()
    client, _ = _seed(facilitator, language=language)
    page = lead_client.get(f"/clients/{client.id}/copy").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page
    assert f'lang="{language}"' in page
    assert absent in page
