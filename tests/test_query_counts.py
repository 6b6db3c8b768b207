"""No query per row: every main page runs the same number of SQL statements with 3 rows of each
kind as with 30 (sessions of a group, enrolments, meetings, participants, action items,
clients, partners, feedback responses, feed events).

Every page is measured (a missing endpoint fails). When a count differs,
the failure names the page and both counts; look for a relationship loaded lazily in a loop.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from tests.factories import login

SMALL, LARGE = 3, 30


@dataclass
class Focus:
    """The records whose pages are measured in one data set."""

    group_id: int
    meeting_id: int
    client_id: int
    partner_id: int
    feed_tokens: dict


def _build(n: int, lead_id: int, other_id: int) -> Focus:
    """n of each kind around one focus group, meeting, client and partner."""
    from groups.models import Attendance, Enrolment, Group, GroupPartner, GroupSession
    from meetings.models import ActionItem, Meeting, MeetingParticipant
    from register.models import Client, ClientWorker, PartnerContact, PartnerOrganisation, Relative

    now = utcnow().replace(microsecond=0)
    tag = f"n{n}"
    partner = PartnerOrganisation(name=f"Focus partner {tag}", kind="ngo")
    partner.contacts = [PartnerContact(name=f"Contact {tag}-{i}", email=f"c{i}@{tag}.example") for i in range(n)]
    db.session.add(partner)
    for i in range(n - 1):
        db.session.add(PartnerOrganisation(name=f"Other partner {tag}-{i}", kind="other"))
    clients = [Client(name=f"Client {tag} {i}", phone="+358401234567") for i in range(n)]
    db.session.add_all(clients)
    db.session.flush()
    for c in clients:
        db.session.add(ClientWorker(client_id=c.id, user_id=other_id))
        db.session.add(Relative(client_id=c.id, name=f"Relative of {c.name}", relation="sister"))
    focus_client = clients[0]

    groups = []
    for g in range(n):
        group = Group(title=f"Group {tag}-{g}", theme="Arki", status="running", facilitator1_id=lead_id,
                      facilitator2_id=other_id, venue="Silta", room="Koivu")
        db.session.add(group)
        groups.append(group)
    db.session.flush()
    focus = groups[0]
    for group in groups:
        db.session.add(GroupPartner(group_id=group.id, partner_id=partner.id))
    sessions = []
    for i in range(n):
        # Half in the past (attendance, feedback), half ahead (feeds, start page).
        starts = now + timedelta(days=7 * (i - n // 2), hours=1)
        s = GroupSession(group_id=focus.id, number=i + 1, starts_at=starts, ends_at=starts + timedelta(minutes=90),
                         topic=f"Topic {i}")
        db.session.add(s)
        sessions.append(s)
    # Every other group gets sessions too, so lists and feeds grow with n.
    for group in groups[1:]:
        starts = now + timedelta(days=2, hours=group.id % 24)
        db.session.add(GroupSession(group_id=group.id, number=1, starts_at=starts, ends_at=starts + timedelta(hours=1)))
    enrolments = [Enrolment(group_id=focus.id, client_id=c.id, status="enrolled") for c in clients]
    db.session.add_all(enrolments)
    # The focus client is in every group and (below) has every other meeting: the client page
    # lists both.
    db.session.add_all(Enrolment(group_id=group.id, client_id=focus_client.id, status="waiting")
                       for group in groups[1:])
    db.session.flush()
    for s in sessions:
        if s.starts_at < now:
            for e in enrolments:
                db.session.add(Attendance(session_id=s.id, enrolment_id=e.id, status="present"))

    meetings = []
    for m in range(n):
        starts = now + timedelta(days=m - n // 2, hours=2)
        meeting = Meeting(client_id=focus_client.id if m % 2 == 0 else clients[m].id, purpose=f"Meeting {tag}-{m}",
                          starts_at=starts, ends_at=starts + timedelta(hours=1), status="planned", created_by_id=lead_id)
        db.session.add(meeting)
        meetings.append(meeting)
    db.session.flush()
    focus_meeting = meetings[0]
    for meeting in meetings:
        staff = MeetingParticipant(meeting_id=meeting.id, kind="staff", user_id=lead_id)
        db.session.add_all([staff, MeetingParticipant(meeting_id=meeting.id, kind="client")])
        db.session.flush()
        count = n if meeting is focus_meeting else 1
        contacts = [MeetingParticipant(meeting_id=meeting.id, kind="partner", contact_id=partner.contacts[i % n].id)
                    for i in range(count)]
        db.session.add_all(contacts)
        db.session.flush()
        for i in range(count):
            responsible = staff if i % 2 == 0 else contacts[i]
            db.session.add(ActionItem(meeting_id=meeting.id, responsible_id=responsible.id, what=f"Task {tag}-{i}",
                                      due_date=(now + timedelta(days=i - 2)).date(), status="open"))
    db.session.flush()

    tokens = {}
    from calendar_export import services as cal

    _feedback(n, focus, sessions, focus_meeting, now)
    for kind, target in (("partner", partner.id), ("unit", None), ("staff", lead_id)):
        _sub, tokens[kind] = cal.create_subscription(kind=kind, target_id=target)
    db.session.commit()
    return Focus(group_id=focus.id, meeting_id=focus_meeting.id, client_id=focus_client.id, partner_id=partner.id,
                 feed_tokens=tokens)


def _feedback(n, group, sessions, meeting, now):
    import uuid

    from feedback import services as fb
    from feedback.models import FeedbackAnswer, FeedbackResponse, FeedbackWindow

    session_set = fb.builtin_set("session")
    meeting_set = fb.builtin_set("meeting")
    # Enough answers per window to pass the suppression threshold, so results and charts show.
    answers_per_window = max(n, 6)
    windows = []
    for s in sessions:
        if s.starts_at < now:
            windows.append((FeedbackWindow(kind="session", group_id=group.id, session_id=s.id,
                                           item_set_id=session_set.id, code=fb.new_code(), opens_at=s.starts_at,
                                           closes_at=s.starts_at + timedelta(hours=1)), session_set))
    windows.append((FeedbackWindow(kind="meeting", meeting_id=meeting.id, item_set_id=meeting_set.id,
                                   code=fb.new_code(), opens_at=now - timedelta(days=3),
                                   closes_at=now - timedelta(days=1)), meeting_set))
    for window, item_set in windows:
        db.session.add(window)
        db.session.flush()
        for r in range(answers_per_window):
            response = FeedbackResponse(id=uuid.uuid4().hex, window_id=window.id, answered_on=now.date(),
                                        comment=f"Comment {r}" if r % 2 else "")
            response.answers = [FeedbackAnswer(item_id=item.id, value=(r + item.position) % 11)
                                for item in item_set.items]
            db.session.add(response)
    db.session.flush()


# (name, endpoint, url builder from Focus). Lists are measured on the whole data set.
PAGES = [
    ("start page", "core.index", lambda f: "/"),
    ("group list", "groups.index", lambda f: "/groups/"),
    ("group page", "groups.group", lambda f: f"/groups/{f.group_id}"),
    ("group participants", "groups.participants", lambda f: f"/groups/{f.group_id}/participants"),
    ("group attendance", "groups.attendance", lambda f: f"/groups/{f.group_id}/attendance"),
    ("meeting list", "meetings.index", lambda f: "/meetings/"),
    ("meeting page", "meetings.show", lambda f: f"/meetings/{f.meeting_id}"),
    ("meeting plan", "meetings.plan", lambda f: f"/meetings/{f.meeting_id}/plan"),
    ("my tasks", "meetings.my_tasks", lambda f: "/meetings/tasks"),
    ("client list", "register.clients", lambda f: "/clients"),
    ("client page", "register.client", lambda f: f"/clients/{f.client_id}"),
    ("partner list", "register.partners", lambda f: "/partners"),
    ("partner page", "register.partner", lambda f: f"/partners/{f.partner_id}"),
    ("partner feed", "calendar_export.feed", lambda f: f"/calendar/{f.feed_tokens['partner']}.ics"),
    ("unit feed", "calendar_export.feed", lambda f: f"/calendar/{f.feed_tokens['unit']}.ics"),
    ("staff feed", "calendar_export.feed", lambda f: f"/calendar/{f.feed_tokens['staff']}.ics"),
    ("calendar subscriptions", "calendar_export.subscriptions", lambda f: "/calendar/subscriptions"),
    ("feedback group results", "feedback.group_results", lambda f: f"/feedback/groups/{f.group_id}"),
    ("feedback meeting results", "feedback.meeting_results", lambda f: f"/feedback/meetings/{f.meeting_id}/results"),
    ("feedback report", "feedback.report", lambda f: "/feedback/report"),
    ("reminder outbox", "reminders.outbox", lambda f: "/reminders/outbox"),
    ("follow-ups", "reminders.follow_ups", lambda f: "/reminders/follow-ups"),
    ("outreach", "outreach.index", lambda f: "/outreach/"),
]


class QueryCounter:
    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        self.statements = []
        sa.event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._on)


_IN_LIST = re.compile(r"IN \((?:\?|%\(\w+\)s|\$\d+|__\[POSTCOMPILE_\w+\])(?:, (?:\?|%\(\w+\)s|\$\d+))*\)")


def shape(statement: str) -> str:
    """A statement without its IN-list length and select list, to tell one query from another."""
    text = _IN_LIST.sub("IN (…)", " ".join(statement.split()))
    if text.startswith("SELECT ") and " FROM " in text:
        text = "SELECT … FROM " + text.split(" FROM ", 1)[1]
    return text[:160]


def is_access_log_write(statement: str) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO ACCESS_LOG")


def _measure(client, url: str) -> list[str]:
    # A first request warms what a page creates once (built-in item sets, chart cache rows,
    # "last used" stamps); the second one is the steady state that is compared.
    first = client.get(url)
    assert first.status_code == 200, f"{url} answered {first.status_code}"
    db.session.remove()
    with QueryCounter(db.engine) as counter:
        response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    db.session.remove()
    return counter.statements


_RESULTS: dict[str, object] = {}


def _measure_all(app, lead, facilitator) -> dict[str, object]:
    """Counts per page: [small statements, large statements]."""
    lead_id, other_id = lead.id, facilitator.id
    small = _build(SMALL, lead_id, other_id)
    client = app.test_client()
    login(client, lead)
    results: dict[str, object] = {}
    for name, endpoint, url in PAGES:
        assert endpoint in app.view_functions, f"{name}: no endpoint {endpoint}"
        results[name] = [_measure(client, url(small))]
    large = _build(LARGE, lead_id, other_id)
    for name, _endpoint, url in PAGES:
        results[name].append(_measure(client, url(large)))
    return results


@pytest.fixture
def measured(request):
    """All pages are measured once (in the first test that asks) on one database; each page's
    verdict is then its own test."""
    if not _RESULTS:
        app = request.getfixturevalue("app")
        _RESULTS.update(_measure_all(app, request.getfixturevalue("lead"), request.getfixturevalue("facilitator")))
    return _RESULTS


def _growth(small: list[str], large: list[str]) -> str:
    a, b = Counter(map(shape, small)), Counter(map(shape, large))
    grown = [(b[k] - a.get(k, 0), k) for k in b if b[k] > a.get(k, 0)]
    grown.sort(reverse=True)
    return "; ".join(f"+{n}× {k}" for n, k in grown[:3])


@pytest.mark.parametrize("page", [p[0] for p in PAGES])
def test_page_reads_a_fixed_number_of_times(page, measured):
    result = measured[page]
    small, large = ([s for s in run if not is_access_log_write(s)] for run in result)
    assert len(small) == len(large), (
        f"{page}: {len(small)} statements with {SMALL} rows of each kind, {len(large)} with {LARGE}: "
        + _growth(small, large))


@pytest.mark.parametrize("page", [p[0] for p in PAGES])
def test_page_logs_access_in_a_fixed_number_of_statements(page, measured):
    """Writing one access-log row per client shown is right; one INSERT statement per row is the
    per-row cost this checks (SQLite cannot batch ORM inserts that need their new ids back, so
    the rows must go in as one executemany)."""
    result = measured[page]
    small, large = ([s for s in run if is_access_log_write(s)] for run in result)
    # PostgreSQL batches the rows into multi-row INSERTs (SQLAlchemy's insertmanyvalues), which
    # may take one statement more for a larger batch; ten times the rows must not cost more.
    grows = len(large) - len(small) > 1
    assert not grows, f"{page}: {len(small)} access-log INSERT statements with {SMALL} rows, {len(large)} with {LARGE}"
