"""Browser tests at phone and desktop width (360 and 1280 px) with axe-core on every appointment page reached: book from
the client's page (a lone home visit asks for a pair first), move, book the next time in one click,
mark a past appointment a no-show and rebook it, cancel."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from appointments.models import Appointment, AppointmentStatus
from core.db import utcnow
from core.extensions import db
from core.timeutil import finnish_holiday, local_today
from tests.browser import DESKTOP, PHONE, assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_client, make_user

pytestmark = pytest.mark.browser


def _workday(days: int):
    day = local_today() + timedelta(days=days)
    while day.weekday() >= 5 or any(finnish_holiday(day + timedelta(days=d)) for d in (0, 7, 14)):
        day += timedelta(days=1)
    return day


def _narrow(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_book_move_next_and_cancel(page, app, viewport):
    worker = make_user(name="Sanna Saarinen", email="sanna@example.fi")
    make_user(name="Pekka Pari")
    client = make_client(name="Laura Selin", worker=worker)
    client_id = client.id
    db.session.commit()
    db.session.close()

    browser_login(page, "sanna@example.fi", PASSWORD)
    page.goto(f"/clients/{client_id}")
    assert_accessible(page, context="client page with appointments")
    click_through(page, f"a[href='/appointments/new/{client_id}']")
    page.wait_for_url(f"**/appointments/new/{client_id}")
    assert_accessible(page, context="booking form")
    _narrow(page)
    day = _workday(9)
    page.select_option("#kind", "home_visit")
    page.fill("#day", day.isoformat())
    page.fill("#start", "10:00")
    page.fill("#minutes", "45")
    click_through(page, "main form button[type=submit]")
    # A home visit alone: asked for a pair before anything is saved.
    page.wait_for_selector("#confirm")
    assert "työparina" in page.inner_text("main")
    assert_accessible(page, context="booking form with warnings")
    page.check("#confirm")
    click_through(page, "main form button[type=submit]")
    page.wait_for_selector(".appointment-alone")
    assert_accessible(page, context="appointment page")
    _narrow(page)
    appointment_id = int(page.url.rstrip("/").split("/")[-1])

    # Move: an hour later, with a pair.
    click_through(page, f"a[href='/appointments/{appointment_id}/move']")
    page.wait_for_url(f"**/appointments/{appointment_id}/move")
    assert_accessible(page, context="move form")
    page.fill("#start", "11:00")
    page.select_option("#worker2", label="Pekka Pari")
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(f"**/appointments/{appointment_id}")
    assert "Pekka Pari" in page.inner_text("main") and ".appointment-alone" not in page.content()

    # The next time in one click, two weeks on.
    click_through(page, "form[action$='/next']:has(input[value='2']) button")
    page.wait_for_selector("text=Seuraava tapaaminen varattu.")
    assert_accessible(page, context="next appointment")
    next_id = int(page.url.rstrip("/").split("/")[-1])
    assert next_id != appointment_id

    # Cancel it (the notice box is on by default; this client has no consent, so it says so).
    click_through(page, "form[action$='/cancel'] button")
    page.wait_for_selector(".appointment-status")
    assert page.inner_text(".appointment-status") == "Peruttu"
    assert_accessible(page, context="cancelled appointment")

    stored = {a.id: a for a in db.session.scalars(sa.select(Appointment)).all()}
    db.session.close()
    assert stored[appointment_id].worker2_id is not None and stored[next_id].status == AppointmentStatus.CANCELLED
    assert stored[next_id].starts_at - stored[appointment_id].starts_at in (timedelta(days=14), timedelta(days=14, hours=1),
                                                                            timedelta(days=13, hours=23))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_no_show_and_rebook(page, app, viewport):
    worker = make_user(name="Sanna Saarinen", email="sanna@example.fi")
    client = make_client(name="Erik Berg", worker=worker)
    past = Appointment(client_id=client.id, worker1_id=worker.id, kind="office",
                       starts_at=utcnow() - timedelta(hours=3), ends_at=utcnow() - timedelta(hours=2), place="Huone 3")
    db.session.add(past)
    db.session.commit()
    past_id, client_id = past.id, client.id
    db.session.close()

    browser_login(page, "sanna@example.fi", PASSWORD)
    page.goto(f"/appointments/{past_id}")
    assert_accessible(page, context="past appointment")
    click_through(page, "form[action$='/status']:has(input[value='no_show']) button")
    page.wait_for_selector(f"a[href='/appointments/new/{client_id}?after={past_id}']")
    assert page.inner_text(".appointment-status") == "Ei saapunut"
    assert_accessible(page, context="no-show")
    click_through(page, f"a[href='/appointments/new/{client_id}?after={past_id}']")
    page.wait_for_selector("#day")
    assert page.input_value("#place") == "Huone 3"
    assert_accessible(page, context="rebooking form")
    page.fill("#day", _workday(3).isoformat())
    page.fill("#start", "09:00")
    click_through(page, "main form button[type=submit]")
    page.wait_for_selector("text=Tapaaminen varattu.")
    assert_accessible(page, context="rebooked appointment")
    rebooked = db.session.scalar(sa.select(Appointment).where(Appointment.previous_id == past_id))
    db.session.close()
    assert rebooked is not None and rebooked.place == "Huone 3" and rebooked.status == AppointmentStatus.BOOKED
