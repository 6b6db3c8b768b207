"""Ideas, planning a group with two facilitators, the lifecycle and stale edits."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa

from core.extensions import db
from groups import enrolment, schedule
from groups.models import Group, GroupIdea
from register.access import can_access_client
from tests.factories import make_client, make_user
from tests.test_groups_support import make_group, text_of

# The groups' clock, fixed before make_group's default sessions (Mondays from 4 January 2027), for
# the tests that need them to be still coming: with the real clock they would one day be past.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def fixed_clock(frozen_time):
    """The whole app's clock, stopped at NOW (before the test logs in: a later session cookie
    would be refused as from the future)."""
    frozen_time(NOW)
    return NOW


def _group_data(group=None, **overrides):
    data = {"title": "Raharyhmä", "theme": "Raha", "description": "", "target_clients": "Nuoret aikuiset",
            "venue": "Kauppakatu 1", "room": "Ryhmähuone 1", "capacity": "8", "language": "fi",
            "facilitator1_id": "", "facilitator2_id": "0", "planning_notes": "Kahvit"}
    if group is not None:
        data["version"] = str(group.version)
    data.update(overrides)
    return data


def test_idea_backlog_and_turning_an_idea_into_a_group(auth_client, facilitator):
    response = auth_client.post_form("/groups/ideas", {"theme": "Yksinäisyys", "description": "Kahviryhmä",
                                                       "suggested_by": "Tiimipalaveri 3.11.", "source": "coffee_break",
                                                       "target_clients": "Yksin asuvat"}, token_from="/groups/ideas")
    assert response.status_code == 302
    idea = db.session.scalar(sa.select(GroupIdea))
    assert (idea.theme, idea.source, idea.created_by_id) == ("Yksinäisyys", "coffee_break", facilitator.id)
    page = text_of(auth_client.get("/groups/ideas"))
    assert "Yksinäisyys" in page and "Kahvitauko" in page
    response = auth_client.post_form(f"/groups/ideas/{idea.id}/plan", {}, token_from="/groups/ideas")
    group = db.session.scalar(sa.select(Group))
    assert response.headers["Location"].endswith(f"/groups/{group.id}/edit?from_idea=1")
    db.session.refresh(idea)
    assert idea.group_id == group.id
    assert (group.title, group.target_clients, group.status, group.facilitator1_id) == (
        "Yksinäisyys", "Yksin asuvat", "planning", facilitator.id)
    # A second click does not make a second group.
    auth_client.post_form(f"/groups/ideas/{idea.id}/plan", {}, token_from="/groups/ideas")
    assert db.session.scalar(sa.select(sa.func.count(Group.id))) == 1


def test_idea_needs_a_theme(auth_client):
    response = auth_client.post_form("/groups/ideas", {"theme": "", "suggested_by": "Sanna", "source": "other"},
                                     token_from="/groups/ideas")
    html = text_of(response)
    assert "Kirjoita teema." in html and 'value="Sanna"' in html
    assert db.session.scalar(sa.select(sa.func.count(GroupIdea.id))) == 0


def test_plan_a_group_with_two_facilitators(auth_client, facilitator):
    other = make_user(name="Pekka Peltonen")
    response = auth_client.post_form("/groups/new", _group_data(facilitator1_id=str(facilitator.id),
                                                                facilitator2_id=str(other.id)),
                                     token_from="/groups/new")
    assert response.status_code == 302
    group = db.session.scalar(sa.select(Group))
    assert group.facilitator_ids == {facilitator.id, other.id}
    assert (group.venue, group.room, group.capacity, group.planning_notes) == ("Kauppakatu 1", "Ryhmähuone 1", 8, "Kahvit")
    assert "Pekka Peltonen" in text_of(auth_client.get(f"/groups/{group.id}"))


def test_same_facilitator_twice_refused_with_input_kept(auth_client, facilitator):
    response = auth_client.post_form("/groups/new", _group_data(title="Kahviryhmä", facilitator1_id=str(facilitator.id),
                                                                facilitator2_id=str(facilitator.id)),
                                     token_from="/groups/new")
    html = text_of(response)
    assert response.status_code == 200
    assert "sama henkilö ei voi olla molemmat ohjaajat" in html
    assert 'value="Kahviryhmä"' in html
    assert db.session.scalar(sa.select(sa.func.count(Group.id))) == 0


def test_a_third_facilitator_cannot_be_given(auth_client, facilitator):
    # The form has two facilitator fields only; an unknown staff id is refused as an invalid choice.
    response = auth_client.post_form("/groups/new", _group_data(facilitator1_id=str(facilitator.id),
                                                                facilitator2_id="9999", facilitator3_id="5"),
                                     token_from="/groups/new")
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Group.id))) == 0


def test_capacity_below_enrolled_refused(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=2, capacity=3, status="enrolling")
    for _ in range(3):
        enrolment.enrol(group, make_client().id)
    db.session.commit()
    response = auth_client.post_form(f"/groups/{group.id}/edit", _group_data(
        group, capacity="2", facilitator1_id=str(group.facilitator1_id), facilitator2_id=str(group.facilitator2_id)),
        token_from=f"/groups/{group.id}/edit")
    html = text_of(response)
    assert "Ryhmään on jo ilmoittautunut 3 osallistujaa" in html
    assert 'value="2"' in html
    db.session.refresh(group)
    assert group.capacity == 3


def test_stale_edit_is_refused_and_input_kept(auth_client, facilitator, lead_client):
    group = make_group(facilitator, make_user())
    stale_version = group.version
    ids = dict(facilitator1_id=str(group.facilitator1_id), facilitator2_id=str(group.facilitator2_id))
    first = lead_client.post_form(f"/groups/{group.id}/edit", _group_data(group, title="Lead's title", **ids),
                                  token_from=f"/groups/{group.id}/edit")
    assert first.status_code == 302
    second = auth_client.post_form(f"/groups/{group.id}/edit",
                                   {**_group_data(None, title="My title", **ids), "version": str(stale_version)},
                                   token_from=f"/groups/{group.id}/edit")
    html = text_of(second)
    assert "Joku muu tallensi nämä tiedot" in html
    assert 'value="My title"' in html
    db.session.refresh(group)
    assert group.title == "Lead's title"


def test_lifecycle_refusals_and_steps(auth_client, facilitator):
    group = make_group(facilitator)            # one facilitator, no schedule
    url = f"/groups/{group.id}/status"
    page = text_of(auth_client.get(f"/groups/{group.id}"))
    assert "Ilmoittautumisen voi avata vasta, kun ryhmällä on kaksi ohjaajaa." in page
    response = auth_client.post_form(url, {"target": "enrolling"}, token_from=f"/groups/{group.id}")
    db.session.refresh(group)
    assert group.status == "planning"
    assert "kaksi ohjaajaa" in text_of(auth_client.get(f"/groups/{group.id}"))

    group.facilitator2_id = make_user().id
    db.session.commit()
    auth_client.post_form(url, {"target": "enrolling"}, token_from=f"/groups/{group.id}")
    db.session.refresh(group)
    assert group.status == "planning"      # still no schedule
    assert "aikataulu" in text_of(auth_client.get(f"/groups/{group.id}"))

    # Skipping steps is refused with a reason.
    auth_client.post_form(url, {"target": "running"}, token_from=f"/groups/{group.id}")
    db.session.refresh(group)
    assert group.status == "planning"

    # In the past: running and finished need their sessions to have come (time sense).
    planned = schedule.plan_dates(first_date=date(2026, 11, 2), weekday=0, start=time(13, 0), minutes=90, weeks=2)
    schedule.generate_schedule(group, planned)
    db.session.commit()
    for target in ("enrolling", "running", "finished"):
        response = auth_client.post_form(url, {"target": target}, token_from=f"/groups/{group.id}")
        assert response.status_code == 302
        db.session.refresh(group)
        assert group.status == target
    # Evaluated only through the evaluation.
    auth_client.post_form(url, {"target": "evaluated"}, token_from=f"/groups/{group.id}")
    db.session.refresh(group)
    assert group.status == "finished"
    response = auth_client.post_form(f"/groups/{group.id}/evaluation", {
        "interesting": "yes", "continue_decision": "with_changes", "what_worked": "Kahvi",
        "improvements": "Lyhyemmät tapaamiset"}, token_from=f"/groups/{group.id}/evaluation")
    assert response.status_code == 302
    db.session.refresh(group)
    assert group.status == "evaluated"
    assert group.evaluation.continue_decision == "with_changes"
    page = text_of(auth_client.get(f"/groups/{group.id}/evaluation"))
    assert "Kyllä, muutoksin" in page and "Lyhyemmät tapaamiset" in page


def test_evaluation_needs_answers_and_a_finished_group(auth_client, facilitator):
    group = make_group(facilitator, make_user(), weeks=1, status="finished")
    response = auth_client.post_form(f"/groups/{group.id}/evaluation", {"what_worked": "Kahvi"},
                                     token_from=f"/groups/{group.id}/evaluation")
    html = text_of(response)
    assert "Valitse vastaus." in html and "Kahvi" in html
    running = make_group(facilitator, make_user(), weeks=1, status="running")
    response = auth_client.post_form(f"/groups/{running.id}/evaluation", {"interesting": "yes",
                                                                          "continue_decision": "yes"},
                                     token_from=f"/groups/{running.id}/evaluation")
    assert "Ryhmän voi arvioida, kun se on päättynyt." in text_of(response)
    db.session.refresh(running)
    assert running.evaluation is None


def test_facilitators_may_open_their_participants_records(client, facilitator):
    other = make_user()
    group = make_group(facilitator, other, weeks=1, status="enrolling")
    person = make_client(name="Matti K.")
    outsider = make_client(name="Laura S.")
    assert not can_access_client(facilitator, person.id)
    enrolment.enrol(group, person.id)
    db.session.commit()
    assert can_access_client(facilitator, person.id) and can_access_client(other, person.id)
    assert not can_access_client(facilitator, outsider.id)
    assert not can_access_client(make_user(), person.id)


def test_changing_a_facilitator_warns_of_clashes_before_saving(fixed_clock, auth_client, facilitator):
    """A new facilitator already running another group at the sessions' times is told before
    saving; the change is saved only when confirmed."""
    make_group(facilitator, make_user(), title="Kahviryhmä", room="Sali", weeks=2)
    other, second = make_user(name="Olli Other"), make_user(name="Sari Second")
    group = make_group(other, second, title="Raharyhmä", weeks=2)
    new_pair = {"facilitator1_id": str(facilitator.id), "facilitator2_id": str(second.id)}
    url = f"/groups/{group.id}/edit"
    from tests.factories import login

    # The group is not the facilitator's own, so a lead makes the change.
    lead = make_user(role="lead")
    browser = auth_client.application.test_client()
    login(browser, lead)
    response = browser.post_form(url, _group_data(group, **new_pair), token_from=url)
    html = text_of(response)
    assert response.status_code == 200
    assert "Fiia Facilitator ohjaa samaan aikaan ryhmää ”Kahviryhmä”" in html
    db.session.expire_all()
    assert db.session.get(type(group), group.id).facilitator1_id == other.id
    confirmed = browser.post_form(url, {**_group_data(group, **new_pair), "confirm": "y"}, token_from=url)
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(group), group.id).facilitator1_id == facilitator.id
    # An edit that changes neither people nor room is not held up.
    plain = browser.post_form(url, _group_data(db.session.get(type(group), group.id), title="Uusi nimi",
                                               **new_pair), token_from=url)
    assert plain.status_code == 302
