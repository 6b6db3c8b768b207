"""The installation's identity in calendar UIDs.

Every installation used to end its UIDs in ``@kohtaamo``, so the same ``session-12@kohtaamo``
could be two different events for someone subscribed to two units' feeds (or invited by both).
The domain is now generated once per installation and kept in ``calendar_installation``. The
migration that adds the table records when it ran: events created before it keep their old UID,
because a changed UID shows up in every subscriber's calendar as a second copy of the event.
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import utcnow
from core.extensions import db

from .ical import UidPolicy
from .models import CalendarInstallation

ROW_ID = 1


def new_domain() -> str:
    # Random, not the host of BASE_URL: an installation keeps its UIDs when its address changes.
    return f"{secrets.token_hex(8)}.kohtaamo"


@sa.event.listens_for(CalendarInstallation.__table__, "after_create")
def _seed_row(table, connection, **_kw) -> None:
    # A database made with create_all (not the migration, which seeds its own row): nothing
    # there went out before, so no UID is legacy.
    connection.execute(table.insert().values(id=ROW_ID, uid_domain=new_domain(), legacy_uids_before=None,
                                             created_at=utcnow()))


def uid_policy() -> UidPolicy:
    """The policy for this installation's UIDs: one primary-key read. The row is made with the
    table (migration or create_all); should it be missing (emptied tables), it is made here."""
    row = db.session.get(CalendarInstallation, ROW_ID)
    if row is not None:
        return UidPolicy(domain=row.uid_domain, legacy_before=row.legacy_uids_before)
    # A connection of its own: the caller may be in a read-only transaction. Concurrent first
    # requests (several workers or instances) all insert-or-ignore and then read the winner.
    table = CalendarInstallation.__table__
    with db.engine.begin() as connection:
        insert = (pg_insert if connection.dialect.name == "postgresql" else sqlite_insert)(table)
        connection.execute(insert.values(id=ROW_ID, uid_domain=new_domain(), legacy_uids_before=None,
                                         created_at=utcnow()).on_conflict_do_nothing())
        domain, legacy = connection.execute(sa.select(table.c.uid_domain, table.c.legacy_uids_before)
                                            .where(table.c.id == ROW_ID)).one()
    return UidPolicy(domain=domain, legacy_before=legacy)


def cancelled_label() -> str:
    """The word a cancelled event's title starts with, in the current locale ("Peruttu")."""
    from flask_babel import gettext as _

    return _("Cancelled")
