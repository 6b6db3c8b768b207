"""Pair safety's e-mails: the overdue alerts, sent once by the run that sends the reminders
(``flask send-reminders``). Like the reminder worker (reminders/worker.py), it commits check by
check on purpose: a claimed alert is committed before it is sent, so it never goes out twice."""
from __future__ import annotations

from datetime import datetime

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


def _claim(check_id: int, value: datetime | None, *, unclaim: bool = False) -> bool:
    """Set (or, ``unclaim``, clear) the check's ``alerted_at`` only if nobody else did: two runs
    at the same time cannot both own one alert."""
    cond = FieldCheck.alerted_at.is_not(None) if unclaim else FieldCheck.alerted_at.is_(None)
    result = db.session.execute(sa.update(FieldCheck).where(FieldCheck.id == check_id, cond)
                                .values(alerted_at=value, version=FieldCheck.version + 1)
                                .execution_options(synchronize_session=False))
    return rowcount(result) > 0


def send_alerts(now: datetime | None = None, config=None) -> int:
    """E-mail each overdue check's leads and contact person once. Commits check by check, as the
    reminder worker does: the alert is claimed (``alerted_at``) and committed before it is sent,
    so a crash or a second run, even one at the same time, never sends it again; a check whose
    every e-mail failed is released and tried again by the next run."""
    config = config if config is not None else current_app.config
    if channels.missing_email_settings(config):
        current_app.logger.warning("safety: overdue alerts not e-mailed: mail settings missing")
        return 0
    sent = 0
    for alert in overdue(now):
        if alert.check.alerted_at is not None:
            continue
        check_id, kind = alert.check.id, alert.kind
        people = [u for u in recipients(alert) if u.email]
        messages = [(person.id, person.email, *alert_email(alert, person)) for person in people]
        pair = pair_ids(kind, alert.check.visit)
        if not _claim(check_id, utcnow()):
            db.session.rollback()
            continue
        db.session.commit()  # own commit: the alert is claimed before it is sent, so it is never sent twice
        delivered = 0
        for user_id, address, subject, body in messages:
            try:
                channels.send_email(config, to=address, subject=subject, body=body)
            except (channels.SendError, ValueError) as exc:
                current_app.logger.warning("safety: alert %s to user %s failed: %s", check_id, user_id, exc)
                continue
            delivered += 1
        if messages and not delivered:
            _claim(check_id, None, unclaim=True)
        else:
            log(db.session.get(User, pair[0]) if pair else None, "safety_alerted")
        db.session.commit()  # own commit: the alert's outcome, before the next alert is sent
        sent += delivered
    return sent
