"""Who may see and change a group, malformed and foreign ids, finding groups, the start-page
panels and the printable pages."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from groups import enrolment, finding
from groups.models import Enrolment, GroupSession
from tests.factories import login, make_client, make_user
from tests.test_groups_support import make_group, text_of


@pytest.fixture
def other_client(app):
    c = app.test_client()
    login(c, make_user(email="other@example.fi", name="Olli Other"))
    return c


def test_another_facilitator_sees_the_plan_but_cannot_edit(other_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1, status="running")
    session = group.sessions[0]
    assert other_client.get(f"/groups/{group.id}").status_code == 200
    assert other_client.get(f"/groups/{group.id}/sessions/{session.id}").status_code == 200
    # The participants' names are client records: that page is not found for them (tests/test_groups_referrals.py).
    assert other_client.get(f"/groups/{group.id}/participants").status_code == 404
    # So are the roll call and the attendance sheet, which show them (tests/test_dayux_attendance_404.py).
    for url in (f"/groups/{group.id}/sessions/{session.id}/roll-call", f"/groups/{group.id}/sheet"):
        assert other_client.get(url).status_code == 404, url
    for url in (f"/groups/{group.id}/edit", f"/groups/{group.id}/schedule",
                f"/groups/{group.id}/sessions/{session.id}/edit",
                f"/groups/{group.id}/copy"):
        assert other_client.get(url).status_code == 403, url
    response = other_client.post_form(f"/groups/{group.id}/edit", {"title": "Hijacked", "capacity": "8",
                                                                   "version": "1"}, token_from="/groups/")
    assert response.status_code == 403
    response = other_client.post_form(f"/groups/{group.id}/status", {"target": "finished"}, token_from="/groups/")
    assert response.status_code == 403
    db.session.refresh(group)
    assert (group.title, group.status) == ("Raharyhmä", "running")
    assert "Muokkaa suunnitelmaa" not in text_of(other_client.get(f"/groups/{group.id}"))


@pytest.mark.parametrize("path", [
    "/groups/abc", "/groups/0", "/groups/-1", "/groups/99999999999999999999", "/groups/999",
    "/groups/abc/edit", "/groups/1/sessions/xyz", "/groups/1/sessions/999/edit", "/groups/1/sessions/1.5/roll-call",
])
def test_malformed_or_unknown_ids_are_404(lead_client, facilitator, path):
    make_group(facilitator, make_user(), weeks=1)
    assert lead_client.get(path).status_code == 404


def test_session_and_enrolment_of_another_group_are_404(lead_client, facilitator):
    mine = make_group(facilitator, make_user(), weeks=1, status="enrolling")
    other = make_group(facilitator, make_user(), title="Toinen", weeks=1, status="enrolling")
    enrolment.enrol(other, make_client().id)
    db.session.commit()
    foreign_session = other.sessions[0]
    foreign_enrolment = db.session.scalar(sa.select(Enrolment))
    assert lead_client.get(f"/groups/{mine.id}/sessions/{foreign_session.id}").status_code == 404
    assert lead_client.get(f"/groups/{mine.id}/sessions/{foreign_session.id}/roll-call").status_code == 404
    response = lead_client.post_form(f"/groups/{mine.id}/enrolments/{foreign_enrolment.id}/withdraw", {},
                                     token_from="/groups/")
    assert response.status_code == 404
    assert db.session.get(Enrolment, foreign_enrolment.id).status == "enrolled"


def test_post_without_csrf_is_refused(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1)
    response = auth_client.post(f"/groups/{group.id}/status", data={"target": "enrolling"})
    assert response.status_code == 400
    db.session.refresh(group)
    assert group.status == "planning"


def test_find_groups_by_status_facilitator_and_theme(auth_client, facilitator):
    pekka = make_user(name="Pekka Peltonen")
    make_group(facilitator, pekka, title="Raharyhmä", status="evaluated")
    make_group(facilitator, make_user(), title="Kahviryhmä", status="running")
    g3 = make_group(make_user(), make_user(), title="Liikuntaryhmä")
    g3.theme = "Liikunta"
    db.session.commit()
    def titles(query):
        html = text_of(auth_client.get("/groups/" + query))
        return {t for t in ("Raharyhmä", "Kahviryhmä", "Liikuntaryhmä") if f">{t}</a>" in html}
    assert titles("") == {"Raharyhmä", "Kahviryhmä", "Liikuntaryhmä"}
    assert titles("?when=upcoming") == {"Liikuntaryhmä"}
    assert titles("?when=running") == {"Kahviryhmä"}
    assert titles("?when=past") == {"Raharyhmä"}
    assert titles(f"?facilitator={pekka.id}") == {"Raharyhmä"}
    assert titles("?theme=liikun") == {"Liikuntaryhmä"}
    assert titles("?facilitator=abc&when=nonsense") == {"Raharyhmä", "Kahviryhmä", "Liikuntaryhmä"}


def test_list_page_query_count_does_not_grow(auth_client, facilitator, app):
    from sqlalchemy import event

    def count_queries(url):
        counter = {"n": 0}

        def before(*_args):
            counter["n"] += 1
        event.listen(db.engine, "before_cursor_execute", before)
        try:
            assert auth_client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return counter["n"]

    make_group(facilitator, make_user(), weeks=3)
    few = count_queries("/groups/")
    for i in range(5):
        make_group(make_user(), make_user(), title=f"Ryhmä {i}", weeks=3)
    assert count_queries("/groups/") == few


def test_start_page_shows_my_week_and_today(auth_client, facilitator):
    today = local_today()

    def group_on(day, title, *people):
        # Sessions are added directly: the schedule generator would skip a public holiday.
        group = make_group(*people, title=title)
        starts = local_to_utc(day, time(12, 0))
        group.sessions.append(GroupSession(number=1, starts_at=starts, ends_at=starts + timedelta(hours=1)))
        db.session.commit()
        return group

    mine = group_on(today, "Tämän viikon ryhmä", facilitator, make_user())
    group_on(today + timedelta(days=10), "Kaukainen ryhmä", facilitator, make_user())
    group_on(today, "Jonkun muun ryhmä", make_user(), make_user())
    # The agenda (tests/test_agenda.py) took over the start page's session panels.
    html = text_of(auth_client.get("/"))
    assert "Tämän viikon ryhmä, ryhmäkerta 1/1" in html
    assert "Kaukainen ryhmä" not in html and "Jonkun muun ryhmä" not in html
    found = finding.sessions_for_user(facilitator.id, mine.sessions[0].starts_at - timedelta(minutes=1),
                                       mine.sessions[0].starts_at + timedelta(minutes=1))
    assert [s.group_id for s in found] == [mine.id]


def test_printable_plan_and_attendance_sheet(lead_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=2, status="running", topics=["Kela-etuudet", "Budjetointi"])
    enrolment.enrol(group, make_client(name="Matti K.").id)
    db.session.commit()
    plan = text_of(lead_client.get(f"/groups/{group.id}/print"))
    assert "1/2: Kela-etuudet" in plan and "2/2: Budjetointi" in plan and "Matti K." not in plan
    sheet = text_of(lead_client.get(f"/groups/{group.id}/sheet"))
    assert "Matti K." in sheet and "Läsnäololista" in sheet


def test_pages_in_swedish(app, facilitator):
    swede = make_user(email="sv@example.fi", language="sv")
    group = make_group(swede, facilitator, weeks=2, status="running")
    c = app.test_client()
    login(c, swede)
    c.post_form("/language", {"language": "sv", "next": "/groups/"})
    assert "Planera en ny grupp" in text_of(c.get("/groups/"))
    page = text_of(c.get(f"/groups/{group.id}"))
    assert "Träffarna i Raharyhmä" in page and "Byt till: Avslutad" in page


def test_participants_page_query_count_does_not_grow(lead_client, facilitator):
    from sqlalchemy import event

    group = make_group(facilitator, make_user(), weeks=2, capacity=30, status="enrolling")

    def count(url):
        n = {"q": 0}

        def before(_conn, _cursor, statement, *_a):
            # Access-log rows are one INSERT each (register.access); reads must not grow.
            if statement.lstrip().upper().startswith("SELECT"):
                n["q"] += 1
        event.listen(db.engine, "before_cursor_execute", before)
        try:
            assert lead_client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return n["q"]

    enrolment.enrol(group, make_client().id)
    db.session.commit()
    urls = [f"/groups/{group.id}/participants", f"/groups/{group.id}/attendance",
            f"/groups/{group.id}/sessions/{group.sessions[0].id}/roll-call", f"/groups/{group.id}/sheet"]
    [count(u) for u in urls]      # warm up (first-request work is not what we measure)
    before_counts = [count(u) for u in urls]
    for _ in range(6):
        enrolment.enrol(group, make_client().id)
    db.session.commit()
    assert [count(u) for u in urls] == before_counts


def test_other_staff_read_the_evaluation_but_cannot_record_it(other_client, facilitator):
    from groups.models import GroupEvaluation
    group = make_group(facilitator, make_user(), weeks=1, status="evaluated")
    db.session.add(GroupEvaluation(group_id=group.id, interesting="partly", continue_decision="no",
                                   improvements="Eri kellonaika"))
    db.session.commit()
    html = text_of(other_client.get(f"/groups/{group.id}/evaluation"))
    assert "Osittain" in html and "Eri kellonaika" in html and "Tallenna arviointi" not in html
    response = other_client.post_form(f"/groups/{group.id}/evaluation", {"interesting": "yes",
                                                                         "continue_decision": "yes"},
                                      token_from="/groups/")
    assert response.status_code == 403
    db.session.refresh(group.evaluation)
    assert group.evaluation.continue_decision == "no"
