"""The start page's statements are built once per role and run with each user's values
(``core.db.Viewer``, ``core.agenda.AGENDA``; docs/DEVELOPING.md, "A statement on a hot path is
built once"). Two things must hold at once: no statement is built again for the next user of the
same role (building and keying them was a third of the page's CPU, bench/RESULTS.md), and each
user still gets their own rows (a statement built for one user and cached must not carry that
user's id to the next)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db import utcnow
from core.extensions import db
from tests.factories import (
    login,
    make_client,
    make_group_with_session,
    make_home_visit,
    make_meeting,
    make_member,
    make_outreach_visit,
    make_two_units,
)


def _unit(unit_id: int, tag: str) -> dict:
    """A lead and two workers of one unit, a client, and one of each kind of record the start page
    reads: a held session without a roll call and a meeting not marked held (to record), a
    home visit and a network meeting with one worker next week (the lead's exceptions), an
    outreach visit today (the agenda) and a group with a free place and a waiting list."""
    from groups.models import Enrolment

    lead = make_member(email=f"lead.{tag}@example.fi", name=f"Lead {tag.upper()}", role="lead", unit_id=unit_id)
    worker = make_member(email=f"worker.{tag}@example.fi", name=f"Worker {tag.upper()}", role="facilitator",
                         unit_id=unit_id)
    partner = make_member(email=f"pair.{tag}@example.fi", name=f"Pair {tag.upper()}", role="facilitator",
                          unit_id=unit_id)
    client = make_client(name=f"Client {tag.upper()}", worker=worker)
    waiting = make_client(name=f"Waiting {tag.upper()}", worker=worker)
    now = utcnow()
    group, held = make_group_with_session(facilitator=worker, clients=[client], starts_at=now - timedelta(days=2))
    group.title = f"Group {tag.upper()}"
    group.unit_id = unit_id  # a group's unit is chosen on its form (the factory leaves the default)
    group.capacity = 5
    group.status = "enrolling"
    db.session.add(Enrolment(group_id=group.id, client_id=waiting.id, status="waiting"))
    unrecorded = make_meeting(client=client, starts_at=now - timedelta(days=1), staff=worker)
    single = make_meeting(client=client, starts_at=now + timedelta(days=5), staff=worker)
    db.session.commit()
    home = make_home_visit(client=client, worker1=worker, starts_at=now + timedelta(days=6))
    visit = make_outreach_visit(staff=[worker, partner], starts_at=now + timedelta(minutes=30), unit_id=unit_id)
    return {"lead": lead, "worker": worker, "group": group.id, "held": held.id, "unrecorded": unrecorded.id,
            "single": single.id, "home": home.id, "visit": visit.id}


@pytest.fixture
def units(app):
    unit_a, unit_b = make_two_units()
    return _unit(unit_a, "a"), _unit(unit_b, "b")


def _start_page(app, user) -> tuple[str, list]:
    """The user's start page, and the statement objects it ran through the ORM session."""
    ran: list = []

    def grab(state) -> None:
        ran.append(state.statement)

    client = app.test_client()
    login(client, user)
    sa.event.listen(Session, "do_orm_execute", grab)
    try:
        response = client.get("/")
    finally:
        sa.event.remove(Session, "do_orm_execute", grab)
    assert response.status_code == 200
    return response.get_data(as_text=True), ran


def _links(u: dict) -> dict[str, str]:
    return {"roll call": f'/groups/{u["group"]}/sessions/{u["held"]}/roll-call',
            "meeting to record": f'/meetings/{u["unrecorded"]}#record-heading',
            "meeting with one worker": f'href="/meetings/{u["single"]}"',
            "home visit with one worker": f'href="/appointments/{u["home"]}"',
            "waiting list": f'/groups/{u["group"]}/participants',
            "outreach visit": f'/outreach/visits/{u["visit"]}"'}


@pytest.mark.parametrize("role", ["lead", "worker"])
def test_the_next_user_of_a_role_runs_the_same_statements_with_their_own_values(app, units, role):
    a, b = units
    _html, first = _start_page(app, b[role])
    html, second = _start_page(app, a[role])

    built_again = [" ".join(str(s).split())[:120] for s in second if all(s is not seen for seen in first)]
    assert len(second) >= 15  # the agenda's, the overview's and the panels' statements all ran
    assert built_again == []

    # ... and with unit A's user's values: their own records, none of unit B's.
    if role == "lead":
        mine = ("meeting with one worker", "home visit with one worker", "waiting list")
        assert "Worker A" in html and "Worker B" not in html  # the overview's workload by name
    else:
        mine = ("roll call", "meeting to record", "outreach visit")
    for what in mine:
        assert _links(a)[what] in html, what
        assert _links(b)[what] not in html, what
