"""Retention: what Kohtaamo stops keeping, and when (GDPR Art. 5(1)(e), storage limitation).

Kohtaamo is not the record system (that is the social services' client information system), so
it keeps client data only while the work needs it. Each kind of data has a setting in months
(README, "Data protection", says why each default is what it is):

- ``RETENTION_CLIENT_MONTHS`` (24): a client with no activity for this long is erased
  (``lifecycle.erasure``): no appointment, meeting, group session, message, enrolment or edit in
  the period;
- ``RETENTION_MESSAGE_TEXT_MONTHS`` (6): the text and address of a message, after it was sent or
  given up; the fact that it was sent stays;
- ``RETENTION_ACCESS_LOG_MONTHS`` (60): access-log rows; the chain restarts with a signed record;
- ``RETENTION_USE_RECORDS_MONTHS`` (12): when a calendar feed or a partner link was last used,
  and revoked feeds and links;
- sign-in records: login attempts after ``RETENTION_LOGIN_ATTEMPT_DAYS`` (30), server-side sessions
  once idle past their timeout.

Feedback answers are kept: they are anonymous and cannot be linked to anyone.

``plan`` counts what would go (``flask retention --dry-run``); ``apply`` removes it. Both read
the same statements, so the dry run cannot promise other rows than the run removes. ``apply``
holds the database's write lock (SQLite) or an advisory lock (PostgreSQL) from its first read, so
two runs at once (two cron hosts) run one after the other and the second finds nothing left."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from accounts.models import LoginAttempt, UserSession
from appointments.models import Appointment
from calendar_export.models import CalendarSubscription
from core.config import ConfigError
from core.db import rowcount
from core.extensions import db
from groups.models import Enrolment, GroupSession
from meetings.models import Meeting, PartnerLink
from register import chain
from register.models import AccessLog, AccessLogRestart, Client
from reminders.models import MessageStatus, OutboxMessage

from . import erasure

# pg_advisory_xact_lock key for retention runs ("KOHTRET" in ASCII): not the access log's key,
# so retention can append to the log (its own erasures are logged) while it holds its own.
LOCK_KEY = 0x4B4F48545245540


class RetentionSettingError(ConfigError):
    pass


@dataclass(frozen=True)
class Settings:
    client_months: int = 24
    message_text_months: int = 6
    access_log_months: int = 60
    use_records_months: int = 12
    login_attempt_days: int = 30

    @classmethod
    def from_config(cls, config) -> Settings:
        """The settings from the app's config; a value that is not a whole number above zero is
        refused with a message naming the setting (the app does not start with it)."""
        values = {}
        for f in fields(cls):
            key = f"RETENTION_{f.name.upper()}"
            raw = config.get(key, f.default)
            try:
                value = int(str(raw).strip())
            except ValueError:
                raise RetentionSettingError(f"{key} must be a whole number of "
                                            f"{'days' if f.name.endswith('days') else 'months'}, "
                                            f"not {raw!r}") from None
            if value <= 0:
                raise RetentionSettingError(f"{key} must be above zero (it is {value}): retention cannot "
                                            f"remove data the moment it is written; leave it unset for "
                                            f"the default of {f.default}")
            values[f.name] = value
        return cls(**values)


def _months_ago(now: datetime, months: int) -> datetime:
    return now - relativedelta(months=months)


def _inactive_clients(cutoff: datetime) -> sa.Select:
    """Clients not erased yet, created and last edited before ``cutoff``, with no meeting,
    group session, enrolment or message since: one statement, so a county's 50,000 clients are
    not loaded to find the few that go."""
    recent_meeting = sa.select(Meeting.id).where(Meeting.client_id == Client.id, Meeting.starts_at >= cutoff)
    recent_enrolment = (sa.select(Enrolment.id).where(Enrolment.client_id == Client.id)
                        .where(sa.or_(Enrolment.created_at >= cutoff,
                                      sa.exists(sa.select(GroupSession.id).where(
                                          GroupSession.group_id == Enrolment.group_id,
                                          GroupSession.starts_at >= cutoff)))))
    recent_appointment = sa.select(Appointment.id).where(Appointment.client_id == Client.id,
                                                         Appointment.starts_at >= cutoff)
    recent_message = sa.select(OutboxMessage.id).where(OutboxMessage.client_id == Client.id,
                                                       OutboxMessage.created_at >= cutoff)
    return (sa.select(Client.id)
            .where(Client.erased_at.is_(None), Client.created_at < cutoff, Client.updated_at < cutoff,
                   ~sa.exists(recent_meeting), ~sa.exists(recent_appointment), ~sa.exists(recent_enrolment),
                   ~sa.exists(recent_message))
            .order_by(Client.id))


# Sent, given up or cancelled: a message still waiting (pending, sending, manual) keeps its text.
_DONE = (MessageStatus.SENT.value, MessageStatus.FAILED.value, MessageStatus.CANCELLED.value)


def _old_message_texts(cutoff: datetime):
    return sa.and_(OutboxMessage.status.in_(_DONE), OutboxMessage.created_at < cutoff,
                   sa.or_(OutboxMessage.body != "", OutboxMessage.address != "", OutboxMessage.ics != "",
                          OutboxMessage.event != ""))


def _access_log_cut(cutoff: datetime) -> int | None:
    """The id through which rows go: the longest prefix of the log (by id, the chain's order)
    whose rows are all older than ``cutoff``. A prefix keeps the rest of the chain intact. The
    newest row always stays, however old: the next row appended links to it."""
    first_kept = db.session.scalar(sa.select(sa.func.min(AccessLog.id)).where(AccessLog.at >= cutoff))
    if first_kept is None:
        first_kept = db.session.scalar(sa.select(sa.func.max(AccessLog.id)))
    if first_kept is None:
        return None
    return db.session.scalar(sa.select(sa.func.max(AccessLog.id)).where(AccessLog.id < first_kept))


@dataclass
class Cutoffs:
    clients: datetime
    message_texts: datetime
    access_log: datetime
    use_records: datetime
    login_attempts: datetime
    sessions: datetime

    @classmethod
    def at(cls, now: datetime, settings: Settings, idle_minutes: int) -> Cutoffs:
        return cls(clients=_months_ago(now, settings.client_months),
                   message_texts=_months_ago(now, settings.message_text_months),
                   access_log=_months_ago(now, settings.access_log_months),
                   use_records=_months_ago(now, settings.use_records_months),
                   login_attempts=now - timedelta(days=settings.login_attempt_days),
                   sessions=now - timedelta(minutes=idle_minutes))


def _old_use(column, cutoff):
    return sa.and_(column.is_not(None), column < cutoff)


def plan(now: datetime, settings: Settings, idle_minutes: int) -> dict[str, int]:
    """What a run at ``now`` would remove, counted per kind (the keys are the README's kinds)."""
    c = Cutoffs.at(now, settings, idle_minutes)
    count = lambda stmt: db.session.scalar(stmt) or 0  # noqa: E731
    cut = _access_log_cut(c.access_log)
    floor = db.session.scalar(sa.select(sa.func.max(AccessLogRestart.removed_through_id))) or 0
    return {
        "clients": count(sa.select(sa.func.count()).select_from(_inactive_clients(c.clients).subquery())),
        "message_texts": count(sa.select(sa.func.count()).where(_old_message_texts(c.message_texts))),
        "access_log_rows": count(sa.select(sa.func.count()).where(AccessLog.id <= cut, AccessLog.id > floor))
        if cut else 0,
        "feed_use_records": count(sa.select(sa.func.count()).select_from(CalendarSubscription).where(
            sa.or_(_old_use(CalendarSubscription.last_used_at, c.use_records),
                   _old_use(CalendarSubscription.revoked_at, c.use_records)))),
        "partner_link_use_records": count(sa.select(sa.func.count()).select_from(PartnerLink).where(
            sa.or_(_old_use(PartnerLink.last_used_at, c.use_records),
                   _old_use(PartnerLink.revoked_at, c.use_records)))),
        "login_attempts": count(sa.select(sa.func.count()).select_from(LoginAttempt)
                                .where(LoginAttempt.at < c.login_attempts)),
        "expired_sessions": count(sa.select(sa.func.count()).select_from(UserSession)
                                  .where(UserSession.last_seen_at < c.sessions)),
    }


def _lock() -> None:
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    # On SQLite the command runs apply inside core.db.immediate_transactions(): its transaction
    # is BEGIN IMMEDIATE, so the second run waits for the write lock at its first statement
    # (a deferred one would fail to upgrade its read lock instead).


def _cut_access_log(cutoff: datetime, secret: str, now: datetime) -> int:
    cut = _access_log_cut(cutoff)
    floor = db.session.scalar(sa.select(sa.func.max(AccessLogRestart.removed_through_id))) or 0
    if not cut or cut <= floor:
        return 0
    last_hash = db.session.scalar(sa.select(AccessLog.row_hash).where(AccessLog.id == cut))
    removed = rowcount(db.session.execute(sa.delete(AccessLog).where(AccessLog.id <= cut)))
    if last_hash is None:  # rows through the cut were already gone: nothing to vouch for
        return 0
    db.session.add(AccessLogRestart(at=now, removed_through_id=cut, removed_rows=removed, last_hash=last_hash,
                                    signature=chain.sign_restart(secret, cut, removed, last_hash, now)))
    return removed


def apply(now: datetime, settings: Settings, idle_minutes: int, secret: str) -> dict[str, int]:
    """Remove what ``plan`` counts, in the caller's transaction (the command commits)."""
    _lock()
    c = Cutoffs.at(now, settings, idle_minutes)
    done: dict[str, int] = {}
    clients = db.session.scalars(sa.select(Client).where(Client.id.in_(_inactive_clients(c.clients)))).all()
    for client in clients:
        erasure.erase_client(client, now)
    done["clients"] = len(clients)
    done["message_texts"] = rowcount(db.session.execute(
        sa.update(OutboxMessage).where(_old_message_texts(c.message_texts))
        .values(address="", subject="", body="", ics="", event="")))
    done["access_log_rows"] = _cut_access_log(c.access_log, secret, now)
    done["feed_use_records"] = (
        rowcount(db.session.execute(sa.delete(CalendarSubscription)
                                    .where(_old_use(CalendarSubscription.revoked_at, c.use_records))))
        + rowcount(db.session.execute(sa.update(CalendarSubscription)
                                      .where(_old_use(CalendarSubscription.last_used_at, c.use_records))
                                      .values(last_used_at=None))))
    done["partner_link_use_records"] = (
        rowcount(db.session.execute(sa.delete(PartnerLink)
                                    .where(_old_use(PartnerLink.revoked_at, c.use_records))))
        + rowcount(db.session.execute(sa.update(PartnerLink)
                                      .where(_old_use(PartnerLink.last_used_at, c.use_records))
                                      .values(last_used_at=None))))
    done["login_attempts"] = rowcount(db.session.execute(
        sa.delete(LoginAttempt).where(LoginAttempt.at < c.login_attempts)))
    done["expired_sessions"] = rowcount(db.session.execute(
        sa.delete(UserSession).where(UserSession.last_seen_at < c.sessions)))
    db.session.flush()
    return done
