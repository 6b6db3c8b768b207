"""Referrals to groups: a worker suggests a client they may see for a group in planning or
enrolling, or for a theme in the ideas backlog, with a short reason; the group's facilitators
take the client in (enrolment or the waiting list) or decline with a reason the referring worker
sees on the client's page. A referral grants the facilitators nothing of the client's record that
the enrolment does not; a client the worker cannot see is 404; the participants page is 404 for
those who may not see the names."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from groups import enrolment, services
from groups.models import Enrolment, GroupIdea, Referral
from register.access import can_access_client
from tests.factories import logged, login, make_client, make_user
from tests.test_groups_support import make_group, text_of


@pytest.fixture
def facilitators(app):
    """The group's two facilitators, each signed in on a client of their own."""
    f1, f2 = make_user(name="Ohjaaja Yksi"), make_user(name="Ohjaaja Kaksi")
    http = app.test_client()
    login(http, f1)
    return f1, f2, http


def _refer(http, client, target, reason="Yksinäinen, kiinnostunut raha-asioista"):
    return http.post_form(f"/groups/referrals/new/{client.id}", {"target": target, "reason": reason},
                          token_from=f"/groups/referrals/new/{client.id}")


def test_referral_taken_into_the_group(auth_client, facilitator, facilitators, fresh_db):
    f1, f2, group_http = facilitators
    group = make_group(f1, f2, weeks=2, status="enrolling", capacity=1)
    person = make_client(name="Matti Kuusela", worker=facilitator)

    form = text_of(auth_client.get(f"/groups/referrals/new/{person.id}"))
    assert f'value="group:{group.id}"' in form
    response = _refer(auth_client, person, f"group:{group.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/clients/{person.id}")
    stored = fresh_db.scalars(sa.select(Referral))
    assert [(r.client_id, r.group_id, r.status, r.referred_by_id) for r in stored] == [
        (person.id, group.id, "pending", facilitator.id)]

    # The facilitators see the name and the reason, and nothing more: no access to the record.
    page = text_of(group_http.get(f"/groups/{group.id}/participants"))
    assert "Matti Kuusela" in page and "Yksinäinen, kiinnostunut raha-asioista" in page
    assert f'href="/clients/{person.id}"' not in page
    assert group_http.get(f"/clients/{person.id}").status_code == 404
    assert not can_access_client(f1, person.id) and not can_access_client(f2, person.id)

    referral = fresh_db.scalar(sa.select(Referral))
    response = group_http.post_form(f"/groups/{group.id}/referrals/{referral.id}/take", {},
                                    token_from=f"/groups/{group.id}/participants")
    assert response.status_code == 302
    assert fresh_db.scalar(sa.select(Referral.status)) == "enrolled"
    assert fresh_db.scalar(sa.select(Enrolment.status).where(Enrolment.client_id == person.id)) == "enrolled"
    # From now on the enrolment, not the referral, lets the facilitators open the record.
    assert group_http.get(f"/clients/{person.id}").status_code == 200

    # The next referral finds the group full: the waiting list.
    second = make_client(name="Liisa Laine", worker=facilitator)
    assert _refer(auth_client, second, f"group:{group.id}").status_code == 302
    referral = fresh_db.scalar(sa.select(Referral).where(Referral.client_id == second.id))
    group_http.post_form(f"/groups/{group.id}/referrals/{referral.id}/take", {},
                         token_from=f"/groups/{group.id}/participants")
    assert fresh_db.scalar(sa.select(Referral.status).where(Referral.id == referral.id)) == "waiting"
    assert fresh_db.scalar(sa.select(Enrolment.status).where(Enrolment.client_id == second.id)) == "waiting"
    # The referring worker sees what came of it on the client's page.
    assert "Jonossa" in text_of(auth_client.get(f"/clients/{second.id}"))
    assert "Otettu ryhmään" in text_of(auth_client.get(f"/clients/{person.id}"))
    # Taking it twice is refused, and changes nothing.
    again = group_http.post_form(f"/groups/{group.id}/referrals/{referral.id}/take", {},
                                 token_from=f"/groups/{group.id}/participants")
    assert again.status_code == 302
    assert fresh_db.scalar(sa.select(sa.func.count(Enrolment.id))) == 2


def test_declined_with_a_reason_the_referring_worker_sees(auth_client, facilitator, facilitators, fresh_db):
    f1, f2, group_http = facilitators
    group = make_group(f1, f2, weeks=2, status="planning")
    person = make_client(name="Matti Kuusela", worker=facilitator)
    _refer(auth_client, person, f"group:{group.id}")
    referral = fresh_db.scalar(sa.select(Referral))
    url = f"/groups/{group.id}/referrals/{referral.id}/decline"
    empty = group_http.post_form(url, {"reason": "  "}, token_from=url)
    assert empty.status_code == 200 and "Kerro lyhyesti miksi." in text_of(empty)
    assert fresh_db.scalar(sa.select(Referral.status)) == "pending"
    too_long = group_http.post_form(url, {"reason": "x" * 301}, token_from=url)
    assert too_long.status_code == 200 and 'value="' + "x" * 301 in text_of(too_long)
    assert group_http.post_form(url, {"reason": "Ryhmä on nuorille aikuisille"}, token_from=url).status_code == 302
    assert fresh_db.scalar(sa.select(Referral.status)) == "declined"
    page = text_of(auth_client.get(f"/clients/{person.id}"))
    assert "Syy hylkäämiseen: Ryhmä on nuorille aikuisille" in page and "Ohjaajat hylkäsivät" in page
    assert not can_access_client(f1, person.id)


def test_a_client_the_worker_cannot_see_is_404(auth_client, facilitator, fresh_db):
    group = make_group(make_user(), make_user(), weeks=2, status="enrolling")
    stranger = make_client(name="Vieras Asiakas")
    assert auth_client.get(f"/groups/referrals/new/{stranger.id}").status_code == 404
    response = auth_client.post_form(f"/groups/referrals/new/{stranger.id}",
                                     {"target": f"group:{group.id}", "reason": "Kokeilu"}, token_from="/groups/")
    assert response.status_code == 404
    for bad in ("abc", "0", "99999999999999999999"):
        assert auth_client.get(f"/groups/referrals/new/{bad}").status_code == 404
    assert fresh_db.scalar(sa.select(sa.func.count(Referral.id))) == 0


@pytest.mark.parametrize("target", ["group:999999", "idea:abc", "group:", "other:1", "group:99999999999999999999"])
def test_a_forged_target_is_a_form_error(auth_client, facilitator, fresh_db, target):
    person = make_client(worker=facilitator)
    db.session.commit()
    seen = len(logged(fresh_db, person.id))
    response = _refer(auth_client, person, target, reason="Oma perustelu")
    assert response.status_code == 200
    assert 'value="Oma perustelu"' in text_of(response)
    assert fresh_db.scalar(sa.select(sa.func.count(Referral.id))) == 0
    # The form page and the refused form both showed the client: both rows were committed.
    assert logged(fresh_db, person.id)[seen:] == [("view", "referral form")] * 2


def test_the_same_pending_referral_twice_is_refused(auth_client, facilitator, fresh_db):
    group = make_group(make_user(), make_user(), weeks=2, status="planning")
    person = make_client(worker=facilitator)
    assert _refer(auth_client, person, f"group:{group.id}").status_code == 302
    again = _refer(auth_client, person, f"group:{group.id}", reason="Toinen kerta")
    assert again.status_code == 200 and "odottaa vastausta" in text_of(again)
    assert fresh_db.scalar(sa.select(sa.func.count(Referral.id))) == 1


def test_a_running_group_is_not_offered_and_is_refused(auth_client, facilitator, fresh_db):
    running = make_group(make_user(), make_user(), weeks=2, status="running")
    person = make_client(worker=facilitator)
    assert f"group:{running.id}" not in text_of(auth_client.get(f"/groups/referrals/new/{person.id}"))
    seen = len(logged(fresh_db, person.id))
    assert _refer(auth_client, person, f"group:{running.id}").status_code == 200
    assert fresh_db.scalar(sa.select(sa.func.count(Referral.id))) == 0
    # The form page and the refused form both showed the client: both rows were committed.
    assert logged(fresh_db, person.id)[seen:] == [("view", "referral form")] * 2


def test_theme_referrals_are_counted_and_follow_the_idea_into_a_group(auth_client, facilitator, fresh_db):
    idea = services.create_idea(theme="Yksinäisyys", created_by=facilitator)
    db.session.commit()
    first, second = make_client(worker=facilitator), make_client(worker=facilitator)
    for person in (first, second):
        assert _refer(auth_client, person, f"idea:{idea.id}").status_code == 302
    assert _refer(auth_client, first, f"idea:{idea.id}").status_code == 200     # already waiting
    ideas = text_of(auth_client.get("/groups/ideas"))
    counted = ideas[ideas.index("Yksinäisyys"):]
    assert "Ehdotettuja asiakkaita</dt><dd>2</dd>" in counted
    assert auth_client.post_form(f"/groups/ideas/{idea.id}/plan", {}, token_from="/groups/ideas").status_code == 302
    group_id = fresh_db.scalar(sa.select(GroupIdea.group_id).where(GroupIdea.id == idea.id))
    assert fresh_db.scalar(sa.select(sa.func.count(Referral.id)).where(Referral.group_id == group_id)) == 2
    page = text_of(auth_client.get(f"/groups/{group_id}/participants"))
    assert page.count("Hylkää ehdotus<span") == 2


def test_participants_page_is_404_for_those_who_may_not_see_the_names(auth_client, facilitator, fresh_db):
    group = make_group(make_user(), make_user(), weeks=1, status="enrolling")
    enrolment.enrol(group, make_client(name="Matti Kuusela").id)
    db.session.commit()
    response = auth_client.get(f"/groups/{group.id}/participants")
    assert response.status_code == 404 and "Matti Kuusela" not in text_of(response)
    assert auth_client.post_form(f"/groups/{group.id}/participants", {"client_id": "1"},
                                 token_from="/groups/").status_code == 404
