"""A plan item keeps every status change (who, when, from what to what), including a review's
"carried forward" and a partner's "done" through their link; the item and the meeting's change
history show them all, and the page reads them in a fixed number of queries."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from meetings import partner_links, plan
from meetings.models import ItemStatusChange
from tests.factories import make_client
from tests.sqlcapture import captured_statements
from tests.test_meetings_support import make_meeting


def _status(http, meeting, item, status):
    return http.post_form(f"/meetings/{meeting.id}/items/{item.id}/status", {f"i{item.id}-status": status})


def test_every_status_change_is_kept_and_shown(auth_client, facilitator, lead_client, lead, fresh_db):
    meeting = make_meeting([facilitator], client=make_client(name="Matti Kuusela", worker=facilitator))
    item = plan.add_item(meeting, responsible_id=meeting.participants[0].id, what="Soita vuokranantajalle").item
    db.session.commit()
    assert _status(auth_client, meeting, item, "done").status_code == 302
    assert _status(lead_client, meeting, item, "open").status_code == 302
    assert _status(auth_client, meeting, item, "dropped").status_code == 302

    rows = fresh_db.execute(sa.select(ItemStatusChange.old_status, ItemStatusChange.new_status,
                                      ItemStatusChange.changed_by_id, ItemStatusChange.changed_by_name)
                            .where(ItemStatusChange.item_id == item.id).order_by(ItemStatusChange.id))
    assert [tuple(r) for r in rows] == [
        ("open", "done", facilitator.id, facilitator.name),
        ("done", "open", lead.id, lead.name),
        ("open", "dropped", facilitator.id, facilitator.name),
    ]
    page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    history = page[page.index("item-status-history"):page.index("</details>", page.index("item-status-history"))]
    # On the item, oldest first, each with the one who changed it.
    assert re.search(r"Kesken → Tehty \(" + re.escape(facilitator.name), history)
    assert re.search(r"Tehty → Kesken \(" + re.escape(lead.name), history)
    assert history.index("Kesken → Tehty") < history.index("Tehty → Kesken") < history.index("Kesken → Luovuttu")
    # In the meeting's change history too: three rows naming the item.
    changes = page[page.index('id="changes-heading"'):]
    assert changes.count("Suunnitelman kohdan tila: Soita vuokranantajalle") == 3


def test_carrying_forward_and_a_partners_done_are_kept(auth_client, facilitator, fresh_db):
    from tests.test_meetings_support import make_contact

    contact = make_contact()
    meeting = make_meeting([facilitator], contacts=[contact], client=make_client(worker=facilitator))
    partner = next(p for p in meeting.participants if p.kind == "partner")
    carried = plan.add_item(meeting, responsible_id=meeting.participants[0].id, what="Hae tukea").item
    partners = plan.add_item(meeting, responsible_id=partner.id, what="Varaa aika").item
    db.session.commit()
    nxt = plan.schedule_follow_up(meeting, user=facilitator, starts_at=meeting.starts_at + timedelta(days=14),
                                      ends_at=meeting.ends_at + timedelta(days=14))
    db.session.commit()
    assert auth_client.post_form(f"/meetings/{nxt.id}/review/{carried.id}", {f"r{carried.id}-action": "carry"}
                                 ).status_code == 302
    link, _token = partner_links.create_partner_link(contact, user=facilitator)
    partner_links.partner_mark_done(link, partners.id)
    db.session.commit()
    rows = {r.item_id: (r.old_status, r.new_status, r.changed_by_id, r.changed_by_name)
            for r in fresh_db.scalars(sa.select(ItemStatusChange))}
    assert rows[carried.id] == ("open", "carried", facilitator.id, facilitator.name)
    assert rows[partners.id][:3] == ("open", "done", None)
    assert contact.name in rows[partners.id][3]


def test_meeting_page_reads_status_history_in_fixed_queries(auth_client, facilitator):
    meeting = make_meeting([facilitator], client=make_client(worker=facilitator))
    items = [plan.add_item(meeting, responsible_id=meeting.participants[0].id, what=f"Tehtävä {n}").item
             for n in range(4)]
    db.session.commit()
    _status(auth_client, meeting, items[0], "done")
    with captured_statements() as few:
        auth_client.get(f"/meetings/{meeting.id}")
    for item in items:
        _status(auth_client, meeting, item, "dropped")
        _status(auth_client, meeting, item, "open")
    with captured_statements() as many:
        page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert page.count("Suunnitelman kohdan tila:") == 9
    assert len(many) == len(few)
