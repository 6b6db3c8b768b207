"""Pair safety's overdue alert (issue #25.5), from the outside: with the clock frozen, a pair that
said "we are there" but not "we are done" `margin` minutes after the planned end shows up at the
top of the start page of the visit's unit's lead and of the contact person (not of another unit's
lead); ``flask send-reminders`` e-mails each of them exactly once over real SMTP (a second run sends
nothing); neither the page nor the e-mail carries the client's name or id; the lead's "reached
them, all fine" ends the alert; every step is in the security log."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from accounts.models import SecurityEvent
from accounts.units import create_unit, set_memberships
from core.extensions import db
from safety.models import FieldCheck
from tests.factories import login, make_client, make_home_visit, make_outreach_visit, make_user
from tests.messaging import SmtpSink

CLIENT_NAME = "Quirinus Xylander-Öhman"
STARTS = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)      # Tuesday 10.00 in Helsinki; ends 11.00
ALERT = "Pair safety: a visit has not ended"
SAFETY_KINDS = ("safety_arrived", "safety_done", "safety_alerted", "safety_resolved")


@pytest.fixture
def smtp():
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def app_config(smtp):
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_FROM": "kohtaamo@example.fi",
            "BASE_URL": "https://kohtaamo.example", "SESSION_IDLE_MINUTES": 24 * 60}


@pytest.fixture
def people(app):
    lead = make_user(role="lead", name="Liisa Lead", email="liisa@example.fi", language="en")
    contact = make_user(name="Kaisa Contact", email="kaisa@example.fi", language="en")
    worker = make_user(name="Paula Pari", email="paula@example.fi", language="en")
    second = make_user(name="Kalle Kaveri", email="kalle@example.fi", language="en")
    other_lead = make_user(role="lead", name="Olli Other", email="olli@example.fi", language="en")
    east = create_unit("Itä")
    set_memberships(other_lead, [east.id])
    db.session.commit()
    return {"lead": lead, "contact": contact, "worker": worker, "second": second, "other_lead": other_lead}


def _client_for(app, user):
    c = app.test_client()
    login(c, user)
    return c


def arrived_at_venue(app, frozen_time, people, margin: str = "30"):
    """An outreach visit of the pair 10.00-11.00 local on 8 December; the worker taps "we are
    there" at 10.05 with ``margin`` minutes. (The worker's signed-in client, the visit's tap page.)"""
    frozen_time(datetime(2026, 12, 8, 7, 30, tzinfo=UTC))
    visit = make_outreach_visit(staff=[people["worker"], people["second"]], starts_at=STARTS, hours=1)
    worker = _client_for(app, people["worker"])
    base = f"/safety/outreach/{visit.id}"
    frozen_time.shift(minutes=35)
    assert worker.post_form(f"{base}/arrived", {"margin": margin, "contact": "0"}, token_from=base).status_code == 302
    return worker, base


def start_page(c) -> str:
    return c.get("/").get_data(as_text=True)


def safety_events(fresh_db):
    return [e.kind for e in fresh_db.scalars(sa.select(SecurityEvent).where(SecurityEvent.kind.in_(SAFETY_KINDS))
                                             .order_by(SecurityEvent.id))]


def test_overdue_visit_alerts_the_lead_and_contact_once(app, runner, fresh_db, frozen_time, smtp, people):
    frozen_time(datetime(2026, 12, 8, 7, 30, tzinfo=UTC))
    client = make_client(name=CLIENT_NAME, worker=people["worker"])
    visit = make_home_visit(client=client, worker1=people["worker"], worker2=people["second"], starts_at=STARTS)
    pages = {key: _client_for(app, user) for key, user in people.items()}

    frozen_time.shift(minutes=35)    # 10.05 local: the pair arrives
    base = f"/safety/home_visit/{visit.id}"
    response = pages["worker"].post_form(f"{base}/arrived", {"margin": "30", "contact": str(people["contact"].id)},
                                         token_from=base)
    assert response.status_code == 302

    frozen_time(datetime(2026, 12, 8, 9, 29, tzinfo=UTC))   # 11.29: within the margin
    assert ALERT not in start_page(pages["lead"])
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert smtp.messages == []

    frozen_time(datetime(2026, 12, 8, 9, 31, tzinfo=UTC))   # 11.31: overdue
    for key in ("lead", "contact"):
        page = start_page(pages[key])
        assert ALERT in page, key
        # At the top: before the agenda.
        assert page.index(ALERT) < page.index('id="agenda-heading"')
        assert "Paula Pari" in page and "Kalle Kaveri" in page and "Home visit" in page
        assert CLIENT_NAME not in page and "Quirinus" not in page and f"/clients/{client.id}" not in page
    for key in ("other_lead", "second"):
        assert ALERT not in start_page(pages[key]), key

    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    received = sorted(rcpt for rcpts, _ in smtp.messages for rcpt in rcpts)
    assert received == ["kaisa@example.fi", "liisa@example.fi"]
    for raw in smtp.raw:
        text = raw.decode("utf-8", "replace")
        assert "Quirinus" not in text and "Xylander" not in text and f"/clients/{client.id}" not in text
    for _, message in smtp.messages:
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert message["Subject"] == ALERT
        assert "Home visit" in body and "Paula Pari" in body and "https://kohtaamo.example/" in body
    [row] = fresh_db.scalars(sa.select(FieldCheck))
    assert row.alerted_at is not None

    frozen_time.shift(minutes=10)
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert len(smtp.messages) == 2   # a second run sends none

    # Another unit's lead may not resolve it; the lead may.
    assert pages["other_lead"].post_form(f"/safety/checks/{row.id}/resolve", {}, token_from="/").status_code == 404
    assert fresh_db.scalar(sa.select(FieldCheck.resolved_at)) is None
    assert pages["lead"].post_form(f"/safety/checks/{row.id}/resolve", {}, token_from="/").status_code == 302
    [row] = fresh_db.scalars(sa.select(FieldCheck))
    assert row.resolved_at is not None and row.resolved_by_id == people["lead"].id
    assert ALERT not in start_page(pages["lead"]) and ALERT not in start_page(pages["contact"])
    assert safety_events(fresh_db) == ["safety_arrived", "safety_alerted", "safety_resolved"]
    resolved = fresh_db.scalar(sa.select(SecurityEvent).where(SecurityEvent.kind == "safety_resolved"))
    assert resolved.actor_id == people["lead"].id
    # The lead's security log names the events (no client).
    log = pages["lead"].get("/staff/security").get_data(as_text=True)
    assert "pair safety: we are there" in log and "pair safety: reached the pair, all fine" in log
    assert CLIENT_NAME not in log


def test_done_in_time_alerts_nobody(app, runner, fresh_db, frozen_time, smtp, people):
    worker, base = arrived_at_venue(app, frozen_time, people)
    lead = _client_for(app, people["lead"])
    frozen_time(datetime(2026, 12, 8, 9, 10, tzinfo=UTC))
    assert worker.post_form(f"{base}/done", {}, token_from=base).status_code == 302
    frozen_time(datetime(2026, 12, 8, 12, 0, tzinfo=UTC))
    assert ALERT not in start_page(lead)
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert smtp.messages == []
    assert safety_events(fresh_db) == ["safety_arrived", "safety_done"]


def test_a_shared_venue_alerts_the_lead_of_the_pairs_unit_only(app, runner, fresh_db, frozen_time, smtp, people):
    arrived_at_venue(app, frozen_time, people, margin="15")
    frozen_time(datetime(2026, 12, 8, 9, 16, tzinfo=UTC))
    assert ALERT in start_page(_client_for(app, people["lead"]))
    assert ALERT not in start_page(_client_for(app, people["other_lead"]))
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert [r for rcpts, _ in smtp.messages for r in rcpts] == ["liisa@example.fi"]


def test_an_alert_whose_mail_failed_is_sent_by_the_next_run(app, runner, fresh_db, frozen_time, smtp, people):
    from tests.messaging import free_port

    arrived_at_venue(app, frozen_time, people)
    frozen_time(datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
    app.config["MAIL_PORT"] = free_port()    # nothing listens there: the mail fails
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert smtp.messages == []
    assert fresh_db.scalar(sa.select(FieldCheck.alerted_at)) is None
    assert safety_events(fresh_db) == ["safety_arrived"]
    app.config["MAIL_PORT"] = smtp.port
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert [r for rcpts, _ in smtp.messages for r in rcpts] == ["liisa@example.fi"]
    assert fresh_db.scalar(sa.select(FieldCheck.alerted_at)) is not None
    assert safety_events(fresh_db) == ["safety_arrived", "safety_alerted"]


def test_an_alert_claimed_by_a_run_that_died_is_sent_after_the_lease(app, runner, fresh_db, frozen_time, smtp,
                                                                     people, monkeypatch):
    """A run that dies between claiming an alert and e-mailing it (a restart, the OOM killer: here
    the mail call raises what the worker does not catch) leaves the claim committed and nothing
    sent. A run while the claim is fresh leaves it to its owner; the first run after the lease
    sends it, once, and marks it sent (safety.worker.ALERT_LEASE)."""
    from core import channels
    from safety.worker import ALERT_LEASE

    arrived_at_venue(app, frozen_time, people)
    frozen_time(datetime(2026, 12, 8, 10, 0, tzinfo=UTC))

    real_send = channels.send_email

    def killed(*args, **kwargs):
        raise SystemExit("killed between the claim and the e-mail")

    monkeypatch.setattr(channels, "send_email", killed)
    assert runner.invoke(args=["send-reminders"]).exit_code != 0
    assert smtp.messages == []
    [(claimed, sent)] = fresh_db.execute(sa.select(FieldCheck.alerted_at, FieldCheck.alert_sent_at))
    assert claimed is not None and sent is None
    monkeypatch.setattr(channels, "send_email", real_send)

    frozen_time.shift(minutes=5)     # the claim may still be a live run's, sending now
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert smtp.messages == []

    frozen_time.shift(seconds=ALERT_LEASE.total_seconds())
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert [r for rcpts, _ in smtp.messages for r in rcpts] == ["liisa@example.fi"]
    assert fresh_db.scalar(sa.select(FieldCheck.alert_sent_at)) is not None
    assert safety_events(fresh_db) == ["safety_arrived", "safety_alerted"]

    frozen_time.shift(minutes=30)
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert len(smtp.messages) == 1   # sent, so never again
    assert ALERT in start_page(_client_for(app, people["lead"]))   # still shown until someone resolves it
