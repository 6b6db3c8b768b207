"""Follow-up: the next meeting copies the participants, opens with the previous meeting's open
items for review (done / dropped / carried forward) and keeps each item's history; my tasks."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today, to_local
from meetings import plan
from meetings.models import ActionItem, Meeting
from tests.factories import make_client, make_user
from tests.test_meetings_support import add_relative, make_contact, make_meeting, participant


def _held_meeting_with_plan(facilitator):
    colleague = make_user(name="Pekka Peltonen")
    client = make_client(name="Matti Kuusela", worker=facilitator)
    relative = add_relative(client)
    contact = make_contact()
    meeting = make_meeting([facilitator, colleague], client=client, contacts=[contact], relatives=[relative],
                           day=local_today() - timedelta(days=14))
    due = local_today() + timedelta(days=3)
    items = {
        "done": plan.add_item(meeting, responsible_id=participant(meeting, "client").id, what="Apply for housing",
                                  due_date=due).item,
        "dropped": plan.add_item(meeting, responsible_id=participant(meeting, "relative").id,
                                     what="Find a course").item,
        "carry": plan.add_item(meeting, responsible_id=participant(meeting, "partner").id,
                                   what="Start the treatment group", with_whom="Matti", due_date=due).item,
    }
    db.session.commit()
    return meeting, items, contact


def test_follow_up_copies_participants_and_reviews_items(auth_client, facilitator):
    meeting, items, contact = _held_meeting_with_plan(facilitator)
    day = local_today() + timedelta(days=21)
    response = auth_client.post_form(f"/meetings/{meeting.id}/follow-up", {
        "purpose": "Follow-up", "day": day.isoformat(), "start": "10:00", "length": "45"})
    assert response.status_code == 302
    nxt = db.session.scalar(sa.select(Meeting).where(Meeting.previous_meeting_id == meeting.id))
    assert to_local(nxt.starts_at).date() == day and (nxt.ends_at - nxt.starts_at) == timedelta(minutes=45)
    people = lambda m: sorted((p.kind, p.user_id, p.contact_id, p.relative_id) for p in m.participants)  # noqa: E731
    assert people(nxt) == people(meeting)

    page = auth_client.get(f"/meetings/{nxt.id}").get_data(as_text=True)
    assert 'id="review-heading"' in page
    assert all(i.what in page for i in items.values())

    def review(item, action, **extra):
        data = {f"r{item.id}-action": action}
        data.update({f"r{item.id}-{k}": v for k, v in extra.items()})
        return auth_client.post_form(f"/meetings/{nxt.id}/review/{item.id}", data)

    new_due = (day + timedelta(days=30)).isoformat()
    assert review(items["done"], "done").status_code == 302
    assert review(items["dropped"], "dropped").status_code == 302
    assert review(items["carry"], "carry", due_date=new_due).status_code == 302
    for item in items.values():
        db.session.refresh(item)
    assert items["done"].status == "done" and items["done"].status_changed_by == facilitator.name
    assert items["dropped"].status == "dropped"
    assert items["carry"].status == "carried"
    carried = db.session.scalar(sa.select(ActionItem).where(ActionItem.meeting_id == nxt.id))
    assert carried.carried_from_id == items["carry"].id and carried.what == "Start the treatment group"
    assert carried.due_date.isoformat() == new_due
    assert carried.responsible.meeting_id == nxt.id and carried.responsible.contact_id == contact.id
    assert carried.status == "open"

    # Nothing is left to review; the item's history across meetings stays visible.
    page = auth_client.get(f"/meetings/{nxt.id}").get_data(as_text=True)
    assert 'id="review-heading"' not in page
    assert 'class="item-history"' in page and to_local(meeting.starts_at).strftime("%-d.%-m.%Y") in page
    # ...and the earlier meeting points forward to where the item continues.
    old_page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'href="/meetings/{nxt.id}#plan-heading"' in old_page
    # Its facts name the next meeting, and the next one names it as the previous.
    assert f'<a href="/meetings/{nxt.id}">' in old_page and f'<a href="/meetings/{meeting.id}">' in page
    # A second review of the same item is refused: the review page comes back with the reason at the decision.
    refused = review(items["carry"], "done")
    assert refused.status_code == 200 and f'id="r{items["carry"].id}-action-error"' in refused.get_data(as_text=True)
    db.session.refresh(items["carry"])
    assert items["carry"].status == "carried"

    # Carrying the carried item again keeps the whole chain.
    third = plan.schedule_follow_up(nxt, user=facilitator, starts_at=nxt.starts_at + timedelta(days=30),
                                        ends_at=nxt.ends_at + timedelta(days=30))
    again = plan.review_item(third, carried, "carry", by_name="x")
    db.session.commit()
    assert [i.id for i in plan.item_histories([again])[again.id]] == [items["carry"].id, carried.id]


def test_review_of_an_item_from_an_unrelated_meeting_is_404(auth_client, facilitator):
    meeting, items, _contact = _held_meeting_with_plan(facilitator)
    unrelated = make_meeting([facilitator], client=meeting.client)
    response = auth_client.post_form(f"/meetings/{unrelated.id}/review/{items['done'].id}",
                                     {f"r{items['done'].id}-action": "done"})
    assert response.status_code == 404
    db.session.refresh(items["done"])
    assert items["done"].status == "open"


def test_my_tasks_lists_open_items_overdue_first(auth_client, facilitator):
    other = make_user()
    meeting = make_meeting([facilitator, other], day=local_today() - timedelta(days=10))
    me = participant(meeting, "staff", user_id=facilitator.id)
    them = participant(meeting, "staff", user_id=other.id)
    later = plan.add_item(meeting, responsible_id=me.id, what="Later task", due_date=local_today() + timedelta(days=9)).item
    overdue = plan.add_item(meeting, responsible_id=me.id, what="Overdue task", due_date=local_today() - timedelta(days=2)).item
    plan.add_item(meeting, responsible_id=them.id, what="Colleague's task")
    done = plan.add_item(meeting, responsible_id=me.id, what="Finished task").item
    plan.set_item_status(done, "done", by_name="x")
    db.session.commit()
    assert [i.id for i in plan.open_items_for_user(facilitator.id)] == [overdue.id, later.id]
    page = auth_client.get("/meetings/tasks").get_data(as_text=True)
    assert page.index("Overdue task") < page.index("Later task")
    assert "Colleague's task" not in page and "Finished task" not in page
    start = auth_client.get("/").get_data(as_text=True)
    assert 'id="panel-my-tasks"' in start and "Overdue task" in start
