"""A lead's client list (issue #23): the unit's clients and the clients of other units the lead
has a reason for are found way in by way in, and the total ("Page 1 of N") from the same ways in
(register.access.client_list). The two must agree: a client both of the lead's unit and the
lead's own counts once, another unit's client the lead works with counts, another unit's client
without a reason never shows."""
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


def _listed(html: str) -> list[int]:
    # The ids in the order the page lists them (a row may link its client more than once).
    import re

    return list(dict.fromkeys(int(i) for i in re.findall(r'href="/clients/(\d+)"', html)))


def _lead_with_clients_here_and_elsewhere():
    """A lead of unit A with 110 clients of the unit, and three clients of unit B the lead has a
    reason for (one of their workers, a meeting, a group they facilitate), named among the unit's
    so that they fall on every page; and a client of unit B without a reason."""
    from datetime import timedelta

    from core.db import utcnow
    from register.services import add_worker, create_client
    from tests.factories import make_group_with_session, make_meeting

    unit_a, unit_b = make_two_units()
    lead = make_member(email="lead.a@example.fi", name="Lea Lead", role="lead", unit_id=unit_a, language="en")
    worker_b = make_member(email="worker.b@example.fi", name="Ville Worker", role="facilitator", unit_id=unit_b)
    ours = [create_client(name=f"Asiakas {n:03}", created_by=lead) for n in range(110)]
    worked = create_client(name="Asiakas 025 B", created_by=worker_b)
    add_worker(worked, lead.id)
    met = create_client(name="Asiakas 060 B", created_by=worker_b)
    make_meeting(client=met, starts_at=utcnow() + timedelta(days=3), staff=lead)
    grouped = create_client(name="Asiakas 105 B", created_by=worker_b)
    group, _ = make_group_with_session(facilitator=lead, clients=[grouped], starts_at=utcnow() + timedelta(days=5))
    group.unit_id = unit_b
    unseen = create_client(name="Asiakas 030 B", created_by=worker_b)
    db.session.commit()
    return lead, ours, [worked, met, grouped], unseen


def test_a_leads_pages_merge_the_units_clients_with_those_elsewhere_in_name_order(app):
    """The unit's clients and the clients of other units the lead works with are read by two ways
    in (register.access.client_list) and merged: every page in name order, none repeated or
    skipped across pages, the total counting each once, a search filtering both."""
    lead, ours, elsewhere, unseen = _lead_with_clients_here_and_elsewhere()
    in_order = sorted([*ours, *elsewhere], key=lambda c: (c.name, c.id))
    expected = [c.id for c in in_order]
    c = app.test_client()
    login(c, lead)

    pages = [c.get(f"/clients?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    assert "Page 1 of 3" in pages[0]
    assert [len(_listed(page)) for page in pages] == [50, 50, 13]
    assert [i for page in pages for i in _listed(page)] == expected
    assert unseen.id not in _listed(pages[0])
    assert _listed(c.get("/clients?page=4").get_data(as_text=True)) == []

    found = _listed(c.get("/clients?q=05").get_data(as_text=True))
    assert found == [c.id for c in in_order if "05" in c.name]
    assert elsewhere[2].id in found and len(found) == 13  # 005, 050-059, 105 and 105 B


def test_a_facilitators_list_is_their_own_clients_wherever_they_are(app):
    """Someone who leads no unit sees the clients they have a reason for, of any unit, and no
    other: their case load read from the reasons, counted from the same ids."""
    from register.services import add_worker, create_client

    unit_a, unit_b = make_two_units()
    worker = make_member(email="worker.a@example.fi", name="Wilma Worker", role="facilitator", unit_id=unit_a,
                         language="en")
    other = make_member(email="worker.b@example.fi", name="Ville Worker", role="facilitator", unit_id=unit_b)
    mine = [create_client(name=name, created_by=worker) for name in ("Cecilia", "Aino")]
    theirs_mine = create_client(name="Bertta", created_by=other)
    add_worker(theirs_mine, worker.id)
    not_mine = [create_client(name="Anja", created_by=other), create_client(name="Aada", created_by=other)]
    db.session.commit()
    c = app.test_client()
    login(c, worker)

    html = c.get("/clients").get_data(as_text=True)
    assert _listed(html) == [mine[1].id, theirs_mine.id, mine[0].id]
    assert not set(_listed(html)) & {x.id for x in not_mine}


def test_a_leads_client_list_reads_the_units_clients_by_the_unit_index(app):
    """The rows of a lead's unit are read by (unit_id, active, name), a page at a time: never by
    walking every client of the county by name (``ix_client_active_name``), which at ten units
    passed nine other units' clients for each of the lead's (bench/RESULTS.md, 1.75×)."""
    import sqlalchemy as sa

    from tests.conftest import BACKEND

    lead, _, _, unseen = _lead_with_clients_here_and_elsewhere()
    if BACKEND == "postgres":
        # PostgreSQL plans by statistics, and those of a test's hundred rows are whatever
        # autovacuum last sampled, if anything (a CI run once planned the unit's count by the
        # (active, name) index). Give it a county's shape instead: another unit thirty times
        # larger, analysed in full (under 30,000 rows ANALYZE reads every row, so the statistics
        # are the same every run).
        from register.models import Client

        db.session.execute(sa.insert(Client), [
            {"name": f"Muu {n:05}", "unit_id": unseen.unit_id, "active": n % 4 != 0} for n in range(4000)])
        db.session.commit()
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    c = app.test_client()
    login(c, lead)
    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if " ".join(statement.split()).startswith("SELECT") and "client" in statement:
            statements.append((statement, parameters))

    db.session.close()
    sa.event.listen(db.engine, "after_cursor_execute", keep)
    try:
        assert c.get("/clients").status_code == 200
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", keep)
    plans = []
    with db.engine.connect() as conn:
        if BACKEND == "postgres":
            conn.exec_driver_sql("SET enable_seqscan = off")  # plan as if the table were large
        for statement, parameters in statements:
            explain = "EXPLAIN QUERY PLAN " if BACKEND != "postgres" else "EXPLAIN "
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
            plans.append(" ".join(str(row[-1]) for row in rows))
    assert any("ix_client_unit_active_name" in plan for plan in plans), plans
    assert not any("ix_client_active_name" in plan for plan in plans), plans
