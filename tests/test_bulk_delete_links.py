"""Links written as (kind, id) pairs go with their record on every path that deletes it, not only
through the ORM (core.links): a bulk ``sa.delete`` run through the session, and the rows the
database deletes by ``ON DELETE CASCADE`` (a client's meetings, appointments and place offers, an
enrolment's place offer), which the ORM never sees. Each test deletes one of two records and reads
back through an engine of its own that the deleted one's links are gone and the other's stay."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from appointments.models import Appointment, AppointmentKind
from calendar_export.models import CalendarSubscription
from core.db import utcnow
from core.extensions import db
from groups.models import Enrolment, Group, GroupSession
from register.models import Client, PartnerContact, PartnerOrganisation, Relative
from reminders.models import FollowUpTask, OptOutLink, OutboxMessage, PlaceOffer, ReminderOptOut, ReminderPolicy
from tests.factories import make_client, make_meeting, make_partner, make_user

_n = iter(range(1, 10_000))


def _message(client_id, *, target_kind="meeting", target_id=1, recipient_kind="client", recipient_id=None):
    db.session.add(OutboxMessage(kind="reminder", target_kind=target_kind, target_id=target_id,
                                 recipient_kind=recipient_kind, recipient_id=recipient_id or client_id,
                                 slot=f"slot-{next(_n)}", channel="sms", client_id=client_id,
                                 address="+358401234567", body="Muistutus"))


def _task(client_id, kind, ident):
    db.session.add(FollowUpTask(source_kind=kind, source_id=ident, client_id=client_id, missed_at=utcnow(),
                                due_on=date.today()))


def _count(fresh_db, model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    return fresh_db.scalar(stmt)


def _group(lead, title):
    group = Group(title=title, status="planning", facilitator1_id=lead.id)
    db.session.add(group)
    db.session.flush()
    return group


def _delete(path: str, record) -> None:
    """Delete ``record`` through the ORM or by a bulk statement, and commit."""
    cls, ident = type(record), record.id
    if path == "orm":
        db.session.delete(record)
    else:
        db.session.execute(sa.delete(cls).where(cls.id == ident))
    db.session.commit()


def test_a_bulk_delete_of_a_group_removes_its_links_and_its_sessions_links(app, lead, fresh_db):
    client = make_client(name="Ryhmä Asiakas")
    made = []
    for title in ("Poistettava", "Jää"):
        group = _group(lead, title)
        session = GroupSession(group_id=group.id, number=1, starts_at=utcnow() + timedelta(days=7),
                               ends_at=utcnow() + timedelta(days=7, hours=2))
        db.session.add(session)
        db.session.flush()
        db.session.add(ReminderPolicy(target_kind="group", target_id=group.id))
        db.session.add(CalendarSubscription(kind="group", target_id=group.id, token_hash=f"{next(_n):064d}"))
        _message(client.id, target_kind="session", target_id=session.id)
        _task(client.id, "session", session.id)
        made.append((group.id, session.id))
    db.session.commit()
    (gone, gone_session), (kept, kept_session) = made

    db.session.execute(sa.delete(Group).where(Group.id == gone))
    db.session.commit()

    assert fresh_db.get(Group, gone) is None and fresh_db.get(GroupSession, gone_session) is None
    for (group_id, session_id), expected in ((made[0], 0), (made[1], 1)):
        assert _count(fresh_db, ReminderPolicy, target_kind="group", target_id=group_id) == expected
        assert _count(fresh_db, CalendarSubscription, kind="group", target_id=group_id) == expected
        assert _count(fresh_db, OutboxMessage, target_kind="session", target_id=session_id) == expected
        assert _count(fresh_db, FollowUpTask, source_kind="session", source_id=session_id) == expected


def _client_with_everything(lead, name):
    """A client with a relative, a meeting, an appointment and a place offer, each linked to."""
    client = make_client(name=name, phone="+358401112222", consent=True)
    relative = Relative(client_id=client.id, name=f"{name} sukulainen", relation="sisar", phone="+358403334444")
    db.session.add(relative)
    meeting = make_meeting(client=client, starts_at=utcnow() + timedelta(days=3))
    appointment = Appointment(client_id=client.id, worker1_id=lead.id, kind=list(AppointmentKind)[0],
                              starts_at=utcnow() + timedelta(days=4), ends_at=utcnow() + timedelta(days=4, hours=1))
    db.session.add(appointment)
    group = _group(lead, f"Ryhmä {name}")
    enrolment = Enrolment(group_id=group.id, client_id=client.id, status="offered")
    db.session.add(enrolment)
    db.session.flush()
    offer = PlaceOffer(enrolment_id=enrolment.id, group_id=group.id, client_id=client.id,
                       token_hash=f"{next(_n):064d}", deadline=utcnow() + timedelta(days=2), answer_minutes=2880)
    db.session.add(offer)
    db.session.flush()
    db.session.add(ReminderOptOut(recipient_kind="relative", recipient_id=relative.id, source="staff"))
    db.session.add(OptOutLink(token_hash=f"{next(_n):064d}", recipient_kind="relative", recipient_id=relative.id,
                              client_id=client.id, expires_at=utcnow() + timedelta(days=30)))
    db.session.add(ReminderPolicy(target_kind="meeting", target_id=meeting.id))
    for kind, ident in (("meeting", meeting.id), ("appt", appointment.id), ("offer", offer.id)):
        _message(client.id, target_kind=kind, target_id=ident)
        _task(client.id, kind, ident)
    db.session.add(ReminderPolicy(target_kind="appt", target_id=appointment.id))
    db.session.flush()
    return client, {"relative": relative.id, "meeting": meeting.id, "appt": appointment.id, "offer": offer.id,
                    "enrolment": enrolment.id}


def _links_of(fresh_db, ids) -> dict[str, int]:
    return {
        "relative opt-out": _count(fresh_db, ReminderOptOut, recipient_kind="relative", recipient_id=ids["relative"]),
        "meeting policy": _count(fresh_db, ReminderPolicy, target_kind="meeting", target_id=ids["meeting"]),
        "appointment policy": _count(fresh_db, ReminderPolicy, target_kind="appt", target_id=ids["appt"]),
        **{f"{kind} message": _count(fresh_db, OutboxMessage, target_kind=kind, target_id=ids[kind])
           for kind in ("meeting", "appt", "offer")},
        **{f"{kind} follow-up": _count(fresh_db, FollowUpTask, source_kind=kind, source_id=ids[kind])
           for kind in ("meeting", "appt", "offer")},
    }


@pytest.mark.parametrize("path", ["orm", "bulk"])
def test_deleting_a_client_removes_the_links_of_what_the_database_deletes_with_it(app, lead, fresh_db, path):
    """The database deletes a client's meetings, appointments and place offers by ON DELETE
    CASCADE; their reminder policies, messages and follow-ups must go in the same commit."""
    gone, gone_ids = _client_with_everything(lead, "Poistuva")
    kept, kept_ids = _client_with_everything(lead, "Pysyvä")
    db.session.commit()
    gone_id = gone.id

    _delete(path, db.session.get(Client, gone_id))

    assert fresh_db.get(Client, gone_id) is None
    assert _links_of(fresh_db, gone_ids) == {key: 0 for key in _links_of(fresh_db, gone_ids)}
    assert _links_of(fresh_db, kept_ids) == {key: 1 for key in _links_of(fresh_db, kept_ids)}
    assert fresh_db.get(Client, kept.id) is not None


@pytest.mark.parametrize("path", ["orm", "bulk"])
def test_deleting_an_enrolment_removes_its_place_offers_links(app, lead, fresh_db, path):
    gone, gone_ids = _client_with_everything(lead, "Vetäytyvä")
    kept, kept_ids = _client_with_everything(lead, "Jatkava")
    db.session.commit()

    _delete(path, db.session.get(Enrolment, gone_ids["enrolment"]))

    assert fresh_db.get(PlaceOffer, gone_ids["offer"]) is None
    for ids, expected in ((gone_ids, 0), (kept_ids, 1)):
        assert _count(fresh_db, OutboxMessage, target_kind="offer", target_id=ids["offer"]) == expected
        assert _count(fresh_db, FollowUpTask, source_kind="offer", source_id=ids["offer"]) == expected
    # The rest of the client's links are not the enrolment's.
    assert _count(fresh_db, OutboxMessage, target_kind="meeting", target_id=gone_ids["meeting"]) == 1


@pytest.mark.parametrize("record", ["relative", "partner_contact", "partner_organisation", "user"])
def test_a_bulk_delete_of_a_recipient_or_feed_owner_removes_its_links(app, lead, fresh_db, record):
    client = make_client(name="Tapio Testi")
    rows = []
    for _ in range(2):
        if record == "relative":
            target = Relative(client_id=client.id, name=f"Sukulainen {next(_n)}", relation="veli")
            db.session.add(target)
            db.session.flush()
            kind, feed = "relative", None
        elif record == "user":
            target, kind, feed = make_user(), None, "staff"
        else:
            organisation = make_partner(contacts=1)
            target = organisation.contacts[0] if record == "partner_contact" else organisation
            kind = "contact"
            feed = "partner" if record == "partner_organisation" else None
        contact_id = target.contacts[0].id if isinstance(target, PartnerOrganisation) else target.id
        if kind:
            db.session.add(ReminderOptOut(recipient_kind=kind, recipient_id=contact_id, source="staff"))
            _message(client.id, recipient_kind=kind, recipient_id=contact_id)
        if feed:
            db.session.add(CalendarSubscription(kind=feed, target_id=target.id, token_hash=f"{next(_n):064d}"))
        rows.append((type(target), target.id, kind, contact_id, feed))
    db.session.commit()

    cls, ident = rows[0][0], rows[0][1]
    db.session.execute(sa.delete(cls).where(cls.id == ident))
    db.session.commit()

    assert fresh_db.get(cls, ident) is None
    for (_cls, target_id, kind, contact_id, feed), expected in zip(rows, (0, 1), strict=True):
        if kind:
            assert _count(fresh_db, ReminderOptOut, recipient_kind=kind, recipient_id=contact_id) == expected
            assert _count(fresh_db, OutboxMessage, recipient_kind=kind, recipient_id=contact_id) == expected
        if feed:
            assert _count(fresh_db, CalendarSubscription, kind=feed, target_id=target_id) == expected
    if record == "partner_organisation":  # its contact went by the database's cascade
        assert fresh_db.get(PartnerContact, rows[0][3]) is None
