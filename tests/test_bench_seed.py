"""The benchmark seeder at a tiny scale: it fills every table it promises, consistently (items
belong to participants of their own meeting, feeds and open windows work), deterministically,
and the seeded data serves real pages."""
from __future__ import annotations

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa

from bench import seed as bench_seed

SCALE = 0.005
DAY = date(2026, 11, 23)


def _fingerprint(url: str, tables: list[str]) -> dict[str, str]:
    engine = sa.create_engine(url)
    result = {}
    with engine.connect() as conn:
        for table in tables:
            rows = conn.exec_driver_sql(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
            result[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    engine.dispose()
    return result


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "seed.db"
    url = f"sqlite:///{path}"
    state = bench_seed.seed(url, scale=SCALE, seed_value=7, progress=False, today=DAY)
    return url, state


def test_seed_fills_the_tables_with_the_counts_it_reports(seeded):
    url, state = seeded
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        for table, count in state["counts"].items():
            assert conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar() == count, table
        assert state["counts"]["client_group"] >= 6 and state["counts"]["group_session"] > state["counts"]["client_group"]
        assert state["counts"]["meeting"] >= 10 and state["counts"]["action_item"] > 0
        # Every action item's responsible person is a participant of the item's own meeting.
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM action_item a JOIN meeting_participant p ON p.id = a.responsible_id "
            "WHERE p.meeting_id <> a.meeting_id").scalar() == 0
        # Every answer set is complete (one answer per item of the window's set).
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM (SELECT r.id FROM feedback_response r JOIN feedback_answer a ON a.response_id = r.id "
            "GROUP BY r.id HAVING count(*) <> 4)").scalar() == 0
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        # Five years: four and a half behind, half a year ahead.
        first, last = conn.exec_driver_sql("SELECT min(starts_at), max(starts_at) FROM group_session").one()
        assert first[:4] <= "2022" and last[:4] >= "2027"
    engine.dispose()
    assert state["open_windows"] and state["partner_feed_token"] and state["group_ids"] and state["meeting_ids"]


def test_seed_is_deterministic(seeded, tmp_path):
    url, _state = seeded
    again = f"sqlite:///{tmp_path / 'again.db'}"
    bench_seed.seed(again, scale=SCALE, seed_value=7, progress=False, today=DAY)
    tables = ["client", "client_group", "group_session", "enrolment", "meeting", "meeting_participant",
              "action_item", "feedback_answer"]
    # created_at/updated_at use the wall clock, so compare what the random generator decided.
    engine_a, engine_b = sa.create_engine(url), sa.create_engine(again)
    with engine_a.connect() as a, engine_b.connect() as b:
        for sql in ["SELECT id, name, phone, language FROM client ORDER BY id",
                    "SELECT id, title, facilitator1_id, facilitator2_id, status FROM client_group ORDER BY id",
                    "SELECT id, group_id, number, starts_at, status FROM group_session ORDER BY id",
                    "SELECT id, client_id, starts_at, status FROM meeting ORDER BY id",
                    "SELECT id, meeting_id, responsible_id, what, due_date, status FROM action_item ORDER BY id",
                    "SELECT response_id, item_id, value FROM feedback_answer ORDER BY response_id, item_id"]:
            assert a.exec_driver_sql(sql).fetchall() == b.exec_driver_sql(sql).fetchall(), sql
    engine_a.dispose()
    engine_b.dispose()
    assert tables


def test_seed_refuses_a_database_with_data(seeded):
    url, _state = seeded
    with pytest.raises(RuntimeError, match="not empty"):
        bench_seed.seed(url, scale=SCALE, progress=False, today=DAY)


def test_seeded_data_serves_pages_and_the_partner_feed(seeded):
    from app import create_app
    from core.extensions import db
    from tests.conftest import CsrfClient

    url, state = seeded
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url,
                      "SERVER_NAME": None, "BASE_URL": "http://localhost"})
    app.test_client_class = CsrfClient
    with app.app_context():
        client = app.test_client()
        feed = client.get(f"/calendar/{state['partner_feed_token']}.ics")
        assert feed.status_code == 200 and b"BEGIN:VEVENT" in feed.data
        etag = feed.headers["ETag"]
        assert client.get(f"/calendar/{state['partner_feed_token']}.ics",
                          headers={"If-None-Match": etag}).status_code == 304
        login = client.post_form("/login", {"email": state["lead_email"], "password": state["password"]})
        assert login.status_code == 302
        group_id = state["group_ids"][0]
        page = client.get(f"/groups/{group_id}")
        assert page.status_code == 200
        title = db.session.execute(sa.text("SELECT title FROM client_group WHERE id = :id"), {"id": group_id}).scalar()
        assert title in page.get_data(as_text=True)
        assert client.get(f"/meetings/{state['meeting_ids'][0]}").status_code == 200
        window = state["open_windows"][0]
        form = client.get(f"/f/{window['code']}")
        assert form.status_code == 200
        db.session.remove()
        db.engine.dispose()
