"""Undo of mistakes: a group still being planned can be deleted (after a question), one past
planning cannot; giving up on the form of a group just made from an idea leaves no group
behind and the idea open again."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from core.extensions import db
from groups import enrolment
from groups.models import Group, GroupIdea, GroupSession
from tests.factories import make_client, make_user
from tests.test_groups_support import make_group, text_of


def test_a_planned_group_is_deleted_after_a_question(auth_client, facilitator, fresh_db):
    group = make_group(facilitator, make_user(), title="Väärä ryhmä", weeks=3, first=date(2027, 1, 4))
    group_id = group.id  # kept: the row is deleted by a request below
    url = f"/groups/{group_id}"
    assert f'href="{url}/delete"' in text_of(auth_client.get(url))
    question = text_of(auth_client.get(f"{url}/delete"))
    assert "Poistetaanko ryhmä ”Väärä ryhmä”?" in question and "3 ryhmäkertaa" in question
    assert fresh_db.get(Group, group_id) is not None

    response = auth_client.post_form(f"{url}/delete", {}, token_from=f"{url}/delete")
    assert response.status_code == 302
    assert fresh_db.get(Group, group_id) is None
    assert fresh_db.scalar(sa.select(sa.func.count(GroupSession.id))) == 0
    assert "Ryhmä ”Väärä ryhmä” poistettiin." in text_of(auth_client.get(response.location))


def test_a_group_past_planning_or_with_clients_is_not_deleted(auth_client, facilitator, fresh_db):
    enrolling = make_group(facilitator, make_user(), weeks=2, status="enrolling")
    enrolment.enrol(enrolling, make_client(name="Anna Aalto").id)
    db.session.commit()
    url = f"/groups/{enrolling.id}"
    assert f'href="{url}/delete"' not in text_of(auth_client.get(url))
    assert 'id="delete-refusal"' in text_of(auth_client.get(f"{url}/delete"))
    auth_client.post_form(f"{url}/delete", {}, token_from=url)
    assert fresh_db.get(Group, enrolling.id) is not None


def test_cancelling_the_form_of_a_group_made_from_an_idea_leaves_no_group(auth_client, facilitator, fresh_db):
    auth_client.post_form("/groups/ideas", {"theme": "Yksinäisyys", "source": "team_meeting"}, token_from="/groups/ideas")
    idea_id = fresh_db.scalar(sa.select(GroupIdea.id))
    response = auth_client.post_form(f"/groups/ideas/{idea_id}/plan", {}, token_from="/groups/ideas")
    group_id = fresh_db.scalar(sa.select(Group.id))
    form_page = text_of(auth_client.get(response.location))
    cancel = re.search(r'<form method="post" action="(/groups/\d+/delete\?back=ideas)"', form_page)
    assert cancel, "the form of a group just made from an idea has no cancel that removes it"

    response = auth_client.post_form(cancel.group(1).replace("&amp;", "&"), {}, token_from=response.location)
    assert response.status_code == 302 and response.location.endswith("/groups/ideas")
    assert fresh_db.get(Group, group_id) is None
    assert fresh_db.get(GroupIdea, idea_id).group_id is None
    ideas = text_of(auth_client.get("/groups/ideas"))
    assert "Idea on yhä listalla." in ideas
    assert f'action="/groups/ideas/{idea_id}/plan"' in ideas  # can be planned again


def test_an_identical_plan_item_is_warned_about_and_can_be_saved_anyway(auth_client, facilitator, fresh_db):
    from meetings.models import ActionItem
    from tests.test_meetings_support import make_meeting, participant

    meeting = make_meeting([facilitator])
    responsible = str(participant(meeting, "client").id)
    url = f"/meetings/{meeting.id}"
    data = {"responsible": responsible, "what": "Soittaa vuokranantajalle", "due_date": "2027-01-15"}
    assert auth_client.post_form(f"{url}/items", data, token_from=url).status_code == 302

    # The same again (different case and spacing): warned, not saved, input kept.
    again = dict(data, what="soittaa  Vuokranantajalle")
    response = auth_client.post_form(f"{url}/items", again, token_from=url)
    body = text_of(response)
    assert response.status_code == 200 and 'id="duplicate-warning"' in body
    assert "Suunnitelmassa on jo tämä tehtävä" in body and 'value="soittaa  Vuokranantajalle"' in body
    assert fresh_db.scalar(sa.select(sa.func.count(ActionItem.id))) == 1

    # Another date is another task.
    other = dict(data, due_date="2027-02-15")
    assert auth_client.post_form(f"{url}/items", other, token_from=url).status_code == 302
    assert fresh_db.scalar(sa.select(sa.func.count(ActionItem.id))) == 2

    # "Add it anyway" saves it.
    anyway = dict(again, save_duplicate="y")
    assert auth_client.post_form(f"{url}/items", anyway, token_from=url).status_code == 302
    assert fresh_db.scalar(sa.select(sa.func.count(ActionItem.id))) == 3


def test_a_running_group_is_cancelled_with_a_reason_and_its_clients_are_told(auth_client, facilitator, fresh_db):
    from datetime import timedelta

    from core.timeutil import local_today
    from reminders.models import OutboxMessage

    group = make_group(facilitator, make_user(), title="Raharyhmä", weeks=4,
                       first=local_today() - timedelta(days=14), status="running")
    anna = make_client(name="Anna Aalto", consent=True, phone="040 123 4567")
    ben = make_client(name="Ben Berg")  # no consent to messages
    for person in (anna, ben):
        enrolment.enrol(group, person.id)
    db.session.commit()
    url = f"/groups/{group.id}"
    assert f'href="{url}/cancel"' in text_of(auth_client.get(url))

    question = text_of(auth_client.get(f"{url}/cancel"))
    assert "Perutaanko ryhmä ”Raharyhmä”?" in question
    assert "Anna Aalto: saa viestin" in question and "Ben Berg: viestiä ei voi lähettää" in question

    # No reason: refused at the field, nothing changed, nobody told.
    response = auth_client.post_form(f"{url}/cancel", {"reason": "  "}, token_from=f"{url}/cancel")
    assert response.status_code == 200 and 'id="reason-error"' in text_of(response)
    assert fresh_db.get(Group, group.id).status == "running"
    assert fresh_db.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0

    response = auth_client.post_form(f"{url}/cancel", {"reason": "Ohjaaja sairastui."}, token_from=f"{url}/cancel")
    assert response.status_code == 302
    stored = fresh_db.get(Group, group.id)
    assert stored.status == "cancelled" and stored.cancel_reason == "Ohjaaja sairastui."
    statuses = fresh_db.execute(sa.select(GroupSession.starts_at, GroupSession.status)
                                .where(GroupSession.group_id == group.id).order_by(GroupSession.starts_at))
    from core.db import utcnow
    now = utcnow()
    assert all((status == "cancelled") == (starts > now) for starts, status in statuses), statuses
    assert any(status == "cancelled" for _s, status in statuses)
    assert any(status == "scheduled" for _s, status in statuses)  # held sessions stay held
    messages = fresh_db.scalars(sa.select(OutboxMessage))
    assert [(m.client_id, m.channel, m.status) for m in messages] == [(anna.id, "sms", "pending")]
    assert "Raharyhmä" in messages[0].body and "Ohjaaja sairastui." in messages[0].body
    assert "Aalto" not in messages[0].subject
    assert "Peruttu: Ohjaaja sairastui." in text_of(auth_client.get(url))

    # Cancelled once: a second cancel is refused, no second message.
    auth_client.post_form(f"{url}/cancel", {"reason": "Uudestaan"}, token_from=url)
    assert fresh_db.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
