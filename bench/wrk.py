"""The outside load generator: wrk (C, event loop) against a page, with the session cookie of a
login made once by the Python client, cycling a list of paths (bench/wrk_paths.lua).

A Python load generator on the same two cores takes CPU from the server it measures: it
measured a hello-world app at about half of what wrk measures, so ratios taken with it look
twice as good. Every GET page is measured with wrk; bench/load.py remains for the scenarios that
need logic per request (feedback submissions with their CSRF token, the fault checks).

    .venv/bin/python -m bench.wrk --port 8101 --paths / --cookie "session=…" --duration 10
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "wrk_paths.lua"
HOST = "127.0.0.1"


def ensure_wrk() -> str:
    """The wrk binary; installed with apt-get (Debian package ``wrk``) when missing and root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("[bench] wrk is not installed: apt-get install -y wrk", file=sys.stderr, flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL, env=env)
        found = shutil.which("wrk")
        if not found:  # the package lists may be missing on a fresh machine
            subprocess.run(["apt-get", "update", "-q"], check=False, stdout=subprocess.DEVNULL, env=env)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL, env=env)
            found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    return found


def cookie_header(cookies: dict[str, str]) -> str:
    """The Cookie header for a session the Python client logged in. The production session cookie
    carries Secure, which a plain-http client would not send back: it is copied by hand."""
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def run(port: int, paths: list[str], *, duration: float, concurrency: int, threads: int = 2,
        headers: dict[str, str] | None = None, expect: int = 200, timeout_s: int = 10) -> dict:
    """One wrk run; the figures wrk's done() printed, with req/s and a pass/fail for the statuses."""
    binary = ensure_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as fh:
        fh.write("\n".join(paths) + "\n")
        paths_file = fh.name
    command = [binary, f"-t{min(threads, concurrency)}", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
               f"--timeout={timeout_s}s", "--latency", "-s", str(SCRIPT)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command += [f"http://{HOST}:{port}", "--", paths_file, str(expect)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    finally:
        os.unlink(paths_file)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        return {"failed": (done.stderr or done.stdout).strip()[-500:] or f"wrk exited {done.returncode}"}
    raw = json.loads(line.removeprefix("WRKJSON "))
    seconds = raw["duration_us"] / 1e6
    errors = {k: raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts") if raw[k]}
    if raw["unexpected_status"]:
        errors[f"status other than {expect} (first: {raw['first_unexpected']})"] = raw["unexpected_status"]
    ok = raw["requests"] - raw["unexpected_status"]
    return {"generator": "wrk", "requests": raw["requests"], "ok": ok, "errors": errors,
            "seconds": round(seconds, 2), "concurrency": concurrency, "threads": min(threads, concurrency),
            "rps": round(ok / seconds, 1) if seconds else 0.0,
            **{k: round(raw[k], 2) for k in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")},
            "paths": len(paths)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--paths", nargs="+", default=["/"])
    parser.add_argument("--cookie", help="the Cookie header of a logged-in session")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--expect", type=int, default=200)
    args = parser.parse_args(argv)
    headers = {"Cookie": args.cookie} if args.cookie else None
    print(json.dumps(run(args.port, args.paths, duration=args.duration, concurrency=args.concurrency,
                         headers=headers, expect=args.expect)))


if __name__ == "__main__":
    main()
