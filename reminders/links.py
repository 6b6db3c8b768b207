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
point 5 allows either). ``core.links`` does the deleting, also for a bulk ``sa.delete`` of these
records and for the rows the database deletes by ``ON DELETE CASCADE`` (a client's meetings,
appointments and place offers; an enrolment's place offer), which the ORM never sees
(tests/test_schema_links.py, tests/test_bulk_delete_links.py, read back through an engine of
their own).
"""
from __future__ import annotations

from core import links as core_links
from core.links import Link
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
LINKS: dict[type, list[Link]] = {
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


def event_links(kind: TargetKind) -> list[Link]:
    """The links to an event of ``kind`` that has reminders: its policy, messages and follow-ups."""
    return [(ReminderPolicy.__table__, "target_kind", "target_id", kind),
            (OutboxMessage.__table__, "target_kind", "target_id", kind),
            (FollowUpTask.__table__, "source_kind", "source_id", kind)]


def remove_with(cls: type, links: list[Link]) -> None:
    """Delete ``links`` with each deleted ``cls`` row, in the same transaction, on every path
    (core.links). A feature above this one (appointments) calls it for its own records, since
    reminders does not import it."""
    core_links.remove_with(cls, links)


for _record, _links in LINKS.items():
    remove_with(_record, _links)
core_links.install()
