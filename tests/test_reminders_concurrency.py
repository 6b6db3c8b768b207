"""Two send-reminders processes at once against the same database: every reminder is created
once and delivered once (SQLite file here; PostgreSQL too with KOHTAAMO_TEST_DB=postgres)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.extensions import db
from reminders import services
from reminders.models import MessageStatus, OutboxMessage
from tests.factories import make_client, make_group_with_session
from tests.messaging import FakeGateway

ROOT = Path(__file__).resolve().parent.parent
SESSION_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
CLIENTS = 30


@pytest.fixture
def gateway():
    # A slow gateway keeps both processes busy sending at the same time.
    with FakeGateway(delay=0.05) as gw:
        yield gw


def test_two_processes_deliver_each_reminder_exactly_once(app, facilitator, gateway, database_url):
    clients = [make_client(name=f"Asiakas {i}", worker=facilitator, phone=f"040 100 {i:04d}", consent=True)
               for i in range(CLIENTS)]
    group, _session = make_group_with_session(facilitator=facilitator, clients=clients, starts_at=SESSION_AT)
    services.save_policy("group", group.id, day_before=True, day_before_at=time(16, 0), same_morning=False,
                         same_morning_at=time(8, 0), by_sms=True, by_email=False)
    db.session.commit()
    db.session.close()

    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="test-secret", BASE_URL="http://localhost",
               SMS_BACKEND="http", SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_KEY="k", KOHTAAMO_ENV="production")
    command = [sys.executable, "-m", "flask", "--app", "app", "send-reminders", "--now", "2026-12-02T14:05:00Z",
               "--batch", "3"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    for p, (_out, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err

    counts = gateway.delivered_counts()
    assert len(gateway.requests) == CLIENTS
    assert len(counts) == CLIENTS and set(counts.values()) == {1}
    assert {to for to, _m in counts} == {f"+35840100{i:04d}" for i in range(CLIENTS)}

    rows = db.session.scalars(sa.select(OutboxMessage)).all()
    assert len(rows) == CLIENTS
    assert all(r.status == MessageStatus.SENT.value and r.attempts == 1 for r in rows)
    sent = [int(out.split("sent ", 1)[1].split(",", 1)[0]) for out, _err in outputs]
    assert sum(sent) == CLIENTS, outputs
    print("sent per process:", sent)
