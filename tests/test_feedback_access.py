"""#20.6: a group's or meeting's feedback follows the group's or meeting's own access rule (one
function each: groups.services.can_see_names, meetings.services.can_open), on every page that
shows it: the groups evaluation page, the feedback pages and charts."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.extensions import db
from feedback import services
from tests.factories import login, make_client, make_user
from tests.test_feedback_factories import add_responses, attend, close_window, make_group

SECRET = "Ohjaaja oli tyly minulle"


def released_group(facilitator):
    group = make_group([facilitator], sessions=1, enrolled=5)
    window = services.open_session_window(group.sessions[0])
    db.session.commit()
    attend(group.sessions[0], group.enrolments)
    add_responses(window, [[3, 3, 3, 3]] * 5, comments=[SECRET] * 5)
    close_window(window)
    return group


def test_other_staff_see_no_feedback_on_the_groups_evaluation_page(app, auth_client, facilitator):
    group = released_group(facilitator)
    assert SECRET in auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)  # releases it
    own = auth_client.get(f"/groups/{group.id}/evaluation").get_data(as_text=True)
    assert "Osallistujien palaute" in own and "3,0" in own
    outsider = app.test_client()
    login(outsider, make_user(name="Toinen Työntekijä"))
    page = outsider.get(f"/groups/{group.id}/evaluation")
    assert page.status_code == 200  # the group's evaluation page itself is open to staff
    html = page.get_data(as_text=True)
    assert "Osallistujien palaute" not in html and "3,0" not in html and "3.0" not in html
    assert outsider.get(f"/feedback/groups/{group.id}").status_code == 404
    for kind in ("means", "distribution", "attendance"):
        assert outsider.get(f"/feedback/groups/{group.id}/charts/{kind}.svg").status_code == 404


def test_a_meetings_creator_who_is_not_its_staff_participant_sees_no_feedback(app, facilitator):
    from meetings.models import Meeting, MeetingParticipant

    creator = make_user(name="Kirjaaja")
    start = datetime.now(UTC) - timedelta(hours=3)
    meeting = Meeting(client_id=make_client().id, starts_at=start, ends_at=start + timedelta(hours=1),
                      created_by_id=creator.id, status="held")
    db.session.add(meeting)
    db.session.flush()
    db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="staff", user_id=facilitator.id))
    db.session.commit()
    window = services.open_meeting_window(meeting)
    db.session.commit()
    browser = app.test_client()
    login(browser, creator)
    # The meeting's own pages refuse the creator, and so do all its feedback pages.
    assert browser.get(f"/meetings/{meeting.id}").status_code == 404
    for url in (f"/feedback/meetings/{meeting.id}/results", f"/feedback/meetings/{meeting.id}/show",
                f"/feedback/windows/{window.id}/qr.svg"):
        assert browser.get(url).status_code == 404, url
    refused = browser.post_form(f"/feedback/windows/{window.id}/adjust", {"action": "open"}, token_from="/")
    assert refused.status_code == 404
    staff = app.test_client()
    login(staff, facilitator)
    assert staff.get(f"/feedback/meetings/{meeting.id}/results").status_code == 200
