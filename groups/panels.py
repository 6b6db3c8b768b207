"""Start-page panels: today's group sessions and "my week" (the next seven days) of the
signed-in user; and the client page's section of the client's groups."""
from __future__ import annotations

from datetime import timedelta

from flask import g

from core.dashboard import Panel, register_panel
from core.templating import translated_labels
from core.timeutil import local_day_bounds_utc, local_today
from register.sections import register_client_section

from .services import ENROLMENT_LABELS, client_groups, session_spans, sessions_for_user

CLIENT_GROUPS = 20


def _my_week(user):
    """The user's sessions of the next seven days and their groups' spans, loaded once per
    request: today's panel shows the first day of the same list."""
    cached = g.get("groups_my_week")
    if cached is None or cached[0] != user.id:
        today = local_today()
        start, _ = local_day_bounds_utc(today)
        _, end = local_day_bounds_utc(today + timedelta(days=6))
        sessions = sessions_for_user(user.id, start, end)
        cached = (user.id, sessions, session_spans(s.group_id for s in sessions))
        g.groups_my_week = cached
    return cached[1], cached[2]


@register_panel
def today_panel(user) -> Panel | None:
    start, end = local_day_bounds_utc(local_today())
    week, spans = _my_week(user)
    sessions = [s for s in week if s.starts_at < end and s.ends_at > start]
    if not sessions:
        return None
    return Panel("groups/_panel_today.html", {"today_sessions": sessions, "spans": spans}, order=10)


@register_panel
def my_week_panel(user) -> Panel | None:
    sessions, spans = _my_week(user)
    return Panel("groups/_panel_week.html", {"week_sessions": sessions, "spans": spans}, order=20)


@register_client_section
def client_groups_section(client, user) -> Panel:
    """The client page's groups: every staff member may see a group's page, and the client page
    has checked that the user may see the client."""
    groups, more = client_groups(client.id, CLIENT_GROUPS)
    return Panel("groups/_client_section.html",
                 {"groups": groups, "more": more, "spans": session_spans(g.id for g in groups),
                  "enrolment_labels": translated_labels(ENROLMENT_LABELS)}, order=30)
