"""The access log's hash chain: each row carries a SHA-256 of its own content and of the row
before it (by id), so a row changed, removed or inserted out of order in the database breaks
the chain at that row, and ``flask access-log verify`` names it. A daily anchor (the latest
hash, ``flask access-log anchor``) written to the server log makes a rewrite of the whole tail
evident too: the rewritten chain no longer passes through the anchored hash.

Appends are serialised so that concurrent writers keep one chain: on SQLite every append runs
in a transaction holding the write lock (BEGIN IMMEDIATE) from before it reads the previous
hash; on PostgreSQL it takes a transaction-level advisory lock first."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from core.extensions import db

GENESIS = "0" * 64
# pg_advisory_xact_lock key: any constant that no other feature uses ("KOHTAAMO" in ASCII).
LOCK_KEY = 0x4B4F4854414D4F
CONTENT = ("user_id", "user_name", "client_id", "action", "detail", "at")


def _at(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite gives naive UTC in raw reads
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(prev_hash: str, row) -> str:
    """SHA-256 over the previous hash and the row's content, in a canonical JSON form."""
    get = row.get if hasattr(row, "get") else (lambda name: getattr(row, name))
    content = [prev_hash, get("user_id"), get("user_name") or "", get("client_id"), get("action"),
               get("detail") or "", _at(get("at"))]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _chain(rows: list[dict], prev: str | None) -> list[dict]:
    prev = prev or GENESIS
    for row in rows:
        row["prev_hash"] = prev
        row["row_hash"] = prev = row_hash(prev, row)
    return rows


# The last row by its key. Written as max(id) rather than ORDER BY id DESC LIMIT 1: both read one
# row, but SQLite's plan for the latter says SCAN (tests/test_query_plans.py flags scans of
# growing tables), the former is two SEARCHes on the primary key.
_LAST = "SELECT row_hash FROM access_log WHERE id = (SELECT max(id) FROM access_log)"


def append_in_session(rows: list[dict]) -> None:
    """Append rows in the session's current transaction (a writing view, a command). On SQLite a
    writing request already holds the write lock; on PostgreSQL the advisory lock is held until
    the transaction ends, so the next writer reads this transaction's last hash."""
    from .models import AccessLog

    session = db.session()
    # Within one transaction the lock is already held and the last hash is this transaction's
    # own: a view logging a row per client (in a loop) reads it once, not once per row. Keyed
    # on the innermost transaction (a savepoint's append replaces the entry, so a released or
    # rolled-back savepoint makes the next append read the last hash again).
    transaction = session.get_nested_transaction() or session.get_transaction()
    cached = session.info.get("access_log_chain")
    if transaction is not None and cached is not None and cached[0] is transaction:
        prev = cached[1]
    else:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        prev = session.scalar(sa.select(AccessLog.row_hash)
                              .where(AccessLog.id == sa.select(sa.func.max(AccessLog.id)).scalar_subquery()))
    session.execute(sa.insert(AccessLog), _chain(rows, prev))
    session.info["access_log_chain"] = (session.get_nested_transaction() or session.get_transaction(),
                                        rows[-1]["row_hash"])


@dataclass
class Verdict:
    ok: bool
    rows: int
    message: str
    row_id: int | None = None
    last_hash: str | None = None
    last_id: int | None = None


def _restart_key(secret: str | bytes) -> bytes:
    # A key of its own, derived from the app's secret, so a signature here can never be replayed
    # as (or made from) a session cookie or a CSRF token signed with the same secret.
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"kohtaamo access-log restart", hashlib.sha256).digest()


def sign_restart(secret: str | bytes, removed_through_id: int, removed_rows: int, last_hash: str,
                 at: datetime) -> str:
    content = json.dumps([removed_through_id, removed_rows, last_hash, _at(at)], separators=(",", ":"))
    return hmac.new(_restart_key(secret), content.encode(), hashlib.sha256).hexdigest()


def verify(connection: sa.Connection, batch: int = 5000, anchors=(), secret: str | bytes | None = None) -> Verdict:
    """Walk the chain in id order. The first row whose own hash does not match its content was
    changed; the first whose link does not match the row before it follows a removed row or was
    inserted out of order.

    After retention removed the oldest rows, the walk starts from the newest restart record
    (``AccessLogRestart``): its signature must be valid for ``secret`` (the app's SECRET_KEY),
    no row it says was removed may remain, and the first row kept must link to its hash."""
    from .models import AccessLog, AccessLogRestart

    t = AccessLog.__table__
    prev, count, last_id = GENESIS, 0, 0
    missing = {a.strip().lower() for a in anchors if a.strip()}
    r = AccessLogRestart.__table__
    restart = connection.execute(sa.select(r).order_by(r.c.id.desc()).limit(1)).first()
    if restart is not None:
        expected = (sign_restart(secret, restart.removed_through_id, restart.removed_rows, restart.last_hash,
                                 restart.at) if secret is not None else None)
        if expected is None or not hmac.compare_digest(expected, restart.signature):
            return Verdict(False, 0, f"the restart record {restart.id} (rows through {restart.removed_through_id} "
                           f"removed) is not signed by this installation: the log was cut by someone else")
        leftover = connection.scalar(sa.select(sa.func.min(t.c.id)).where(t.c.id <= restart.removed_through_id))
        if leftover is not None:
            return Verdict(False, 0, f"row {leftover} should have been removed by retention (restart record "
                           f"{restart.id}) but is still there", leftover)
        prev, last_id = restart.last_hash, restart.removed_through_id
        # The restart record vouches for the last removed hash. Older anchors name rows that are
        # gone: after a retention run, check against the anchors written since (README).
        missing.discard(prev)
    while True:
        rows = connection.execute(sa.select(t).where(t.c.id > last_id).order_by(t.c.id).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            count += 1
            if not row.row_hash or not row.prev_hash:
                return Verdict(False, count, f"row {row.id} has no hash: it was written outside Kohtaamo", row.id)
            if row.prev_hash != prev:
                return Verdict(False, count, f"row {row.id} does not follow the row before it: a row before it "
                               f"was removed or changed, or this row was inserted out of order", row.id)
            if row.row_hash != row_hash(prev, row._mapping):
                return Verdict(False, count, f"row {row.id} was changed after it was written", row.id)
            prev = row.row_hash
            last_id = row.id
            missing.discard(prev)
    if missing:
        return Verdict(False, count, f"the chain no longer passes through the anchor {sorted(missing)[0]}: "
                       f"rows up to that point were rewritten or removed")
    since = f" since the restart at row {restart.removed_through_id + 1}" if restart is not None else ""
    return Verdict(True, count, f"access log intact: {count} rows{since}", None,
                   prev if (count or restart is not None) else None, last_id or None)
