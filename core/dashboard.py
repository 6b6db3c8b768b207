"""The start page is assembled from panels that features register (today's sessions, my week,
my open tasks, follow-ups due, failed reminders). Each panel is a function of the user that
returns a template name and its context, or None when it has nothing to show."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Panel:
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50


PanelFactory = Callable[[object], Panel | None]
_panels: list[PanelFactory] = []


def register_panel(factory: PanelFactory) -> PanelFactory:
    if factory not in _panels:
        _panels.append(factory)
    return factory


def panels_for(user) -> list[Panel]:
    result = [panel for factory in _panels if (panel := factory(user)) is not None]
    return sorted(result, key=lambda p: p.order)
