"""No main page reads a whole table that grows with the data.

The query counts (tests/test_query_counts.py) stay the same at every scale; this checks what each
statement costs. The benchmark's seed (bench/seed.py) fills a database at a small scale, the main
pages are requested as the lead and as a facilitator, and every statement they run is planned
by the database itself (bench/queryplans.py says how each database is judged):

- SQLite: ``EXPLAIN QUERY PLAN`` without statistics; ``SCAN <table>`` with no index is a failure.
- PostgreSQL (``KOHTAAMO_TEST_DB=postgres``): ``EXPLAIN`` with the statement's parameters and
  ``enable_seqscan = off`` (a small table is rightly read whole; priced out, a sequential scan
  stays in the plan only where no index can serve the statement); a ``Seq Scan`` of a growing
  table is a failure.

``test_dropping_an_index_a_page_needs_fails`` shows the check has teeth: the same statements
planned without one of the indexes the pages rely on are flagged.

Tables that stay small, and statements where a full scan is right, are listed with the reason in
``bench.queryplans.FIXED_TABLES`` and ``ALLOWED_SCANS``.
"""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bench import queryplans, seed as bench_seed
from tests.conftest import BACKEND, PG_ADMIN_URL, drop_database

# Both databases plan as if every table were large (SQLite without statistics, PostgreSQL with
# sequential scans priced out), so the scale only has to give every page rows to show.
SCALE = 0.02


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory):
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.db'}"
        return
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"kohtaamo_test_plans_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    drop_database(admin, name)
    admin.dispose()


@pytest.fixture(scope="module")
def planned(seeded_url):
    """(statements per page, status per page), seeded, captured and planned once per module."""
    state = bench_seed.seed(seeded_url, scale=SCALE, progress=False)
    by_page, statuses = queryplans.capture(seeded_url, state)
    queryplans.explain(seeded_url, by_page)
    return by_page, statuses


PAGE_LABELS = ["start page (lead)", "start page (facilitator)", "group list", "group page", "meeting list",
               "meeting page", "my tasks", "my tasks (facilitator)", "client list", "client page",
               "feedback group results", "feedback report", "outreach rota", "outreach report",
               "partner feed, full GET", "unit feed, full GET"]


def test_every_main_page_is_planned(planned):
    """The check below proves something only if the pages answered and their statements were
    planned: every page answers 200 and has planned statements, each with a plan."""
    by_page, statuses = planned
    assert sorted(by_page) == sorted(PAGE_LABELS)
    assert statuses == dict.fromkeys(PAGE_LABELS, 200)
    for label, statements in by_page.items():
        assert statements, f"{label}: no statement captured"
        assert all(st.plan for st in statements), f"{label}: a statement without a plan"
    # Signed-in pages read the data they show, not only the session.
    assert any("action_item" in st.sql for st in by_page["my tasks"])
    assert any("FROM client" in st.sql for st in by_page["client list"])


@pytest.mark.parametrize("label", PAGE_LABELS)
def test_page_does_not_scan_a_growing_table(label, planned):
    by_page, _statuses = planned
    scanning = [st for st in by_page[label] if st.scans]
    assert not scanning, f"{label}: " + "\n".join(
        f"{', '.join(line for _t, line in st.scans)} in: {' '.join(st.sql.split())[:600]}\n  plan: {st.plan}"
        for st in scanning)


def test_the_judge_flags_a_full_scan_and_accepts_an_index(planned, seeded_url):
    """The detector itself, on the same database: a filter on an unindexed column of a growing
    table is flagged; the same table looked up by its indexed foreign key is not; a fixed table's
    scan is not."""
    engine = sa.create_engine(seeded_url)
    is_pg = engine.dialect.name == "postgresql"
    engine.dispose()
    param = "%(p)s" if is_pg else "?"
    params = {"p": "nothing like this"} if is_pg else ("nothing like this",)
    id_params = {"p": 1} if is_pg else (1,)
    statements = [
        queryplans.Statement("probe", f"SELECT meeting.id FROM meeting WHERE meeting.purpose = {param}", params),
        queryplans.Statement("probe", f"SELECT m.id FROM meeting AS m WHERE m.purpose = {param}", params),
        queryplans.Statement("probe", f"SELECT action_item.id FROM action_item WHERE action_item.meeting_id = {param}",
                             id_params),
        queryplans.Statement("probe", f'SELECT "user".id FROM "user" WHERE "user".title = {param}', params),
    ]
    queryplans.explain(seeded_url, {"probe": statements})
    scanned = [[t for t, _line in st.scans] for st in statements]
    assert scanned == [["meeting"], ["meeting"], [], []], [st.plan for st in statements]


@pytest.mark.skipif(BACKEND == "postgres", reason="the allowed scans are SQLite's plans")
def test_every_allowed_scan_is_still_seen(planned):
    """An allow-list entry that matches no statement any more must go, so the list cannot keep
    excusing a scan that comes back in another statement."""
    by_page, _statuses = planned
    reasons = {why for sts in by_page.values() for st in sts for _t, _line, why in st.allowed}
    for table, _pattern, why in queryplans.ALLOWED_SCANS:
        assert why in reasons, f"{table}: the allowed scan is not seen any more; remove its entry"


def test_no_statement_reads_all_history(planned):
    by_page, _statuses = planned
    known = queryplans.known_growing(by_page)
    assert not known, "\n".join(f"{page}: {why}" for page, why in known)


# (page, index, table): an index each page relies on, from the migrations, and the growing table
# the page would scan without it. (The client and meeting lists check their rule per row while
# walking an index; without that index each database finds another one, so neither list is here.)
NEEDED_INDEXES = [
    ("my tasks", "ix_action_item_responsible_status", "action_item"),
    ("meeting page", "ix_meeting_participant_meeting_id", "meeting_participant"),
]


@pytest.mark.parametrize(("label", "index", "table"), NEEDED_INDEXES)
def test_dropping_an_index_a_page_needs_fails(label, index, table, planned, seeded_url):
    """The check has teeth: the page's own statements, planned again with one index dropped (in
    SQLite's copy, or in a PostgreSQL transaction rolled back), are flagged as full scans of the
    table that index served; with the index they were not."""
    by_page, _statuses = planned
    assert not any(st.scans for st in by_page[label])
    again = [queryplans.Statement(label, st.sql, st.parameters) for st in by_page[label]]
    queryplans.explain(seeded_url, {label: again}, without_indexes=(index,))
    scanned = {t for st in again for t, _line in st.scans}
    assert table in scanned, [st.plan for st in again]
