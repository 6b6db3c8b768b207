"""Encrypted backups (`BACKUP_KEY`): the file holds no readable data, restores with the right key,
and a wrong key, a changed byte, a cut-off file or a missing key are refused with a clear message
before the live database is touched (SQLite and, with KOHTAAMO_TEST_DB=postgres, PostgreSQL)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from core.extensions import db
from register.models import Client
from tests.factories import make_client

KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()
NAME = "Salainen Varmuuskopionen"


@pytest.fixture
def app_config():
    return {"BACKUP_KEY": KEY}


def _names() -> list[str]:
    db.session.remove()
    return list(db.session.scalars(sa.select(Client.name).order_by(Client.id)))


def _backup(runner, tmp_path):
    make_client(name=NAME)
    db.session.commit()
    path = tmp_path / "sealed.bak"
    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("encrypted backup written to")
    return path


def test_an_encrypted_backup_holds_nothing_readable_and_restores_with_its_key(app, runner, tmp_path):
    path = _backup(runner, tmp_path)
    data = path.read_bytes()
    assert NAME.encode() not in data and b"SQLite format" not in data and b"PGDMP" not in data
    make_client(name="Tehty varmuuskopion jälkeen")
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    assert _names() == [NAME]
    assert not list(tmp_path.glob("*.opened"))  # the opened copy is gone


def _refused(app, runner, path, expected: str):
    make_client(name="Elävä tietokanta")
    db.session.commit()
    before = _names()
    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code != 0
    assert expected in result.output
    assert "Traceback" not in result.output
    assert _names() == before  # untouched


def test_a_wrong_key_is_refused_clearly(app, runner, tmp_path):
    path = _backup(runner, tmp_path)
    app.config["BACKUP_KEY"] = OTHER_KEY
    _refused(app, runner, path, "the backup key does not open this backup")


def test_a_changed_byte_or_a_cut_off_file_is_refused(app, runner, tmp_path):
    path = _backup(runner, tmp_path)
    data = bytearray(path.read_bytes())
    changed = tmp_path / "changed.bak"
    data[len(data) // 2] ^= 0x01
    changed.write_bytes(bytes(data))
    _refused(app, runner, changed, "the backup key does not open this backup")
    cut = tmp_path / "cut.bak"
    cut.write_bytes(path.read_bytes()[: len(data) - 100])
    _refused(app, runner, cut, "the backup key does not open this backup")


def test_an_encrypted_backup_without_a_key_is_refused(app, runner, tmp_path):
    path = _backup(runner, tmp_path)
    app.config["BACKUP_KEY"] = ""
    _refused(app, runner, path, "this backup is encrypted: set BACKUP_KEY")


def test_a_malformed_key_is_named(app, runner, tmp_path):
    app.config["BACKUP_KEY"] = "not-a-key"
    result = runner.invoke(args=["backup", str(tmp_path / "x.bak")])
    assert result.exit_code != 0 and "BACKUP_KEY is not a valid key" in result.output


def test_backup_key_prints_a_usable_key(app, runner):
    result = runner.invoke(args=["backup-key"])
    assert result.exit_code == 0
    Fernet(result.output.strip().encode())


def test_chunks_swapped_or_dropped_are_refused(app, runner, tmp_path, monkeypatch):
    import core.backup

    monkeypatch.setattr(core.backup, "CHUNK", 4096)
    path = _backup(runner, tmp_path)
    raw = path.read_bytes()[len(core.backup.MAGIC):]
    chunks = []
    while raw:
        size = int.from_bytes(raw[:8], "big")
        chunks.append(raw[:8 + size])
        raw = raw[8 + size:]
    assert len(chunks) >= 3
    swapped = tmp_path / "swapped.bak"
    swapped.write_bytes(core.backup.MAGIC + chunks[1] + chunks[0] + b"".join(chunks[2:]))
    _refused(app, runner, swapped, "the backup key does not open this backup")
    dropped = tmp_path / "dropped.bak"
    dropped.write_bytes(core.backup.MAGIC + b"".join(chunks[:-1]))
    _refused(app, runner, dropped, "the backup key does not open this backup")
    # The whole file, in many chunks, still restores.
    db.session.remove()
    assert runner.invoke(args=["restore", str(path), "--yes"]).exit_code == 0
    assert _names() == [NAME]
