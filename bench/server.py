"""Start and stop gunicorn for the benchmark: the app (``app:create_app()``) or the hello-world
app, with the project's gunicorn.conf.py, on 127.0.0.1, as subprocesses of this process."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workers_for_machine() -> int:
    # gunicorn's usual production rule (2 × cores + 1), as gunicorn.conf.py would choose.
    return 2 * (os.cpu_count() or 1) + 1


class Gunicorn:
    def __init__(self, target: str, *, database_url: str | None = None, port: int | None = None,
                 workers: int | None = None, name: str = "app", secret: str = "bench-secret-key-not-for-production"):
        self.target = target
        self.port = port or free_port()
        self.workers = workers or workers_for_machine()
        self.name = name
        self.env = dict(os.environ)
        self.env.update({"SECRET_KEY": secret, "BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(self.workers),
                         "PYTHONUNBUFFERED": "1"})
        self.env.pop("KOHTAAMO_ENV", None)  # production settings, as deployed
        if database_url:
            self.env["DATABASE_URL"] = database_url
            # The load generator is one address standing for many phones: lift the per-address limit
            # of feedback answers, which would otherwise refuse all but two per window.
            self.env["FEEDBACK_PER_ADDRESS_LIMIT"] = "1000000"
        self.proc: subprocess.Popen | None = None
        DATA.mkdir(parents=True, exist_ok=True)
        self.log_path = DATA / f"gunicorn-{name}-{self.port}.log"

    def start(self, timeout: float = 180) -> Gunicorn:  # a loaded shared machine boots workers slowly
        log = open(self.log_path, "wb")  # noqa: SIM115 - the server's log, open while the server runs
        self.proc = subprocess.Popen([GUNICORN, "-c", str(ROOT / "gunicorn.conf.py"), self.target], cwd=ROOT,
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited: see {self.log_path}")
            if self.healthy() and len(self.worker_pids()) >= self.workers:
                return self
            time.sleep(0.2)
        self.stop()  # no server left behind when it did not start in time
        raise RuntimeError(f"gunicorn {self.name} did not become ready; see {self.log_path}")

    def healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()  # also when the server is not up yet (no socket left for the GC)

    def worker_pids(self) -> list[int]:
        """Our gunicorn master's children (the workers), by parent pid."""
        if self.proc is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 is the parent pid; the command name in field 2 may contain spaces.
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.proc.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
