"""A calendar subscription is removed with the user, group or partner organisation it is about.

``CalendarSubscription.target_id`` points at a different table per ``kind``, so it has no
foreign key; this deletes the subscriptions of a deleted record in the same transaction, on
every path (core.links: the ORM, a bulk ``sa.delete``, a database cascade).
Without it a deleted group's feed stayed, and on SQLite (which reuses the largest id) it would
have shown the next group made to whoever held the old feed's address. See reminders.links.
"""
from __future__ import annotations

from accounts.models import User
from core import links as core_links
from groups.models import Group
from register.models import PartnerOrganisation

from .models import CalendarSubscription, FeedKind

LINKS = {User: FeedKind.STAFF, Group: FeedKind.GROUP, PartnerOrganisation: FeedKind.PARTNER}


for _cls, _kind in LINKS.items():
    core_links.remove_with(_cls, [(CalendarSubscription.__table__, "kind", "target_id", _kind)])
core_links.install()
