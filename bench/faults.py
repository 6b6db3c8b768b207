"""Fault scenarios against a running gunicorn (see bench.run):

- ``concurrent_feedback``: 200 participants send feedback at the same moment (SQLite default);
  every one gets the thank-you redirect and every response is stored.
- ``kill_worker``: SIGKILL one gunicorn worker in the middle of feedback submissions; every
  acknowledged response is stored, and the app goes on serving (gunicorn starts a new worker).
- ``postgres_restart``: PostgreSQL restarted under load; requests fail cleanly (the "briefly
  unavailable" page, 503 with Retry-After, quickly, no hang) during the restart and succeed
  again afterwards without restarting the app.
- ``scale_out``: two gunicorn instances on one PostgreSQL: a session started on one works on
  the other, logout on one ends it on both, the login limit counts across both, and a chart
  rendered by one is served from the shared cache by the other.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import sqlalchemy as sa

from . import load
from .load import Browser
from .server import ROOT, Gunicorn


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})


def _response_count(url: str, window_ids: list[int]) -> int:
    engine = _engine(url)
    with engine.connect() as conn:
        count = conn.execute(sa.text(
            "SELECT count(*) FROM feedback_response WHERE window_id IN ({})".format(",".join(map(str, window_ids))))).scalar()
    engine.dispose()
    return int(count)


def reserved_windows(state: dict, start: int, stop: int | None) -> list[dict]:
    """The load test leaves the last windows alone; faults take slices of them."""
    reserved = state["open_windows"][-state["reserved_windows"]:]
    return reserved[start:stop]


def _form(state: dict, window: dict, token: str, n: int) -> dict:
    form = {"csrf_token": token, "window_id": str(window["id"]), "comment": f"Osallistuja {n}" if n % 5 == 0 else ""}
    for k, item in enumerate(state["session_item_ids"]):
        form[f"item_{item}"] = str((n + k) % 11)
    return form


def concurrent_feedback(port: int, state: dict, url: str, participants: int = 200) -> dict:
    # Two answers per window: a window takes only as many answers as people could give (its
    # capacity), and the fault is about simultaneity, not one crowded window.
    windows = reserved_windows(state, 0, 100)
    ids = [w["id"] for w in windows]
    before = _response_count(url, ids)
    barrier = threading.Barrier(participants)
    statuses: Counter = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def participant(n: int):
        window = windows[n % len(windows)]
        b = Browser(port, timeout=120)
        try:
            token = b.csrf(f"/f/{window['code']}")
        except Exception as exc:  # noqa: BLE001
            with lock:
                statuses[f"form: {type(exc).__name__}"] += 1
            barrier.wait()
            return
        barrier.wait()  # everyone presses "send" at the same moment
        t0 = time.perf_counter()
        try:
            status, _h, _body = b.request("POST", f"/f/{window['code']}", _form(state, window, token, n))
        except Exception as exc:  # noqa: BLE001
            status = type(exc).__name__
        with lock:
            statuses[str(status)] += 1
            latencies.append(time.perf_counter() - t0)
        b.close()

    threads = [threading.Thread(target=participant, args=(n,), daemon=True) for n in range(participants)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    elapsed = time.monotonic() - t0
    stored = _response_count(url, ids) - before
    return {"participants": participants, "windows": len(windows), "statuses": dict(statuses), "stored": stored,
            "max_latency_ms": round(max(latencies) * 1000) if latencies else None, "seconds": round(elapsed, 1),
            "passed": stored == participants and statuses.get("302", 0) == participants}


def kill_worker(server: Gunicorn, state: dict, url: str, duration: float = 8.0) -> dict:
    windows = reserved_windows(state, 100, None)  # enough that no window reaches its capacity
    ids = [w["id"] for w in windows]
    sub_state = dict(state, open_windows=windows, reserved_windows=0)
    before = _response_count(url, ids)
    pids_before = server.worker_pids()
    killed: list[int] = []

    def killer():
        time.sleep(duration / 3)
        pid = pids_before[0]
        os.kill(pid, signal.SIGKILL)  # a worker of our own gunicorn, by pid
        killed.append(pid)

    timeline: list = []
    k = threading.Thread(target=killer)
    k.start()
    summary = load.run(server.port, "feedback_submit", sub_state, duration=duration, concurrency=8, timeline=timeline)
    k.join()
    time.sleep(1.0)
    stored = _response_count(url, ids) - before
    acknowledged = summary["ok"]
    failed = sum(summary["errors"].values())
    # Serving afterwards: a new worker replaced the killed one and pages answer.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(server.worker_pids()) < server.workers:
        time.sleep(0.2)
    after = load.run(server.port, "group_page", state, duration=2, concurrency=2)
    return {"killed_pid": killed[0] if killed else None, "acknowledged": acknowledged, "failed_requests": summary["errors"],
            "stored": stored, "workers_after": len(server.worker_pids()), "serving_after": after["ok"] > 0 and not after["errors"],
            "passed": stored >= acknowledged and stored <= acknowledged + failed and after["ok"] > 0
            and not after["errors"] and bool(killed)}


def postgres_restart(server: Gunicorn, state: dict, pg, duration: float = 20.0) -> dict:
    timeline: list = []
    restart: dict = {}

    def restarter():
        time.sleep(4)
        restart["at"] = 4.0
        restart["seconds"] = round(pg.restart(), 2)

    r = threading.Thread(target=restarter)
    r.start()
    summary = load.run(server.port, "group_page", state, duration=duration, concurrency=4, timeline=timeline)
    r.join()
    failures = [(t, s, lat) for t, ok, s, lat in timeline if not ok]
    last_failure = max((t for t, _s, _l in failures), default=None)
    tail = [ok for t, ok, _s, _l in timeline if t > duration - 3]
    return {"requests": len(timeline), "failed": len(failures), "failure_statuses": dict(Counter(str(s) for _t, s, _l in failures)),
            "slowest_failure_ms": round(max((lat for _t, _s, lat in failures), default=0) * 1000),
            "restart_at_s": restart.get("at"), "restart_took_s": restart.get("seconds"),
            "last_failure_at_s": last_failure,
            "recovered": bool(tail) and all(tail),
            "clean": all(s == 503 for _t, s, _l in failures),
            "passed": (bool(tail) and all(tail) and all(lat < 30 for _t, _s, lat in failures)
                       and all(s == 503 for _t, s, _l in failures)),
            "p95_ms": summary["p95_ms"]}


def scale_out(url: str, state: dict, workers: int = 2) -> dict:
    from .micro import _app

    checks: dict[str, object] = {}
    with Gunicorn("app:create_app()", database_url=url, workers=workers, name="scale-a") as a, \
            Gunicorn("app:create_app()", database_url=url, workers=workers, name="scale-b") as b:
        # Sessions: log in on A, use the cookie on B.
        on_a = Browser(a.port)
        assert on_a.login(state["lead_email"], state["password"]) == 302
        on_b = Browser(b.port)
        on_b.cookies = dict(on_a.cookies)
        status, _h, body = on_b.request("GET", "/meetings/tasks")
        checks["session_from_a_works_on_b"] = status == 200 and b'name="csrf-token"' in body
        # Logout on B ends the session on A too.
        token = on_b.csrf("/meetings/tasks")
        status, _h, _b = on_b.request("POST", "/logout", {"csrf_token": token})
        status_a, headers_a, _b = on_a.request("GET", "/meetings/tasks")
        checks["logout_on_b_ends_session_on_a"] = status == 302 and status_a == 302 and "/login" in headers_a.get("location", "")

        # Login limit: failures alternate between the instances, then the right password is refused.
        email = state.get("facilitator_email")
        failures = []
        for n in range(5):
            browser = Browser(a.port if n % 2 == 0 else b.port)
            failures.append(browser.login(email, "wrong password"))
            browser.close()
        browser = Browser(b.port)
        final = browser.login(email, state["password"])
        browser.close()
        checks["login_limit_counts_across_instances"] = all(s != 302 for s in failures) and final != 302
        checks["login_limit_statuses"] = failures + [final]

        # Chart cache: A renders and stores, B serves the stored bytes.
        paths = state.get("chart_paths") or []
        if paths:
            from core.extensions import db
            from feedback.models import ChartCache

            app = _app(url)
            with app.app_context():
                db.session.execute(sa.delete(ChartCache))
                db.session.commit()
            ba, bb = Browser(a.port), Browser(b.port)
            assert ba.login(state["lead_email"], state["password"]) == 302
            assert bb.login(state["lead_email"], state["password"]) == 302
            t0 = time.perf_counter()
            sa_status, _h, body_a = ba.request("GET", paths[0])
            first_ms = (time.perf_counter() - t0) * 1000
            with app.app_context():
                rows_after_a = db.session.scalar(sa.select(sa.func.count()).select_from(ChartCache))
                db.session.remove()
            t0 = time.perf_counter()
            sb_status, _h, body_b = bb.request("GET", paths[0])
            second_ms = (time.perf_counter() - t0) * 1000
            with app.app_context():
                rows_after_b = db.session.scalar(sa.select(sa.func.count()).select_from(ChartCache))
                db.session.remove()
                db.engine.dispose()
            checks["chart_cache_shared"] = (sa_status == sb_status == 200 and body_a == body_b and rows_after_a >= 1
                                            and rows_after_b == rows_after_a)
            checks["chart_first_on_a_ms"] = round(first_ms, 1)
            checks["chart_from_cache_on_b_ms"] = round(second_ms, 1)
        else:
            checks["chart_cache_shared"] = "skipped: no chart with enough responses"
        checks["reminders_exactly_once"] = _reminders_once(url)
    reminders = checks["reminders_exactly_once"]
    checks["passed"] = all(v is True for k, v in checks.items()
                           if k in ("session_from_a_works_on_b", "logout_on_b_ends_session_on_a",
                                    "login_limit_counts_across_instances", "chart_cache_shared")) and \
        (not isinstance(reminders, dict) or reminders["passed"])
    return checks


_TOTALS = re.compile(r"queued (\d+), sent (\d+), waiting for manual sending (\d+), failed (\d+)")


def _reminders_once(url: str) -> object:
    """Two instances run the reminder job at the same moment (as two servers' schedulers would):
    every due message is queued once and handled by exactly one of them."""
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-secret-key-not-for-production", SMS_BACKEND="outbox")
    env.pop("KOHTAAMO_ENV", None)
    command = [sys.executable, "-m", "flask", "--app", "app", "send-reminders"]
    probe = subprocess.run(command + ["--help"], cwd=ROOT, env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        return "skipped: no `flask send-reminders` command"
    totals = []
    # Two rounds of two simultaneous runs: the second round sends what the first one queued, in
    # case a run does not send what it queued itself.
    for _round in range(2):
        runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
        for p in runs:
            out, err = p.communicate(timeout=300)
            match = _TOTALS.search(out)
            if p.returncode != 0 or not match:
                return f"failed: send-reminders exited {p.returncode}: {(err or out).strip()[-300:]}"
            totals.append(tuple(int(x) for x in match.groups()))
    engine = _engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM reminder_outbox")).scalar()
        handled_rows = conn.execute(sa.text(
            "SELECT count(*) FROM reminder_outbox WHERE status IN ('sent', 'manual', 'failed')")).scalar()
        duplicates = conn.execute(sa.text(
            "SELECT count(*) FROM (SELECT target_kind, target_id, recipient_kind, recipient_id, slot, channel "
            "FROM reminder_outbox GROUP BY 1, 2, 3, 4, 5, 6 HAVING count(*) > 1) d")).scalar()
    engine.dispose()
    if not rows:
        return "not measured: no reminder was due at this moment"
    handled = [sum(t[1:]) for t in totals]
    detail = (f"{rows} messages in the outbox; the four runs reported queued {[t[0] for t in totals]} and handled "
              f"{handled}; {handled_rows} rows handled; duplicate rows {duplicates}")
    return {"passed": sum(handled) == handled_rows == rows and duplicates == 0, "detail": detail}
