"""The meeting page's compact lists in a real browser at 360 and 1280 px, axe-core on every page:
one "edit" link per participant, plan item and item to review (named for its row), each row's
own edit page, and a review saved without a decision coming back with its error summary in view
and focused, linking to the field. Also the appointment's reminder settings reached from the
appointment, and a cancelled group session restored."""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from meetings import plan
from meetings.models import ActionItem, MeetingParticipant
from tests.browser import DESKTOP, PHONE, assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_client, make_group_with_session, make_user
from tests.test_meetings_support import add_relative, make_meeting, participant
from tests.test_ux_errors_in_view_browser import assert_summary_in_view

pytestmark = pytest.mark.browser
WIDTHS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "1280px"])


def _named(label: str, who: str) -> re.Pattern:
    # Chromium puts a space before a visually hidden span's text ("Kutsu : Matti K."): not the point here.
    return re.compile(rf"^{re.escape(label)}\s*: {re.escape(who)}$")


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


@WIDTHS
def test_meeting_rows_are_edited_one_at_a_time(page, app, facilitator, viewport):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    relative = add_relative(client, name="Helena Kuusela", relation="äiti")
    earlier = make_meeting([facilitator, make_user(name="Pekka Peltonen")], client=client, relatives=[relative],
                           day=local_today() - timedelta(days=14))
    open_item = plan.add_item(earlier, responsible_id=participant(earlier, "client").id, what="Hae asuntoa").item
    meeting = plan.schedule_follow_up(earlier, user=facilitator, starts_at=earlier.starts_at + timedelta(days=28),
                                          ends_at=earlier.ends_at + timedelta(days=28))
    item = plan.add_item(meeting, responsible_id=participant(meeting, "client").id, what="Soita Kelaan").item
    db.session.commit()
    ids = {"meeting": meeting.id, "item": item.id, "open": open_item.id,
           "relative": next(p.id for p in meeting.participants if p.kind == "relative")}
    email = facilitator.email
    db.session.close()

    browser_login(page, email, PASSWORD)
    url = f"/meetings/{ids['meeting']}"
    page.goto(url)
    assert_accessible(page, context="meeting page with compact lists")
    _fits(page)
    main = page.locator("main")
    # No selects in the rows: the record and the new item's form are the only forms left.
    assert page.locator("main section:has(#participants-heading) select").count() == 0
    assert page.locator("main section:has(#plan-heading) .plan-items select").count() == 0
    assert main.get_by_role("link", name=_named("Muokkaa", "Helena Kuusela (äiti)")).count() == 1

    # A participant: its own page, the controls named for the person.
    click_through(page, f"a[href='{url}/participants/{ids['relative']}']")
    assert_accessible(page, context="participant edit page")
    _fits(page)
    page.get_by_role("combobox", name=_named("Kutsu", "Helena Kuusela (äiti)")).select_option("accepted")
    page.get_by_role("combobox", name=_named("Osallistui", "Helena Kuusela (äiti)")).select_option("yes")
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(f"**{url}#participants-heading")
    assert "Tallennettu." in page.content()

    # A plan item: its status on its own page.
    click_through(page, f"a[href='{url}/items/{ids['item']}/edit']")
    assert_accessible(page, context="item edit page")
    _fits(page)
    page.get_by_role("combobox", name=_named("Tila", "Soita Kelaan")).select_option("done")
    click_through(page, f"form[action$='/items/{ids['item']}/status'] button[type=submit]")
    page.wait_for_url(f"**{url}#plan-heading")

    # An item from the previous meeting: saved without a decision, the error is in view and focused.
    click_through(page, f"a[href='{url}/review/{ids['open']}']")
    assert_accessible(page, context="review page")
    click_through(page, "main form button[type=submit]")
    assert_summary_in_view(page, "review without a decision")
    assert page.locator(f"#r{ids['open']}-action-error").is_visible()
    assert page.locator(f".error-summary a[href='#r{ids['open']}-action']").count() == 1
    assert_accessible(page, context="review page with an error")
    _fits(page)
    page.select_option(f"#r{ids['open']}-action", "dropped")
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(f"**{url}#review-heading")

    stored = db.session.get(MeetingParticipant, ids["relative"])
    statuses = dict(db.session.execute(sa.select(ActionItem.id, ActionItem.status)).all())
    db.session.close()
    assert (stored.invitation_status, stored.attended) == ("accepted", True)
    assert statuses[ids["item"]] == "done" and statuses[ids["open"]] == "dropped"


@WIDTHS
def test_appointment_reminder_settings_and_a_restored_session(page, app, facilitator, viewport):
    from appointments import services as appointments
    from groups.models import GroupSession
    from reminders.models import ReminderPolicy

    client = make_client(name="Laura Selin", worker=facilitator, phone="040 765 4321", consent=True)
    starts = local_to_utc(local_today() + timedelta(days=10), time(10, 0))
    appointment = appointments.book(client=client, kind="office", starts_at=starts, ends_at=starts + timedelta(minutes=45),
                                    worker_ids=[facilitator.id], place="Huone 3")
    group, session = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=starts,
                                             status="cancelled")
    db.session.commit()
    ids = {"appointment": appointment.id, "group": group.id, "session": session.id}
    email = facilitator.email
    db.session.close()

    browser_login(page, email, PASSWORD)
    page.goto(f"/appointments/{ids['appointment']}")
    click_through(page, f"a[href='/reminders/appointment/{ids['appointment']}']")
    assert_accessible(page, context="appointment reminder settings")
    _fits(page)
    assert page.is_checked("#day_before") and page.input_value("#day_before_at") == "16:00"
    page.check("#same_morning")
    click_through(page, "main form.narrow-form button[type=submit]")
    assert "Muistutusasetukset tallennettu." in page.content() and page.is_checked("#same_morning")

    page.goto(f"/groups/{ids['group']}/sessions/{ids['session']}")
    assert_accessible(page, context="cancelled session")
    _fits(page)
    click_through(page, "button:has-text('Palauta ryhmäkerta')")
    assert_accessible(page, context="restored session")
    assert "Ryhmäkerta on taas aikataulussa." in page.content()

    policy = db.session.scalar(sa.select(ReminderPolicy))
    status = db.session.get(GroupSession, ids["session"]).status
    db.session.close()
    assert (policy.target_kind, policy.same_morning) == ("appt", True) and status == "scheduled"
