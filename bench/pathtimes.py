"""Each special path of issue 17, point 8, with and without, in process: the app as it is and the
app with one path replaced by the library's way (``bench.variants``), each in a fresh process,
timing the page the path was written for (median of many requests through the test client), with a
hello-world Flask app timed the same way as the yardstick of the 304.

For a machine too busy for a load generator (bench/RESULTS.md says when); ``bench.run`` measures the
same variants with wrk under gunicorn when the machine allows.

    .venv/bin/python -m bench.pathtimes --database-url sqlite:///bench/data/bench-sqlite-s1.db \
        --state bench/data/state-sqlite-s1.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from .server import ROOT

# variant -> the page it is measured on
PAGES = {"no_fastpath": "feed_304", "orm_reads": "feed_304"}


def _time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 3)


def one(url: str, state: dict, variant: str | None, repeat: int) -> dict:
    """In this process: apply ``variant`` (None: the app as it is), time the pages."""
    if variant:
        from .variants import VARIANTS

        VARIANTS[variant][0]()
    from flask import Flask

    from .inprocess import app_and_client
    from .pagetimes import page_paths

    app, client = app_and_client(url, state, name="paths")
    anonymous = app.test_client()
    paths = page_paths(state)
    etag = anonymous.get(paths["feed_full"]).headers.get("ETag")
    wanted = sorted(set(PAGES.values())) if variant is None else [PAGES[variant]]
    out = {}
    for page in wanted:
        if page == "feed_304":
            def request():
                r = anonymous.get(paths["feed_304"], headers={"If-None-Match": etag})
                assert r.status_code == 304, r.status_code
        else:
            def request(page=page):
                r = client.get(paths[page])
                assert r.status_code == 200, r.status_code
        out[page] = _time(request, repeat if page == "feed_304" else max(5, repeat // 20))
    if variant is None:
        hello = Flask("hello")
        hello.get("/")(lambda: "Hello, world!")
        hc = hello.test_client()
        out["hello"] = _time(lambda: hc.get("/"), repeat)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--variant", help="(internal) measure this variant in this process")
    args = parser.parse_args(argv)
    with open(args.state) as fh:
        state = json.load(fh)
    if args.variant is not None:
        print(json.dumps(one(args.database_url, state, args.variant or None, args.repeat)))
        return
    results = {}
    for variant in ["", *PAGES, ""]:  # the app as it is first and last: the spread is the noise
        done = subprocess.run([sys.executable, "-m", "bench.pathtimes", "--database-url", args.database_url,
                               "--state", args.state, "--repeat", str(args.repeat), "--variant", variant],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        key = variant or ("as_is_before" if "as_is_before" not in results else "as_is_after")
        results[key] = json.loads(done.stdout.strip().splitlines()[-1])
        print(key, results[key], file=sys.stderr, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
