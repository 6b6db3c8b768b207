"""Correcting an item of the plan after it was saved: its text, partner, date or responsible
person, with the change in the meeting's history; bad input, stale edits, carried items,
cancelled meetings and other people's meetings are refused."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import to_local
from meetings import arranging, plan
from meetings.models import MeetingChange
from register.models import AccessLog
from tests.factories import logged, login, make_client, make_user
from tests.test_meetings_support import make_contact, make_meeting


def _meeting_with_item(facilitator):
    meeting = make_meeting([facilitator], client=make_client(name="Matti Kuusela"), contacts=[make_contact()])
    me = next(p for p in meeting.participants if p.kind == "staff")
    item = plan.add_item(meeting, responsible_id=me.id, what="Soita vuokranantajalle",
                             due_date=to_local(meeting.starts_at).date() + timedelta(days=7)).item
    db.session.commit()
    return meeting, item


def _form(meeting, item, **changes) -> dict:
    data = {"responsible": str(item.responsible_id), "what": item.what, "with_whom": item.with_whom,
            "due_date": item.due_date.isoformat() if item.due_date else "", "version": str(item.version)}
    data.update(changes)
    return data


def test_item_is_corrected_and_the_change_is_in_the_history(auth_client, facilitator):
    meeting, item = _meeting_with_item(facilitator)
    partner = next(p for p in meeting.participants if p.kind == "partner")
    url = f"/meetings/{meeting.id}/items/{item.id}/edit"
    page = auth_client.get(url).get_data(as_text=True)
    assert 'value="Soita vuokranantajalle"' in page and f'<option selected value="{item.responsible_id}">' in page
    new_due = to_local(meeting.starts_at).date() + timedelta(days=14)
    response = auth_client.post_form(url, _form(meeting, item, what="Soita isännöitsijälle", with_whom="Matti",
                                               responsible=str(partner.id), due_date=new_due.isoformat(),
                                               save_anyway="y"),  # the client's name: confirmed
                                     token_from=url)
    assert response.status_code == 302 and response.location.endswith(f"/meetings/{meeting.id}#plan-heading")
    db.session.refresh(item)
    assert (item.what, item.with_whom, item.due_date, item.responsible_id) == (
        "Soita isännöitsijälle", "Matti", new_due, partner.id)
    assert item.version == 2
    change = db.session.scalar(sa.select(MeetingChange).where(MeetingChange.meeting_id == meeting.id,
                                                              MeetingChange.field == "item"))
    assert change.old_value.startswith("Soita vuokranantajalle · Fiia") and "Soita isännöitsijälle" in change.new_value
    assert change.changed_by_id == facilitator.id
    shown = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Suunnitelman tehtävä" in shown and "Soita isännöitsijälle" in shown
    assert db.session.scalar(sa.select(sa.func.count(AccessLog.id)).where(
        AccessLog.action == "change", AccessLog.detail == f"meeting {meeting.id} item {item.id}")) == 1


def test_saving_without_changes_records_nothing(auth_client, facilitator, fresh_db):
    meeting, item = _meeting_with_item(facilitator)
    db.session.commit()
    url = f"/meetings/{meeting.id}/items/{item.id}/edit"
    seen = len(logged(fresh_db, meeting.client_id))
    assert auth_client.post_form(url, _form(meeting, item), token_from=url).status_code == 302
    # The form page's row and the save's: an unchanged save still records that the item was saved.
    assert logged(fresh_db, meeting.client_id)[seen:] == [("view", f"meeting {meeting.id} item edit form"),
                                                          ("change", f"meeting {meeting.id} item {item.id}")]
    db.session.refresh(item)
    assert item.version == 1
    assert db.session.scalar(sa.select(sa.func.count(MeetingChange.id)).where(MeetingChange.field == "item")) == 0


def test_bad_input_is_refused_with_the_input_kept(auth_client, facilitator, fresh_db):
    meeting, item = _meeting_with_item(facilitator)
    other, _ = _meeting_with_item(facilitator)
    db.session.commit()
    url = f"/meetings/{meeting.id}/items/{item.id}/edit"
    cases = [
        ({"what": "", "with_whom": "Kept partner"}, 'id="what-error"', 'value="Kept partner"'),
        ({"what": "x" * 501}, 'id="what-error"', "x" * 501),
        ({"what": "Kept text", "responsible": str(other.participants[0].id)}, 'id="responsible-error"',
         'value="Kept text"'),
        ({"what": "Kept text", "responsible": "abc"}, 'id="responsible-error"', 'value="Kept text"'),
        ({"what": "Kept text", "due_date": "31.2.2027"}, 'id="due_date-error"', 'value="Kept text"'),
        ({"what": "Nul\x00text"}, 'id="what-error"', None),
    ]
    for changes, error, kept in cases:
        seen = len(logged(fresh_db, meeting.client_id))
        response = auth_client.post_form(url, _form(meeting, item, **changes), token_from=url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, changes
        # The form page and the refused form both showed the client: both rows were committed.
        assert logged(fresh_db, meeting.client_id)[seen:] == [("view", f"meeting {meeting.id} item edit form")] * 2
        assert error in page, changes
        if kept:
            assert kept in page, changes
    db.session.refresh(item)
    assert item.what == "Soita vuokranantajalle" and item.version == 1


def test_stale_edit_is_refused_and_input_kept(auth_client, facilitator, fresh_db):
    meeting, item = _meeting_with_item(facilitator)
    url = f"/meetings/{meeting.id}/items/{item.id}/edit"
    stale = _form(meeting, item, what="Minun versioni")
    plan.set_item_status(item, "done", by_name="Toinen")
    db.session.commit()
    seen = len(logged(fresh_db, meeting.client_id))
    response = auth_client.post_form(url, stale, token_from=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="Minun versioni"' in page
    assert logged(fresh_db, meeting.client_id)[seen:] == [("view", f"meeting {meeting.id} item edit form")] * 2
    db.session.refresh(item)
    assert item.what == "Soita vuokranantajalle"


def test_due_date_before_the_meeting_is_saved_with_a_warning(auth_client, facilitator):
    meeting, item = _meeting_with_item(facilitator)
    url = f"/meetings/{meeting.id}/items/{item.id}/edit"
    early = to_local(meeting.starts_at).date() - timedelta(days=3)
    response = auth_client.post_form(url, _form(meeting, item, due_date=early.isoformat()), token_from=url,
                                     follow_redirects=True)
    assert "Määräpäivä on ennen verkostopalaveria." in response.get_data(as_text=True)
    db.session.refresh(item)
    assert item.due_date == early


def test_carried_item_and_cancelled_meeting_are_not_edited(auth_client, facilitator):
    meeting, item = _meeting_with_item(facilitator)
    url = f"/meetings/{meeting.id}/items/{item.id}/edit"
    item.status = "carried"
    db.session.commit()
    assert auth_client.get(url).status_code == 302
    assert auth_client.post_form(url, _form(meeting, item, what="Muutettu"), token_from="/").status_code == 302
    assert "/edit" not in auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True).split("plan-heading")[1]
    item.status = "open"
    arranging.cancel_meeting(meeting, user=facilitator)
    db.session.commit()
    assert auth_client.post_form(url, _form(meeting, item, what="Muutettu"), token_from="/").status_code == 302
    db.session.refresh(item)
    assert item.what == "Soita vuokranantajalle"


def test_other_peoples_meetings_and_foreign_items_are_404_and_csrf_is_required(app, auth_client, facilitator):
    meeting, item = _meeting_with_item(facilitator)
    other_meeting, other_item = _meeting_with_item(facilitator)
    # An item id of another meeting under this meeting's URL.
    assert auth_client.get(f"/meetings/{meeting.id}/items/{other_item.id}/edit").status_code == 404
    for bad in ("abc", "0", "99999999999999999999"):
        assert auth_client.get(f"/meetings/{meeting.id}/items/{bad}/edit").status_code == 404
    url = f"/meetings/{meeting.id}/items/{item.id}/edit"
    assert auth_client.post(url, data=_form(meeting, item, what="Ilman CSRF:ää")).status_code == 400
    client = app.test_client()  # a second browser
    login(client, make_user(email="outsider@example.fi"))
    assert client.get(url).status_code == 404
    assert client.post_form(url, _form(meeting, item, what="Ulkopuolinen"), token_from="/").status_code == 404
    db.session.refresh(item)
    assert item.what == "Soita vuokranantajalle"
