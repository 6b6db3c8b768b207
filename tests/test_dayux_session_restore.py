"""Cancelling a group session can be undone until its time (as a meeting's "restore"): the session
is back on the schedule, the change is in its history, and its enrolled clients are told again
through reminders' one change-notice function (reminders.notices.queue_change_notice), exactly
once, in their language. After its time the cancellation stands. Read through ``fresh_db``."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from core.timeutil import local_to_utc, local_today
from groups.models import GroupSession, SessionChange
from register.services import update_client
from reminders.models import OutboxMessage
from tests.factories import make_client, make_group_with_session


def _notices(fresh_db):
    return fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "notice").order_by(OutboxMessage.id))


def _cancelled_session(facilitator, starts_at):
    sms = make_client(name="Saara Tekstari", worker=facilitator, phone="040 111 2222", consent=True)
    mail = make_client(name="Maja Mejl", worker=facilitator, consent=True, language="sv")
    update_client(mail, name=mail.name, phone="", email="maja@koti.example", language="sv", reminder_consent=True)
    group, session = make_group_with_session(facilitator=facilitator, clients=[sms, mail], starts_at=starts_at)
    db.session.commit()
    return group, session


def test_a_cancelled_session_is_restored_and_the_clients_are_told_again(auth_client, facilitator, fresh_db):
    day = local_today() + timedelta(days=9)
    group, session = _cancelled_session(facilitator, local_to_utc(day, time(10, 0)))
    page = f"/groups/{group.id}/sessions/{session.id}"
    assert auth_client.post_form(f"{page}/status", {"status": "cancelled", "send_notice": "y"},
                                 token_from=page).status_code == 302
    assert fresh_db.get(GroupSession, session.id).status == "cancelled"
    assert len(_notices(fresh_db)) == 2  # one SMS, one e-mail

    html = auth_client.get(page).get_data(as_text=True)
    assert "Palauta ryhmäkerta" in html and 'name="send_notice"' in html
    response = auth_client.post_form(f"{page}/status", {"status": "scheduled", "send_notice": "y"}, token_from=page)
    assert response.status_code == 302
    assert fresh_db.get(GroupSession, session.id).status == "scheduled"
    changes = fresh_db.scalars(sa.select(SessionChange).where(SessionChange.session_id == session.id)
                               .order_by(SessionChange.id))
    assert [(c.field, c.old_value, c.new_value) for c in changes][-2:] == [("status", "scheduled", "cancelled"),
                                                                          ("status", "cancelled", "scheduled")]
    restored = [n for n in _notices(fresh_db) if n.slot.startswith("notice-restore")]
    assert sorted((n.channel, n.language) for n in restored) == [("email", "sv"), ("sms", "fi")]
    sms = next(n for n in restored if n.channel == "sms")
    assert "pidetään sittenkin" in sms.body and "kello 10.00" in sms.body and "Saara" not in sms.body
    # The same request again (a double click) tells nobody twice.
    auth_client.post_form(f"{page}/status", {"status": "scheduled", "send_notice": "y"}, token_from=page)
    assert len([n for n in _notices(fresh_db) if n.slot.startswith("notice-restore")]) == 2


def test_restoring_with_the_box_unticked_tells_nobody(auth_client, facilitator, fresh_db):
    day = local_today() + timedelta(days=9)
    group, session = _cancelled_session(facilitator, local_to_utc(day, time(10, 0)))
    page = f"/groups/{group.id}/sessions/{session.id}"
    auth_client.post_form(f"{page}/status", {"status": "cancelled"}, token_from=page)
    assert fresh_db.get(GroupSession, session.id).status == "cancelled"
    auth_client.post_form(f"{page}/status", {"status": "scheduled"}, token_from=page)
    assert fresh_db.get(GroupSession, session.id).status == "scheduled"
    assert _notices(fresh_db) == []


def test_a_past_cancelled_session_cannot_be_restored(auth_client, facilitator, fresh_db):
    group, session = _cancelled_session(facilitator, utcnow() - timedelta(hours=3))
    session.status = "cancelled"
    db.session.commit()
    page = f"/groups/{group.id}/sessions/{session.id}"
    html = auth_client.get(page).get_data(as_text=True)
    assert "Palauta ryhmäkerta" not in html
    response = auth_client.post_form(f"{page}/status", {"status": "scheduled", "send_notice": "y"}, token_from=page)
    assert response.status_code == 302
    assert fresh_db.get(GroupSession, session.id).status == "cancelled"
    assert _notices(fresh_db) == []
    assert "vain ennen sen alkamisaikaa" in auth_client.get(page).get_data(as_text=True)


def test_a_reminder_stopped_by_the_cancellation_goes_out_after_the_restore(auth_client, facilitator, fresh_db):
    from reminders import queue
    from reminders.services import save_policy

    day = local_today() + timedelta(days=9)
    group, session = _cancelled_session(facilitator, local_to_utc(day, time(10, 0)))
    save_policy("group", group.id, day_before=True, day_before_at=time(16, 0), same_morning=False,
                same_morning_at=time(8, 0), by_sms=True, by_email=False)
    assert queue.queue_due(local_to_utc(day - timedelta(days=1), time(16, 5))) == 1
    db.session.commit()
    page = f"/groups/{group.id}/sessions/{session.id}"
    auth_client.post_form(f"{page}/status", {"status": "cancelled", "send_notice": "y"}, token_from=page)
    [row] = fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    assert row.status == "cancelled"
    auth_client.post_form(f"{page}/status", {"status": "scheduled"}, token_from=page)
    [row] = fresh_db.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
    assert row.status == "pending" and row.last_error == ""
