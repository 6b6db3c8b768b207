"""Small factories for tests: they create rows through the services, as the app does."""
from __future__ import annotations

from datetime import datetime, timedelta

PASSWORD = "correct horse battery"

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def make_user(*, role: str = "facilitator", email: str | None = None, name: str | None = None,
              password: str = PASSWORD, language: str = "fi", active: bool = True):
    from accounts.services import create_staff
    from core.extensions import db

    n = _next()
    user = create_staff(email=email or f"staff{n}@example.fi", name=name or f"Staff Member {n}",
                        password=password, role=role, language=language)
    user.active = active
    db.session.commit()
    return user


def make_client(*, name: str | None = None, worker=None, phone: str = "", consent: bool = False, language: str = "fi"):
    from core.extensions import db
    from register.services import create_client

    client = create_client(name=name or f"Client {_next()}", phone=phone, reminder_consent=consent,
                           language=language, created_by=worker)
    db.session.commit()
    return client


def make_partner(*, name: str | None = None, kind: str = "substance_abuse", contacts: int = 1):
    from core.extensions import db
    from register.services import save_contact, save_partner

    partner = save_partner(None, name=name or f"Partner {_next()}", kind=kind)
    for _ in range(contacts):
        save_contact(partner, None, name=f"Contact {_next()}", email=f"contact{_next()}@partner.example")
    db.session.commit()
    return partner


def login(client, user_or_email, password: str = PASSWORD):
    from tests.lost_commit import setup_request

    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    with setup_request():  # the test's setup: the lost-commit check keeps its commit
        response = client.post_form("/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


# Rows built straight on the models (moved from reminders/testing.py).
def make_group_with_session(*, facilitator, clients, starts_at: datetime, status: str = "scheduled",
                            venue: str = "Kauppakatu 5", room: str = ""):
    from core.extensions import db
    from groups.models import Enrolment, Group, GroupSession

    group = Group(title="Raharyhmä", venue=venue, room=room, status="running", facilitator1_id=facilitator.id)
    db.session.add(group)
    db.session.flush()
    session = GroupSession(group_id=group.id, number=1, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2),
                           status=status)
    db.session.add(session)
    for client in clients:
        db.session.add(Enrolment(group_id=group.id, client_id=client.id, status="enrolled"))
    db.session.flush()
    return group, session


def make_meeting(*, client, starts_at: datetime, staff=None, relatives=(), contacts=(), place: str = "Kauppakatu 5"):
    from core.extensions import db
    from meetings.models import Meeting, MeetingParticipant

    meeting = Meeting(client_id=client.id, purpose="Verkostopalaveri", starts_at=starts_at,
                      ends_at=starts_at + timedelta(hours=1), place=place,
                      created_by_id=getattr(staff, "id", None))
    db.session.add(meeting)
    db.session.flush()
    db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="client"))
    if staff is not None:
        db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="staff", user_id=staff.id))
    for relative in relatives:
        db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="relative", relative_id=relative.id))
    for contact in contacts:
        db.session.add(MeetingParticipant(meeting_id=meeting.id, kind="partner", contact_id=contact.id))
    db.session.flush()
    db.session.refresh(meeting)
    return meeting


def logged(fresh_db, client_id: int | None = None) -> list[tuple[str, str]]:
    """The client's (or, with no id, every) access-log rows as committed, oldest first, as
    (action, detail). Read through
    ``fresh_db``, so a refused form's log row is seen only when its request really committed it:
    take ``seen = len(logged(...))`` before the request and compare ``logged(...)[seen:]`` after."""
    import sqlalchemy as sa

    from register.models import AccessLog

    stmt = sa.select(AccessLog.action, AccessLog.detail).order_by(AccessLog.id)
    if client_id is not None:
        stmt = stmt.where(AccessLog.client_id == client_id)
    return [(action, detail) for action, detail in fresh_db.execute(stmt)]


def login_sessions(fresh_db, user_id: int) -> int:
    """How many server-side login sessions (accounts.models.UserSession) the user has, as
    committed: a logout must have deleted its row."""
    import sqlalchemy as sa

    from accounts.models import UserSession

    return fresh_db.scalar(sa.select(sa.func.count()).select_from(UserSession).where(UserSession.user_id == user_id))


# Pair safety (tests/test_safety_*.py): a home visit and an outreach visit with their pairs.
def make_home_visit(*, client, worker1, worker2=None, starts_at: datetime, minutes: int = 60, kind: str = "home_visit"):
    from appointments.models import Appointment, AppointmentKind
    from core.extensions import db

    appointment = Appointment(client_id=client.id, worker1_id=worker1.id, worker2_id=worker2.id if worker2 else None,
                              kind=AppointmentKind(kind), starts_at=starts_at,
                              ends_at=starts_at + timedelta(minutes=minutes), place="Kotikatu 1 A 2")
    db.session.add(appointment)
    db.session.commit()
    return appointment


def make_outreach_visit(*, staff, starts_at: datetime, hours: int = 2, unit_id: int | None = None):
    from core.extensions import db
    from outreach import services
    from outreach.models import OutreachVisit

    partner = make_partner(name=f"Seurakunta {_next()}", kind="parish")
    venue = services.save_venue(None, partner_id=partner.id, name=f"Kahvila {_next()}", address="Kirkkotie 1",
                                active=True)
    venue.unit_id = unit_id
    visit = OutreachVisit(venue=venue, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours))
    db.session.add(visit)
    db.session.flush()
    services.assign_pair(visit, staff[0].id, staff[1].id if len(staff) > 1 else None)
    db.session.commit()
    return visit


# Units (issue #23): two units and their staff, for the tests of one unit's user meeting another's
# records; and the ids a page links to, to compare what a list shows.
def make_two_units() -> tuple[int, int]:
    """Units A (Keskusta) and B (Itä), committed: their ids."""
    from accounts.units import create_unit
    from core.extensions import db

    unit_a, unit_b = create_unit("Keskusta", "keskusta"), create_unit("Itä", "ita")
    db.session.commit()
    return unit_a.id, unit_b.id


def make_member(*, email: str, name: str, role: str, unit_id: int, language: str = "fi"):
    """A staff member of one unit, committed (signs in with PASSWORD)."""
    from accounts.services import create_staff
    from core.extensions import db

    user = create_staff(email=email, name=name, password=PASSWORD, role=role, unit_ids=[unit_id], language=language)
    db.session.commit()
    return user


def linked_ids(html: str, prefix: str) -> set[int]:
    """The record ids of the links to ``prefix`` + id on a page, e.g. prefix "/clients/"."""
    import re

    return {int(i) for i in re.findall(rf'href="{re.escape(prefix)}(\d+)"', html)}
