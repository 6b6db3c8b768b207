"""The domain-values migration (5c8d2e7f1a94) upgrades a database that holds data.

A database is built at the previous revision (b7e24d91c3a6) with rows of each kind, some with
values the new constraints refuse (typed by hand, unknown) and some (kind, id) links whose record
is gone; after ``flask db upgrade`` the rows are there with their values mapped, the orphans are
gone, the new constraints refuse a bad value, and the table checks that were there before the
batch rebuild (SQLite copies each table) still hold."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from tests.conftest import _make_test_app

REVISION = "5c8d2e7f1a94"  # the migration under test: domain values in the schema
# The revision just before it, read from the chain (other migrations may come between releases).
PREVIOUS = ScriptDirectory(str(Path(__file__).resolve().parents[1] / "migrations")).get_revision(REVISION).down_revision
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _filler(column: sa.Column):
    python_type = column.type.python_type
    if python_type is bool:
        return False
    if python_type is int:
        return 1
    if python_type is datetime:
        return NOW if column.type.timezone else NOW.replace(tzinfo=None)
    if python_type is date:
        return NOW.date()
    if python_type is time:
        return time(8, 0)
    if python_type is bytes:
        return b""
    if python_type is dict:
        return {}
    return ""


def _insert(conn, table_name: str, /, **values) -> int:
    """A row of ``table_name`` as the table is at this revision (reflected): the given values, and a
    plain value for every other NOT NULL column."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    if "unit_id" in table.columns and "unit_id" not in row:
        # Clients and groups belong to a unit (the units migration comes before this one).
        row["unit_id"] = conn.execute(sa.text("SELECT min(id) FROM unit")).scalar() or _insert(
            conn, "unit", name="Yksikkö", slug="yksikko")
    for column in table.columns:
        if column.name not in row and not column.nullable and not column.primary_key:
            row[column.name] = _filler(column)
    result = conn.execute(table.insert().values(row))
    return result.inserted_primary_key[0]


def _value(conn, table, column, ident):
    return conn.execute(sa.text(f'SELECT {column} FROM "{table}" WHERE id = :id'), {"id": ident}).scalar()


def _count(conn, table, **where):
    clause = " AND ".join(f"{k} = :{k}" for k in where) or "1 = 1"
    return conn.execute(sa.text(f'SELECT count(*) FROM "{table}" WHERE {clause}'), where).scalar()


def test_upgrade_maps_stray_values_removes_orphans_and_adds_the_checks(empty_database_url):
    from flask_migrate import upgrade

    from core.extensions import db

    app = _make_test_app(empty_database_url)
    with app.app_context():
        upgrade(revision=PREVIOUS)
        with db.engine.begin() as conn:
            lead = _insert(conn, "user", email="lead@example.fi", name="Lea", role="lead")
            admin = _insert(conn, "user", email="admin@example.fi", name="Adam", role="admin")   # unknown: least rights
            client = _insert(conn, "client", name="Asiakas A")
            relative = _insert(conn, "relative", client_id=client, name="Sukulainen")
            partner = _insert(conn, "partner_organisation", name="Kumppani", kind="church")   # unknown kind
            contact = _insert(conn, "partner_contact", organisation_id=partner, name="Kontakti")
            running = _insert(conn, "client_group", title="Ryhmä", status=" Running ", facilitator1_id=lead)
            planned = _insert(conn, "client_group", title="Ryhmä 2", status="paused")        # unknown
            session = _insert(conn, "group_session", group_id=running, number=1, starts_at=NOW, ends_at=NOW,
                              status="scheduled")
            enrolment = _insert(conn, "enrolment", group_id=running, client_id=client, status="ENROLLED")
            _insert(conn, "attendance", session_id=session, enrolment_id=enrolment, status="present")
            meeting = _insert(conn, "meeting", client_id=client, starts_at=NOW, ends_at=NOW, place_kind="office",
                              status="HELD", client_identification="initials")
            participant = _insert(conn, "meeting_participant", meeting_id=meeting, kind="relative",
                                  relative_id=relative, invitation_status="invited")
            item = _insert(conn, "action_item", meeting_id=meeting, responsible_id=participant, what="Soita",
                           status="open")
            venue = _insert(conn, "outreach_venue", partner_id=partner, name="Kirjasto")
            visit = _insert(conn, "outreach_visit", venue_id=venue, starts_at=NOW, ends_at=NOW, status="done")
            # Links that name a record, and links whose record is gone.
            outbox = {}
            for name, status, recipient_kind, recipient_id in (("kept", "sent", "relative", relative),
                                                                ("odd", "queued", "client", client),
                                                                ("orphan", "pending", "relative", 9999)):
                outbox[name] = _insert(conn, "reminder_outbox", kind="reminder", target_kind="meeting",
                                       target_id=meeting, recipient_kind=recipient_kind, recipient_id=recipient_id,
                                       slot=name, channel="sms", client_id=client, address="+358401234567",
                                       body="Muistutus", status=status)
            policy = _insert(conn, "reminder_policy", target_kind="group", target_id=running)
            _insert(conn, "reminder_policy", target_kind="group", target_id=9999)
            feed = _insert(conn, "calendar_subscription", kind="group", target_id=running, token_hash="a" * 64)
            _insert(conn, "calendar_subscription", kind="partner", target_id=9999, token_hash="b" * 64)
            opt_out = _insert(conn, "reminder_opt_out", recipient_kind="contact", recipient_id=contact,
                              source="staff")
            _insert(conn, "reminder_opt_out", recipient_kind="relative", recipient_id=9999, source="link")
            _insert(conn, "security_event", kind="totp_enrolled", user_id=lead)
        db.engine.dispose()

        upgrade(revision=REVISION)  # the migration under test (later ones may follow it in the chain)

        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "5c8d2e7f1a94"
            # Mapped: typed by hand -> the value meant; unknown -> the value that does least.
            assert _value(conn, "client_group", "status", running) == "running"
            assert _value(conn, "client_group", "status", planned) == "planning"
            assert _value(conn, "enrolment", "status", enrolment) == "enrolled"
            assert _value(conn, "meeting", "status", meeting) == "held"
            assert _value(conn, "user", "role", lead) == "lead"
            assert _value(conn, "user", "role", admin) == "facilitator"
            assert _value(conn, "partner_organisation", "kind", partner) == "other"
            assert _value(conn, "reminder_outbox", "status", outbox["odd"]) == "cancelled"   # never sent
            assert _value(conn, "reminder_outbox", "status", outbox["kept"]) == "sent"
            # Everything else is still there as it was.
            assert _value(conn, "action_item", "what", item) == "Soita"
            assert _value(conn, "outreach_visit", "status", visit) == "done"
            assert _value(conn, "reminder_policy", "target_id", policy) == running
            assert _value(conn, "calendar_subscription", "target_id", feed) == running
            assert _value(conn, "reminder_opt_out", "recipient_id", opt_out) == contact
            assert _count(conn, "attendance") == 1 and _count(conn, "security_event") == 1
            # Orphans are gone; nothing else was removed.
            assert _count(conn, "reminder_outbox") == 2 and _value(conn, "reminder_outbox", "id", outbox["orphan"]) is None
            assert _count(conn, "reminder_policy") == 1
            assert _count(conn, "calendar_subscription") == 1
            assert _count(conn, "reminder_opt_out") == 1

        # The new checks hold, in the database itself.
        for table, column, ident in (("client_group", "status", running), ("meeting", "place_kind", meeting),
                                     ("reminder_outbox", "channel", outbox["kept"]), ("user", "role", lead),
                                     ("meeting_participant", "kind", participant)):
            with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
                conn.execute(sa.text(f'UPDATE "{table}" SET {column} = :v WHERE id = :id'), {"v": "bogus", "id": ident})
        # The checks that were there before the tables were rebuilt hold too.
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE client_group SET facilitator2_id = facilitator1_id WHERE id = :id"),
                         {"id": running})
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE outreach_visit SET staff1_id = :u, staff2_id = :u WHERE id = :id"),
                         {"u": lead, "id": visit})
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:   # NOT NULL kept
            conn.execute(sa.text("UPDATE meeting SET status = NULL WHERE id = :id"), {"id": meeting})
        # Foreign keys survived the rebuild: a participant cannot point at a missing meeting.
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE meeting_participant SET meeting_id = 9999 WHERE id = :id"),
                         {"id": participant})
        db.engine.dispose()


def test_upgrade_stops_on_a_value_with_no_safe_replacement(empty_database_url):
    """An unknown participant kind has no value that does least: the upgrade stops (naming the
    table, column and rows in its error) and the database stays at the previous revision."""
    from flask_migrate import upgrade

    from core.extensions import db

    app = _make_test_app(empty_database_url)
    with app.app_context():
        upgrade(revision=PREVIOUS)
        with db.engine.begin() as conn:
            client = _insert(conn, "client", name="Asiakas B")
            meeting = _insert(conn, "meeting", client_id=client, starts_at=NOW, ends_at=NOW, place_kind="office",
                              status="planned", client_identification="initials")
            _insert(conn, "meeting_participant", meeting_id=meeting, kind="interpreter", invitation_status="invited")
        db.engine.dispose()
        with pytest.raises(SystemExit):   # flask_migrate logs the migration's RuntimeError and exits
            upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == PREVIOUS
            assert _count(conn, "meeting_participant", kind="interpreter") == 1
        db.engine.dispose()
