"""Reminder policy pages of groups and meetings: defaults, saving, bad input kept with errors,
stale edits, who may open them, recipients with consent, and staff-set opt-outs."""
from __future__ import annotations

from datetime import UTC, date, datetime, time

import sqlalchemy as sa

from core.extensions import db
from register.models import AccessLog
from register.services import save_relative
from reminders.models import ReminderOptOut, ReminderPolicy
from tests.factories import make_client, make_group_with_session, make_meeting, make_user

AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def policy_rows():
    db.session.expire_all()
    return db.session.scalars(sa.select(ReminderPolicy)).all()


def test_group_policy_defaults_and_save(app, facilitator, auth_client):
    client = make_client(name="Matti M", worker=facilitator, phone="040 123 4567", consent=True)
    group, _s = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=AT)
    db.session.commit()
    url = f"/reminders/group/{group.id}"
    page = auth_client.get(url).get_data(as_text=True)
    assert "Muistutukset: Raharyhmä" in page
    assert 'name="day_before_at" required' not in page
    assert 'value="16:00"' in page and 'value="08:00"' in page
    consent_day = client.consent_date.strftime("%-d.%-m.%Y")
    assert "Matti M" in page and f"Kyllä, {consent_day}" in page and "+358401234567" in page
    assert db.session.scalar(sa.select(AccessLog.id).where(AccessLog.client_id == client.id,
                                                           AccessLog.action == "reminder_recipients"))

    response = auth_client.post_form(url, {"version": "0", "same_morning": "y", "same_morning_at": "07:30",
                                           "day_before_at": "16:00", "by_sms": "y", "by_email": "y"},
                                     token_from=url)
    assert response.status_code == 302
    [policy] = policy_rows()
    assert (policy.target_kind, policy.target_id) == ("group", group.id)
    assert not policy.day_before and policy.same_morning and policy.same_morning_at == time(7, 30)
    assert policy.by_sms and policy.by_email and policy.version == 1

    # A second tab still holding version 0 is refused, with the input kept.
    stale = auth_client.post_form(url, {"version": "0", "day_before": "y", "day_before_at": "15:00",
                                        "by_sms": "y"}, token_from=url)
    assert stale.status_code == 200 and 'class="error-summary"' in stale.get_data(as_text=True)
    assert 'value="15:00"' in stale.get_data(as_text=True)
    assert policy_rows()[0].same_morning_at == time(7, 30)


def test_bad_policy_input_is_refused_with_the_input_kept(app, facilitator, auth_client):
    group, _s = make_group_with_session(facilitator=facilitator, clients=[], starts_at=AT)
    db.session.commit()
    url = f"/reminders/group/{group.id}"
    cases = [
        ({"day_before": "y", "day_before_at": "25:99", "by_sms": "y"}, "25:99"),
        ({"day_before": "y", "day_before_at": "", "by_sms": "y"}, "Anna kellonaika, esimerkiksi 16.00."),
        ({"day_before": "y", "day_before_at": "16:00"}, "Valitse tekstiviesti, sähköposti tai molemmat."),
        ({"same_morning": "y", "same_morning_at": "13:00", "by_sms": "y"}, "Aamun muistutus lähtee ennen puoltapäivää."),
    ]
    for data, expected in cases:
        response = auth_client.post_form(url, dict(data, version="0"), token_from=url)
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and expected in text, expected
        assert 'aria-invalid="true"' in text
    assert policy_rows() == []


def test_policy_pages_are_only_for_those_responsible(app, facilitator, auth_client, lead_client):
    other = make_user(name="Other Facilitator")
    theirs, _s = make_group_with_session(facilitator=other, clients=[], starts_at=AT)
    hidden_client = make_client(worker=other)
    meeting = make_meeting(client=hidden_client, starts_at=AT, staff=other)
    db.session.commit()
    for url in (f"/reminders/group/{theirs.id}", f"/reminders/meeting/{meeting.id}", "/reminders/group/abc",
                "/reminders/meeting/99999", "/reminders/group/-3"):
        assert auth_client.get(url).status_code == 404, url
    assert auth_client.post_form(f"/reminders/group/{theirs.id}", {"version": "0"},
                                 token_from="/reminders/outbox").status_code == 404
    assert lead_client.get(f"/reminders/meeting/{meeting.id}").status_code == 200
    assert "Raharyhmä" not in auth_client.get("/reminders/settings").get_data(as_text=True)


def test_meeting_recipients_include_relatives_and_staff_can_opt_them_out(app, facilitator, auth_client):
    client = make_client(name="Aino A", worker=facilitator, phone="040 123 4567", consent=True)
    relative = save_relative(client, None, name="Eero E", relation="isä", phone="040 555 6666", email="",
                             language="fi", reminder_consent=True)
    relative.consent_date = date(2026, 10, 1)
    db.session.commit()
    meeting = make_meeting(client=client, starts_at=AT, staff=facilitator, relatives=[relative])
    db.session.commit()
    url = f"/reminders/meeting/{meeting.id}"
    page = auth_client.get(url).get_data(as_text=True)
    assert "Eero E" in page and "Kyllä, 1.10.2026" in page and "+358405556666" in page
    assert "Ei sähköpostiosoitetta" in page

    opt_url = f"/reminders/meeting/{meeting.id}/recipients/relative/{relative.id}/opt-out"
    assert auth_client.post_form(opt_url, {"opted_out": "1"}, token_from=url).status_code == 302
    assert db.session.scalar(sa.select(ReminderOptOut.recipient_id)) == relative.id
    page = auth_client.get(url).get_data(as_text=True)
    assert "On kieltäytynyt muistutuksista" in page
    # A relative who is not on this meeting cannot be reached through its URL.
    stranger = make_client(worker=facilitator)
    other_relative = save_relative(stranger, None, name="X", relation="", phone="", email="", language="fi",
                                   reminder_consent=False)
    db.session.commit()
    bad = f"/reminders/meeting/{meeting.id}/recipients/relative/{other_relative.id}/opt-out"
    assert auth_client.post_form(bad, {"opted_out": "1"}, token_from=url).status_code == 404
    assert auth_client.post_form(opt_url, {"opted_out": "0"}, token_from=url).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderOptOut)) == 0


def _count_queries(client, url):
    from sqlalchemy import event

    count = {"n": 0}

    def before(_conn, _cursor, statement, *_args, **_kw):
        count["n"] += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count["n"]


def test_list_pages_do_not_query_per_row(app, facilitator, auth_client):
    from reminders.models import OutboxMessage

    client = make_client(worker=facilitator, phone="040 123 4567", consent=True)
    meeting = make_meeting(client=client, starts_at=AT, staff=facilitator)
    db.session.commit()

    def add_rows(n, start):
        for i in range(start, start + n):
            relative = save_relative(client, None, name=f"R{i}", relation="", phone="040 555 6666", email="",
                                     language="fi", reminder_consent=True)
            db.session.flush()
            from meetings.models import MeetingParticipant
            db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="relative", relative_id=relative.id))
            db.session.add(OutboxMessage(kind="reminder", target_kind="meeting", target_id=meeting.id,
                                         recipient_kind="relative", recipient_id=relative.id, slot="s",
                                         channel="sms", client_id=client.id, address="+358405556666", body="x",
                                         status="manual"))
        db.session.commit()
        db.session.expire_all()

    add_rows(2, 0)
    few = [_count_queries(auth_client, u) for u in ("/reminders/outbox", f"/reminders/meeting/{meeting.id}")]
    add_rows(8, 2)
    many = [_count_queries(auth_client, u) for u in ("/reminders/outbox", f"/reminders/meeting/{meeting.id}")]
    assert many == few


def test_group_and_meeting_pages_link_to_their_reminder_settings(app, facilitator, auth_client):
    client = make_client(name="Linkki L", worker=facilitator)
    group, _s = make_group_with_session(facilitator=facilitator, clients=[client], starts_at=AT)
    meeting = make_meeting(client=client, starts_at=AT, staff=facilitator)
    db.session.commit()
    assert f'href="/reminders/group/{group.id}"' in auth_client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert f'href="/reminders/meeting/{meeting.id}"' in auth_client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
