"""Cancelling a group tells its enrolled clients, although groups no longer import reminders (the
layers, core.layers): the question page lists who a message reaches (reminders' registered
audience) and the cancellation queues one message per reachable client (reminders on the groups'
``group_cancelled`` signal), read back through a session of its own."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from reminders.models import OutboxMessage
from tests.factories import make_client, make_group_with_session


def test_cancelling_a_group_asks_and_then_messages_the_enrolled_clients(auth_client, facilitator, fresh_db):
    reached = make_client(name="Tavoitettava Asiakas", phone="+358401234567", consent=True)
    unreached = make_client(name="Ei Puhelinta", consent=False)
    group, session = make_group_with_session(facilitator=facilitator, clients=[reached, unreached],
                                             starts_at=utcnow() + timedelta(days=3))
    group_id, session_id, reached_id = group.id, session.id, reached.id
    db.session.commit()

    question = auth_client.get(f"/groups/{group_id}/cancel")
    assert question.status_code == 200
    page = question.get_data(as_text=True)
    assert "Tavoitettava Asiakas" in page and "Ei Puhelinta" in page

    response = auth_client.post_form(f"/groups/{group_id}/cancel", {"reason": "Ohjaaja sairastui."})
    assert response.status_code == 302
    rows = fresh_db.execute(sa.select(OutboxMessage.client_id, OutboxMessage.channel, OutboxMessage.slot,
                                      OutboxMessage.target_id, OutboxMessage.body)
                            .where(OutboxMessage.slot == "group-cancelled"))
    assert [(r.client_id, r.channel, r.target_id) for r in rows] == [(reached_id, "sms", session_id)]
    assert "Ohjaaja sairastui." in rows[0].body
    assert fresh_db.scalar(sa.text(f"SELECT status FROM client_group WHERE id = {int(group_id)}")) == "cancelled"
