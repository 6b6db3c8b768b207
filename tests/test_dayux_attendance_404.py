"""The roll call, the printable attendance sheet and the enrolment actions show or change client
records (the participants): for staff who may not see the group's participants they do not
exist (404, as the participants page), so neither the group's participants nor its session ids
can be probed. A 403 would confirm that the record is there."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from groups.models import Attendance, Enrolment
from tests.factories import login, make_client, make_group_with_session, make_user


@pytest.fixture
def outsider(app):
    c = app.test_client()
    login(c, make_user(email="outsider@example.fi", name="Ulla Outsider"))
    return c


@pytest.fixture
def past_group(facilitator):
    client = make_client(name="Matti Meikäläinen")
    group, session = make_group_with_session(facilitator=facilitator, clients=[client],
                                             starts_at=utcnow() - timedelta(days=1))
    db.session.commit()
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.group_id == group.id))
    return group, session, enrolment


def test_roll_call_and_sheet_are_not_found_for_staff_who_may_not_see_the_participants(outsider, past_group):
    group, session, _enrolment = past_group
    for url in (f"/groups/{group.id}/sessions/{session.id}/roll-call", f"/groups/{group.id}/sheet"):
        response = outsider.get(url)
        assert response.status_code == 404, url
        assert "Matti" not in response.get_data(as_text=True)


def test_a_posted_roll_call_by_an_outsider_is_404_and_records_nothing(outsider, past_group, fresh_db):
    group, session, enrolment = past_group
    response = outsider.post_form(f"/groups/{group.id}/sessions/{session.id}/roll-call",
                                  {f"att-{enrolment.id}": "absent"}, token_from="/groups/")
    assert response.status_code == 404
    assert fresh_db.scalars(sa.select(Attendance).where(Attendance.session_id == session.id)) == []


def test_withdrawing_or_confirming_a_place_by_an_outsider_is_404_and_changes_nothing(outsider, past_group, fresh_db):
    group, _session, enrolment = past_group
    base = f"/groups/{group.id}/enrolments/{enrolment.id}"
    assert outsider.get(f"{base}/withdraw").status_code == 404
    assert outsider.post_form(f"{base}/withdraw", {}, token_from="/groups/").status_code == 404
    assert outsider.post_form(f"{base}/confirm", {}, token_from="/groups/").status_code == 404
    assert fresh_db.get(Enrolment, enrolment.id).status == "enrolled"


def test_the_facilitator_still_takes_the_roll_call(auth_client, past_group, fresh_db):
    group, session, enrolment = past_group
    assert auth_client.get(f"/groups/{group.id}/sessions/{session.id}/roll-call").status_code == 200
    assert auth_client.get(f"/groups/{group.id}/sheet").status_code == 200
    response = auth_client.post_form(f"/groups/{group.id}/sessions/{session.id}/roll-call",
                                     {f"att-{enrolment.id}": "absent"}, token_from="/groups/")
    assert response.status_code == 302
    rows = fresh_db.scalars(sa.select(Attendance).where(Attendance.session_id == session.id))
    assert [(r.enrolment_id, r.status) for r in rows] == [(enrolment.id, "absent")]
