"""Start-page panel: the signed-in staff member's open tasks from network meeting plans; and
the client page's section of the client's network meetings."""
from __future__ import annotations

from core.dashboard import Panel

from . import plan, services

PANEL_SIZE = 5
CLIENT_UPCOMING = 20
CLIENT_PAST = 10


def my_tasks_panel(user) -> Panel | None:
    items, total = plan.first_open_items(user.id, PANEL_SIZE)
    if not items:
        return None
    # Only the task text and due date: no client names on the start page, so nothing to log.
    return Panel("meetings/_panel_tasks.html",
                 {"items": items, "more": max(0, total - PANEL_SIZE), "overdue": plan.is_overdue},
                 order=30)


def client_meetings_section(client, user) -> Panel:
    # Shown even when empty: the section is where a meeting for this client is arranged.
    upcoming, past, more = services.client_meetings(client.id, user, upcoming_limit=CLIENT_UPCOMING,
                                                    past_limit=CLIENT_PAST)
    return Panel("meetings/_client_section.html", {"upcoming": upcoming, "past": past, "more": more}, order=20)
