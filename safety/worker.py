"""Pair safety's e-mails: the overdue alerts, sent by the run that sends the reminders
(``flask send-reminders``). Like the reminder worker (reminders/worker.py), it commits check by
check on purpose: a claimed alert is committed before it is sent, so two runs at once never both
send it. Unlike a reminder, an alert is sent at least once rather than at most once: a run that
dies between its claim and its e-mails (a deploy's restart, the OOM killer) leaves the claim
without ``alert_sent_at``, and the first run after ``ALERT_LEASE`` takes it over. A second alert
e-mail costs a glance; a missing one leaves a pair unlooked for."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, gettext as _

from accounts.mfa import log
from accounts.models import User
from core import channels
from core.db import rowcount, utcnow
from core.extensions import db
from core.formatting import local_time, time_range, weekday_date

from .models import FieldCheck
from .services import Alert, overdue, pair_ids, recipients


def alert_email(alert: Alert, user: User) -> tuple[str, str]:
    """Subject and body in the recipient's language: who, which kind of visit, when. No client."""
    language = user.language if user.language in ("fi", "sv", "en") else "fi"
    with force_locale(language):
        subject = _("Pair safety: a visit has not ended")
        lines = [
            _("%(kind)s %(day)s %(time)s: %(pair)s.", kind=alert.label,
              day=weekday_date(alert.starts_at), time=time_range(alert.starts_at, alert.ends_at),
              pair=", ".join(alert.pair)),
            _("They said \"we are there\" at %(arrived)s, but \"we are done\" has not come %(margin)s minutes "
              "after the planned end.", arrived=local_time(alert.check.arrived_at), margin=alert.check.margin_minutes),
            _("Call them. When you have reached them, mark it on the start page of Kohtaamo."),
        ]
        base = (current_app.config.get("BASE_URL") or "").rstrip("/")
        if base:
            lines.append(base + "/")
    return subject, "\n\n".join(lines)


# Longer than one run's e-mails take (channels.send_email gives up on a server after seconds), far
# shorter than anyone would wait for a pair: a claim this old, never marked sent, is a dead run's.
ALERT_LEASE = timedelta(minutes=10)


def _claim(check_id: int, now: datetime) -> bool:
    """Claim the check's alert for this run, only if it is unsent and nobody holds it: unclaimed,
    or claimed longer than ``ALERT_LEASE`` ago. Two runs at the same time cannot both own it."""
    result = db.session.execute(
        sa.update(FieldCheck)
        .where(FieldCheck.id == check_id, FieldCheck.alert_sent_at.is_(None),
               sa.or_(FieldCheck.alerted_at.is_(None), FieldCheck.alerted_at < now - ALERT_LEASE))
        .values(alerted_at=now, version=FieldCheck.version + 1)
        .execution_options(synchronize_session=False))
    return rowcount(result) > 0


def _settle(check_id: int, sent_at: datetime | None) -> None:
    """Mark the alert sent, or (every e-mail failed) release the claim for the next run."""
    values = {"alert_sent_at": sent_at} if sent_at is not None else {"alerted_at": None}
    db.session.execute(sa.update(FieldCheck).where(FieldCheck.id == check_id)
                       .values(**values, version=FieldCheck.version + 1)
                       .execution_options(synchronize_session=False))


def send_alerts(now: datetime | None = None, config=None) -> int:
    """E-mail each overdue check's leads and contact person. Commits check by check, as the
    reminder worker does: the alert is claimed (``alerted_at``) and committed before it is sent,
    so a second run, even one at the same time, does not send it again; once sent it is marked
    (``alert_sent_at``). A check whose every e-mail failed is released and tried again by the next
    run; one whose run died before marking it is taken over after ``ALERT_LEASE``."""
    config = config if config is not None else current_app.config
    if channels.missing_email_settings(config):
        current_app.logger.warning("safety: overdue alerts not e-mailed: mail settings missing")
        return 0
    now = now or utcnow()
    sent = 0
    for alert in overdue(now):
        check = alert.check
        if check.alert_sent_at is not None or (check.alerted_at is not None and check.alerted_at >= now - ALERT_LEASE):
            continue
        check_id, kind = check.id, alert.kind
        people = [u for u in recipients(alert) if u.email]
        messages = [(person.id, person.email, *alert_email(alert, person)) for person in people]
        pair = pair_ids(kind, check.visit)
        if not _claim(check_id, now):
            db.session.rollback()
            continue
        db.session.commit()  # own commit: the alert is claimed before it is sent, so no other run sends it
        delivered = 0
        for user_id, address, subject, body in messages:
            try:
                channels.send_email(config, to=address, subject=subject, body=body)
            except (channels.SendError, ValueError) as exc:
                current_app.logger.warning("safety: alert %s to user %s failed: %s", check_id, user_id, exc)
                continue
            delivered += 1
        if messages and not delivered:
            _settle(check_id, None)
        else:
            _settle(check_id, utcnow())
            log(db.session.get(User, pair[0]) if pair else None, "safety_alerted")
        db.session.commit()  # own commit: the alert's outcome, before the next alert is sent
        sent += delivered
    return sent
