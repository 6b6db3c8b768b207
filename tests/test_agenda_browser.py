"""Browser test at phone and desktop width (360 and 1280 px): the agenda (day, week, to record; the lead's exceptions)
and a referral from the client's page taken into a group by its facilitator. axe-core finds no
WCAG 2.1 AA violations on any page reached, and nothing is wider than the screen."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from groups.models import Enrolment, GroupSession, Referral
from tests.browser import DESKTOP, PHONE, assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_client, make_user
from tests.test_groups_support import make_group
from tests.test_meetings_support import make_meeting


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])
def test_agenda_and_a_referral_taken_into_a_group(page, app, facilitator, viewport):
    worker = make_user(name="Sanna Saarinen", email="sanna@example.fi")
    make_user(role="lead", name="Veera Vastaava", email="veera@example.fi")
    person = make_client(name="Matti Kuusela", worker=worker)
    group = make_group(facilitator, make_user(), title="Raharyhmä", status="enrolling", capacity=6)
    from groups import enrolment

    enrolment.enrol(group, make_client(name="Pertti N.").id)     # so the past session needs a roll call
    past = local_today() - timedelta(days=10)
    starts = local_to_utc(past, time(13, 0))
    db.session.add(GroupSession(group_id=group.id, number=1, starts_at=starts, ends_at=starts + timedelta(hours=1)))
    today = local_to_utc(local_today(), time(23, 0))
    db.session.add(GroupSession(group_id=group.id, number=2, starts_at=today, ends_at=today + timedelta(minutes=30)))
    make_meeting([facilitator], client=make_client(name="Liisa Laine", worker=facilitator), day=past, at=time(9, 0))
    db.session.commit()
    ids = {"group": group.id, "person": person.id}
    me = {"email": facilitator.email, "name": facilitator.name}
    db.session.close()

    # The worker suggests their client for the group from the client's page.
    browser_login(page, "sanna@example.fi", PASSWORD)
    page.goto(f"/clients/{ids['person']}")
    click_through(page, "a:has-text('Ehdota ryhmään')")
    assert_accessible(page, context="referral form")
    _fits(page)
    page.select_option("#target", f"group:{ids['group']}")
    page.fill("#reason", "Vuokrarästejä, haluaa oppia budjetoimaan")
    click_through(page, "main form button[type=submit]")
    page.wait_for_selector("text=Ehdotus lähetetty.")
    assert "Odottaa ohjaajia" in page.inner_text("#client-referrals-heading + ul")
    assert_accessible(page, context="client page with a referral")
    page.context.clear_cookies()

    # The facilitator's agenda: today, the week, and what is still to record.
    browser_login(page, me["email"], PASSWORD)
    page.goto("/")
    assert "Raharyhmä, ryhmäkerta 2/2" in page.inner_text(".agenda")
    assert_accessible(page, context="agenda, day")
    _fits(page)
    click_through(page, "a:has-text('Näytä viikko')")
    assert "Minun viikkoni" in page.inner_text("h2#agenda-heading")
    assert_accessible(page, context="agenda, week")
    _fits(page)
    to_record = page.inner_text("#to-record-heading + p + ul")
    assert "Verkostopalaveri" in to_record and "Raharyhmä, ryhmäkerta 1/2" in to_record and "Myöhässä" in to_record
    click_through(page, "a:has-text('Edellinen viikko')")
    assert_accessible(page, context="agenda, previous week")

    # The referral is taken into the group.
    page.goto(f"/groups/{ids['group']}/participants")
    assert "Vuokrarästejä, haluaa oppia budjetoimaan" in page.inner_text(".referral-list")
    assert_accessible(page, context="participants with a referral")
    _fits(page)
    click_through(page, "button:has-text('Ota ryhmään')")
    page.wait_for_selector("text=Ilmoitettu ryhmään.")
    assert "Matti Kuusela" in page.inner_text(".participant-list")
    assert_accessible(page, context="participants after taking the referral")
    page.context.clear_cookies()

    # The lead's start page: the unit's exceptions and open records per worker.
    browser_login(page, "veera@example.fi", PASSWORD)
    page.goto("/")
    unit = page.inner_text("section:has(#unit-heading)")
    assert me["name"] in unit
    assert_accessible(page, context="lead's start page")
    _fits(page)

    status = db.session.scalar(sa.select(Referral.status))
    enrolled = db.session.scalar(sa.select(Enrolment.status).where(Enrolment.client_id == ids["person"]))
    db.session.close()
    assert (status, enrolled) == ("enrolled", "enrolled")
