"""Calendar UIDs are unique to the installation, and events that already went out keep theirs.

Every installation used to write ``session-12@kohtaamo``: two units' feeds in one calendar
collided. A subscriber's calendar app treats a changed UID as a new event, so the events that
existed before the migration must keep the old form, while events created after it get the
installation's own domain."""
from __future__ import annotations

import icalendar
import pytest
import sqlalchemy as sa

from tests.conftest import CsrfClient, _make_test_app
from tests.factories import login, make_client, make_user
from tests.test_calendar_export_data import make_group, make_meeting, make_session, soon, subscribe


def _later_columns(engine, metadata) -> list[tuple[str, str]]:
    """The (table, column) pairs today's models have but the database's older schema lacks."""
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    return [(t.name, c.name) for t in metadata.sorted_tables if t.name in tables
            for c in t.columns if c.name not in {col["name"] for col in inspector.get_columns(t.name)}]


def _with_later_columns(engine, metadata, seed):
    """Run ``seed`` (which uses today's models) on an older schema: the columns added since are
    there, nullable, while it runs, and dropped again after, so the rows are as the old code
    left them."""
    later = _later_columns(engine, metadata)
    # Tables added since (e.g. the units) are there while it runs, and dropped again too.
    existing = set(sa.inspect(engine).get_table_names())
    later_tables = [t for t in metadata.sorted_tables if t.name not in existing]
    with engine.begin() as conn:
        for table, column in later:
            kind = metadata.tables[table].c[column].type.compile(dialect=engine.dialect)
            conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
        metadata.create_all(conn, tables=later_tables)
    try:
        return seed()
    finally:
        with engine.begin() as conn:
            metadata.drop_all(conn, tables=later_tables)
            for table, column in later:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


def feed_uids(app, url) -> set[str]:
    response = app.test_client().get(url)
    assert response.status_code == 200
    return {str(ev["UID"]) for ev in icalendar.Calendar.from_ical(response.get_data()).walk("VEVENT")}


def test_events_created_before_the_migration_keep_their_uid_and_new_ones_get_the_installations(
        empty_database_url, app):
    from flask_migrate import upgrade

    from calendar_export.installation import uid_policy
    from calendar_export.models import CalendarInstallation
    from core.extensions import db
    from reminders.invitations import invitation_ics

    this_installation = uid_policy().domain  # the test app's own database
    old_app = _make_test_app(empty_database_url)
    old_app.test_client_class = CsrfClient
    with old_app.app_context():
        upgrade(revision="66eaa3c55313")  # the schema before the installation row
        # Seed rows as the old code left them (the models know the new table and later columns).
        def seed():
            user = make_user(name="Fiia Facilitator", email="fiia.old@example.fi")
            group = make_group("Raharyhmä", (user,))
            old_session = make_session(group, 1, soon(5))
            old_meeting = make_meeting(make_client(name="Asiakas"), soon(6, 10), staff=[user])
            db.session.commit()
            found = (old_session.id, old_meeting.id, group.id, user.id)
            db.session.remove()
            return found

        ids = _with_later_columns(db.engine, db.metadata, seed)
        assert "calendar_installation" not in sa.inspect(db.engine).get_table_names()

        upgrade()  # the migration under test
        db.session.remove()
        row = db.session.get(CalendarInstallation, 1)
        assert row is not None and row.legacy_uids_before is not None
        domain = row.uid_domain
        assert domain.endswith(".kohtaamo") and domain != this_installation  # unique per installation

        from groups.models import Group
        from meetings.models import Meeting

        group = db.session.get(Group, ids[2])
        new_session = make_session(group, 2, soon(12))
        db.session.commit()
        uids = feed_uids(old_app, subscribe("unit"))
        assert uids == {f"session-{ids[0]}@kohtaamo", f"meeting-{ids[1]}@kohtaamo",
                        f"session-{new_session.id}@{domain}"}
        # The same meeting's invitation carries the UID the feed has: one event, not two.
        meeting = db.session.get(Meeting, ids[1])
        invite = icalendar.Calendar.from_ical(invitation_ics(meeting, "REQUEST", ("T", "t@partner.example"),
                                                             ("Kohtaamo", "k@example.fi"), "fi"))
        assert str(invite.walk("VEVENT")[0]["UID"]) == f"meeting-{ids[1]}@kohtaamo"
        # A download of the new session says the same as the feed.
        client = old_app.test_client()
        login(client, "fiia.old@example.fi")
        download = client.get(f"/calendar/session/{new_session.id}.ics").get_data()
        assert str(icalendar.Calendar.from_ical(download).walk("VEVENT")[0]["UID"]) == \
            f"session-{new_session.id}@{domain}"
        db.session.remove()
        db.engine.dispose()


def test_the_domain_is_generated_once_and_kept(app):
    from calendar_export.installation import uid_policy
    from core.extensions import db

    first = uid_policy()
    db.session.remove()
    assert uid_policy() == first
    assert first.legacy_before is None  # a database made from scratch has no events from before


def test_a_missing_row_is_an_error_not_new_uids(app):
    """The row is made with the schema; should it be lost, UIDs would change (every subscriber
    would see each event twice), so nothing makes a new one on the fly."""
    from calendar_export.installation import uid_policy
    from calendar_export.models import CalendarInstallation
    from core.extensions import db

    row = db.session.get(CalendarInstallation, 1)
    kept = dict(id=row.id, uid_domain=row.uid_domain, legacy_uids_before=row.legacy_uids_before,
                created_at=row.created_at)
    db.session.delete(row)
    db.session.commit()
    try:
        with pytest.raises(RuntimeError, match="flask db upgrade"):
            uid_policy()
    finally:
        db.session.rollback()
        db.session.add(CalendarInstallation(**kept))
        db.session.commit()
