"""Moving and cancelling a meeting: each change of time, place or status raises the sequence and is
remembered; other features hear of it through meetings.signals; stale edits are refused."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today, to_local
from meetings.models import MeetingChange
from meetings.signals import meeting_changed, participant_attendance_recorded
from tests.test_meetings_support import make_meeting


def _edit_data(meeting, **over):
    local = to_local(meeting.starts_at)
    data = {"version": str(meeting.version), "purpose": meeting.purpose, "day": local.date().isoformat(),
            "start": local.strftime("%H:%M"), "length": "60", "place_kind": meeting.place_kind,
            "place": meeting.place, "remote_link": meeting.remote_link,
            "client_identification": meeting.client_identification}
    data.update(over)
    return data


def test_move_change_place_and_cancel_raise_sequence(auth_client, facilitator):
    meeting = make_meeting([facilitator], day=local_today() + timedelta(days=4))
    heard = []
    listener = lambda sender, meeting, change, **_kw: heard.append(change)  # noqa: E731
    meeting_changed.connect(listener)
    try:
        new_day = local_today() + timedelta(days=6)
        response = auth_client.post_form(f"/meetings/{meeting.id}/edit", _edit_data(meeting, day=new_day.isoformat(),
                                                                                     start="14:15"))
        assert response.status_code == 302
        db.session.refresh(meeting)
        assert meeting.starts_at == local_to_utc(new_day, time(14, 15)) and meeting.sequence == 1
        response = auth_client.post_form(f"/meetings/{meeting.id}/edit", _edit_data(
            meeting, place_kind="remote", remote_link="https://meet.example.fi/abc"))
        assert response.status_code == 302
        db.session.refresh(meeting)
        assert meeting.place_kind == "remote" and meeting.sequence == 2
        # A change of purpose only is not a calendar change.
        auth_client.post_form(f"/meetings/{meeting.id}/edit", _edit_data(meeting, purpose="New purpose"))
        db.session.refresh(meeting)
        assert meeting.purpose == "New purpose" and meeting.sequence == 2
        assert auth_client.post_form(f"/meetings/{meeting.id}/cancel").status_code == 302
        db.session.refresh(meeting)
        assert meeting.status == "cancelled" and meeting.sequence == 3
    finally:
        meeting_changed.disconnect(listener)
    assert heard == ["moved", "updated", "updated", "cancelled"]
    changes = db.session.scalars(sa.select(MeetingChange).where(MeetingChange.meeting_id == meeting.id)
                                 .order_by(MeetingChange.id)).all()
    assert [c.field for c in changes] == ["time", "place", "status"]
    assert changes[0].new_value.startswith(new_day.isoformat() + " 14:15")
    assert changes[2].old_value == "planned" and changes[2].new_value == "cancelled"
    assert all(c.changed_by_id == facilitator.id for c in changes)
    page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'id="changes-heading"' in page
    # Cancelling twice changes nothing.
    auth_client.post_form(f"/meetings/{meeting.id}/cancel")
    db.session.refresh(meeting)
    assert meeting.sequence == 3


def test_stale_edit_is_refused_with_input_kept(auth_client, facilitator):
    meeting = make_meeting([facilitator])
    stale = _edit_data(meeting, purpose="From the second browser")
    assert auth_client.post_form(f"/meetings/{meeting.id}/edit", _edit_data(meeting, purpose="First")).status_code == 302
    response = auth_client.post_form(f"/meetings/{meeting.id}/edit", stale)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="From the second browser"' in page and "error-summary" in page
    db.session.refresh(meeting)
    assert meeting.purpose == "First"


def test_invitation_and_attendance_are_recorded(auth_client, facilitator):
    meeting = make_meeting([facilitator], day=local_today() - timedelta(days=1))
    p = meeting.participants[-1]
    heard = []
    listener = lambda sender, participant: heard.append(participant.id)  # noqa: E731
    participant_attendance_recorded.connect(listener)
    try:
        response = auth_client.post_form(f"/meetings/{meeting.id}/participants/{p.id}", {
            f"p{p.id}-invitation_status": "accepted", f"p{p.id}-attended": "yes"})
    finally:
        participant_attendance_recorded.disconnect(listener)
    assert response.status_code == 302
    db.session.refresh(p)
    assert p.invitation_status == "accepted" and p.attended is True and heard == [p.id]
    assert auth_client.post_form(f"/meetings/{meeting.id}/participants/999999", {}).status_code == 404


def test_local_times_are_stored_utc_across_dst_and_holidays_warned(auth_client, facilitator):
    from datetime import date

    from meetings.models import Meeting
    from tests.factories import make_client

    client = make_client(worker=facilitator)
    base = {"purpose": "Palaveri", "start": "10:00", "length": "60", "place_kind": "office",
            "client_identification": "initials", "staff": [str(facilitator.id)]}
    # Finland moves to summer time on the last Sunday of March 2027 (28 March).
    for day, utc_hour in ((date(2027, 3, 26), 8), (date(2027, 3, 29), 7)):
        # Both days are Easter holidays (Good Friday, Easter Monday): warned first, saved anyway.
        response = auth_client.post_form(f"/meetings/new/{client.id}", dict(base, day=day.isoformat()))
        assert response.status_code == 200 and 'id="clash-warning"' in response.get_data(as_text=True)
        response = auth_client.post_form(f"/meetings/new/{client.id}", dict(base, day=day.isoformat(),
                                                                            confirm_clash="y"))
        assert response.status_code == 302
        meeting = db.session.scalar(sa.select(Meeting).order_by(Meeting.id.desc()))
        assert meeting.starts_at.hour == utc_hour and to_local(meeting.starts_at).hour == 10
        assert "10.00" in auth_client.get(response.headers["Location"]).get_data(as_text=True)
    # Christmas Day is a public holiday: warned before saving (tests/test_dayux_holiday_warning.py),
    # and saved with "save anyway".
    response = auth_client.post_form(f"/meetings/new/{client.id}", dict(base, day="2026-12-25"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="clash-warning"' in page and "Joulupäivä" in page
    response = auth_client.post_form(f"/meetings/new/{client.id}", dict(base, day="2026-12-25", confirm_clash="y"))
    assert response.status_code == 302
