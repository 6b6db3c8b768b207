"""Only the meeting's staff participants and leads open a meeting; every view and change is in the
access log; staff participants may open the client's record; lists show one's own meetings."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today
from meetings import arranging, plan
from register.models import AccessLog
from tests.factories import login, make_client, make_user
from tests.test_meetings_support import make_meeting


def _log_count(client_id, user_id=None):
    stmt = sa.select(sa.func.count(AccessLog.id)).where(AccessLog.client_id == client_id)
    if user_id is not None:
        stmt = stmt.where(AccessLog.user_id == user_id)
    return db.session.scalar(stmt)


def test_non_participant_gets_404_everywhere(app, client, facilitator):
    outsider = make_user(name="Outsider")
    meeting = make_meeting([facilitator])
    item = plan.add_item(meeting, responsible_id=meeting.participants[0].id, what="Secret task").item
    db.session.commit()
    login(client, outsider)
    for url in (f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/edit", f"/meetings/{meeting.id}/plan",
                f"/meetings/{meeting.id}/follow-up"):
        assert client.get(url).status_code == 404, url
    for url, data in ((f"/meetings/{meeting.id}/cancel", {}),
                      (f"/meetings/{meeting.id}/items", {"responsible": str(meeting.participants[0].id), "what": "x"}),
                      (f"/meetings/{meeting.id}/items/{item.id}/status", {f"i{item.id}-status": "done"}),
                      (f"/meetings/{meeting.id}/participants/{meeting.participants[0].id}/link", {})):
        assert client.post_form(url, data).status_code == 404, url
    db.session.refresh(meeting)
    db.session.refresh(item)
    assert meeting.status == "planned" and item.status == "open" and len(meeting.items) == 1
    listing = client.get("/meetings/").get_data(as_text=True)
    assert meeting.client.name not in listing
    assert _log_count(meeting.client_id, outsider.id) == 0


def test_staff_participant_and_lead_open_and_are_logged(app, client, lead_client, lead, facilitator):
    meeting = make_meeting([facilitator])
    login(client, facilitator)
    before = _log_count(meeting.client_id, facilitator.id)
    page = client.get(f"/meetings/{meeting.id}")
    assert page.status_code == 200 and meeting.client.name in page.get_data(as_text=True)
    assert _log_count(meeting.client_id, facilitator.id) == before + 1
    client.get(f"/meetings/{meeting.id}/plan")
    assert _log_count(meeting.client_id, facilitator.id) == before + 2
    client.post_form(f"/meetings/{meeting.id}/items", {"responsible": str(meeting.participants[0].id), "what": "Call"})
    change = db.session.scalar(sa.select(AccessLog).where(AccessLog.client_id == meeting.client_id,
                                                          AccessLog.action == "change"))
    assert change is not None and change.user_id == facilitator.id
    assert lead_client.get(f"/meetings/{meeting.id}").status_code == 200
    assert _log_count(meeting.client_id, lead.id) == 1
    assert meeting.client.name in lead_client.get("/meetings/").get_data(as_text=True)


def test_staff_participant_may_open_the_clients_record(app, client, facilitator):
    stranger_client = make_client(name="Laura S.")  # nobody works with her
    login(client, facilitator)
    assert client.get(f"/clients/{stranger_client.id}").status_code == 404
    make_meeting([facilitator], client=stranger_client)
    assert client.get(f"/clients/{stranger_client.id}").status_code == 200


def test_list_shows_upcoming_and_past_of_own_meetings(app, client, facilitator):
    other = make_user()
    upcoming = make_meeting([facilitator], purpose="Upcoming one", day=local_today() + timedelta(days=3))
    past = make_meeting([facilitator], purpose="Past one", day=local_today() - timedelta(days=3))
    make_meeting([other], purpose="Not mine")
    login(client, facilitator)
    page = client.get("/meetings/").get_data(as_text=True)
    assert "Upcoming one" in page and "Past one" in page and "Not mine" not in page
    assert page.index("upcoming-heading") < page.index("Upcoming one") < page.index("past-heading") < page.index("Past one")
    logged = set(db.session.scalars(sa.select(AccessLog.client_id).where(AccessLog.action == "list",
                                                                        AccessLog.user_id == facilitator.id)))
    assert logged == {upcoming.client_id, past.client_id}


def test_list_query_count_does_not_grow_with_meetings(app, client, facilitator):
    from sqlalchemy import event

    login(client, facilitator)

    def count_queries():
        statements = []
        # Reads only: the access log's one INSERT per client shown is required by law, not a lookup.
        listener = lambda *args: statements.append(args[2]) if args[2].lstrip().upper().startswith("SELECT") else None  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/meetings/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    make_meeting([facilitator])
    few = count_queries()
    for _ in range(5):
        make_meeting([facilitator, make_user()])
    assert count_queries() == few


def test_meeting_page_query_count_does_not_grow(app, client, facilitator):
    from sqlalchemy import event

    from tests.test_meetings_support import add_relative, make_contact

    login(client, facilitator)
    meeting = make_meeting([facilitator], day=local_today() - timedelta(days=30))
    plan.add_item(meeting, responsible_id=meeting.participants[0].id, what="First")
    follow = plan.schedule_follow_up(meeting, user=facilitator, starts_at=meeting.starts_at + timedelta(days=7),
                                         ends_at=meeting.ends_at + timedelta(days=7))

    def grow(i):
        contact = make_contact()
        relative = add_relative(meeting.client, name=f"Relative {i}")
        for m in (meeting, follow):
            arranging.add_participant(m, kind="partner", person_id=contact.id)
            arranging.add_participant(m, kind="relative", person_id=relative.id)
        arranging.add_participant(meeting, kind="staff", person_id=make_user().id)
        item = plan.add_item(meeting, responsible_id=meeting.participants[-1].id, what=f"Task {i}").item
        plan.add_item(meeting, responsible_id=meeting.participants[0].id, what=f"Mine {i}")
        plan.review_item(follow, item, "carry", by_name="x")
        db.session.commit()

    grow(0)  # one of each kind first, so the comparison is about numbers, not kinds

    def count(url):
        # A real request starts with an empty session; the test shares its session with the app.
        db.session.close()
        statements = []
        listener = lambda *args: statements.append(args[2]) if args[2].lstrip().upper().startswith("SELECT") else None  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    urls = [f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/plan", f"/meetings/{follow.id}", "/meetings/tasks"]
    ids = (meeting.id, follow.id)
    before = [count(u) for u in urls]
    from meetings.models import Meeting

    meeting, follow = db.session.get(Meeting, ids[0]), db.session.get(Meeting, ids[1])
    for i in range(1, 5):
        grow(i)
    assert [count(u) for u in urls] == before
