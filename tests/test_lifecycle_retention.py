"""Retention (`flask retention [--dry-run]`): what goes after its period, what stays, the dry run
counting exactly what the run removes, two runs at once, the access log's signed restart, and
settings refused at start-up. Time is moved by giving the rows old timestamps, the commands run
at today's clock."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from accounts.models import LoginAttempt, UserSession
from core.config import ConfigError
from core.db import utcnow
from core.extensions import db
from register import chain
from register.access import log_access
from register.models import AccessLog, AccessLogRestart, Client
from reminders.models import OutboxMessage
from tests.factories import make_client, make_meeting

ROOT = Path(__file__).resolve().parent.parent
LONG_AGO = utcnow() - timedelta(days=3 * 365)


def _age(model, ident, **columns):
    db.session.execute(sa.update(model).where(model.id == ident).values(**columns))


def _seed(facilitator):
    """An old inactive client, an old client with a recent meeting, a fresh client; an old sent
    message, a recent one and an old one still pending; old and new access-log rows."""
    old = make_client(name="Vanha Asiakas", worker=facilitator, phone="040 100 0001")
    busy = make_client(name="Vanha Aktiivinen", worker=facilitator)
    new = make_client(name="Uusi Asiakas", worker=facilitator)
    make_meeting(client=busy, starts_at=utcnow() - timedelta(days=30), staff=facilitator)
    for client in (old, busy):
        _age(Client, client.id, created_at=LONG_AGO, updated_at=LONG_AGO)
    def message(client, when, status, slot):
        row = OutboxMessage(kind="reminder", target_kind="session", target_id=1, recipient_kind="client",
                            recipient_id=client.id, slot=slot, channel="sms", client_id=client.id,
                            address="+358401000001", status=status, body=f"Muistutus {slot}")
        db.session.add(row)
        db.session.flush()
        _age(OutboxMessage, row.id, created_at=when)
        return row.id
    old_sent = message(new, utcnow() - timedelta(days=400), "sent", "a")
    new_sent = message(new, utcnow() - timedelta(days=10), "sent", "b")
    old_pending = message(new, utcnow() - timedelta(days=400), "pending", "c")
    db.session.add(LoginAttempt(email="x@example.fi", address="10.0.0.1", success=False,
                                at=utcnow() - timedelta(days=60)))
    db.session.add(LoginAttempt(email="x@example.fi", address="10.0.0.1", success=False, at=utcnow()))
    db.session.commit()
    for i in range(3):
        log_access(new.id, "view", f"old {i}", user=facilitator)
    db.session.commit()
    db.session.execute(sa.update(AccessLog).values(at=utcnow() - timedelta(days=7 * 365)))
    # Re-hash the aged rows so the chain is intact before retention (as if written back then).
    rows = db.session.execute(sa.select(AccessLog).order_by(AccessLog.id)).scalars().all()
    prev = chain.GENESIS
    for row in rows:
        row.prev_hash, row.row_hash = prev, chain.row_hash(prev, row)
        prev = row.row_hash
    db.session.commit()
    log_access(new.id, "view", "recent", user=facilitator)
    db.session.commit()
    return {"old": old.id, "busy": busy.id, "new": new.id, "old_sent": old_sent, "new_sent": new_sent,
            "old_pending": old_pending}


def _counts(output: str) -> dict[str, int]:
    return {line.split(":")[0].strip(): int(line.split(":")[1]) for line in output.splitlines()[1:] if ":" in line}


def test_dry_run_counts_what_the_run_removes_and_changes_nothing(app, runner, facilitator, fresh_db):
    ids = _seed(facilitator)
    dry = runner.invoke(args=["retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    planned = _counts(dry.output)
    assert planned["clients"] == 1 and planned["message_texts"] == 1 and planned["login_attempts"] == 1
    total = fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLog))
    # Every row is old but the last.
    assert planned["access_log_rows"] == total - 1 > 0
    assert fresh_db.get(Client, ids["old"]).name == "Vanha Asiakas"

    db.session.remove()
    run = runner.invoke(args=["retention"])
    assert run.exit_code == 0, run.output
    assert _counts(run.output) == planned

    assert fresh_db.get(Client, ids["old"]).erased_at is not None
    assert fresh_db.get(Client, ids["busy"]).name == "Vanha Aktiivinen"  # a meeting a month ago
    assert fresh_db.get(Client, ids["new"]).name == "Uusi Asiakas"
    assert fresh_db.get(OutboxMessage, ids["old_sent"]).body == ""
    assert fresh_db.get(OutboxMessage, ids["old_sent"]).status == "sent"  # the fact stays
    assert fresh_db.get(OutboxMessage, ids["new_sent"]).body == "Muistutus b"
    assert fresh_db.get(OutboxMessage, ids["old_pending"]).body == "Muistutus c"
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)) == 1

    # The log was cut with a signed restart record, and it still verifies.
    restart = fresh_db.scalar(sa.select(AccessLogRestart))
    assert restart.removed_rows == total - 1
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLog)) == 1
    verify = runner.invoke(args=["access-log", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "since the restart" in verify.output

    # A second run finds nothing left.
    db.session.remove()
    again = runner.invoke(args=["retention"])
    assert set(_counts(again.output).values()) == {0}


def test_a_restart_record_not_signed_by_the_installation_fails_verification(app, runner, facilitator, fresh_db):
    _seed(facilitator)
    assert runner.invoke(args=["retention"]).exit_code == 0
    db.session.remove()
    # Someone with database access cuts more of the log and writes a restart record of their own.
    first = db.session.scalar(sa.select(sa.func.min(AccessLog.id)))
    last_hash = db.session.scalar(sa.select(AccessLog.row_hash).where(AccessLog.id == first))
    db.session.execute(sa.delete(AccessLog).where(AccessLog.id == first))
    db.session.add(AccessLogRestart(removed_through_id=first, removed_rows=1, last_hash=last_hash,
                                    signature=chain.sign_restart("not-the-secret", first, 1, last_hash, utcnow())))
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["access-log", "verify"])
    assert result.exit_code != 0
    assert "not signed by this installation" in result.output


def test_a_row_the_restart_says_was_removed_must_be_gone(app, runner, facilitator):
    _seed(facilitator)
    assert runner.invoke(args=["retention"]).exit_code == 0
    db.session.remove()
    removed_through = db.session.scalar(sa.select(AccessLogRestart.removed_through_id))
    # Put back a row under a removed id: verification names it.
    db.session.add(AccessLog(id=removed_through, user_name="x", client_id=1, action="view",
                             prev_hash="0" * 64, row_hash="0" * 64, at=utcnow()))
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["access-log", "verify"])
    assert result.exit_code != 0 and f"row {removed_through}" in result.output


def test_two_runs_at_once_remove_each_thing_once_and_keep_one_chain(app, facilitator, database_url, fresh_db,
                                                                    tmp_path):
    _seed(facilitator)
    db.session.remove()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret", "KOHTAAMO_ENV": "production",
           "BASE_URL": "http://localhost"}
    runs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "retention"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    totals = [_counts(out) for out, _err in outputs]
    # Whichever ran first removed everything; the other found nothing.
    assert sorted(t["clients"] for t in totals) == [0, 1]
    assert min(t["access_log_rows"] for t in totals) == 0 < max(t["access_log_rows"] for t in totals)
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLogRestart)) == 1
    check = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "access-log", "verify"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("value", ["0", "-3", "kaksi"])
def test_a_retention_setting_that_is_not_above_zero_stops_the_app_at_start(value, database_url):
    from app import create_app

    with pytest.raises(ConfigError) as error:
        create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x", "RETENTION_CLIENT_MONTHS": value})
    assert "RETENTION_CLIENT_MONTHS" in str(error.value)


def test_when_every_row_is_old_the_newest_stays_for_the_next_to_link_to(app, runner, facilitator, fresh_db):
    facilitator_id = facilitator.id
    someone = make_client(name="Kuka Tahansa", worker=facilitator)
    for _ in range(3):
        log_access(someone.id, "view", "long ago", user=facilitator)
    db.session.commit()
    db.session.execute(sa.update(AccessLog).values(at=utcnow() - timedelta(days=7 * 365)))
    prev = chain.GENESIS
    for row in db.session.execute(sa.select(AccessLog).order_by(AccessLog.id)).scalars():
        row.prev_hash, row.row_hash = prev, chain.row_hash(prev, row)
        prev = row.row_hash
    db.session.commit()
    total = fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLog))
    assert total >= 2
    db.session.remove()
    assert _counts(runner.invoke(args=["retention"]).output)["access_log_rows"] == total - 1
    db.session.remove()
    log_access(1, "view", "after the cut", user=db.session.get(type(facilitator), facilitator_id))
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["access-log", "verify"])
    assert result.exit_code == 0, result.output


def test_expired_sessions_go(app, runner, facilitator, fresh_db):
    db.session.add(UserSession(user_id=facilitator.id, token_hash="a" * 64, last_seen_at=utcnow() - timedelta(days=2)))
    db.session.add(UserSession(user_id=facilitator.id, token_hash="b" * 64, last_seen_at=utcnow()))
    db.session.commit()
    db.session.remove()
    result = runner.invoke(args=["retention"])
    assert _counts(result.output)["expired_sessions"] == 1
    assert fresh_db.scalars(sa.select(UserSession.token_hash)) == ["b" * 64]
