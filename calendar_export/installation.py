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
    table (by the migration or by create_all) and never changes; without it the UIDs would not be
    stable, so a missing row is an error, not something to make up here."""
    row = db.session.get(CalendarInstallation, ROW_ID)
    if row is None:
        raise RuntimeError("calendar_installation has no row: the database was not set up with "
                           "`flask db upgrade` (or create_all)")
    return UidPolicy(domain=row.uid_domain, legacy_before=row.legacy_uids_before)


def cancelled_label() -> str:
    """The word a cancelled event's title starts with, in the current locale ("Peruttu")."""
    from flask_babel import gettext as _

    return _("Cancelled")
