"""The benchmark's databases: a fresh SQLite file, and a fresh PostgreSQL database.

PostgreSQL runs in its own cluster (``pg_createcluster 15 bench``, port 5433) when this machine
allows it, so that restarting PostgreSQL under load (a fault scenario) does not cut off anyone
else using the shared server on 5432. Without the cluster tools the shared server is used for
the measurements and the restart scenario is skipped unless ``--allow-shared-restart``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from .server import DATA

BENCH_CLUSTER = ("15", "bench")
BENCH_PORT = 5433
SHARED_ADMIN_URL = os.environ.get("BENCH_POSTGRES_ADMIN_URL",
                                  "postgresql+psycopg://kohtaamo:kohtaamo@127.0.0.1:5432/postgres")


@dataclass
class Postgres:
    admin_url: str
    restart_command: list[str] | None
    description: str

    def fresh_database(self, name: str) -> str:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def database(self, name: str, *, fresh: bool = True) -> str:
        """The URL of database ``name``: made afresh, or (``fresh=False``) kept when it exists."""
        if fresh:
            return self.fresh_database(name)
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).scalar()
        engine.dispose()
        return self.admin_url.rsplit("/", 1)[0] + "/" + name if exists else self.fresh_database(name)

    def drop_database(self, name: str) -> None:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()

    def server_version(self) -> str:
        engine = sa.create_engine(self.admin_url)
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
        return str(version)

    def restart(self) -> float:
        """Restart the server; returns the seconds the restart command took."""
        if not self.restart_command:
            raise RuntimeError("no restart command for this PostgreSQL")
        t0 = time.monotonic()
        subprocess.run(self.restart_command, check=True, capture_output=True)
        return time.monotonic() - t0


def _cluster_exists() -> bool:
    result = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    return any(line.split()[:2] == list(BENCH_CLUSTER) for line in result.stdout.splitlines() if line.strip())


def _answers(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def postgres(allow_shared_restart: bool = False) -> Postgres | None:
    url = f"postgresql+psycopg://kohtaamo:kohtaamo@127.0.0.1:{BENCH_PORT}/postgres"
    version, name = BENCH_CLUSTER
    if shutil.which("pg_createcluster") and os.geteuid() == 0:
        if not _cluster_exists():
            subprocess.run(["pg_createcluster", version, name, "-p", str(BENCH_PORT), "--start", "--",
                            "--auth-local=trust", "--auth-host=scram-sha-256"], check=True, capture_output=True)
        subprocess.run(["pg_ctlcluster", version, name, "start"], capture_output=True)
        subprocess.run(["su", "postgres", "-c", f"psql -p {BENCH_PORT} -qc \"DO \\$\\$ BEGIN IF NOT EXISTS "
                        f"(SELECT FROM pg_roles WHERE rolname = 'kohtaamo') THEN CREATE ROLE kohtaamo LOGIN "
                        f"PASSWORD 'kohtaamo' CREATEDB; END IF; END \\$\\$\""], capture_output=True)
        if _answers(url):
            return Postgres(url, ["pg_ctlcluster", version, name, "restart"],
                            f"PostgreSQL cluster {version}/{name} on port {BENCH_PORT} (the benchmark's own)")
    if _answers(SHARED_ADMIN_URL):
        restart = ["service", "postgresql", "restart"] if allow_shared_restart else None
        return Postgres(SHARED_ADMIN_URL, restart, "the shared PostgreSQL server on port 5432")
    return None


def fresh_sqlite(name: str) -> str:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def sqlite_url(name: str, *, fresh: bool = True) -> str:
    """A SQLite file's URL: made afresh, or (``fresh=False``) kept when it exists."""
    path = DATA / f"{name}.db"
    if fresh or not path.exists():
        return fresh_sqlite(name)
    return f"sqlite:///{path}"
