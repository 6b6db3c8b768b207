"""Which statements of the main pages read a whole table that grows with the data.

Counting statements (``bench/querycount.py``, ``tests/test_query_counts.py``) shows that a page
runs the same number of queries at every scale; it cannot show that one of them reads every row
of a table that grows (the lead's own eight tasks found by scanning every action item). This
module drives the pages in process as the benchmark's users (the lead and a facilitator), keeps
every statement with its parameters, and asks the database for each statement's plan:

- SQLite: ``EXPLAIN QUERY PLAN``; a ``SCAN <table>`` without ``USING … INDEX`` is a full scan,
  and so is ``SCAN t USING [COVERING] INDEX i`` in a statement without LIMIT (it reads every
  entry of the index: an aggregate over the whole table). With a LIMIT such a walk stops early
  (ORDER BY … LIMIT); it is listed, not judged. Planned on a copy of the database without its statistics
  (``sqlite_stat1``): a small data set's statistics tell SQLite that every table is a few pages,
  and it then scans a 2-row ``user_session`` rather than use its unique index, a plan it would
  not choose at five years of data. Without statistics SQLite takes every table to be large, so
  a full scan left in the plan means no index serves the statement's filter or join.
- PostgreSQL: ``EXPLAIN (FORMAT JSON)`` with the statement's own parameters and
  ``enable_seqscan = off``. PostgreSQL reads a table of a few pages whole however many indexes
  it has, so the plan of a test-sized data set says nothing about five years of data; with
  sequential scans priced out, the planner uses an index wherever one can serve the statement,
  and a ``Seq Scan`` of a growing table left in the plan means that no index can. So does an
  index walked whole to apply a filter (an ``Index Scan`` with a ``Filter`` and no ``Index Cond``,
  outside a statement with LIMIT): PostgreSQL's way round the priced-out sequential scan.

``tests/test_query_plans.py`` fails on the findings; ``python -m bench.queryplans --database-url
…`` prints every statement's plan for a seeded database.
"""
from __future__ import annotations

import argparse
import json
import re
import sqlite3
from dataclasses import dataclass, field

import sqlalchemy as sa

from .inprocess import app_and_client

# Tables that do not grow with the unit's years of work: a scan of them costs the same at every
# scale. Each entry says why it stays small.
FIXED_TABLES = {
    "user": "the unit's staff: tens of rows",
    "feedback_item_set": "the built-in and the unit's own question sets: a handful",
    "feedback_item": "the questions of those sets: a few per set",
    "calendar_subscription": "a few feeds per partner or worker: tens",
    "calendar_data_version": "one counter per feed kind",
    "calendar_feed_cache": "one row per subscription",
    "partner_organisation": "the unit's partner organisations: tens (40 at scale 1, capped there)",
    "partner_contact": "a few contacts per partner: about a hundred (capped with the partners)",
    "outreach_venue": "the partner venues visited: about twenty (capped)",
    "outreach_rule": "one schedule per venue",
    "feedback_chart_cache": "charts drawn in the last 30 days; older ones are pruned on write",
    "alembic_version": "one row",
}

# Statements whose full scan is right, with why. Each entry: (table, a regular expression the
# statement's text must match, why). Keep this short: every entry is a claim a reader can check.
ALLOWED_SCANS: list[tuple[str, str, str]] = [
    # The feeds load the participants of all their meetings (selectinload, ordered by the
    # participant's id, the relationship's order_by). Without statistics, or with a small data
    # set's, SQLite reads the participant table in id order once ten or more meetings are in the
    # IN list, rather than look each meeting up and sort; with the statistics of a scale-1 data
    # set it looks them up by ix_meeting_participant_meeting_id (checked with
    # `python -m bench.queryplans --sqlite-statistics` on a scale-1 seed). A planner choice by
    # size, not a missing index.
    ("meeting_participant",
     r"FROM meeting_participant .*WHERE meeting_participant\.meeting_id IN \(.*ORDER BY meeting_participant\.id",
     "selectinload of many meetings' participants in id order: SQLite scans only while the table is "
     "small or has no statistics; at scale 1 with statistics it uses the meeting_id index"),
]

# Statements that read what grows and need a change to the statement itself (an index cannot
# help): (table, pattern, why, what would fix it). Their scans do not fail the page's test, but
# tests/test_query_plans.py::test_no_statement_reads_all_history fails while any entry matches, so
# an entry is a known debt that keeps the suite red until the statement is fixed.
# The feedback report used to average every answer ever given and read every group's last
# session; it now reads the stored releases of its period (feedback.release), so nothing is left.
KNOWN_GROWING: list[tuple[str, str, str, str]] = []

# The statements that are planned: reads, and the writes that find their rows (an INSERT with
# VALUES finds none).
_PLANNED = re.compile(r"^\s*(SELECT|WITH|UPDATE|DELETE)\b", re.I)
_ALIAS = re.compile(r'(?:FROM|JOIN|,)\s+"?(\w+)"?\s+AS\s+"?(\w+)"?', re.I)


@dataclass
class Page:
    label: str
    path: str
    user: str = "lead"  # "lead" or "facilitator"


@dataclass
class Statement:
    page: str
    sql: str
    parameters: object
    plan: list[str] = field(default_factory=list)
    # (table, plan line) of full scans of growing tables, and of allowed ones with the reason
    scans: list[tuple[str, str]] = field(default_factory=list)
    allowed: list[tuple[str, str, str]] = field(default_factory=list)
    index_walks: list[str] = field(default_factory=list)


def pages(url: str, state: dict) -> list[Page]:
    """The main pages, with records of the seeded data set (the ones the query counts measure)."""
    engine = sa.create_engine(url)
    measured = state.get("measured") or {}
    group_id = measured.get("group_id") or state["group_ids"][0]
    meeting_id = measured.get("meeting_id") or state["meeting_ids"][0]
    with engine.connect() as conn:
        # The measured meeting's client: has meetings, and (most likely) groups.
        client_id = conn.execute(sa.text("SELECT client_id FROM meeting WHERE id = :m"), {"m": meeting_id}).scalar()
    engine.dispose()
    result = [
        Page("start page (lead)", "/"),
        Page("start page (facilitator)", "/", "facilitator"),
        Page("group list", "/groups/"),
        Page("group page", f"/groups/{group_id}"),
        Page("meeting list", "/meetings/"),
        Page("meeting page", f"/meetings/{meeting_id}"),
        Page("my tasks", "/meetings/tasks"),
        Page("my tasks (facilitator)", "/meetings/tasks", "facilitator"),
        Page("client list", "/clients"),
        Page("client page", f"/clients/{client_id}"),
        Page("feedback group results", f"/feedback/groups/{group_id}"),
        Page("feedback report", "/feedback/report"),
    ]
    if measured.get("outreach_venue_id"):
        result += [Page("outreach rota", "/outreach/"), Page("outreach report", "/outreach/report")]
    if state.get("partner_feed_token"):
        # Both requests are kept: the first renders the feed (after every change to its data),
        # the second answers from the stored body.
        result.append(Page("partner feed, full GET", f"/calendar/{state['partner_feed_token']}.ics"))
    if state.get("unit_feed_token"):
        result.append(Page("unit feed, full GET", f"/calendar/{state['unit_feed_token']}.ics"))
    return result


def capture(url: str, state: dict) -> tuple[dict[str, list[Statement]], dict[str, int]]:
    """Every distinct statement (with its parameters) of two requests of each page, per page."""
    from core.extensions import db

    clients = {}
    app, clients["lead"] = app_and_client(url, state, name="plans")
    _app2, clients["facilitator"] = app_and_client(url, {**state, "lead_email": state["facilitator_email"]},
                                                   name="plans")
    with app.app_context():
        engines = [db.engine]
    with _app2.app_context():
        engines.append(db.engine)
    seen: list[tuple[str, object]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if not executemany and _PLANNED.match(statement):
            seen.append((statement, parameters))

    statuses: dict[str, int] = {}
    by_page: dict[str, list[Statement]] = {}
    for page in pages(url, state):
        seen.clear()
        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", on_execute)
        try:
            # Two requests: the first does first-use work (renders a feed, stores a chart), the
            # second is the steady state; both are statements users wait for.
            for _ in range(2):
                statuses[page.label] = clients[page.user].get(page.path).status_code
        finally:
            for engine in engines:
                sa.event.remove(engine, "before_cursor_execute", on_execute)
        unique = {}
        for sql, params in seen:
            unique.setdefault((sql, repr(params)), Statement(page.label, sql, params))
        by_page[page.label] = list(unique.values())
    for engine in engines:
        engine.dispose()
    return by_page, statuses


def _tables_in(sql: str, table_names: set[str]) -> dict[str, str]:
    """alias -> table for the tables a statement names (a table without alias maps to itself)."""
    names = {t: t for t in table_names}
    for table, alias in _ALIAS.findall(sql):
        if table in table_names:
            names[alias] = table
    return names


def _allowed(table: str, sql: str) -> str | None:
    for allowed_table, pattern, why in ALLOWED_SCANS:
        if allowed_table == table and re.search(pattern, sql, re.S):
            return why
    for known_table, pattern, why, fix in KNOWN_GROWING:
        if known_table == table and re.search(pattern, sql, re.S):
            return f"KNOWN: {why}; fix: {fix}"
    return None


def known_growing(by_page: dict[str, list[Statement]]) -> list[tuple[str, str]]:
    """(page, why) of every statement that matches a KNOWN_GROWING entry, whatever its plan."""
    return [(st.page, why) for sts in by_page.values() for st in sts
            for _table, pattern, why, _fix in KNOWN_GROWING if re.search(pattern, st.sql, re.S)]


_SQLITE_STEP = re.compile(r"^(SCAN|SEARCH) (\w+)(?: AS \w+)?(.*)$")


def _without_statistics(url: str) -> sqlite3.Connection:
    """An in-memory copy of the SQLite database at ``url`` without its planner statistics."""
    source = sqlite3.connect(sa.engine.make_url(url).database)
    copy = sqlite3.connect(":memory:")
    source.backup(copy)
    source.close()
    for table in ("sqlite_stat1", "sqlite_stat4"):
        if copy.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            copy.execute(f"DELETE FROM {table}")
    copy.commit()
    copy.execute("ANALYZE sqlite_schema")  # reload the (now empty) statistics
    return copy


def explain_sqlite(raw: sqlite3.Connection, statements: list[Statement], table_names: set[str]) -> None:
    for st in statements:
        rows = raw.execute("EXPLAIN QUERY PLAN " + st.sql, st.parameters or ()).fetchall()
        aliases = _tables_in(st.sql, table_names)
        st.plan = [row[3] for row in rows]
        for line in st.plan:
            match = _SQLITE_STEP.match(line)
            if not match or match.group(1) != "SCAN":
                continue
            table = aliases.get(match.group(2))
            if table is None or table in FIXED_TABLES:
                continue  # a subquery or CTE (its own steps are judged), or a fixed table
            if " USING " in match.group(3) and "INDEX" in match.group(3):
                if re.search(r"\bLIMIT\b", st.sql):
                    st.index_walks.append(line)
                    continue
                line += " (the whole index: no LIMIT)"
            why = _allowed(table, st.sql)
            if why:
                st.allowed.append((table, line, why))
            else:
                st.scans.append((table, line))


def _pg_nodes(node: dict, parent: dict | None = None):
    """(node, its parent) of a JSON plan, depth first."""
    yield node, parent
    for child in node.get("Plans", []):
        yield from _pg_nodes(child, node)


def explain_postgres(conn, statements: list[Statement]) -> None:
    """Plan with ``enable_seqscan = off``: PostgreSQL rightly reads a small table whole, so on a
    test-sized data set its plans say nothing about five years of data; with sequential scans
    priced out it uses an index wherever one *can* serve the statement, and a ``Seq Scan`` left in
    the plan means none can (the same question SQLite's plans without statistics answer)."""
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute("SET enable_seqscan = off")
    try:
        for st in statements:
            cursor.execute("EXPLAIN (FORMAT JSON) " + st.sql, st.parameters or None)
            plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            root = plan[0]["Plan"]
            st.plan = []
            for node, parent in _pg_nodes(root):
                table = node.get("Relation Name")
                line = f"{node['Node Type']}" + (f" on {table}" if table else "") + \
                    (f" using {node['Index Name']}" if node.get("Index Name") else "") + \
                    f" (rows={node.get('Plan Rows')}" + \
                    (f", cond: {node['Index Cond']}" if node.get("Index Cond") else "") + \
                    (f", filter: {node['Filter']}" if node.get("Filter") else "") + ")"
                st.plan.append(line)
                if table is None or table in FIXED_TABLES:
                    continue
                if node["Node Type"] in ("Index Scan", "Index Only Scan") and not node.get("Index Cond") \
                        and node.get("Filter"):
                    # With sequential scans priced out, PostgreSQL walks a whole index instead
                    # (in its order) and filters every entry: the same full read. Under a LIMIT
                    # the walk stops early (listed, as on SQLite).
                    # Nor is the ordered side of a merge join a full read: the index walked is
                    # the join key's (a small data set's choice; a nested loop looks it up).
                    if re.search(r"\bLIMIT\b", st.sql) or (parent or {}).get("Node Type") == "Merge Join":
                        st.index_walks.append(line)
                        continue
                    line += " (the whole index: no condition on it)"
                elif node["Node Type"] != "Seq Scan":
                    continue
                why = _allowed(table, st.sql)
                if why:
                    st.allowed.append((table, line, why))
                else:
                    st.scans.append((table, line))
    finally:
        cursor.execute("RESET enable_seqscan")
        cursor.close()


def explain(url: str, by_page: dict[str, list[Statement]], *, sqlite_statistics: bool = False,
            without_indexes: tuple[str, ...] = ()) -> None:
    """Plan every statement. ``sqlite_statistics``: plan SQLite statements with the database's
    own statistics (what production does after PRAGMA optimize) instead of none; for looking at
    a large seeded database with ``python -m bench.queryplans``, not for the test.
    ``without_indexes``: plan as if these indexes did not exist (dropped in SQLite's in-memory
    copy, or inside a PostgreSQL transaction that is rolled back): the test's proof that the
    check fails when an index a page needs is missing."""
    if without_indexes and sqlite_statistics:
        raise ValueError("without_indexes plans on a copy: not with the database's own statistics")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        table_names = set(sa.inspect(conn).get_table_names())
        statements = [st for sts in by_page.values() for st in sts]
        if engine.dialect.name == "postgresql":
            try:
                for name in without_indexes:
                    conn.exec_driver_sql(f'DROP INDEX "{name}"')
                explain_postgres(conn, statements)
            finally:
                conn.rollback()
        else:
            copy = _without_statistics(url) if not sqlite_statistics else \
                sqlite3.connect(sa.engine.make_url(url).database)
            try:
                for name in without_indexes:
                    copy.execute(f'DROP INDEX "{name}"')  # the copy only (with statistics: not for tests)
                explain_sqlite(copy, statements, table_names)
            finally:
                copy.close()
    engine.dispose()


def findings(by_page: dict[str, list[Statement]]) -> list[Statement]:
    return [st for sts in by_page.values() for st in sts if st.scans]


def report(by_page: dict[str, list[Statement]], *, everything: bool = False) -> str:
    lines = []
    for label, statements in by_page.items():
        lines.append(f"== {label}: {len(statements)} planned statements")
        for st in statements:
            if not (everything or st.scans or st.allowed):
                continue
            lines.append("  " + " ".join(st.sql.split())[:400])
            lines += [f"    FULL SCAN of {t}: {line}" for t, line in st.scans]
            lines += [f"    allowed scan of {t}: {line} ({why})" for t, line, why in st.allowed]
            if everything:
                lines += [f"    | {line}" for line in st.plan]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a database seeded by bench.seed")
    parser.add_argument("--state", required=True, help="the seed's state JSON")
    parser.add_argument("--all", action="store_true", help="print every statement's plan, not only the scans")
    parser.add_argument("--sqlite-statistics", action="store_true",
                        help="SQLite: plan with the database's statistics (as production) instead of none")
    args = parser.parse_args(argv)
    with open(args.state) as fh:
        state = json.load(fh)
    by_page, statuses = capture(args.database_url, state)
    explain(args.database_url, by_page, sqlite_statistics=args.sqlite_statistics)
    print(report(by_page, everything=args.all))
    print("statuses:", statuses)
    print(f"{len(findings(by_page))} statements scan a growing table")


if __name__ == "__main__":
    main()
