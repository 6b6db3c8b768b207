"""Online backup and restore of the database: ``flask backup [PATH]`` and ``flask restore PATH``.

SQLite uses the sqlite3 backup API, which copies a consistent snapshot page by page while the
app keeps serving (writers that commit during the copy make it restart on the changed pages, so
the result is always one committed state). PostgreSQL uses ``pg_dump -Fc`` (one repeatable-read
snapshot) and ``pg_restore``. The database URL is the app's own, so the commands back up the
database the app is configured for (``DATABASE_URL``).
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app

from .extensions import db

# Copy the whole SQLite file in one step: in WAL mode that is a single read transaction, so it
# sees one committed snapshot while writers carry on. Copying in several steps would restart
# the copy after every commit by another connection and might never finish under steady writes.
SQLITE_PAGES_PER_STEP = -1


class BackupError(RuntimeError):
    pass


def _url() -> sa.engine.URL:
    return sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url: sa.engine.URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return url.database


def _libpq_env(url: sa.engine.URL) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump/pg_restore; the password goes in the environment, never
    on the command line (where `ps` would show it)."""
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def default_path(now: datetime | None = None) -> Path:
    now = now or datetime.now()
    suffix = "db" if _url().get_backend_name() == "sqlite" else "dump"
    return Path(current_app.instance_path) / "backups" / f"kohtaamo-{now:%Y%m%d-%H%M%S}.{suffix}"


def backup(path: str | os.PathLike) -> Path:
    """Write a consistent copy of the live database to ``path`` (overwritten if it exists)."""
    url = _url()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    backend = url.get_backend_name()
    if backend == "sqlite":
        source = sqlite3.connect(_sqlite_path(url), timeout=30)
        dest = sqlite3.connect(str(tmp))
        try:
            source.execute("PRAGMA busy_timeout=30000")
            source.backup(dest, pages=SQLITE_PAGES_PER_STEP)
            # The copy is a self-contained file: no -wal/-shm companions to carry along.
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
            source.close()
    elif backend == "postgresql":
        args, env = _libpq_env(url)
        result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *args,
                                 "--file", str(tmp), url.database], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"backups of {backend} databases are not supported")
    # Only a complete backup gets the final name, so a crash never leaves a truncated file there.
    os.replace(tmp, target)
    return target


def restore(path: str | os.PathLike) -> None:
    """Replace the live database's contents with the backup at ``path``."""
    url = _url()
    source_path = Path(path)
    if not source_path.is_file():
        raise BackupError(f"no backup file at {source_path}")
    # Our own pooled connections would hold locks (SQLite) or block DROPs (PostgreSQL).
    db.session.remove()
    db.engine.dispose()
    backend = url.get_backend_name()
    if backend == "sqlite":
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        try:
            try:
                check = source.execute("PRAGMA integrity_check").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{source_path} is not a usable SQLite backup: {exc}") from exc
            if check != "ok":
                raise BackupError(f"the backup file is damaged: {check}")
            dest = sqlite3.connect(_sqlite_path(url), timeout=30)
            try:
                dest.execute("PRAGMA busy_timeout=30000")
                # The backup API writes the whole database in one transaction on the target, so
                # other processes see either the old or the restored database, never a mix.
                source.backup(dest)
            finally:
                dest.close()
        finally:
            source.close()
    elif backend == "postgresql":
        args, env = _libpq_env(url)
        result = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                                 "--single-transaction", "--exit-on-error", *args, "--dbname", url.database,
                                 str(source_path)], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"restoring {backend} databases is not supported")


def init_backup_cli(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", required=False)
    def backup_command(path: str | None) -> None:
        """Make a consistent online backup of the database (default: instance/backups/)."""
        try:
            written = backup(path or default_path())
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"backup written to {written} ({written.stat().st_size} bytes)")

    @app.cli.command("restore")
    @click.argument("path")
    @click.option("--yes", is_flag=True, help="Confirm that the current data is to be replaced.")
    def restore_command(path: str, yes: bool) -> None:
        """Replace the database's contents with a backup made by `flask backup`."""
        if not yes:
            raise click.ClickException("restore replaces all current data; run again with --yes to confirm")
        try:
            restore(path)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"database restored from {path}")
