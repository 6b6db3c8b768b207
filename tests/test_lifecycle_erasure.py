"""Erasing one client (GDPR Art. 17): a lead's confirmed action over HTTP; refused while the client
has something coming up; afterwards no name, phone or email of the client or their relatives is
left in any text column of any table (read through a fresh connection), nor in a backup taken
afterwards, while attendance counts and plan items survive."""
from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from groups.models import Attendance, Enrolment
from meetings.models import ActionItem, MeetingParticipant
from register.access import log_access
from register.models import AccessLog, Client, Relative
from reminders.models import FollowUpTask, OutboxMessage
from tests.factories import logged, make_client, make_group_with_session, make_meeting

SECRETS = ("Saga", "Söderholm", "Rune", "040 111 2233", "saga@example.fi", "044 555 6677", "rune@example.fi",
           "+358401112233", "Kotikatu 5")


def _seed(facilitator, *, upcoming=False):
    client = make_client(name="Saga Söderholm", worker=facilitator, phone="040 111 2233", consent=True)
    client.email = "saga@example.fi"
    client.postal_address, client.postal_consent_date = "Kotikatu 5 B 12\n00100 Helsinki", date(2026, 1, 5)
    other = make_client(name="Otto Toinen", worker=facilitator, phone="050 999 8877")
    rune = Relative(client_id=client.id, name="Rune Söderholm", relation="veli", phone="044 555 6677",
                    email="rune@example.fi")
    db.session.add(rune)
    starts = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    group, session = make_group_with_session(facilitator=facilitator, clients=[client, other], starts_at=starts)
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.client_id == client.id))
    db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status="present"))
    meeting = make_meeting(client=client, starts_at=starts + timedelta(days=3), staff=facilitator)
    meeting.place_kind, meeting.place = "home_visit", "Kotikatu 5 B 12"
    meeting.worries = "Sagan vuokrarästit; Runen mukaan Söderholmien asunto on vaarassa"
    meeting.summary = "Saga soittaa, numero 040 111 2233"
    ours = db.session.scalar(sa.select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting.id,
                                                                 MeetingParticipant.kind == "client"))
    db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=ours.id, what="Soita Sagalle vuokranantajasta",
                              with_whom="Rune", due_date=date(2026, 10, 20)))
    db.session.add(OutboxMessage(kind="reminder", target_kind="session", target_id=session.id,
                                 recipient_kind="client", recipient_id=client.id, slot="day_before@x",
                                 channel="sms", client_id=client.id, address="+358401112233", status="sent",
                                 sent_at=starts - timedelta(days=1), body="Hei Saga, ryhmä huomenna klo 11"))
    db.session.add(FollowUpTask(source_kind="session", source_id=session.id, client_id=client.id,
                                missed_at=starts, due_on=date(2026, 10, 6), status="reached",
                                note="Saga vastasi, Rune myös"))
    if upcoming:
        make_meeting(client=client, starts_at=utcnow() + timedelta(days=2), staff=facilitator)
    log_access(client.id, "view", "earlier visit", user=facilitator)
    db.session.commit()
    return client.id, other.id, meeting.id, session.id


def _text_everywhere(fresh_db) -> list[tuple[str, str, str]]:
    """Every secret found in any String/Text column of any table, as (table, column, secret)."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text))]
        if not columns:
            continue
        for row in fresh_db.execute(sa.select(*columns)):
            for column, value in zip(columns, row, strict=True):
                for secret in SECRETS:
                    if value and secret.casefold() in str(value).casefold():
                        found.append((table.name, column.name, secret))
    return found


def test_a_lead_erases_a_client_and_no_trace_of_the_person_remains(lead_client, lead, facilitator, fresh_db):
    client_id, other_id, meeting_id, session_id = _seed(facilitator)
    assert _text_everywhere(fresh_db), "the seed must put the secrets where the test looks"

    page = lead_client.get(f"/clients/{client_id}/erase")
    assert page.status_code == 200
    assert "Tätä ei voi perua" in page.get_data(as_text=True)
    response = lead_client.post_form(f"/clients/{client_id}/erase", {}, token_from=f"/clients/{client_id}/erase")
    assert response.status_code == 302

    assert _text_everywhere(fresh_db) == []
    erased = fresh_db.get(Client, client_id)
    assert erased.erased_at is not None and not erased.active and erased.name == "poistettu asiakas"
    # The work keeps its shape: attendance still counts, the plan keeps its item, the other
    # client is untouched.
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(Attendance)
                           .where(Attendance.session_id == session_id, Attendance.status == "present")) == 1
    items = fresh_db.scalars(sa.select(ActionItem).where(ActionItem.meeting_id == meeting_id))
    assert [i.what for i in items] == ["Soita […] vuokranantajasta"]
    assert fresh_db.get(Client, other_id).name == "Otto Toinen"
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                           .where(OutboxMessage.client_id == client_id, OutboxMessage.status == "sent")) == 1
    # The erasure itself is in the log, which keeps the earlier rows (they hold no name).
    actions = fresh_db.scalars(sa.select(AccessLog.action).where(AccessLog.client_id == client_id))
    assert "erase" in actions and "view" in actions
    # The client's page still opens and shows the neutral name.
    assert "poistettu asiakas" in lead_client.get(f"/clients/{client_id}").get_data(as_text=True)


def test_erasure_is_refused_while_the_client_has_a_meeting_coming_up(lead_client, facilitator, fresh_db):
    client_id, *_ = _seed(facilitator, upcoming=True)
    page = lead_client.get(f"/clients/{client_id}/erase").get_data(as_text=True)
    assert "Tietoja ei voi vielä poistaa" in page
    seen = len(logged(fresh_db, client_id))
    lead_client.post_form(f"/clients/{client_id}/erase", {}, token_from=f"/clients/{client_id}/erase")
    # The page and the refused erasure both showed the client: both log rows were committed.
    assert logged(fresh_db, client_id)[seen:] == [("view", "erasure page")] * 2
    assert fresh_db.get(Client, client_id).name == "Saga Söderholm"
    assert fresh_db.get(Client, client_id).erased_at is None


def test_only_a_lead_may_erase(auth_client, facilitator, fresh_db):
    client_id, *_ = _seed(facilitator)
    assert auth_client.get(f"/clients/{client_id}/erase").status_code in (403, 404)
    # A facilitator cannot even fetch the form; a forged POST with a valid token of another page
    # is refused too.
    token_page = auth_client.get(f"/clients/{client_id}")
    assert token_page.status_code == 200
    response = auth_client.post_form(f"/clients/{client_id}/erase", {}, token_from=f"/clients/{client_id}")
    assert response.status_code in (403, 404)
    assert fresh_db.get(Client, client_id).erased_at is None


def test_an_unknown_or_malformed_client_is_404(lead_client):
    assert lead_client.get("/clients/99999/erase").status_code == 404
    assert lead_client.get("/clients/%00x/erase").status_code == 404


def _backup_text(runner, tmp_path, database_url) -> bytes:
    path = tmp_path / "after-erasure.bak"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    if database_url.startswith("sqlite"):
        return path.read_bytes()
    # pg_dump's custom format is compressed: read it back as the SQL it restores.
    return subprocess.run(["pg_restore", "--file=-", str(path)], capture_output=True, check=True).stdout


def test_a_backup_taken_after_the_erasure_holds_no_trace(lead_client, facilitator, runner, tmp_path,
                                                         database_url):
    client_id, *_ = _seed(facilitator)
    before = _backup_text(runner, tmp_path, database_url)
    assert "Söderholm".encode() in before, "the test must see the name in a backup taken before"
    lead_client.post_form(f"/clients/{client_id}/erase", {}, token_from=f"/clients/{client_id}/erase")
    db.session.remove()
    after = _backup_text(runner, tmp_path, database_url)
    leftovers = [s for s in SECRETS if s.encode() in after]
    assert leftovers == []


def test_an_erased_client_cannot_be_filled_in_again(lead_client, facilitator, fresh_db):
    client_id, *_ = _seed(facilitator)
    lead_client.post_form(f"/clients/{client_id}/erase", {}, token_from=f"/clients/{client_id}/erase")
    edit = f"/clients/{client_id}/edit"
    assert lead_client.get(edit).status_code == 302
    response = lead_client.post_form(edit, {"name": "Saga Söderholm", "phone": "040 111 2233"},
                                     token_from=f"/clients/{client_id}")
    assert response.status_code == 302
    assert fresh_db.get(Client, client_id).name == "poistettu asiakas"
    assert fresh_db.get(Client, client_id).phone == ""
