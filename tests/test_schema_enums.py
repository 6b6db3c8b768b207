"""Status and kind columns hold only their domain's values, in both databases and in Python.

The columns are found in the models' metadata, not listed here: a new status or kind column
without its CHECK constraint fails ``test_status_and_kind_columns_are_checked_enums``, and every
enum column gets its own raw-SQL attempt at a bad value (which must be refused by the database
itself, bypassing SQLAlchemy) and a Python-side attempt (refused before anything is sent)."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db

# Names that say a column holds one of a fixed set of values.
DOMAIN_COLUMN = re.compile(r"(^|_)(status|kind)$|^(role|channel|frequency|client_identification)$")


def _metadata():
    import app  # noqa: F401  (every feature's models, through the explicit feature list)

    return db.metadata


def _domain_columns():
    return [(t.name, c.name) for t in _metadata().sorted_tables for c in t.columns if DOMAIN_COLUMN.search(c.name)]


def _enum_columns():
    return [(t.name, c.name) for t in _metadata().sorted_tables for c in t.columns if isinstance(c.type, sa.Enum)]


@pytest.mark.parametrize(("table", "column"), _domain_columns())
def test_status_and_kind_columns_are_checked_enums(table, column):
    col = _metadata().tables[table].c[column]
    assert isinstance(col.type, sa.Enum), f"{table}.{column} is a plain {col.type!r}: map it with core.db.str_enum"
    assert col.type.native_enum is False and col.type.create_constraint, f"{table}.{column}: no CHECK constraint"
    assert col.type.validate_strings, f"{table}.{column}: Python would accept any string"
    assert issubclass(col.type.enum_class, str), f"{table}.{column}: not a StrEnum"


def _seed_every_table():
    """The demo data, and the few kinds of row it has none of."""
    from accounts.models import SecurityEvent, User
    from core.db import utcnow
    from core.demo import seed_all
    from groups.models import Enrolment
    from register.models import Client
    from reminders.models import FollowUpTask, OptOutLink, PlaceOffer, ReminderOptOut

    seed_all()
    db.session.flush()
    user = db.session.scalars(sa.select(User)).first()
    client = db.session.scalars(sa.select(Client)).first()
    enrolment = db.session.scalars(sa.select(Enrolment)).first()
    db.session.add_all([
        SecurityEvent(kind="totp_enrolled", user_id=user.id, actor_id=user.id),
        ReminderOptOut(recipient_kind="client", recipient_id=client.id, source="staff"),
        OptOutLink(token_hash="0" * 64, recipient_kind="client", recipient_id=client.id, client_id=client.id,
                   expires_at=utcnow() + timedelta(days=1)),
        FollowUpTask(source_kind="meeting", source_id=1, client_id=client.id, missed_at=utcnow(),
                     due_on=date.today()),
        PlaceOffer(enrolment_id=enrolment.id, group_id=enrolment.group_id, client_id=enrolment.client_id,
                   deadline=utcnow() + timedelta(days=1), answer_minutes=60 * 24),
    ])
    db.session.commit()


@pytest.fixture(scope="module")
def seeded_engine(tmp_path_factory):
    """One database of the backend under test with a row in every table that has an enum column,
    made once for the module (each test below only tries UPDATEs and rolls them back)."""
    from tests.conftest import BACKEND, PG_ADMIN_URL, _make_test_app

    admin = name = None
    if BACKEND == "postgres":
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"kohtaamo_enum_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('enums') / 'enums.db'}"
    app = _make_test_app(url)
    with app.app_context():
        db.create_all()
        _seed_every_table()
        db.session.remove()
        db.engine.dispose()
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.parametrize(("table", "column"), _enum_columns())
def test_the_database_refuses_a_value_outside_the_enum(seeded_engine, table, column):
    engine = seeded_engine
    t = _metadata().tables[table]
    col = t.c[column]
    pk = t.primary_key.columns.values()[0].name
    good = col.type.enums[-1]
    q = engine.dialect.identifier_preparer.quote
    update = f"UPDATE {q(table)} SET {q(column)} = %s WHERE {q(pk)} = (SELECT min({q(pk)}) FROM {q(table)})"
    if engine.dialect.name == "sqlite":
        update = update.replace("%s", "?")
    with engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {q(table)}").scalar() > 0, f"no {table} row to test on"
        conn.rollback()
        # A value of the enum is taken (so the refusal below is about the value, nothing else)...
        assert conn.exec_driver_sql(update, (good,)).rowcount == 1
        conn.rollback()
        # ...and one outside it is refused by the database itself.
        for bad in ("bogus", good.upper(), ""):   # short: every column takes five characters
            with pytest.raises(sa.exc.IntegrityError):
                conn.exec_driver_sql(update, (bad,))
            conn.rollback()


@pytest.mark.parametrize(("table", "column"), _enum_columns())
def test_python_refuses_a_value_outside_the_enum(app, table, column):
    t = db.metadata.tables[table]
    with pytest.raises(sa.exc.StatementError) as raised:
        db.session.execute(t.insert().values({column: "not_a_value"}))
    assert isinstance(raised.value.orig, LookupError)
    db.session.rollback()
