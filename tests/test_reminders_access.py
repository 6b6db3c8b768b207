"""Attacker's view of the reminder pages: a facilitator who may see a client (they work with the
client) but is not on the client's network meeting, and does not facilitate the client's other
group, gets the same 404 on every reminder page and POST of that meeting or group as on the
meeting's own page, and changes nothing; the outbox and the start page do not list its messages.
The meeting's staff and leads keep their access."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.extensions import db
from register.access import can_access_client
from register.services import save_relative
from reminders.models import FollowUpTask, OutboxMessage, ReminderOptOut, ReminderPolicy
from tests.factories import login, make_client, make_group_with_session, make_meeting, make_user

AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def _message(target_kind, target_id, client, *, status, body, recipient_kind="client", recipient_id=None):
    row = OutboxMessage(kind="reminder", target_kind=target_kind, target_id=target_id, recipient_kind=recipient_kind,
                        recipient_id=recipient_id or client.id, slot=f"s-{body}", channel="sms",
                        client_id=client.id, address="+358405556666", body=body, status=status,
                        attempts=1, last_error="SMS gateway: HTTP 500" if status == "failed" else "")
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def world(app, facilitator):
    """The facilitator works with the client; another worker holds the client's meeting (with the
    client's father, whose number the reminder page shows) and facilitates another group the
    client is in."""
    other = make_user(name="Olli Other")
    person = make_client(name="Aino Asiakas", worker=facilitator, phone="040 123 4567", consent=True)
    father = save_relative(person, None, name="Eero Isä", relation="isä", phone="040 555 6666", email="",
                           language="fi", reminder_consent=True)
    db.session.commit()
    meeting = make_meeting(client=person, starts_at=AT, staff=other, relatives=[father])
    their_group, their_session = make_group_with_session(facilitator=other, clients=[person], starts_at=AT)
    their_group.title = "Olli's group"
    meeting_failed = _message("meeting", meeting.id, person, status="failed", body="meeting-failed",
                              recipient_kind="relative", recipient_id=father.id)
    meeting_manual = _message("meeting", meeting.id, person, status="manual", body="meeting-manual")
    session_failed = _message("session", their_session.id, person, status="failed", body="session-failed")
    task = FollowUpTask(source_kind="meeting", source_id=meeting.id, client_id=person.id, assigned_to_id=other.id,
                        missed_at=AT, due_on=AT.date())
    db.session.add(task)
    db.session.commit()
    return dict(other=other, person=person, father=father, meeting=meeting, group=their_group,
                meeting_failed=meeting_failed, meeting_manual=meeting_manual, session_failed=session_failed,
                task=task)


def test_facilitator_outside_the_meeting_gets_404_everywhere_and_changes_nothing(world, facilitator, auth_client,
                                                                               fresh_db):
    meeting, father, group = world["meeting"], world["father"], world["group"]
    # The premise: they see the client, but not the meeting.
    assert can_access_client(facilitator, world["person"].id)
    assert auth_client.get(f"/meetings/{meeting.id}").status_code == 404

    page = auth_client.get(f"/reminders/meeting/{meeting.id}")
    assert page.status_code == 404
    assert "Eero" not in page.get_data(as_text=True) and "555" not in page.get_data(as_text=True)
    assert auth_client.get(f"/reminders/group/{group.id}").status_code == 404

    # POSTs with a valid CSRF token: a policy, and the father's opt-out.
    assert auth_client.post_form(f"/reminders/meeting/{meeting.id}", {
        "version": "0", "day_before": "y", "day_before_at": "16:00", "by_sms": "y"},
        token_from="/reminders/outbox").status_code == 404
    opt_out = f"/reminders/meeting/{meeting.id}/recipients/relative/{father.id}/opt-out"
    assert auth_client.post_form(opt_out, {"opted_out": "1"}, token_from="/reminders/outbox").status_code == 404
    assert auth_client.post_form(f"/reminders/group/{group.id}", {
        "version": "0", "day_before": "y", "day_before_at": "16:00", "by_sms": "y"},
        token_from="/reminders/outbox").status_code == 404
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(ReminderOptOut)) == 0
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(ReminderPolicy)) == 0


def test_outbox_and_start_page_hide_the_messages_of_meetings_and_groups_they_are_not_in(world, auth_client,
                                                                                       fresh_db):
    # The outbox lists none of the meeting's or the other group's messages, and its buttons refuse them.
    outbox = auth_client.get("/reminders/outbox").get_data(as_text=True)
    for body in ("meeting-failed", "meeting-manual", "session-failed", "+358405556666"):
        assert body not in outbox, body
    for status in ("failed", "manual"):
        assert "meeting-" not in auth_client.get(f"/reminders/outbox?status={status}").get_data(as_text=True)
    for row in (world["meeting_failed"], world["session_failed"]):
        assert auth_client.post_form(f"/reminders/outbox/{row.id}/retry", {},
                                     token_from="/reminders/outbox").status_code == 404
    assert auth_client.post_form(f"/reminders/outbox/{world['meeting_manual'].id}/sent", {},
                                 token_from="/reminders/outbox").status_code == 404
    statuses = dict(fresh_db.execute(sa.select(OutboxMessage.body, OutboxMessage.status)))
    assert statuses == {"meeting-failed": "failed", "meeting-manual": "manual", "session-failed": "failed"}
    # The start page counts nothing of theirs.
    start = auth_client.get("/").get_data(as_text=True)
    assert "epäonnistui" not in start and "odottaa käsin lähettämistä" not in start


def test_follow_ups_and_settings_of_others_stay_hidden(world, auth_client):
    meeting = world["meeting"]
    assert auth_client.get(f"/reminders/follow-ups/{world['task'].id}").status_code == 404
    assert "Aino Asiakas" not in auth_client.get("/reminders/follow-ups").get_data(as_text=True)
    settings = auth_client.get("/reminders/settings").get_data(as_text=True)
    assert f"/reminders/meeting/{meeting.id}" not in settings and "Olli&#39;s group" not in settings


def test_the_meetings_staff_and_leads_keep_their_access(world, client, lead_client, fresh_db):
    meeting, father = world["meeting"], world["father"]
    login(client, world["other"])
    page = client.get(f"/reminders/meeting/{meeting.id}").get_data(as_text=True)
    assert "Eero Isä" in page and "+358405556666" in page
    assert client.get(f"/reminders/group/{world['group'].id}").status_code == 200
    outbox = client.get("/reminders/outbox").get_data(as_text=True)
    assert "meeting-failed" in outbox and "session-failed" in outbox
    assert client.get(f"/reminders/follow-ups/{world['task'].id}").status_code == 200
    start = client.get("/").get_data(as_text=True)
    assert "2 muistutusta epäonnistui" in start and "1 tekstiviesti odottaa käsin lähettämistä" in start
    opt_out = f"/reminders/meeting/{meeting.id}/recipients/relative/{father.id}/opt-out"
    assert client.post_form(opt_out, {"opted_out": "1"}, token_from=f"/reminders/meeting/{meeting.id}"
                            ).status_code == 302
    assert fresh_db.scalars(sa.select(ReminderOptOut.recipient_id).where(
        ReminderOptOut.recipient_kind == "relative")) == [father.id]
    assert lead_client.get(f"/reminders/meeting/{meeting.id}").status_code == 200
    assert "meeting-manual" in lead_client.get("/reminders/outbox").get_data(as_text=True)
