"""Links written as (kind, id) pairs go with the record they name, in the same transaction.

The reminders' policies, messages, opt-outs, opt-out links and follow-up tasks, and calendar
subscriptions, name their record by a kind and an id with no foreign key (reminders.links,
calendar_export.links). Deleting the record through the app must delete them in the request's
one commit; what the database holds afterwards is read through an engine of its own."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from calendar_export.models import CalendarSubscription
from core.db import utcnow
from core.extensions import db
from groups.models import Group, GroupSession
from meetings.models import Meeting
from register.models import PartnerContact, Relative
from register.services import save_relative
from reminders.models import FollowUpTask, OptOutLink, OutboxMessage, ReminderOptOut, ReminderPolicy
from tests.factories import make_client, make_meeting, make_partner

_n = iter(range(1, 10_000))


def _message(client_id, *, target_kind, target_id, recipient_kind="client", recipient_id=None):
    n = next(_n)
    db.session.add(OutboxMessage(kind="reminder", target_kind=target_kind, target_id=target_id,
                                 recipient_kind=recipient_kind, recipient_id=recipient_id or client_id,
                                 slot=f"slot-{n}", channel="sms", client_id=client_id, address="+358401234567",
                                 body="Muistutus"))


def _opt_out_link(client_id, kind, ident):
    db.session.add(OptOutLink(token_hash=f"{next(_n):064d}", recipient_kind=kind, recipient_id=ident,
                              client_id=client_id, expires_at=utcnow() + timedelta(days=30)))


def _rows(fresh_db, model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    return fresh_db.scalar(stmt)


def test_deleting_a_relative_removes_its_opt_out_its_links_and_its_messages(app, lead_client, fresh_db):
    client = make_client(name="Liisa Links", phone="+358401112222", consent=True)
    relative = save_relative(client, None, name="Pekka Sukulainen", relation="veli", phone="+358403334444",
                             email="", language="fi", reminder_consent=True)
    other = save_relative(client, None, name="Outi Sukulainen", relation="sisar", phone="+358405556666",
                          email="", language="fi", reminder_consent=True)
    db.session.flush()
    for kind, ident in (("relative", relative.id), ("relative", other.id), ("client", client.id)):
        db.session.add(ReminderOptOut(recipient_kind=kind, recipient_id=ident, source="staff"))
        _opt_out_link(client.id, kind, ident)
        _message(client.id, target_kind="meeting", target_id=999, recipient_kind=kind, recipient_id=ident)
    db.session.commit()
    relative_id, other_id, client_id = relative.id, other.id, client.id

    response = lead_client.post_form(f"/clients/{client_id}/relatives/{relative_id}/delete", {})
    assert response.status_code == 302

    assert fresh_db.get(Relative, relative_id) is None
    for model in (ReminderOptOut, OptOutLink, OutboxMessage):
        assert _rows(fresh_db, model, recipient_kind="relative", recipient_id=relative_id) == 0, model
        # The other relative's and the client's own rows are untouched.
        assert _rows(fresh_db, model, recipient_kind="relative", recipient_id=other_id) == 1, model
        assert _rows(fresh_db, model, recipient_kind="client", recipient_id=client_id) == 1, model


def test_deleting_a_planned_group_removes_its_policy_feed_messages_and_tasks(app, lead, lead_client, fresh_db):
    client = make_client(name="Ryhmä Asiakas")
    groups = []
    for title in ("Poistettava", "Jää"):
        group = Group(title=title, status="planning", facilitator1_id=lead.id)
        db.session.add(group)
        db.session.flush()
        session = GroupSession(group_id=group.id, number=1, starts_at=utcnow() + timedelta(days=7),
                               ends_at=utcnow() + timedelta(days=7, hours=2))
        db.session.add(session)
        db.session.flush()
        db.session.add(ReminderPolicy(target_kind="group", target_id=group.id))
        db.session.add(CalendarSubscription(kind="group", target_id=group.id, token_hash=f"{next(_n):064d}"))
        _message(client.id, target_kind="session", target_id=session.id)
        db.session.add(FollowUpTask(source_kind="session", source_id=session.id, client_id=client.id,
                                    missed_at=utcnow(), due_on=date.today()))
        groups.append((group.id, session.id))
    db.session.commit()
    (gone, gone_session), (kept, kept_session) = groups

    response = lead_client.post_form(f"/groups/{gone}/delete", {})
    assert response.status_code == 302

    assert fresh_db.get(Group, gone) is None
    assert _rows(fresh_db, ReminderPolicy, target_kind="group", target_id=gone) == 0
    assert _rows(fresh_db, CalendarSubscription, kind="group", target_id=gone) == 0
    assert _rows(fresh_db, OutboxMessage, target_kind="session", target_id=gone_session) == 0
    assert _rows(fresh_db, FollowUpTask, source_kind="session", source_id=gone_session) == 0
    # The other group's rows stay.
    assert _rows(fresh_db, ReminderPolicy, target_kind="group", target_id=kept) == 1
    assert _rows(fresh_db, CalendarSubscription, kind="group", target_id=kept) == 1
    assert _rows(fresh_db, OutboxMessage, target_kind="session", target_id=kept_session) == 1
    assert _rows(fresh_db, FollowUpTask, source_kind="session", source_id=kept_session) == 1


@pytest.mark.parametrize("record", ["meeting", "partner_contact"])
def test_an_orm_delete_takes_the_links_in_the_same_transaction(app, fresh_db, record):
    """No page deletes a meeting or a partner's contact today; a delete through the ORM (a future
    service, a cascade) still takes the rows naming it, and a rollback keeps them."""
    client = make_client(name="Tapio Testi")
    if record == "meeting":
        target = make_meeting(client=client, starts_at=utcnow() + timedelta(days=3))
        db.session.add(ReminderPolicy(target_kind="meeting", target_id=target.id))
        _message(client.id, target_kind="meeting", target_id=target.id)
        checks = [(ReminderPolicy, {"target_kind": "meeting", "target_id": target.id}),
                  (OutboxMessage, {"target_kind": "meeting", "target_id": target.id})]
    else:
        target = make_partner(contacts=1).contacts[0]
        db.session.add(ReminderOptOut(recipient_kind="contact", recipient_id=target.id, source="staff"))
        _message(client.id, target_kind="meeting", target_id=1, recipient_kind="contact", recipient_id=target.id)
        checks = [(ReminderOptOut, {"recipient_kind": "contact", "recipient_id": target.id}),
                  (OutboxMessage, {"recipient_kind": "contact", "recipient_id": target.id})]
    db.session.commit()

    db.session.delete(target)
    db.session.flush()
    db.session.rollback()
    for model, where in checks:
        assert _rows(fresh_db, model, **where) == 1, model

    db.session.delete(db.session.get(type(target), target.id))
    db.session.commit()
    assert fresh_db.get(Meeting if record == "meeting" else PartnerContact, target.id) is None
    for model, where in checks:
        assert _rows(fresh_db, model, **where) == 0, model
