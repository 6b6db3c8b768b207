"""Each benchmark page's time in process (a test client, no server, no load generator), at two
scales side by side: the cost of a page as the data grows, measured when the machine is too busy
for a load generator to finish requests (a shared machine's neighbours can starve gunicorn's
workers; a request measured alone, back to back with the same page at the other scale, still
compares the scales).

    .venv/bin/python -m bench.pagetimes --database-url sqlite:///bench/data/bench-sqlite-s1.db \
        --state bench/data/state-sqlite-s1.json --repeat 5
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

from .inprocess import app_and_client


def page_paths(state: dict) -> dict[str, str]:
    measured = state.get("measured") or {}
    feed = f"/calendar/{state['partner_feed_token']}.ics"
    return {
        "start_page": "/",
        "group_list": "/groups/",
        "group_page": f"/groups/{measured.get('group_id') or state['group_ids'][0]}",
        "meeting_list": "/meetings/",
        "meeting_page": f"/meetings/{measured.get('meeting_id') or state['meeting_ids'][0]}",
        "my_tasks": "/meetings/tasks",
        "client_list": "/clients",
        "client_page": f"/clients/{state['client_ids'][0]}",
        "outreach_rota": "/outreach/",
        "feedback_report": "/feedback/report",
        "outreach_report": "/outreach/report",
        "feed_full": feed,
        "feed_304": feed,
    }


def measure(url: str, state: dict, repeat: int = 5) -> dict[str, dict]:
    app, client = app_and_client(url, state, name="pagetimes")
    anonymous = app.test_client()
    out = {}
    etag = None
    for name, path in page_paths(state).items():
        c = anonymous if name in ("feed_full", "feed_304") else client  # the feeds are read without a login
        headers = {}
        if name == "feed_304":
            headers = {"If-None-Match": etag}
        response = c.get(path, headers=headers)  # warm: templates, caches, a feed's stored body
        if name == "feed_full":
            etag = response.headers.get("ETag")
        times, cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            response = c.get(path, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        # CPU time of this process: with SQLite (in process) the page's whole cost, and much less
        # disturbed than the wall clock by other work on a shared machine.
        out[name] = {"status": response.status_code, "median_ms": round(statistics.median(times), 1),
                     "min_ms": round(min(times), 1), "cpu_ms": round(statistics.median(cpu), 1),
                     "bytes": len(response.data)}
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with open(args.state) as fh:
        state = json.load(fh)
    print(json.dumps(measure(args.database_url, state, args.repeat)))


if __name__ == "__main__":
    main()
