"""Online backup and restore of the database: ``flask backup [PATH]`` and ``flask restore PATH``.

SQLite uses the sqlite3 backup API, which copies a consistent snapshot page by page while the
app keeps serving (writers that commit during the copy make it restart on the changed pages, so
the result is always one committed state). PostgreSQL uses ``pg_dump -Fc`` (one repeatable-read
snapshot) and ``pg_restore``. The database URL is the app's own, so the commands back up the
database the app is configured for (``DATABASE_URL``).

With ``BACKUP_KEY`` set (a key from ``flask backup-key``), backups are encrypted: the copy is cut
into chunks, each sealed with Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography``
package) and carrying its number and whether it is the last, so a chunk that is changed, swapped,
dropped or cut off makes the restore refuse the file, as a wrong key does, before anything in the
database is touched. Chunks keep memory flat for a county-sized database.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, current_app

from .extensions import db

# Copy the whole SQLite file in one step: in WAL mode that is a single read transaction, so it
# sees one committed snapshot while writers carry on. Copying in several steps would restart
# the copy after every commit by another connection and might never finish under steady writes.
SQLITE_PAGES_PER_STEP = -1


class BackupError(RuntimeError):
    pass


MAGIC = b"KOHTAAMO-BACKUP-FERNET-1\n"
CHUNK = 16 * 1024 * 1024


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError):
        raise BackupError("BACKUP_KEY is not a valid key: make one with 'flask backup-key'") from None


def encrypt_file(plain: Path, target: Path, key: str) -> None:
    fernet = _fernet(key)
    size = plain.stat().st_size
    with open(plain, "rb") as source, open(target, "wb") as out:
        out.write(MAGIC)
        number, done = 0, 0
        while True:
            data = source.read(CHUNK)
            done += len(data)
            last = done >= size
            # The chunk's number and "last" flag are inside the sealed part: reordering or
            # truncating the file is caught like a changed byte.
            token = fernet.encrypt(number.to_bytes(8, "big") + (b"\x01" if last else b"\x00") + data)
            out.write(len(token).to_bytes(8, "big") + token)
            number += 1
            if last:
                break


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def decrypt_file(source_path: Path, target: Path, key: str) -> None:
    fernet = _fernet(key)
    refused = BackupError("the backup key does not open this backup: the key is wrong, or the file was "
                          "changed or cut short")
    with open(source_path, "rb") as source, open(target, "wb") as out:
        source.read(len(MAGIC))
        number = 0
        while True:
            header = source.read(8)
            if len(header) < 8:
                raise refused
            token = source.read(int.from_bytes(header, "big"))
            try:
                data = fernet.decrypt(token)
            except InvalidToken:
                raise refused from None
            if int.from_bytes(data[:8], "big") != number:
                raise refused
            out.write(data[9:])
            number += 1
            if data[8:9] == b"\x01":
                break
        if source.read(1):
            raise refused


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


def backup(path: str | os.PathLike, key: str = "") -> Path:
    """Write a consistent copy of the live database to ``path`` (overwritten if it exists),
    encrypted with ``key`` when one is given."""
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
                                 "--file", str(tmp), url.database or ""], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    else:
        raise BackupError(f"backups of {backend} databases are not supported")
    if key:
        sealed = target.with_name(target.name + ".sealing")
        try:
            encrypt_file(tmp, sealed, key)
        finally:
            tmp.unlink(missing_ok=True)
        tmp = sealed
    # Only a complete backup gets the final name, so a crash never leaves a truncated file there.
    os.replace(tmp, target)
    return target


def restore(path: str | os.PathLike, key: str = "") -> None:
    """Replace the live database's contents with the backup at ``path`` (decrypted with ``key``
    first when it is an encrypted backup; a wrong key is refused before the database is touched)."""
    source_path = Path(path)
    if not source_path.is_file():
        raise BackupError(f"no backup file at {source_path}")
    if is_encrypted(source_path):
        if not key:
            raise BackupError("this backup is encrypted: set BACKUP_KEY to the key it was made with")
        plain = source_path.with_name(source_path.name + ".opened")
        try:
            # Readable by the owner only while it exists, like the database file itself.
            plain.touch(mode=0o600)
            decrypt_file(source_path, plain, key)
            _restore_plain(plain)
        finally:
            plain.unlink(missing_ok=True)
        return
    _restore_plain(source_path)


def _restore_plain(source_path: Path) -> None:
    url = _url()
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
                                 "--single-transaction", "--exit-on-error", *args, "--dbname", url.database or "",
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
            written = backup(path or default_path(), current_app.config.get("BACKUP_KEY", ""))
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        sealed = " encrypted" if current_app.config.get("BACKUP_KEY") else ""
        click.echo(f"{sealed.strip() or 'unencrypted'} backup written to {written} ({written.stat().st_size} bytes)")

    @app.cli.command("backup-key")
    def backup_key_command() -> None:
        """Print a new key for encrypted backups (set it as BACKUP_KEY; keep a copy apart from the backups)."""
        click.echo(Fernet.generate_key().decode())

    @app.cli.command("restore")
    @click.argument("path")
    @click.option("--yes", is_flag=True, help="Confirm that the current data is to be replaced.")
    def restore_command(path: str, yes: bool) -> None:
        """Replace the database's contents with a backup made by `flask backup`."""
        if not yes:
            raise click.ClickException("restore replaces all current data; run again with --yes to confirm")
        try:
            restore(path, current_app.config.get("BACKUP_KEY", ""))
        except BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"database restored from {path}")
