"""A calendar subscription is removed with the user, group or partner organisation it is about.

``CalendarSubscription.target_id`` points at a different table per ``kind``, so it has no
foreign key; this deletes the subscriptions of a record the ORM deletes, in the same flush.
Without it a deleted group's feed stayed, and on SQLite (which reuses the largest id) it would
have shown the next group made to whoever held the old feed's address. See reminders.links.
"""
from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from groups.models import Group
from register.models import PartnerOrganisation

from .models import CalendarSubscription, FeedKind

LINKS = {User: FeedKind.STAFF, Group: FeedKind.GROUP, PartnerOrganisation: FeedKind.PARTNER}


def _remove_subscriptions(kind: FeedKind):
    def after_delete(_mapper, connection, target) -> None:
        table = CalendarSubscription.__table__
        connection.execute(sa.delete(table).where(table.c.kind == kind.value, table.c.target_id == target.id))
    return after_delete


for _cls, _kind in LINKS.items():
    sa.event.listen(_cls, "after_delete", _remove_subscriptions(_kind))
