"""The meeting page at phone width (issue 22): participants, plan items and the items to review are
compact lists with one "edit" link per row, not a form per row; each row is edited on a page of
its own. A refused edit comes back with the error at its field and in the summary that links to it
(the follow-up review's missing decision included), and what reached the database is read
through ``fresh_db``."""
from __future__ import annotations

import re
from datetime import timedelta

from core.extensions import db
from core.timeutil import local_today
from meetings import plan
from meetings.models import ActionItem, MeetingParticipant
from tests.factories import logged, make_client, make_user
from tests.test_meetings_support import add_relative, make_meeting, participant


def _forms(html: str) -> list[str]:
    return re.findall(r'<form[^>]*action="([^"]+)"', html)


def _meeting_with_rows(facilitator):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    relative = add_relative(client, name="Helena Kuusela", relation="äiti")
    meeting = make_meeting([facilitator, make_user(name="Pekka Peltonen")], client=client, relatives=[relative])
    item = plan.add_item(meeting, responsible_id=participant(meeting, "client").id, what="Hae asuntoa").item
    db.session.commit()
    return meeting, item


def test_the_meeting_page_has_one_edit_link_per_row_and_no_row_forms(auth_client, facilitator):
    meeting, item = _meeting_with_rows(facilitator)
    url = f"/meetings/{meeting.id}"
    page = auth_client.get(url).get_data(as_text=True)
    actions = _forms(page)
    # Left on the page: the record and the new item only (no per-participant or per-item form).
    assert not [a for a in actions if "/participants/" in a or "/items/" in a or "/review/" in a], actions
    assert "<select" not in page.split("<main")[1].split('id="record-heading"')[0]
    for p in meeting.participants:
        assert page.count(f'href="{url}/participants/{p.id}"') == 1, p.display_name
        assert f'<span class="visually-hidden">: {p.display_name}</span>' in page
    assert page.count(f'href="{url}/items/{item.id}/edit"') == 1


def test_a_participant_is_edited_on_its_own_page_with_named_controls(auth_client, facilitator, fresh_db):
    meeting, _item = _meeting_with_rows(facilitator)
    relative = participant(meeting, "relative")
    edit = f"/meetings/{meeting.id}/participants/{relative.id}"
    page = auth_client.get(edit).get_data(as_text=True)
    # The accessible name says whose control it is (issue 27: "Kutsu: Helena K."), once each.
    assert re.search(rf'<label for="p{relative.id}-invitation_status">Kutsu<span class="visually-hidden">: '
                     rf'Helena Kuusela \(äiti\)</span></label>', page)
    assert re.search(rf'<label for="p{relative.id}-attended">Osallistui<span class="visually-hidden">: '
                     rf'Helena Kuusela \(äiti\)</span></label>', page)
    assert f'href="{edit}/remove"' in page  # removing still asks first, from here
    response = auth_client.post_form(edit, {f"p{relative.id}-invitation_status": "accepted",
                                            f"p{relative.id}-attended": "yes"}, token_from=edit)
    assert response.status_code == 302 and response.location.endswith(f"/meetings/{meeting.id}#participants-heading")
    row = fresh_db.get(MeetingParticipant, relative.id)
    assert (row.invitation_status, row.attended) == ("accepted", True)


def test_a_refused_participant_edit_comes_back_with_the_error_at_the_field(auth_client, facilitator, fresh_db):
    meeting, _item = _meeting_with_rows(facilitator)
    relative = participant(meeting, "relative")
    edit = f"/meetings/{meeting.id}/participants/{relative.id}"
    auth_client.get(edit)
    seen = len(logged(fresh_db, meeting.client_id))
    response = auth_client.post_form(edit, {f"p{relative.id}-invitation_status": "bogus",
                                            f"p{relative.id}-attended": "yes"}, token_from=edit)
    # The form page (post_form's token read) and the refused form each logged their view of the client.
    assert logged(fresh_db, meeting.client_id)[seen:] == [("view", f"meeting {meeting.id} participant form")] * 2
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="p{relative.id}-invitation_status-error"' in body
    assert re.search(r'class="error-summary"[^>]*autofocus', body)
    assert f'href="#p{relative.id}-invitation_status"' in body
    assert fresh_db.get(MeetingParticipant, relative.id).attended is None


def test_an_item_status_is_changed_on_the_item_page(auth_client, facilitator, fresh_db):
    meeting, item = _meeting_with_rows(facilitator)
    edit = f"/meetings/{meeting.id}/items/{item.id}/edit"
    page = auth_client.get(edit).get_data(as_text=True)
    assert re.search(rf'<label for="i{item.id}-status">Tila<span class="visually-hidden">: Hae asuntoa</span>', page)
    assert f'/meetings/{meeting.id}/items/{item.id}/status' in _forms(page)
    response = auth_client.post_form(f"/meetings/{meeting.id}/items/{item.id}/status",
                                     {f"i{item.id}-status": "done"}, token_from=edit)
    assert response.status_code == 302
    assert fresh_db.get(ActionItem, item.id).status == "done"
    # The status history is on the item's page and on the meeting page.
    assert "Tilan muutokset" in auth_client.get(edit).get_data(as_text=True)
    assert "Tilan muutokset" in auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    refused = auth_client.post_form(f"/meetings/{meeting.id}/items/{item.id}/status",
                                    {f"i{item.id}-status": "nonsense"}, token_from=edit)
    assert refused.status_code == 200 and f'id="i{item.id}-status-error"' in refused.get_data(as_text=True)
    assert fresh_db.get(ActionItem, item.id).status == "done"


def test_a_missing_review_decision_is_shown_at_the_field_and_linked_from_the_summary(auth_client, facilitator,
                                                                                   fresh_db):
    meeting = make_meeting([facilitator, make_user(name="Pekka Peltonen")], day=local_today() - timedelta(days=14))
    item = plan.add_item(meeting, responsible_id=participant(meeting, "client").id, what="Hae asuntoa").item
    nxt = plan.schedule_follow_up(meeting, user=facilitator, starts_at=meeting.starts_at + timedelta(days=28),
                                      ends_at=meeting.ends_at + timedelta(days=28))
    db.session.commit()
    url = f"/meetings/{nxt.id}"
    page = auth_client.get(url).get_data(as_text=True)
    assert page.count(f'href="{url}/review/{item.id}"') == 1 and "<select" not in page.split("<main")[1].split('id="record-heading"')[0]

    response = auth_client.post_form(f"{url}/review/{item.id}", {f"r{item.id}-action": ""}, token_from=url)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    # At the field: its error paragraph, tied to the select, which says it is invalid...
    error = re.search(rf'<p class="error" id="r{item.id}-action-error">([^<]*)</p>', body)
    assert error and "Valitse päätös" in error.group(1)
    select = re.search(rf'<select[^>]*id="r{item.id}-action"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in select and f'r{item.id}-action-error' in select
    # ...and in the focused summary, as a link to the field.
    summary = re.search(r'<div class="error-summary"[^>]*autofocus>(.*?)</div>', body, re.S).group(1)
    assert f'href="#r{item.id}-action"' in summary and "Valitse päätös" in summary
    assert fresh_db.get(ActionItem, item.id).status == "open"
    assert auth_client.post_form(f"{url}/review/{item.id}", {f"r{item.id}-action": "dropped"},
                                 token_from=url).status_code == 302
    assert fresh_db.get(ActionItem, item.id).status == "dropped"
