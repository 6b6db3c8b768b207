"""Taking someone off a network meeting: gone from the meeting and its feeds, in the change
history, sent a cancellation if an invitation went out, no more reminders; refused while they
hold tasks of the plan, for the last staff member, for a cancelled meeting and for outsiders."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today, to_local
from meetings import arranging, plan, services
from meetings.models import MeetingChange, MeetingParticipant
from register.services import save_relative
from reminders import services as reminders
from reminders.models import MessageStatus, OutboxMessage
from tests.factories import login, make_client, make_user
from tests.test_meetings_support import make_contact, make_meeting, participant


def _remove(http, meeting, p, **kw):
    return http.post_form(f"/meetings/{meeting.id}/participants/{p.id}/remove", {},
                          token_from=f"/meetings/{meeting.id}", **kw)


def _messages(meeting, recipient_kind, recipient_id):
    return db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.target_id == meeting.id, OutboxMessage.recipient_kind == recipient_kind,
        OutboxMessage.recipient_id == recipient_id).order_by(OutboxMessage.id)).all()


def test_partner_who_was_invited_is_removed_and_sent_a_cancellation(auth_client, facilitator):
    contact = make_contact()
    meeting = make_meeting([facilitator], contacts=[contact])
    [invitation] = _messages(meeting, "contact", contact.id)
    invitation.status = MessageStatus.SENT.value  # the invitation went out
    db.session.commit()
    sequence = meeting.sequence
    p = participant(meeting, "partner", contact_id=contact.id)
    p_id = p.id  # the request deletes the row: the object cannot be read after it
    response = _remove(auth_client, meeting, p, follow_redirects=True)
    assert f"{contact.name} ({contact.organisation.name}) poistettiin verkostopalaverista." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(MeetingParticipant, p_id) is None
    messages = _messages(meeting, "contact", contact.id)
    cancel = messages[-1]
    assert len(messages) == 2 and cancel.ics_method == "CANCEL" and cancel.status == MessageStatus.PENDING.value
    assert cancel.subject.startswith("Kutsu peruttu: verkostopalaveri")
    assert f"SEQUENCE:{sequence + 1}" in cancel.ics and "METHOD:CANCEL" in cancel.ics
    change = db.session.scalar(sa.select(MeetingChange).where(MeetingChange.meeting_id == meeting.id,
                                                              MeetingChange.field == "participant"))
    assert contact.name in change.old_value and change.changed_by_id == facilitator.id
    page = auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Osallistuja poistettu" in page


def test_partner_not_yet_sent_an_invitation_gets_nothing(auth_client, facilitator):
    contact = make_contact()
    meeting = make_meeting([facilitator], contacts=[contact])
    [invitation] = _messages(meeting, "contact", contact.id)
    assert invitation.status == MessageStatus.PENDING.value
    _remove(auth_client, meeting, participant(meeting, "partner", contact_id=contact.id))
    db.session.expire_all()
    [invitation] = _messages(meeting, "contact", contact.id)
    assert invitation.status == MessageStatus.CANCELLED.value  # never sent, no cancellation needed


def test_removed_relative_gets_no_more_reminders(app, auth_client, facilitator):
    client = make_client(name="Matti Kuusela", consent=True, phone="040 123 4567")
    sister = save_relative(client, None, name="Liisa", relation="sisar", phone="040 765 4321", email="",
                           language="fi", reminder_consent=True)
    db.session.commit()
    meeting = make_meeting([facilitator], client=client, relatives=[sister])
    assert {r.name for r in reminders.meeting_recipients(meeting)} == {"Matti Kuusela", "Liisa"}
    waiting = OutboxMessage(kind="reminder", target_kind="meeting", target_id=meeting.id, recipient_kind="relative",
                            recipient_id=sister.id, slot="day_before@x", channel="sms", client_id=client.id,
                            address="+358407654321", language="fi", subject="", body="Muistutus",
                            status=MessageStatus.PENDING.value, next_attempt_at=meeting.starts_at - timedelta(days=1))
    db.session.add(waiting)
    db.session.commit()
    _remove(auth_client, meeting, participant(meeting, "relative", relative_id=sister.id))
    db.session.expire_all()
    assert db.session.get(OutboxMessage, waiting.id).status == MessageStatus.CANCELLED.value
    assert {r.name for r in reminders.meeting_recipients(meeting)} == {"Matti Kuusela"}


def test_client_taken_off_gets_no_reminders(auth_client, facilitator):
    client = make_client(name="Matti Kuusela", consent=True, phone="040 123 4567")
    meeting = make_meeting([facilitator], client=client)
    _remove(auth_client, meeting, participant(meeting, "client"))
    db.session.expire_all()
    assert reminders.meeting_recipients(meeting) == []


def test_holder_of_tasks_and_last_staff_member_are_not_removed(auth_client, facilitator):
    contact = make_contact()
    meeting = make_meeting([facilitator], contacts=[contact])
    p = participant(meeting, "partner", contact_id=contact.id)
    plan.add_item(meeting, responsible_id=p.id, what="Soita", due_date=to_local(meeting.starts_at).date())
    db.session.commit()
    page = _remove(auth_client, meeting, p, follow_redirects=True).get_data(as_text=True)
    assert "on vastuussa suunnitelman tehtävistä" in page
    me = participant(meeting, "staff", user_id=facilitator.id)
    page = _remove(auth_client, meeting, me, follow_redirects=True).get_data(as_text=True)
    assert "Verkostopalaverissa on oltava ainakin yksi työntekijä." in page
    db.session.expire_all()
    assert db.session.get(MeetingParticipant, p.id) is not None and db.session.get(MeetingParticipant, me.id)


def test_a_second_staff_member_can_be_removed_and_re_invited(auth_client, facilitator):
    colleague = make_user(name="Kaisa Kollega")
    meeting = make_meeting([facilitator, colleague])
    assert _remove(auth_client, meeting, participant(meeting, "staff", user_id=colleague.id)).status_code == 302
    db.session.expire_all()
    assert colleague.id not in services.staff_user_ids(meeting)
    response = auth_client.post_form(f"/meetings/{meeting.id}/participants", {"person": f"staff:{colleague.id}"},
                                     token_from=f"/meetings/{meeting.id}/participants")
    assert response.status_code == 302
    db.session.expire_all()
    assert colleague.id in services.staff_user_ids(meeting)


def test_cancelled_meeting_foreign_ids_outsiders_and_csrf(app, auth_client, facilitator):
    contact = make_contact()
    meeting = make_meeting([facilitator], contacts=[contact])
    other = make_meeting([facilitator], client=make_client(), day=local_today() + timedelta(days=9))
    p = participant(meeting, "partner", contact_id=contact.id)
    url = f"/meetings/{meeting.id}/participants/{p.id}/remove"
    assert auth_client.post(url).status_code == 400  # no CSRF token
    for foreign in (other.participants[0].id, "abc", "99999999999999999999"):
        assert auth_client.post_form(f"/meetings/{meeting.id}/participants/{foreign}/remove", {},
                                     token_from="/").status_code == 404
    outsider = app.test_client()
    login(outsider, make_user(email="outsider@example.fi"))
    assert outsider.post_form(url, {}, token_from="/").status_code == 404
    arranging.cancel_meeting(meeting, user=facilitator)
    db.session.commit()
    assert auth_client.post_form(url, {}, token_from="/").status_code == 302
    db.session.expire_all()
    assert db.session.get(MeetingParticipant, p.id) is not None
