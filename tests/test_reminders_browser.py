"""Browser check of the outbox and the follow-up flow at phone width, with axe-core on every page."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from core.timeutil import local_today
from groups.models import Attendance, Enrolment
from groups.signals import attendance_recorded
from reminders.models import FollowUpTask, OutboxMessage
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_client, make_group_with_session


@pytest.mark.browser
def test_outbox_and_follow_up_flow(app, page, facilitator):
    client = make_client(name="Liisa Laine", worker=facilitator, phone="040 123 4567", consent=True)
    # Letters go only to a postal address the client agreed to.
    client.postal_address, client.postal_consent_date = "Kotikatu 1\n00100 Helsinki", local_today()
    group, session = make_group_with_session(facilitator=facilitator, clients=[client],
                                             starts_at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC))
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.group_id == group.id))
    row = Attendance(session_id=session.id, enrolment_id=enrolment.id, status="absent")
    db.session.add(row)
    db.session.flush()
    attendance_recorded.send(current_app._get_current_object(), attendance=row)
    for status, error in (("manual", ""), ("failed", "SMS gateway: HTTP 500")):
        db.session.add(OutboxMessage(kind="reminder", target_kind="session", target_id=session.id,
                                     recipient_kind="client", recipient_id=client.id, slot=status, channel="sms",
                                     client_id=client.id, address="+358401234567", status=status, last_error=error,
                                     body="Muistutus: ryhmätapaaminen huomenna to 3.12. klo 10.00, Kauppakatu 5."))
    db.session.commit()
    task_id = db.session.scalar(sa.select(FollowUpTask.id))
    email, group_id = facilitator.email, group.id
    db.session.close()

    browser_login(page, email, PASSWORD)
    assert page.locator(".reminders-panel").is_visible()
    assert_accessible(page, context="start page with the reminders panel")

    page.goto("/reminders/outbox")
    assert page.locator("h1").inner_text() == "Lähtevät viestit"
    # A failure is explained in words, with the technical detail after it.
    assert "Tekstiviestipalvelu ei ottanut viestiä vastaan." in page.content()
    assert page.locator(".reminders-error-detail").inner_text() == "SMS gateway: HTTP 500"
    assert_accessible(page, context="outbox")
    click_through(page, "text=Merkitse lähetetyksi")
    page.wait_for_url("**/reminders/outbox?status=manual")
    assert "Merkitty lähetetyksi." in page.content()
    assert_accessible(page, context="outbox after marking sent")

    page.goto(f"/reminders/group/{group_id}")
    assert_accessible(page, context="group reminder settings")

    page.goto("/reminders/stop/an-old-or-mistyped-link")
    assert "Tämä linkki ei toimi enää." in page.content()
    assert_accessible(page, context="opt-out link that does not work")

    page.goto(f"/reminders/follow-ups/{task_id}")
    assert_accessible(page, context="follow-up task")
    page.check("#outcome-1")
    page.fill("#day", (local_today() + timedelta(days=7)).isoformat())
    page.fill("#at", "09:00")
    page.fill("#place", "Kauppakatu 5")
    click_through(page, "main form button[type=submit]")
    page.wait_for_selector("text=Tulostettava kirje")
    assert "Ei tavoitettu; uusi aika lähetetty." in page.content()
    assert_accessible(page, context="follow-up done")
    click_through(page, "text=Tulostettava kirje")
    page.wait_for_selector(".reminders-letter")
    assert "Hei Liisa Laine," in page.content()
    assert_accessible(page, context="letter")
