"""Destructive actions ask first, on a page of their own (no JavaScript), saying what will happen
and to whom, or can be undone: cancelling a meeting (restorable until its time), removing a
meeting participant, and the follow-up review's decision (no default: "Save" alone decides
nothing). What reached the database is read through ``fresh_db``."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today
from meetings import arranging, plan
from meetings.models import ActionItem, Meeting, MeetingParticipant
from tests.factories import make_client, make_user
from tests.test_meetings_support import add_relative, make_contact, make_meeting, participant


def _forms_posting_to(html: str, action: str) -> list[str]:
    return [m for m in re.findall(r'<form[^>]*action="([^"]+)"', html) if m == action]


def test_cancelling_a_meeting_asks_first_and_says_who_is_told(auth_client, facilitator, fresh_db):
    contact = make_contact("Sovatek-säätiö")
    meeting = make_meeting([facilitator], contacts=[contact], purpose="Asumisen suunnitelma")
    url = f"/meetings/{meeting.id}"
    page = auth_client.get(url).get_data(as_text=True)
    # The meeting page has no one-press cancel: a link to the question.
    assert not _forms_posting_to(page, f"{url}/cancel")
    assert f'href="{url}/cancel"' in page

    confirm = auth_client.get(f"{url}/cancel")
    body = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Perutaanko palaveri?" in body
    assert "Asumisen suunnitelma" in body and contact.name in body
    assert _forms_posting_to(body, f"{url}/cancel")
    assert fresh_db.get(Meeting, meeting.id).status == "planned"  # asking changed nothing

    response = auth_client.post_form(f"{url}/cancel", {}, token_from=f"{url}/cancel")
    assert response.status_code == 302
    assert fresh_db.get(Meeting, meeting.id).status == "cancelled"


def test_a_cancelled_meeting_can_be_restored_until_its_time(auth_client, facilitator, fresh_db):
    meeting = make_meeting([facilitator])
    url = f"/meetings/{meeting.id}"
    auth_client.post_form(f"{url}/cancel", {}, token_from=url)
    stored = fresh_db.get(Meeting, meeting.id)
    assert stored.status == "cancelled"
    sequence = stored.sequence
    page = auth_client.get(url).get_data(as_text=True)
    assert _forms_posting_to(page, f"{url}/restore")

    response = auth_client.post_form(f"{url}/restore", {}, token_from=url)
    assert response.status_code == 302
    stored = fresh_db.get(Meeting, meeting.id)
    assert stored.status == "planned" and stored.sequence > sequence
    assert "Palaveri palautettiin." in auth_client.get(url).get_data(as_text=True)


def test_a_past_cancelled_meeting_cannot_be_restored(auth_client, facilitator, fresh_db):
    meeting = make_meeting([facilitator], day=local_today() - timedelta(days=2))
    arranging.cancel_meeting(meeting, user=facilitator)
    db.session.commit()
    url = f"/meetings/{meeting.id}"
    page = auth_client.get(url).get_data(as_text=True)
    assert not _forms_posting_to(page, f"{url}/restore")
    auth_client.post_form(f"{url}/restore", {}, token_from=url)
    assert fresh_db.get(Meeting, meeting.id).status == "cancelled"
    assert "vain ennen sen alkamisaikaa" in auth_client.get(url).get_data(as_text=True)


def test_removing_a_participant_asks_first(auth_client, facilitator, fresh_db):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    relative = add_relative(client, name="Helena Kuusela", relation="äiti")
    meeting = make_meeting([facilitator], client=client, relatives=[relative])
    p = participant(meeting, "relative")
    p_id, meeting_id = p.id, meeting.id  # kept: the participant row is deleted by a request below
    url = f"/meetings/{meeting_id}"
    remove = f"{url}/participants/{p_id}/remove"
    page = auth_client.get(url).get_data(as_text=True)
    assert not _forms_posting_to(page, remove)
    # The meeting page lists the participant with one "edit" link; the removal is offered there.
    edit_page = auth_client.get(f"{url}/participants/{p_id}").get_data(as_text=True)
    assert f'href="{url}/participants/{p_id}"' in page and f'href="{remove}"' in edit_page
    assert not _forms_posting_to(edit_page, remove)

    body = auth_client.get(remove).get_data(as_text=True)
    assert "Poistetaanko Helena Kuusela" in body and "peruutus" in body
    assert fresh_db.get(MeetingParticipant, p_id) is not None

    assert auth_client.post_form(remove, {}, token_from=remove).status_code == 302
    assert fresh_db.get(MeetingParticipant, p_id) is None


def test_someone_elses_meeting_has_no_confirmation_page(app, facilitator):
    from tests.factories import login
    meeting = make_meeting([facilitator])
    p = participant(meeting, "staff")
    stranger = make_user(name="Vieras", email="vieras@example.fi")
    db.session.commit()
    http = app.test_client()
    login(http, stranger.email)
    assert http.get(f"/meetings/{meeting.id}/cancel").status_code == 404
    assert http.get(f"/meetings/{meeting.id}/participants/{p.id}/remove").status_code == 404


def test_the_review_decision_has_no_default(auth_client, facilitator, fresh_db):
    colleague = make_user(name="Pekka Peltonen")
    meeting = make_meeting([facilitator, colleague], day=local_today() - timedelta(days=14))
    item = plan.add_item(meeting, responsible_id=participant(meeting, "client").id, what="Hae asuntoa").item
    db.session.commit()
    day = local_today() + timedelta(days=14)
    auth_client.post_form(f"/meetings/{meeting.id}/follow-up",
                          {"purpose": "Jatko", "day": day.isoformat(), "start": "10:00", "length": "45"})
    nxt = fresh_db.scalar(sa.select(Meeting).where(Meeting.previous_meeting_id == meeting.id))
    db.session.commit()
    url = f"/meetings/{nxt.id}"
    page = auth_client.get(f"{url}/review/{item.id}").get_data(as_text=True)
    select = re.search(rf'<select[^>]*name="r{item.id}-action".*?</select>', page, re.S).group(0)
    # No option is chosen in advance; the first (and so shown) one is the empty "Choose…".
    assert "selected" not in select
    assert re.search(r'<option\s+value="">', select)

    # "Save" alone is refused with the reason, and the item stays open.
    response = auth_client.post_form(f"{url}/review/{item.id}", {f"r{item.id}-action": ""}, token_from=url)
    assert response.status_code == 200
    assert "Valitse päätös" in response.get_data(as_text=True)
    assert fresh_db.get(ActionItem, item.id).status == "open"

    auth_client.post_form(f"{url}/review/{item.id}", {f"r{item.id}-action": "done"}, token_from=url)
    assert fresh_db.get(ActionItem, item.id).status == "done"


def test_withdrawing_a_group_participant_asks_first_and_says_who_gets_the_place(auth_client, facilitator, fresh_db):
    from groups import enrolment
    from groups.models import Enrolment
    from tests.test_groups_support import make_group

    group = make_group(facilitator, make_user(), weeks=2, status="enrolling", capacity=1)
    anna, ben = make_client(name="Anna Aalto", worker=facilitator), make_client(name="Ben Berg", worker=facilitator)
    first = enrolment.enrol(group, anna.id)
    enrolment.enrol(group, ben.id)
    db.session.commit()
    participants = f"/groups/{group.id}/participants"
    url = f"/groups/{group.id}/enrolments/{first.id}/withdraw"
    page = auth_client.get(participants).get_data(as_text=True)
    assert not _forms_posting_to(page, url) and f'href="{url}"' in page

    body = auth_client.get(url).get_data(as_text=True)
    assert "Perutaanko henkilön Anna Aalto osallistuminen?" in body
    assert "jonossa ensimmäisenä olevalle: Ben Berg" in body
    assert "jonon loppuun" in body
    assert fresh_db.get(Enrolment, first.id).status == "enrolled"

    assert auth_client.post_form(url, {}, token_from=url).status_code == 302
    assert fresh_db.get(Enrolment, first.id).status == "withdrawn"


def test_a_partner_can_undo_mark_done_for_a_day_and_only_their_own(app, client, facilitator, fresh_db):
    from meetings.models import ItemStatus
    from tests.factories import login
    from tests.test_meetings_partner import _create_link, _setup

    held, _upcoming, mine, own, other, _staff_item = _setup(facilitator)
    login(client, facilitator)
    _url, token = _create_link(client, held, mine)
    partner = app.test_client()
    page = f"/p/{token}"
    assert partner.post_form(f"{page}/items/{own.id}/done", token_from=page).status_code == 302
    assert fresh_db.get(ActionItem, own.id).status == "done"
    body = partner.get(page).get_data(as_text=True)
    assert f'action="{page}/items/{own.id}/undo"' in body

    # Someone else's item cannot be reopened through this link.
    other.status = ItemStatus.DONE.value
    db.session.commit()
    assert partner.post_form(f"{page}/items/{other.id}/undo", token_from=page).status_code == 404
    assert fresh_db.get(ActionItem, other.id).status == "done"

    response = partner.post_form(f"{page}/items/{own.id}/undo", token_from=page, follow_redirects=True)
    assert "Tehtävä on taas avoinna." in response.get_data(as_text=True)
    assert fresh_db.get(ActionItem, own.id).status == "open"

    # After the window, no undo.
    assert partner.post_form(f"{page}/items/{own.id}/done", token_from=page).status_code == 302
    own = db.session.get(ActionItem, own.id)
    db.session.refresh(own)
    own.status_changed_at = own.status_changed_at - timedelta(hours=25)
    db.session.commit()
    assert partner.post_form(f"{page}/items/{own.id}/undo", token_from=page).status_code == 404
    assert fresh_db.get(ActionItem, own.id).status == "done"


def test_a_new_calendar_link_asks_first_and_says_the_old_one_stops(auth_client, facilitator, fresh_db):
    from calendar_export.models import CalendarSubscription

    created = auth_client.post_form("/calendar/subscriptions/new", {"kind": "staff", "label": "Kumppanin puhelin"},
                                    token_from="/calendar/subscriptions/new")
    assert created.status_code == 302
    sub_id = fresh_db.scalar(sa.select(CalendarSubscription.id))
    listing = auth_client.get("/calendar/subscriptions").get_data(as_text=True)
    rotate = f"/calendar/subscriptions/{sub_id}/rotate"
    assert not _forms_posting_to(listing, rotate) and f'href="{rotate}"' in listing

    body = auth_client.get(rotate).get_data(as_text=True)
    assert "Vanha linkki lakkaa toimimasta heti" in body and "Kumppanin puhelin" in body
    assert _forms_posting_to(body, rotate)
    assert fresh_db.get(CalendarSubscription, sub_id).rotated_at is None  # asking changed nothing

    assert auth_client.post_form(rotate, {}, token_from=rotate).status_code == 302
    assert fresh_db.get(CalendarSubscription, sub_id).rotated_at is not None
