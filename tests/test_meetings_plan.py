"""The plan: one responsible participant per item, due-date warning, status history, the record
with stale-edit detection, cancelled meetings refusing changes, and the printable plan."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today, to_local
from meetings.models import ActionItem
from tests.factories import logged, make_client
from tests.test_meetings_support import add_relative, make_contact, make_meeting, participant


def _meeting(facilitator, **kw):
    client = kw.pop("client", None) or make_client(name="Matti Kuusela")
    relative = add_relative(client)
    contact = make_contact()
    return make_meeting([facilitator], client=client, contacts=[contact], relatives=[relative], **kw)


def test_item_with_each_kind_of_responsible(auth_client, facilitator):
    meeting = _meeting(facilitator)
    url = f"/meetings/{meeting.id}/items"
    due = (to_local(meeting.starts_at).date() + timedelta(days=14)).isoformat()
    for p in meeting.participants:
        response = auth_client.post_form(url, {"responsible": str(p.id), "what": f"Task of {p.kind}",
                                               "with_whom": "Social worker", "due_date": due})
        assert response.status_code == 302, p.kind
    items = db.session.scalars(sa.select(ActionItem).order_by(ActionItem.id)).all()
    assert [(i.responsible.kind, i.what) for i in items] == [(p.kind, f"Task of {p.kind}") for p in meeting.participants]
    page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Task of relative" in page and "Helena Kuusela" in page


def test_item_without_responsible_is_refused_and_input_kept(auth_client, facilitator, fresh_db):
    meeting = _meeting(facilitator)
    db.session.commit()
    seen = len(logged(fresh_db, meeting.client_id))
    response = auth_client.post_form(f"/meetings/{meeting.id}/items", {"responsible": "", "what": "Call the landlord"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Call the landlord"' in page and 'id="responsible-error"' in page
    assert fresh_db.scalar(sa.select(sa.func.count(ActionItem.id))) == 0
    # The refused form showed the client: its access-log row was committed with the page.
    assert logged(fresh_db, meeting.client_id)[seen:] == [("view", f"meeting {meeting.id}")]


def test_responsible_from_another_meeting_is_refused(auth_client, facilitator, fresh_db):
    meeting = _meeting(facilitator)
    other = _meeting(facilitator, client=make_client(worker=facilitator))
    foreign = other.participants[0]
    db.session.commit()
    seen = len(logged(fresh_db, meeting.client_id))
    for forged in (str(foreign.id), "abc", "999999"):
        response = auth_client.post_form(f"/meetings/{meeting.id}/items",
                                         {"responsible": forged, "what": "Forged task"})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, forged
        assert 'id="responsible-error"' in page and 'value="Forged task"' in page
    assert fresh_db.scalar(sa.select(sa.func.count(ActionItem.id))) == 0
    # Each refused form showed the client: its access-log row was committed with the page.
    assert logged(fresh_db, meeting.client_id)[seen:] == [("view", f"meeting {meeting.id}")] * 3


def test_due_date_before_meeting_warns_but_saves(auth_client, facilitator):
    meeting = _meeting(facilitator)
    early = (to_local(meeting.starts_at).date() - timedelta(days=3)).isoformat()
    response = auth_client.post_form(f"/meetings/{meeting.id}/items",
                                     {"responsible": str(meeting.participants[0].id), "what": "Already started",
                                      "due_date": early})
    assert response.status_code == 302
    item = db.session.scalar(sa.select(ActionItem))
    assert item.what == "Already started" and item.due_date.isoformat() == early
    page = auth_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash-warning" in page


def test_status_change_remembers_who_and_when(auth_client, facilitator):
    from meetings import plan

    meeting = _meeting(facilitator)
    item = plan.add_item(meeting, responsible_id=meeting.participants[0].id, what="Book a doctor").item
    db.session.commit()
    response = auth_client.post_form(f"/meetings/{meeting.id}/items/{item.id}/status", {f"i{item.id}-status": "done"})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == "done" and item.status_changed_by == facilitator.name
    assert item.status_changed_at is not None
    page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert facilitator.name in page
    # An item of another meeting cannot be reached through this one.
    other = _meeting(facilitator, client=make_client(worker=facilitator))
    assert auth_client.post_form(f"/meetings/{other.id}/items/{item.id}/status",
                                 {f"i{item.id}-status": "open"}).status_code == 404


def test_record_and_stale_edit_from_two_browsers(auth_client, facilitator, app):
    meeting = _meeting(facilitator, day=local_today() - timedelta(days=1))  # held: it has been
    version = meeting.version
    first = auth_client.post_form(f"/meetings/{meeting.id}/notes", {
        "version": str(version), "worries": "Rent arrears", "summary": "Matti contacts the landlord", "held": "y"})
    assert first.status_code == 302
    db.session.refresh(meeting)
    assert meeting.summary == "Matti contacts the landlord" and meeting.status == "held"
    # The second browser still had the old version: refused, its input kept, nothing overwritten.
    second = auth_client.post_form(f"/meetings/{meeting.id}/notes", {
        "version": str(version), "worries": "Other worry", "summary": "Stale summary"})
    page = second.get_data(as_text=True)
    assert second.status_code == 200 and "Stale summary" in page and "error-summary" in page
    db.session.refresh(meeting)
    assert meeting.summary == "Matti contacts the landlord"


def test_cancelled_meeting_cannot_be_edited(auth_client, facilitator):
    meeting = _meeting(facilitator)
    assert auth_client.post_form(f"/meetings/{meeting.id}/cancel").status_code == 302
    db.session.refresh(meeting)
    assert meeting.status == "cancelled"
    sequence = meeting.sequence
    response = auth_client.get(f"/meetings/{meeting.id}/edit")
    assert response.status_code == 302
    local = to_local(meeting.starts_at)
    response = auth_client.post_form(f"/meetings/{meeting.id}/edit", {
        "version": str(meeting.version), "purpose": "Changed", "day": (local.date() + timedelta(days=1)).isoformat(),
        "start": "12:00", "length": "60", "place_kind": "office", "client_identification": "initials"})
    assert response.status_code == 302
    response = auth_client.post_form(f"/meetings/{meeting.id}/items",
                                     {"responsible": str(meeting.participants[0].id), "what": "Too late"},
                                     follow_redirects=True)
    assert "flash-error" in response.get_data(as_text=True)
    response = auth_client.post_form(f"/meetings/{meeting.id}/notes", {
        "version": str(meeting.version), "summary": "Too late"}, follow_redirects=True)
    assert "flash-error" in response.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.purpose != "Changed" and meeting.summary == "" and meeting.sequence == sequence
    assert db.session.scalar(sa.select(sa.func.count(ActionItem.id))) == 0
    page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'id="cancelled-notice"' in page


def test_printable_plan_in_the_clients_language(auth_client, facilitator):
    from meetings import plan

    client = make_client(name="Erik Berg", language="sv", worker=facilitator)
    meeting = make_meeting([facilitator], client=client)
    plan.add_item(meeting, responsible_id=participant(meeting, "client").id, what="Ringer hyresvärden",
                  due_date=local_today() + timedelta(days=20))
    db.session.commit()
    page = auth_client.get(f"/meetings/{meeting.id}/plan").get_data(as_text=True)
    # Only the handout is Swedish; the page around it is in the staff member's language.
    assert '<html lang="fi">' in page and '<article class="plan-handout" lang="sv">' in page
    assert "Ringer hyresvärden" in page and "Erik Berg" in page
    assert "Vår plan" in page  # the Swedish heading, whatever the staff member's own language
    finnish = make_client(name="Matti K.", language="fi", worker=facilitator)
    meeting2 = make_meeting([facilitator], client=finnish)
    page = auth_client.get(f"/meetings/{meeting2.id}/plan").get_data(as_text=True)
    assert '<article class="plan-handout" lang="fi">' in page and "Meidän suunnitelmamme" in page
