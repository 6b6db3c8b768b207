"""Start-page panel: the signed-in staff member's open tasks from network meeting plans."""
from __future__ import annotations

from core.dashboard import Panel, register_panel

from . import services

PANEL_SIZE = 5


@register_panel
def my_tasks_panel(user) -> Panel | None:
    items, total = services.first_open_items(user.id, PANEL_SIZE)
    if not items:
        return None
    # Only the task text and due date: no client names on the start page, so nothing to log.
    return Panel("meetings/_panel_tasks.html",
                 {"items": items, "more": max(0, total - PANEL_SIZE), "overdue": services.is_overdue},
                 order=30)
