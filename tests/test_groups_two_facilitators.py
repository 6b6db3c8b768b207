"""Once enrolment is open a group always keeps two facilitators: removing one is refused
(translated error at the field, input kept) unless a successor is named in the same save."""
from __future__ import annotations

import pytest

from groups.models import Group
from tests.factories import make_user
from tests.test_groups_planning import _group_data
from tests.test_groups_support import make_group, text_of


@pytest.mark.parametrize("status", ["enrolling", "running"])
@pytest.mark.parametrize("emptied", ["facilitator1_id", "facilitator2_id"])
def test_removing_a_facilitator_after_enrolment_opened_is_refused(auth_client, facilitator, fresh_db, status,
                                                                  emptied):
    other = make_user(name="Toinen Ohjaaja")
    group = make_group(facilitator, other, weeks=2, status=status)
    ids = {"facilitator1_id": str(facilitator.id), "facilitator2_id": str(other.id), emptied: "0"}
    response = auth_client.post_form(f"/groups/{group.id}/edit", _group_data(group, title="Uusi nimi", **ids),
                                     token_from=f"/groups/{group.id}/edit")
    html = text_of(response)
    assert response.status_code == 200
    assert "Ilmoittautuminen on auki, joten ryhmällä on oltava kaksi ohjaajaa" in html
    assert 'value="Uusi nimi"' in html           # the input is kept
    stored = fresh_db.get(Group, group.id)
    assert (stored.facilitator1_id, stored.facilitator2_id, stored.title) == (facilitator.id, other.id, "Raharyhmä")


def test_a_facilitator_may_be_replaced_in_the_same_save(auth_client, facilitator, fresh_db):
    other, successor = make_user(), make_user()
    group = make_group(facilitator, other, weeks=2, status="enrolling")
    response = auth_client.post_form(f"/groups/{group.id}/edit", _group_data(
        group, facilitator1_id=str(facilitator.id), facilitator2_id=str(successor.id)),
        token_from=f"/groups/{group.id}/edit")
    assert response.status_code == 302
    stored = fresh_db.get(Group, group.id)
    assert (stored.facilitator1_id, stored.facilitator2_id) == (facilitator.id, successor.id)


def test_a_group_in_planning_may_still_have_one_facilitator(auth_client, facilitator, fresh_db):
    other = make_user()
    group = make_group(facilitator, other, weeks=2, status="planning")
    response = auth_client.post_form(f"/groups/{group.id}/edit", _group_data(
        group, facilitator1_id=str(facilitator.id), facilitator2_id="0"), token_from=f"/groups/{group.id}/edit")
    assert response.status_code == 302
    assert fresh_db.get(Group, group.id).facilitator2_id is None
