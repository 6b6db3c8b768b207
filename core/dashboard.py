"""The start page is assembled from panels that features register (today's sessions, my week,
my open tasks, follow-ups due, failed reminders). Each panel is a function of the user that
returns a template name and its context, or None when it has nothing to show. Features register
them on the app (``register_panel(app, fn)`` in their blueprint's ``record_once``; see
``core.registry``)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask

from .registry import register, registered


@dataclass
class Panel:
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50


PanelFactory = Callable[[object], Panel | None]


def register_panel(app: Flask, factory: PanelFactory) -> PanelFactory:
    return register(app, "panels", factory)


def panels_for(user) -> list[Panel]:
    result = [panel for factory in registered("panels") if (panel := factory(user)) is not None]
    return sorted(result, key=lambda p: p.order)
