"""The reminders' links to other records written as (kind, id) pairs are removed with the record.

A policy, a message, an opt-out, an opt-out link or a follow-up task names what it is about as a
kind and an id (``target_kind``/``target_id``, ``recipient_kind``/``recipient_id``,
``source_kind``/``source_id``), because one column points at a different table per kind. The
database cannot keep those ids pointing somewhere, so this does: when the ORM deletes a group, a
session, a meeting, an appointment, a place offer, a client, a relative or a partner contact, the
rows naming it are deleted in the same flush, so in the same transaction. Without it a deleted
row's links stayed, and on SQLite (which reuses the largest id) the next relative or group made
would inherit them: the old relative's opt-out link would opt the new one out, the old group's
reminder policy would apply to the new one.

Why not a foreign key per kind: the rows are written by many services with the pair; removing
the pair's rows with their record closes the same hole without rewriting every writer (issue #17,
point 5 allows either). Bulk ``sa.delete`` of these records bypasses the ORM and so this; none
exists today (tests/test_schema_links.py deletes a relative, a group with its session, a meeting
and a partner contact, and reads back through an engine of its own).
"""
from __future__ import annotations

import sqlalchemy as sa

from groups.models import Group, GroupSession
from meetings.models import Meeting
from register.models import Client, PartnerContact, Relative

from .models import (
    FollowUpTask,
    OptOutLink,
    OutboxMessage,
    PlaceOffer,
    RecipientKind,
    ReminderOptOut,
    ReminderPolicy,
    TargetKind,
)

# record class -> [(table, kind column, id column, kind value)]
LINKS: dict[type, list[tuple[sa.Table, str, str, str]]] = {
    Group: [(ReminderPolicy.__table__, "target_kind", "target_id", TargetKind.GROUP)],
    Meeting: [(ReminderPolicy.__table__, "target_kind", "target_id", TargetKind.MEETING),
              (OutboxMessage.__table__, "target_kind", "target_id", TargetKind.MEETING),
              (FollowUpTask.__table__, "source_kind", "source_id", TargetKind.MEETING)],
    GroupSession: [(OutboxMessage.__table__, "target_kind", "target_id", TargetKind.SESSION),
                   (FollowUpTask.__table__, "source_kind", "source_id", TargetKind.SESSION)],
    PlaceOffer: [(OutboxMessage.__table__, "target_kind", "target_id", TargetKind.OFFER),
                 (FollowUpTask.__table__, "source_kind", "source_id", TargetKind.OFFER)],
}
for _recipient, _kind in ((Client, RecipientKind.CLIENT), (Relative, RecipientKind.RELATIVE),
                          (PartnerContact, RecipientKind.CONTACT)):
    LINKS[_recipient] = [(table, "recipient_kind", "recipient_id", _kind)
                   for table in (OutboxMessage.__table__, ReminderOptOut.__table__, OptOutLink.__table__)]


def _remove_links(links):
    def after_delete(_mapper, connection, target) -> None:
        for table, kind_column, id_column, kind in links:
            connection.execute(sa.delete(table).where(table.c[kind_column] == kind.value,
                                                      table.c[id_column] == target.id))
    return after_delete


def event_links(kind: TargetKind) -> list[tuple[sa.Table, str, str, str]]:
    """The links to an event of ``kind`` that has reminders: its policy, messages and follow-ups."""
    return [(ReminderPolicy.__table__, "target_kind", "target_id", kind),
            (OutboxMessage.__table__, "target_kind", "target_id", kind),
            (FollowUpTask.__table__, "source_kind", "source_id", kind)]


def remove_with(cls: type, links: list[tuple[sa.Table, str, str, str]]) -> None:
    """Delete ``links`` with each deleted ``cls`` row, in the same flush. A feature above this one
    (appointments) calls it for its own records, since reminders does not import it."""
    sa.event.listen(cls, "after_delete", _remove_links(links))


for _record, _links in LINKS.items():
    remove_with(_record, _links)
