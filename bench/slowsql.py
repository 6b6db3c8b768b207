"""The SQL statements of one page with their times, slowest first (in process, the lead's
login), to find missing indexes:

    .venv/bin/python -m bench.slowsql --database-url sqlite:////tmp/x.db --state state.json /groups/
"""
from __future__ import annotations

import argparse
import json
import time

import sqlalchemy as sa

from .inprocess import app_and_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--anonymous", action="store_true")
    parser.add_argument("--wall", action="store_true",
                        help="wall-clock times: PostgreSQL's work is in its server, not in this process's CPU")
    parser.add_argument("path")
    args = parser.parse_args()
    with open(args.state) as state_file:
        state = json.load(state_file)

    from core.extensions import db

    app, client = app_and_client(args.database_url, state, name="slowsql", login=not args.anonymous)
    with app.app_context():
        engine = db.engine
    client.get(args.path)
    timings: list[tuple[float, str, object]] = []

    started_at: list[float] = [0.0]

    # CPU time of this process by default: SQLite runs in it, and a shared machine's load hardly
    # moves it.
    clock = time.perf_counter if args.wall else time.process_time

    def before(conn, cursor, statement, parameters, context, executemany):
        started_at[0] = clock()

    def after(conn, cursor, statement, parameters, context, executemany):
        timings.append(((clock() - started_at[0]) * 1000, statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    started = time.perf_counter()
    response = client.get(args.path)
    total = (time.perf_counter() - started) * 1000
    print(f"{args.path}: {response.status_code}, {total:.1f} ms, {len(timings)} statements "
          f"({'wall' if args.wall else 'CPU'} times), "
          f"{sum(t for t, _, _ in timings):.1f} ms in SQL")
    for ms, statement, parameters in sorted(timings, key=lambda t: -t[0]):
        print(f"--- {ms:.2f} ms  {parameters!r:.200}\n{' '.join(statement.split())[:600]}")


if __name__ == "__main__":
    main()
