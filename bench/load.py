"""A small HTTP load generator: threads with keep-alive connections (http.client), bounded in
time and in request count, only against 127.0.0.1. Run as its own process so the load does not
share the server's interpreter:

    .venv/bin/python -m bench.load --port 8101 --scenario group_page --state state.json \
        --duration 10 --concurrency 8

Prints one JSON object: requests, errors (by status or exception), requests per second, and
latency percentiles in milliseconds. Logged-in scenarios log in once per thread through the
real login form (CSRF token taken from the page).
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
HOST = "127.0.0.1"


class Browser:
    """One keep-alive connection with a cookie jar (only what the app sets; Secure cookies are
    sent back too, as a TLS-terminating proxy would make them work)."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        return self.conn

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None,
                keep_cookies: bool = True) -> tuple[int, dict, bytes]:
        hdrs = {"Host": f"{HOST}:{self.port}", "Accept-Language": "fi"}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body, doseq=True).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        hdrs.update(headers or {})
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=hdrs)
                response = conn.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server closed: reconnect once, as browsers do, but
                # only for GET. A POST may have been committed before the connection broke, and
                # sending it again would store it twice (and hide a lost answer in the counts).
                self.close()
                if attempt == 2 or method != "GET":
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        if keep_cookies:
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    pair = value.split(";", 1)[0]
                    key, _, val = pair.partition("=")
                    if "expires=thu, 01 jan 1970" in value.lower() or "max-age=0" in value.lower():
                        self.cookies.pop(key.strip(), None)
                    else:
                        self.cookies[key.strip()] = val.strip()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload

    def csrf(self, path: str) -> str:
        status, _h, body = self.request("GET", path)
        match = CSRF_RE.search(body.decode("utf-8", "replace"))
        if not match:
            raise RuntimeError(f"no CSRF token on {path} (status {status})")
        return match.group(1)

    def login(self, email: str, password: str) -> int:
        token = self.csrf("/login")
        status, headers, _b = self.request("POST", "/login", {"csrf_token": token, "email": email, "password": password})
        return status

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- scenarios: (needs login, setup(browser, state) -> context, step(browser, context, i) -> ok) ---

def _get(path_of, expect=200, headers_of=None):
    def step(b: Browser, ctx, i):
        path = path_of(ctx, i)
        status, _h, _body = b.request("GET", path, headers=headers_of(ctx, i) if headers_of else None)
        return status == expect, status
    return step


def _cycle(values):
    values = list(values)
    return lambda ctx, i: values[i % len(values)]


def feedback_setup(b: Browser, state: dict) -> dict:
    windows = state["open_windows"][: -state["reserved_windows"]] or state["open_windows"]
    # One CSRF token per thread (tied to its session cookie), valid for every window's form.
    token = b.csrf(f"/f/{windows[0]['code']}")
    return {"windows": windows, "token": token, "items": state["session_item_ids"]}


def feedback_step(b: Browser, ctx, i):
    window = ctx["windows"][(i * 7 + threading.get_ident()) % len(ctx["windows"])]
    form = {"csrf_token": ctx["token"], "window_id": str(window["id"]), "comment": ""}
    for n, item in enumerate(ctx["items"]):
        form[f"item_{item}"] = str((i + n) % 11)
    # The "already answered" marker cookie is not kept: each request is another participant.
    status, _h, _body = b.request("POST", f"/f/{window['code']}", form, keep_cookies=False)
    return status == 302, status


def chart_setup(b: Browser, state: dict) -> dict:
    paths = state.get("chart_paths") or []
    if not paths:
        raise RuntimeError("no chart URLs in the state (no group with enough responses)")
    return {"paths": paths}


SCENARIOS = {
    "hello": (False, None, _get(lambda ctx, i: "/")),
    "start_page": (True, None, _get(lambda ctx, i: "/")),
    "group_list": (True, None, _get(lambda ctx, i: "/groups/")),
    "group_page": (True, lambda b, s: {"ids": s["group_ids"]}, _get(lambda ctx, i: f"/groups/{ctx['ids'][i % len(ctx['ids'])]}")),
    "meeting_page": (True, lambda b, s: {"ids": s["meeting_ids"]},
                     _get(lambda ctx, i: f"/meetings/{ctx['ids'][i % len(ctx['ids'])]}")),
    "my_tasks": (True, None, _get(lambda ctx, i: "/meetings/tasks")),
    "feedback_submit": (False, feedback_setup, feedback_step),
    "chart": (True, chart_setup, _get(lambda ctx, i: ctx["paths"][i % len(ctx["paths"])])),
    "feed_full": (False, lambda b, s: {"path": f"/calendar/{s['partner_feed_token']}.ics"},
                  _get(lambda ctx, i: ctx["path"])),
    "feed_304": (False, lambda b, s: _etag_setup(b, s), _get(lambda ctx, i: ctx["path"], expect=304,
                                                           headers_of=lambda ctx, i: {"If-None-Match": ctx["etag"]})),
}


def _etag_setup(b: Browser, state: dict) -> dict:
    path = f"/calendar/{state['partner_feed_token']}.ics"
    status, headers, _body = b.request("GET", path)
    if status != 200 or "etag" not in headers:
        raise RuntimeError(f"feed answered {status} without an ETag")
    return {"path": path, "etag": headers["etag"]}


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def run(port: int, scenario: str, state: dict, *, duration: float, concurrency: int, max_requests: int = 10**9,
        email: str | None = None, timeline: list | None = None) -> dict:
    """Run one scenario; ``timeline`` (if given) receives (seconds since start, ok, status, latency)."""
    needs_login, setup, step = SCENARIOS[scenario]
    result = Result()
    counter = itertools.count()
    start_barrier = threading.Barrier(concurrency + 1)
    deadline_box: list[float] = []
    go = threading.Event()

    sessions = list(state.get("sessions") or []) if not email else []

    def worker(n: int):
        b = Browser(port)
        try:
            if needs_login and n < len(sessions):
                # Logged in beforehand by the orchestrator (one session per simulated user), so
                # that argon2 logins are not repeated for every run.
                b.cookies = dict(sessions[n])
            elif needs_login:
                status = b.login(email or state["lead_email"], state["password"])
                if status != 302:
                    raise RuntimeError(f"login answered {status}")
            ctx = setup(b, state) if setup else {}
        except Exception as exc:  # noqa: BLE001 - reported, the thread then sits out
            with result.lock:
                result.errors[f"setup: {exc}"] = result.errors.get(f"setup: {exc}", 0) + 1
            start_barrier.wait()
            return
        start_barrier.wait()
        go.wait()
        deadline = deadline_box[0]
        while time.monotonic() < deadline:
            i = next(counter)
            if i >= max_requests:
                break
            t0 = time.perf_counter()
            try:
                ok, status = step(b, ctx, i)
            except Exception as exc:  # noqa: BLE001 - a failed request is a data point
                ok, status = False, type(exc).__name__
                b.close()
            elapsed = time.perf_counter() - t0
            with result.lock:
                if timeline is not None:
                    timeline.append((round(time.monotonic() - deadline + duration, 3), ok, status, elapsed))
                if ok:
                    result.latencies.append(elapsed)
                else:
                    result.errors[str(status)] = result.errors.get(str(status), 0) + 1
        b.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(concurrency)]
    for t in threads:
        t.start()
    # Logins and setup are not part of the measured time: the clock starts when all are ready.
    deadline_box.append(float("inf"))
    start_barrier.wait()
    started = time.monotonic()
    deadline_box[0] = started + duration
    go.set()
    for t in threads:
        t.join(timeout=duration + 60)
    elapsed = time.monotonic() - started
    return summarise(scenario, result, elapsed, concurrency)


def summarise(scenario: str, result: Result, elapsed: float, concurrency: int) -> dict:
    lat = sorted(result.latencies)

    def pct(p):
        if not lat:
            return None
        return round(lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] * 1000, 2)

    return {"scenario": scenario, "ok": len(lat), "errors": result.errors, "seconds": round(elapsed, 2),
            "concurrency": concurrency, "rps": round(len(lat) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": pct(50), "p90_ms": pct(90), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else None}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--email")
    args = parser.parse_args(argv)
    with open(args.state) as fh:
        state = json.load(fh)
    summary = run(args.port, args.scenario, state, duration=args.duration, concurrency=args.concurrency,
                  max_requests=args.max_requests, email=args.email)
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
