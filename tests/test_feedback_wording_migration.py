"""The migration that brings the short form and the plain-language wording: a built-in set that
answers were collected with keeps the questions as they were asked (under a retired key), and the
new wording is what the next group gets; a stored built-in set nobody used is simply replaced."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tests.conftest import _make_test_app


def test_used_builtin_wording_is_kept_and_new_groups_get_the_plain_wording(empty_database_url):
    from flask_migrate import upgrade

    from core.extensions import db

    app = _make_test_app(empty_database_url)
    with app.app_context():
        upgrade(revision="7a3c5e9b1d24")
        now = datetime(2026, 11, 1, tzinfo=UTC)
        with db.engine.begin() as conn:
            for key, label in (("session", "Ilmapiiri"), ("meeting", "Minua kuunneltiin")):
                set_id = conn.execute(sa.text(
                    "INSERT INTO feedback_item_set (kind, builtin_key, name, comment_labels, created_at) "
                    "VALUES (:kind, :key, 'old', '{}', :now) RETURNING id"),
                    {"kind": key, "key": key, "now": now}).scalar_one()
                conn.execute(sa.text("INSERT INTO feedback_item (item_set_id, position, labels) "
                                     "VALUES (:id, 0, :labels)"), {"id": set_id, "labels": f'{{"fi": "{label}"}}'})
                if key == "session":   # answers were collected with the session set only
                    conn.execute(sa.text(
                        "INSERT INTO feedback_window (kind, item_set_id, code, opens_at, closes_at, created_at, "
                        "version, overfilled) VALUES ('session', :id, 'ACDEFH', :now, :later, :now, 1, :false)"),
                        {"id": set_id, "now": now, "later": now + timedelta(days=2), "false": False})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT s.builtin_key, s.scale, i.labels FROM feedback_item_set s "
                                        "JOIN feedback_item i ON i.item_set_id = s.id ORDER BY s.id")).all()
        assert [(key, scale) for key, scale, _labels in rows] == [("session@2025", "0-10")]
        assert "Ilmapiiri" in str(rows[0][2])

        from feedback import services

        with app.test_request_context():
            fresh = services.builtin_set("session")
            assert fresh.builtin_key == "session" and fresh.items[0].labels["fi"] == "Viihdyitkö ryhmässä tänään?"
            meeting = services.builtin_set("meeting")
            assert meeting.items[0].labels["fi"] == "Kuunneltiinko sinua?"
            db.session.rollback()
        db.engine.dispose()
