"""Helpers shared by the meetings tests (this module holds no tests itself)."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

from core.extensions import db
from core.timeutil import local_today
from tests.factories import make_client, make_partner

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def make_meeting(staff, *, client=None, contacts=(), relatives=(), day: date | None = None, at: time = time(10, 0),
                 minutes: int = 60, include_client: bool = True, purpose: str = "Follow-up of the activation plan"):
    from meetings import arranging

    client = client or make_client(name="Matti Kuusela")
    day = day or local_today() + timedelta(days=7)
    starts, ends = arranging.meeting_times(day, at, minutes)
    meeting = arranging.create_meeting(
        client=client, purpose=purpose, starts_at=starts, ends_at=ends, staff_ids=[u.id for u in staff],
        contact_ids=[c.id for c in contacts], relative_ids=[r.id for r in relatives], include_client=include_client,
        created_by=staff[0] if staff else None)
    db.session.commit()
    return meeting


def make_contact(name: str | None = None):
    partner = make_partner(name=name, contacts=1)
    return partner.contacts[0]


def add_relative(client, name="Helena Kuusela", relation="mother"):
    from register.services import save_relative

    relative = save_relative(client, None, name=name, relation=relation, phone="", email="", language="fi",
                             reminder_consent=False)
    db.session.commit()
    return relative


def participant(meeting, kind, **match):
    for p in meeting.participants:
        if p.kind == kind and all(getattr(p, k) == v for k, v in match.items()):
            return p
    raise AssertionError(f"no {kind} participant {match}")


def token_from(http, url):
    response = http.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, response.status_code
    return match.group(1)
