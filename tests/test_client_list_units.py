"""A lead's client list (issue #23): the rows are found by name with the access rule per row, and
the total ("Page 1 of N") unit by unit and reason by reason (register.access.accessible_count).
The two must agree: a client both of the lead's unit and the lead's own counts once, another
unit's client the lead works with counts, another unit's client without a reason never shows."""
from __future__ import annotations

from core.extensions import db
from tests.factories import linked_ids, login, make_member, make_two_units


def _ids(html: str) -> set[int]:
    return linked_ids(html, "/clients/")


def test_the_leads_client_list_and_its_page_count_agree(app):
    from register.services import add_worker, create_client

    unit_a, unit_b = make_two_units()
    lead = make_member(email="lead.a@example.fi", name="Lea Lead", role="lead", unit_id=unit_a, language="en")
    worker_b = make_member(email="worker.b@example.fi", name="Ville Worker", role="facilitator", unit_id=unit_b)
    ours = [create_client(name=f"Asiakas {n:02}", created_by=lead) for n in range(49)]
    add_worker(ours[0], lead.id)  # the unit's and the lead's own: once
    theirs_mine = create_client(name="Bertta Bee", created_by=worker_b)
    add_worker(theirs_mine, lead.id)
    theirs = create_client(name="Cecilia Cee", created_by=worker_b)
    gone = create_client(name="Doris Dee", created_by=lead)
    gone.active = False
    db.session.commit()
    c = app.test_client()
    login(c, lead)

    html = c.get("/clients").get_data(as_text=True)
    assert _ids(html) == {client.id for client in ours} | {theirs_mine.id}
    assert "Page 1 of" not in html  # 50 clients: one page, not a second for a client counted twice
    assert theirs.id not in _ids(html) and gone.id not in _ids(html)

    last = create_client(name="Öhman Östen", created_by=lead)
    db.session.commit()
    first_page = c.get("/clients").get_data(as_text=True)
    assert "Page 1 of 2" in first_page
    assert _ids(c.get("/clients?page=2").get_data(as_text=True)) == {last.id}
