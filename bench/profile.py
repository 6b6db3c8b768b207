"""Where a page's time goes, in process: time each benchmark page over a few warm requests and
print the top of a cProfile by cumulative time. For finding work to cut, not for the report.

    .venv/bin/python -m bench.profile --database-url sqlite:///bench/data/bench-sqlite.db \
        --state bench/data/state-sqlite.json [--page group_list] [--top 25]
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time

from .inprocess import app_and_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--page", action="append")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()
    with open(args.state) as state_file:
        state = json.load(state_file)

    app, client = app_and_client(args.database_url, state, name="profile")
    feed = f"/calendar/{state['partner_feed_token']}.ics"
    pages = {
        "start_page": "/",
        "group_list": "/groups/",
        "group_page": f"/groups/{state.get('measured', {}).get('group_id') or state['group_ids'][0]}",
        "meeting_list": "/meetings/",
        "meeting_page": f"/meetings/{state.get('measured', {}).get('meeting_id') or state['meeting_ids'][0]}",
        "my_tasks": "/meetings/tasks",
        "chart": (state.get("chart_paths") or [f"/feedback/groups/{state['group_ids'][0]}/charts/means.svg"])[0],
        "feedback_form": f"/f/{state['open_windows'][0]['code']}",
        "feed_full": feed,
        "feedback_report": "/feedback/report",
        "outreach_report": "/outreach/report",
    }
    etag = client.get(feed).headers.get("ETag")
    anonymous = app.test_client()
    for name, path in pages.items():
        if args.page and name not in args.page:
            continue
        c = anonymous if name.startswith("feed_") or name == "feedback_form" else client
        c.get(path)
        repeat = 3 if name == "feed_full" else args.repeat
        started = time.perf_counter()
        for _ in range(repeat):
            response = c.get(path)
        ms = (time.perf_counter() - started) / repeat * 1000
        print(f"{name:14} {response.status_code} {ms:8.1f} ms  {len(response.data):8} bytes")
        if args.top:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(repeat):
                c.get(path)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
    if not args.page or "feed_304" in args.page:
        started = time.perf_counter()
        for _ in range(args.repeat):
            response = anonymous.get(feed, headers={"If-None-Match": etag})
        ms = (time.perf_counter() - started) / args.repeat * 1000
        print(f"{'feed_304':14} {response.status_code} {ms:8.1f} ms")
        if args.top:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.repeat):
                anonymous.get(feed, headers={"If-None-Match": etag})
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
