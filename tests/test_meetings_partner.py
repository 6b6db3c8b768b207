"""Partners' personal links: only the token's hash is stored; the page shows only the contact's own
open items and the next meeting's time, names the client as chosen (initials by default), lets the
partner mark their own items done; revoked or unknown tokens are 404; no Referer leaks."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today, to_local
from meetings import partner_links, plan
from meetings.models import ActionItem, PartnerLink
from register.models import AccessLog
from tests.factories import login, make_client
from tests.test_meetings_support import make_contact, make_meeting, participant

LINK_RE = re.compile(r'value="(http://[^"]+/p/([A-Za-z0-9_\-]+))"')


def _setup(facilitator):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    mine, theirs = make_contact("Sovatek"), make_contact("TYP")
    held = make_meeting([facilitator], client=client, contacts=[mine, theirs], day=local_today() - timedelta(days=7))
    own = plan.add_item(held, responsible_id=participant(held, "partner", contact_id=mine.id).id,
                            what="Book the assessment", due_date=local_today() + timedelta(days=5)).item
    other = plan.add_item(held, responsible_id=participant(held, "partner", contact_id=theirs.id).id,
                              what="Work try-out plan").item
    staff_item = plan.add_item(held, responsible_id=participant(held, "staff").id, what="Staff-only task").item
    upcoming = plan.schedule_follow_up(held, user=facilitator, starts_at=held.starts_at + timedelta(days=21),
                                           ends_at=held.ends_at + timedelta(days=21))
    db.session.commit()
    return held, upcoming, mine, own, other, staff_item


def _create_link(client, meeting, contact):
    p = participant(meeting, "partner", contact_id=contact.id)
    response = client.post_form(f"/meetings/{meeting.id}/participants/{p.id}/link")
    assert response.status_code == 200
    url, token = LINK_RE.search(response.get_data(as_text=True)).groups()
    return url, token


def test_partner_link_shows_own_items_and_marks_done(app, client, facilitator):
    held, upcoming, mine, own, other, staff_item = _setup(facilitator)
    login(client, facilitator)
    _url, token = _create_link(client, held, mine)
    link = db.session.scalar(sa.select(PartnerLink))
    assert link.contact_id == mine.id and link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in link.token_hash

    partner = app.test_client()  # the partner has no login
    response = partner.get(f"/p/{token}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert "Book the assessment" in page
    assert "Work try-out plan" not in page and "Staff-only task" not in page
    assert "M.K." in page and "Matti" not in page and "Kuusela" not in page
    from core.templating import weekday_date
    with app.test_request_context():  # Finnish, like the page
        assert weekday_date(upcoming.starts_at) in page  # the next meeting's time
    assert db.session.scalar(sa.select(AccessLog).where(AccessLog.client_id == held.client_id,
                                                        AccessLog.detail == "partner link")) is not None

    # Someone else's item and a staff item are refused, unchanged.
    for item in (other, staff_item):
        assert partner.post_form(f"/p/{token}/items/{item.id}/done", token_from=f"/p/{token}").status_code == 404
        db.session.refresh(item)
        assert item.status == "open"
    assert partner.post_form(f"/p/{token}/items/abc/done", token_from=f"/p/{token}").status_code == 404

    response = partner.post_form(f"/p/{token}/items/{own.id}/done", token_from=f"/p/{token}")
    assert response.status_code == 302 and response.headers["Referrer-Policy"] == "no-referrer"
    db.session.refresh(own)
    assert own.status == "done" and mine.name in own.status_changed_by and own.status_changed_at is not None
    # Gone from the open tasks; listed only under "marked done recently", with its undo.
    after = partner.get(f"/p/{token}").get_data(as_text=True)
    open_part, _sep, recent_part = after.partition('id="recently-done"')
    assert "Book the assessment" not in open_part and "Book the assessment" in recent_part
    db.session.refresh(link)
    assert link.last_used_at is not None


def test_client_identification_choice(app, client, facilitator):
    held, upcoming, mine, *_ = _setup(facilitator)
    held.client_identification = "none"
    db.session.commit()
    _link, token = partner_links.create_partner_link(mine, user=facilitator)
    db.session.commit()
    page = app.test_client().get(f"/p/{token}").get_data(as_text=True)
    assert "Book the assessment" in page and "M.K." not in page and "Matti" not in page
    # The section shows both meetings: the first name only when both say so.
    held.client_identification = upcoming.client_identification = "name"
    db.session.commit()
    page = app.test_client().get(f"/p/{token}").get_data(as_text=True)
    assert "Matti" in page and "Kuusela" not in page


def test_revoked_and_unknown_tokens_are_404(app, client, facilitator):
    held, _upcoming, mine, own, *_ = _setup(facilitator)
    login(client, facilitator)
    _url, token = _create_link(client, held, mine)
    partner = app.test_client()
    assert partner.get(f"/p/{token}").status_code == 200
    link = db.session.scalar(sa.select(PartnerLink))
    revoke_url = f"/meetings/{held.id}/links/{link.id}/revoke"
    # The meeting page lists the contact's link with its revoke button...
    assert revoke_url in client.get(f"/meetings/{held.id}").get_data(as_text=True)
    response = client.post_form(revoke_url)
    assert response.status_code == 302
    # ...and then as revoked, without the button.
    page = client.get(f"/meetings/{held.id}").get_data(as_text=True)
    assert revoke_url not in page and to_local(link.created_at).strftime("%-d.%-m.%Y") in page
    db.session.refresh(link)
    assert link.revoked_at is not None
    response = partner.get(f"/p/{token}")
    assert response.status_code == 404 and response.headers["Referrer-Policy"] == "no-referrer"
    assert partner.post_form(f"/p/{token}/items/{own.id}/done").status_code == 404
    db.session.refresh(own)
    assert own.status == "open"
    for bad in ("unknown-token", "x" * 43, "a" * 500):
        assert partner.get(f"/p/{bad}").status_code == 404


def test_link_only_for_a_partner_participant_of_the_meeting(app, client, facilitator):
    held, _upcoming, mine, *_ = _setup(facilitator)
    login(client, facilitator)
    staff_p = participant(held, "staff")
    assert client.post_form(f"/meetings/{held.id}/participants/{staff_p.id}/link").status_code == 404
    other_meeting = make_meeting([facilitator], client=held.client)
    foreign = participant(held, "partner", contact_id=mine.id)
    assert client.post_form(f"/meetings/{other_meeting.id}/participants/{foreign.id}/link").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(PartnerLink.id))) == 0


def test_partner_page_in_the_contacts_language(app, facilitator, fresh_db):
    held, _upcoming, mine, *_ = _setup(facilitator)
    mine.language = "sv"
    db.session.commit()
    _link, token = partner_links.create_partner_link(mine, user=facilitator)
    db.session.commit()
    page = app.test_client().get(f"/p/{token}").get_data(as_text=True)
    assert '<html lang="sv">' in page and "Dina uppgifter" in page and "Markera som klar" in page
    own = next(i for i in partner_links.partner_open_items(mine.id))
    partner = app.test_client()
    response = partner.post_form(f"/p/{token}/items/{own.id}/done", token_from=f"/p/{token}", follow_redirects=True)
    assert "Tack. Uppgiften är markerad som klar." in response.get_data(as_text=True)
    assert fresh_db.get(ActionItem, own.id).status == "done"
