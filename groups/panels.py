"""Start-page panels: today's group sessions and "my week" (the next seven days) of the
signed-in user."""
from __future__ import annotations

from datetime import timedelta

from core.dashboard import Panel, register_panel
from core.timeutil import local_day_bounds_utc, local_today

from .services import session_spans, sessions_for_user


@register_panel
def today_panel(user) -> Panel | None:
    start, end = local_day_bounds_utc(local_today())
    sessions = sessions_for_user(user.id, start, end)
    if not sessions:
        return None
    return Panel("groups/_panel_today.html",
                 {"today_sessions": sessions, "spans": session_spans(s.group_id for s in sessions)}, order=10)


@register_panel
def my_week_panel(user) -> Panel | None:
    today = local_today()
    start, _ = local_day_bounds_utc(today)
    _, end = local_day_bounds_utc(today + timedelta(days=6))
    sessions = sessions_for_user(user.id, start, end)
    return Panel("groups/_panel_week.html",
                 {"week_sessions": sessions, "spans": session_spans(s.group_id for s in sessions)}, order=20)
