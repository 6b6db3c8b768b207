"""The benchmark seeder at a tiny scale: it fills every table it promises, consistently (items
belong to participants of their own meeting, follow-ups continue carried items, outreach visits
go in pairs and follow their venue's schedule, feeds and open windows work), deterministically,
gives the measured user and records the same shape at two scales (so the query counts compare
like with like), and the seeded data serves real pages.

Seeds into SQLite, or into fresh PostgreSQL databases with ``KOHTAAMO_TEST_DB=postgres``."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from bench import querycount, seed as bench_seed
from tests.conftest import BACKEND, PG_ADMIN_URL

SCALE = 0.005
DAY = date(2026, 11, 23)
# The seeder lays the data out around DAY but takes "now" from the clock (visits coming and waiting
# for counts, open feedback windows, coming and past meetings), and the pages read the clock too:
# with the real clock moving away from DAY the seed differed between scales, lost its open windows
# and, past its outreach horizon, failed. So the clock is fixed on DAY for the whole module.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def fixed_clock():
    # The whole app's clock (time-machine): core.db.utcnow, core.timeutil and the seeder alike.
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture(scope="module")
def fresh_url(tmp_path_factory):
    """Make empty databases for the module; PostgreSQL ones are dropped at the end."""
    made: list[str] = []
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT") if BACKEND == "postgres" else None

    def make(label: str) -> str:
        if admin is None:
            return f"sqlite:///{tmp_path_factory.mktemp('bench') / (label + '.db')}"
        name = f"kohtaamo_test_seed_{uuid.uuid4().hex[:8]}"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    yield make
    if admin is not None and made:
        with admin.connect() as conn:
            for name in made:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if admin is not None:
        admin.dispose()


@pytest.fixture(scope="module")
def seeded(fresh_url):
    url = fresh_url("seed")
    state = bench_seed.seed(url, scale=SCALE, seed_value=7, progress=False, today=DAY)
    return url, state


def _scalar(conn, sql: str):
    return conn.exec_driver_sql(sql).scalar()


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_seed_fills_the_tables_with_the_counts_it_reports(seeded):
    url, state = seeded
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        for table, count in state["counts"].items():
            assert _scalar(conn, f'SELECT count(*) FROM "{table}"') == count, table
        assert state["counts"]["client_group"] >= 6 and state["counts"]["group_session"] > state["counts"]["client_group"]
        assert state["counts"]["meeting"] >= 10 and state["counts"]["action_item"] > 0
        # Every action item's responsible person is a participant of the item's own meeting.
        assert _scalar(conn, "SELECT count(*) FROM action_item a JOIN meeting_participant p ON p.id = a.responsible_id "
                             "WHERE p.meeting_id <> a.meeting_id") == 0
        # Every answer set is complete (one answer per item of the window's set).
        assert _scalar(conn, "SELECT count(*) FROM (SELECT r.id FROM feedback_response r JOIN feedback_answer a "
                             "ON a.response_id = r.id GROUP BY r.id HAVING count(*) <> 4) AS incomplete") == 0
        if url.startswith("sqlite"):
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        # Five years: four and a half behind, half a year ahead.
        first, last = conn.exec_driver_sql("SELECT min(starts_at), max(starts_at) FROM group_session").one()
        assert str(first)[:4] <= "2022" and str(last)[:4] >= "2027"
    engine.dispose()
    assert state["open_windows"] and state["partner_feed_token"] and state["group_ids"] and state["meeting_ids"]


def test_follow_up_meetings_continue_carried_items_and_groups_have_next_rounds(seeded):
    url, _state = seeded
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        # A follow-up is the same client's, later.
        assert _scalar(conn, "SELECT count(*) FROM meeting WHERE previous_meeting_id IS NOT NULL") > 0
        assert _scalar(conn, "SELECT count(*) FROM meeting b JOIN meeting a ON a.id = b.previous_meeting_id "
                             "WHERE a.client_id <> b.client_id OR b.starts_at <= a.starts_at") == 0
        # Every carried item continues in the follow-up of its meeting, and only there.
        assert _scalar(conn, "SELECT count(*) FROM action_item WHERE carried_from_id IS NOT NULL") > 0
        assert _scalar(conn, "SELECT count(*) FROM action_item a WHERE a.status = 'carried' AND NOT EXISTS "
                             "(SELECT 1 FROM action_item b WHERE b.carried_from_id = a.id)") == 0
        assert _scalar(conn, "SELECT count(*) FROM action_item b JOIN action_item a ON a.id = b.carried_from_id "
                             "JOIN meeting m ON m.id = b.meeting_id "
                             "WHERE a.status <> 'carried' OR m.previous_meeting_id <> a.meeting_id") == 0
        # A next round follows an evaluated group of the same theme that was worth continuing.
        assert _scalar(conn, "SELECT count(*) FROM client_group g JOIN client_group p ON p.id = g.previous_round_id "
                             "LEFT JOIN group_evaluation e ON e.group_id = p.id "
                             "WHERE p.theme <> g.theme OR p.status <> 'evaluated' "
                             "OR e.continue_decision NOT IN ('yes', 'with_changes') OR e.id IS NULL") == 0
    engine.dispose()


def test_outreach_is_seeded_in_pairs_on_the_venues_schedules(seeded):
    from core.timeutil import finnish_holiday, to_local

    url, state = seeded
    counts = state["counts"]
    assert counts["outreach_venue"] >= 3 and counts["outreach_rule"] == counts["outreach_venue"]
    assert counts["outreach_visit"] > 100 and counts["outreach_visit_report"] > 50
    assert not any(s.startswith("outreach") for s in state["skipped"])
    assert any(s.startswith("reminders: outbox") for s in state["skipped"])
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        visits = conn.exec_driver_sql(
            "SELECT v.id, v.venue_id, v.starts_at, v.ends_at, v.status, v.rule_date, v.staff1_id, v.staff2_id, "
            "r.valid_from, r.valid_until, r.break_months, ven.active, rep.id, rep.people_met, "
            "rep.topic_benefits, rep.topic_housing, rep.topic_money, rep.topic_health, rep.topic_other, "
            "rep.guided_onward, rep.appointments_booked FROM outreach_visit v "
            "JOIN outreach_venue ven ON ven.id = v.venue_id JOIN outreach_rule r ON r.venue_id = v.venue_id "
            "LEFT JOIN outreach_visit_report rep ON rep.visit_id = v.id").fetchall()
    engine.dispose()
    now = NOW
    statuses = {v[4] for v in visits}
    assert statuses == {"scheduled", "done", "cancelled"}
    pairs = 0
    for (vid, _venue, starts, ends, status, rule_date, s1, s2, valid_from, valid_until, breaks, _active, report,
         people, *numbers) in visits:
        starts, ends = _aware(starts), _aware(ends)
        assert ends > starts, vid
        assert s1 != s2 or s1 is None, vid
        pairs += s1 is not None and s2 is not None
        # Counts exactly for the visits done; none can be more than the people met.
        assert (report is not None) == (status == "done"), vid
        if report is not None:
            assert starts <= now and all(0 <= n <= people for n in numbers), vid
        if status == "done":
            assert s1 is not None, vid
        if rule_date is not None:
            rule_date = date.fromisoformat(str(rule_date)[:10])
            valid_from = date.fromisoformat(str(valid_from)[:10])
            assert rule_date >= valid_from and not finnish_holiday(rule_date), vid
            assert str(rule_date.month) not in (breaks or "").split(","), vid
            if valid_until is not None:
                assert rule_date <= date.fromisoformat(str(valid_until)[:10]), vid
            # Moved visits keep their rule date; they move by a day at most.
            assert abs((to_local(starts).date() - rule_date).days) <= 4, vid
    assert pairs > 0.8 * len(visits)
    # The lead (user 1) goes on outreach: a visit in the next two weeks and one waiting for counts.
    lead = [v for v in visits if 1 in (v[6], v[7]) and v[4] == "scheduled"]
    assert any(now <= _aware(v[2]) < now + timedelta(days=14) for v in lead)
    assert any(now - timedelta(days=14) <= _aware(v[2]) < now for v in lead)


def test_seed_is_deterministic(seeded, fresh_url):
    url, state = seeded
    again = fresh_url("again")
    state_again = bench_seed.seed(again, scale=SCALE, seed_value=7, progress=False, today=DAY)
    assert state_again["measured"] == state["measured"]
    assert state_again["counts"] == state["counts"]
    # created_at/updated_at use the wall clock, so compare what the random generator decided.
    engine_a, engine_b = sa.create_engine(url), sa.create_engine(again)
    with engine_a.connect() as a, engine_b.connect() as b:
        for sql in ["SELECT id, name, phone, language FROM client ORDER BY id",
                    "SELECT id, title, facilitator1_id, facilitator2_id, status, previous_round_id FROM client_group ORDER BY id",
                    "SELECT id, group_id, number, starts_at, status FROM group_session ORDER BY id",
                    "SELECT id, client_id, starts_at, status, previous_meeting_id FROM meeting ORDER BY id",
                    "SELECT id, meeting_id, kind, user_id, contact_id, relative_id FROM meeting_participant ORDER BY id",
                    "SELECT id, meeting_id, responsible_id, what, due_date, status, carried_from_id FROM action_item ORDER BY id",
                    "SELECT response_id, item_id, value FROM feedback_answer ORDER BY response_id, item_id",
                    "SELECT id, partner_id, name, active FROM outreach_venue ORDER BY id",
                    "SELECT id, venue_id, frequency, nth, weekday, interval_weeks, start_time, valid_from, valid_until, "
                    "break_months FROM outreach_rule ORDER BY id",
                    "SELECT id, venue_id, starts_at, status, rule_date, staff1_id, staff2_id FROM outreach_visit ORDER BY id",
                    "SELECT id, visit_id, people_met, topic_benefits, guided_onward, appointments_booked "
                    "FROM outreach_visit_report ORDER BY id"]:
            rows = a.exec_driver_sql(sql).fetchall()
            assert rows and rows == b.exec_driver_sql(sql).fetchall(), sql
    engine_a.dispose()
    engine_b.dispose()


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
        measured = state["measured"]
        venue = client.get(f"/outreach/venues/{measured['outreach_venue_id']}")
        name = db.session.execute(sa.text("SELECT name FROM outreach_venue WHERE id = :id"),
                                  {"id": measured["outreach_venue_id"]}).scalar()
        assert venue.status_code == 200 and name in venue.get_data(as_text=True)
        assert client.get(f"/outreach/visits/{measured['outreach_visit_id']}").status_code == 200
        rota = client.get("/outreach/").get_data(as_text=True)
        assert "/outreach/visits/" in rota
        window = state["open_windows"][0]
        # A participant's phone (a signed-in staff browser may not answer).
        form = client.application.test_client().get(f"/f/{window['code']}")
        assert form.status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_tiny_and_small_sets_give_the_measured_pages_the_same_statements(seeded, fresh_url):
    """The lead's data and the measured records have the same shape at two scales, so every page
    runs the same number of statements on both (a difference names the statement shapes)."""
    url, state = seeded
    bigger = fresh_url("bigger")
    bigger_state = bench_seed.seed(bigger, scale=SCALE * 4, seed_value=7, progress=False, today=DAY)
    for key in ("group_shape", "meeting_shape", "outreach_venue_shape", "outreach_visit_shape"):
        assert state["measured"][key] == bigger_state["measured"][key], key
    small, large = querycount.capture(url, state), querycount.capture(bigger, bigger_state)
    result = querycount.compare(small, large)
    measured = {label: pair for label, pair in result["pages"].items() if isinstance(pair[1], int)}
    assert len(measured) >= 14, result["pages"]
    assert result["differences"] == {}, result["differences"]
    assert all(small_count == large_count for small_count, large_count in measured.values()), result["pages"]


def test_statement_shapes_ignore_parameters_and_name_what_differs():
    sqlite = "SELECT a.id AS a_id, a.b AS a_b, a.c, a.d, a.e, a.f FROM a WHERE a.id IN (?, ?, ?) AND a.x = ?"
    postgres = ("SELECT a.id AS a_id, a.b AS a_b, a.c, a.d, a.e, a.f FROM a WHERE a.id IN "
                "(%(id_1_1)s::INTEGER) AND a.x = %(x_1)s")
    assert querycount.shape(sqlite) == querycount.shape(postgres) == "SELECT a.* FROM a WHERE a.id IN (…) AND a.x = ?"
    # Chosen columns stay readable.
    assert querycount.shape("SELECT u.name, m.purpose FROM u JOIN m ON m.id = u.id") == \
        "SELECT u.name, m.purpose FROM u JOIN m ON m.id = u.id"
    small = [querycount.listing("SELECT x FROM t WHERE id = ?", (1,))]
    large = small + [querycount.listing("SELECT y FROM u WHERE id IN (?, ?)", (1, 2))] * 2
    assert querycount.differences(small, large) == {"small": [], "large": ["SELECT y FROM u WHERE id IN (…) ×2"]}


def test_a_county_seed_keeps_each_units_work_in_the_unit(fresh_url):
    """At two units (scale 1.1: 55 staff), a client's workers, a group's facilitators and its
    participants are of one unit, as in a county where each team works with its own clients: but
    for a few specialists named from another unit (the cross-unit path of the access rules has
    data) and the lead, whose clients are all of the lead's unit. Drawn from the whole county,
    nine in ten of the lead's clients had been another unit's at scale 10, which made a lead's
    client list measure the seed rather than the code."""
    url = fresh_url("county")
    bench_seed.seed(url, scale=1.1, seed_value=7, progress=False, today=DAY)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert _scalar(conn, "SELECT count(*) FROM unit") == 2
        links, cross = conn.execute(sa.text(
            "SELECT count(*), count(*) FILTER (WHERE m.unit_id <> c.unit_id) FROM client_worker w "
            "JOIN client c ON c.id = w.client_id JOIN unit_membership m ON m.user_id = w.user_id")).one()
        assert 0 < cross < 0.05 * links
        assert _scalar(conn, "SELECT count(*) FROM client_worker w JOIN client c ON c.id = w.client_id "
                             "WHERE w.user_id = 1 AND c.unit_id <> 1") == 0
        assert _scalar(conn, "SELECT count(*) FROM client_worker WHERE user_id = 1") > 0
        assert _scalar(conn, "SELECT count(*) FROM client_group g JOIN unit_membership m "
                             "ON m.user_id IN (g.facilitator1_id, g.facilitator2_id) WHERE m.unit_id <> g.unit_id") == 0
        assert _scalar(conn, "SELECT count(*) FROM enrolment e JOIN client_group g ON g.id = e.group_id "
                             "JOIN client c ON c.id = e.client_id WHERE c.unit_id <> g.unit_id") == 0
    engine.dispose()


def test_a_reused_seed_is_brought_to_the_codes_schema(fresh_url):
    """``--reuse-seed`` measures a database seeded by earlier code: its migrations run first. A
    database taken back to before the copied units gets them again, filled from the seeded rows
    (each equal to its meeting's or group's); a database at the code's schema is left as it is."""
    from flask_migrate import downgrade

    from app import create_app
    from core.extensions import db

    url = fresh_url("reuse")
    bench_seed.seed(url, scale=SCALE, seed_value=7, progress=False, today=DAY)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "t", "TESTING": False})
    with app.app_context():
        downgrade(revision="b83d5f1e9a47")
        db.engine.dispose()
    assert bench_seed.upgrade_seeded(url) is True
    assert bench_seed.upgrade_seeded(url) is False
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert _scalar(conn, "SELECT count(*) FROM action_item") > 0
        assert _scalar(conn, "SELECT count(*) FROM action_item i JOIN meeting m ON m.id = i.meeting_id "
                             "WHERE i.unit_id IS NULL OR i.unit_id <> m.unit_id") == 0
        assert _scalar(conn, "SELECT count(*) FROM group_session s JOIN client_group g ON g.id = s.group_id "
                             "WHERE s.unit_id IS NULL OR s.unit_id <> g.unit_id") == 0
    engine.dispose()
