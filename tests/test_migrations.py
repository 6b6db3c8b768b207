"""`flask db upgrade` builds the whole schema on an empty database, and the migrations match the
models exactly (so the schema the tests get from create_all is the one production gets)."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import _make_test_app


def test_upgrade_on_empty_database_matches_models(empty_database_url):
    from flask_migrate import downgrade, upgrade

    from core.extensions import db

    app = _make_test_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        # The app works on the migrated schema.
        client = app.test_client()
        assert client.get("/login").status_code == 200
        # And the way back down is clean too.
        downgrade(revision="base")
        with db.engine.connect() as conn:
            remaining = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()
