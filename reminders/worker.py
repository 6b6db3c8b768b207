"""The outbox worker of the send-reminders command: claiming due messages, sending them and
recording the outcome. It commits message by message (a message sent is never sent again after a
crash); each such commit is marked."""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import channels
from core.db import immediate_transactions, rowcount, utcnow
from core.extensions import db

from .invitations import event_ics, organizer_of
from .models import (
    Channel,
    MessageStatus,
    OutboxMessage,
)
from .services import CLAIMABLE, mask_opt_out_link

MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(minutes=2)
BACKOFF_CAP = timedelta(hours=6)
# A claim older than this belongs to a process that died mid-send; the row is retried (the
# only case where a message could go out twice, and only if the crash fell between the
# gateway's acceptance and our "sent" update).
STALE_CLAIM = timedelta(minutes=30)

# last_error of a message that could not be built (not a refusal by the gateway or server).
MESSAGE_ERROR = "message: "

# What the outbox page says for a stored last_error, by its start; the technical text follows.
ERROR_REASONS = (
    ("SMTP:", _l("The e-mail server did not accept the message.")),
    ("SMS gateway:", _l("The SMS gateway did not accept the message.")),
    (MESSAGE_ERROR, _l("The message could not be made: check the address, and the place of the meeting or "
                       "session.")),
    ("interrupted while sending", _l("Sending was interrupted.")),
    ("opted out", _l("Has opted out of reminders")),
    ("event cancelled", _l("The event was cancelled.")),
    ("removed from the meeting", _l("Removed from the meeting.")),
)


def error_reason(last_error: str) -> str:
    """The readable reason for a stored last_error ("" when there is none or it is unknown)."""
    for prefix, reason in ERROR_REASONS:
        if (last_error or "").startswith(prefix):
            return str(reason)
    return ""


def recover_stale_claims(now: datetime) -> int:
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == MessageStatus.SENDING.value, OutboxMessage.claimed_at < now - STALE_CLAIM)
        .values(status=MessageStatus.FAILED.value, claim_token=None, next_attempt_at=now,
                last_error="interrupted while sending")
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def due_channels(now: datetime) -> set[str]:
    rows = db.session.scalars(
        sa.select(OutboxMessage.channel).distinct()
        .where(OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now)
    ).all()
    return set(rows)


# --- claiming and sending ----------------------------------------------------------------------

def claim_batch(now: datetime, limit: int = 20) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due messages for this process and commit the claim.

    The UPDATE repeats the status condition: when two processes picked the same ids, the one
    that writes second finds the rows no longer pending (PostgreSQL re-checks the WHERE after
    waiting for the row lock; on SQLite the write lock is taken at BEGIN, so the processes queue)
    and claims nothing. Only rows carrying this process's token are sent by it.
    """
    token = secrets.token_hex(16)
    db.session.commit()  # own commit: the reminder worker (CLI) ends any read before claiming
    with immediate_transactions():
        ids = db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.status.in_(CLAIMABLE), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
        ).all()
        claimed = 0
        if ids:
            result = db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(CLAIMABLE),
                       OutboxMessage.next_attempt_at <= now)
                .values(status=MessageStatus.SENDING.value, claim_token=token, claimed_at=now,
                        attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            claimed = rowcount(result)
        db.session.commit()  # own commit: the worker's claim is stored before anything is sent
    if not claimed:
        return token, []
    mine = db.session.scalars(sa.select(OutboxMessage.id).where(OutboxMessage.claim_token == token,
                                                                OutboxMessage.status == MessageStatus.SENDING.value)
                              .order_by(OutboxMessage.id)).all()
    db.session.commit()  # own commit: the worker holds no transaction while sending
    return token, list(mine)


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


def _finish(message_id: int, token: str, values: dict) -> None:
    # End any read transaction first: on SQLite a deferred read that turns into a write fails
    # with "database is locked" when another process wrote meanwhile.
    db.session.commit()  # own commit: the worker ends any read before marking a message
    with immediate_transactions():
        db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
            .values(**values).execution_options(synchronize_session=False)
        )
        db.session.commit()  # own commit: the worker stores each message's outcome at once


def deliver(message: OutboxMessage, config, now: datetime | None = None) -> str:
    if message.channel == Channel.EMAIL.value:
        ics = message.ics
        if message.event:
            # Built now: the ORGANIZER and DTSTAMP of the send, from the settings now in force.
            ics = event_ics(json.loads(message.event), message.ics_method or "REQUEST", organizer_of(config),
                            now or utcnow())
        return channels.send_email(config, to=message.address, subject=message.subject, body=message.body,
                                   ics=ics, ics_method=message.ics_method)
    return channels.sms_backend(config).send(message.address, message.body)


def _failed(message_id: int, token: str, attempts: int, now: datetime, error: str) -> None:
    give_up = attempts >= MAX_ATTEMPTS
    _finish(message_id, token, dict(status=MessageStatus.FAILED.value, claim_token=None, last_error=error[:500],
                                    next_attempt_at=None if give_up else now + backoff(attempts)))


def release_claims(token: str, ids: list[int]) -> None:
    """Give back claimed messages this process will not try (it is stopping): they are due again
    at once, for the next run, without counting an attempt."""
    if not ids:
        return
    db.session.rollback()
    with immediate_transactions():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.claim_token == token,
                   OutboxMessage.status == MessageStatus.SENDING.value)
            .values(status=MessageStatus.PENDING.value, claim_token=None, claimed_at=None,
                    attempts=OutboxMessage.attempts - 1)
            .execution_options(synchronize_session=False))
        db.session.commit()  # own commit: the worker gives back unsent claims at once


def send_claimed(token: str, ids: list[int], config, now: datetime) -> dict[str, int]:
    """Send the claimed messages one by one. Whatever goes wrong with one message (the gateway or
    the mail server refuses it, or the message itself cannot be built: a header the e-mail
    library refuses, a calendar that does not build) is that message's failure: it is marked
    failed with the reason, retried with backoff, and the next message is sent. Only a stop of
    the process itself ends the batch, and then the messages not yet tried are given back."""
    counts = {"sent": 0, "manual": 0, "failed": 0}
    for index, message_id in enumerate(ids):
        try:
            message = db.session.get_one(OutboxMessage, message_id)
            attempts = message.attempts
            # A detached copy: no transaction stays open (or reopens) while talking to the network.
            db.session.expunge(message)
            db.session.commit()  # own commit: the worker holds no transaction while sending
        except BaseException:
            release_claims(token, ids[index:])
            raise
        try:
            outcome = deliver(message, config, now)
        except channels.SendError as exc:
            _failed(message_id, token, attempts, now, str(exc))
            counts["failed"] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - one message's fault must not stop the batch
            # Logged without the message's text or address; the outbox page shows the reason.
            current_app.logger.warning("send-reminders: message %s could not be sent: %s", message_id,
                                       type(exc).__name__)
            _failed(message_id, token, attempts, now, f"{MESSAGE_ERROR}{type(exc).__name__}: {exc}")
            counts["failed"] += 1
            continue
        except BaseException:
            # Stopped mid-send: this message stays claimed (the stale-claim recovery retries it:
            # it may have gone out), the rest are given back.
            release_claims(token, ids[index + 1:])
            raise
        if outcome == channels.MANUAL:
            _finish(message_id, token, dict(status=MessageStatus.MANUAL.value, claim_token=None, next_attempt_at=None,
                                            last_error=""))
            counts["manual"] += 1
        else:
            _finish(message_id, token, dict(status=MessageStatus.SENT.value, claim_token=None, sent_at=utcnow(),
                                            next_attempt_at=None, last_error="",
                                            body=mask_opt_out_link(message.body)))
            counts["sent"] += 1
    return counts


def mark_sent_by_hand(message: OutboxMessage, user) -> None:
    message.status = MessageStatus.SENT.value
    message.sent_at = utcnow()
    message.sent_by_id = user.id
    message.body = mask_opt_out_link(message.body)
    db.session.flush()


def retry_now(message: OutboxMessage) -> None:
    message.status = MessageStatus.PENDING.value
    message.next_attempt_at = utcnow()
    db.session.flush()
