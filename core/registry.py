"""Per-app registries: the one way a feature plugs something into a lower layer.

Core and the register know nothing of the features above them (docs/ARCHITECTURE.md, "Layers").
A feature hands them its functions and objects when its blueprint is registered on an app
(``bp.record_once``), and they are kept in that app's ``app.extensions`` under ``KEY``, never in a
module global filled at import: two apps in one process (tests, a CLI next to a server) each
see only what was registered on them.

- ``register(app, name, item)`` adds ``item`` to the list called ``name`` (once; the order is
  the order of registration, i.e. the feature order of ``create_app``);
- ``registered(name, app=None)`` reads it back (the current app by default; an empty tuple when
  nothing was registered under that name).

Names in use (docs/ARCHITECTURE.md, "The registries"): "panels" (``core.dashboard``),
"client_sections" (``register.sections``), "access_rules" (``register.access``), "busy_sources"
(``core.conflicts``), "calendar_sources" (``calendar_export.sources``), "reminder_sources" and
"reminder_targets" (``reminders.services``), "group_cancel_audience" (``groups.services``),
"send_reminders_jobs" (``reminders.views``, the timed work of features above it), "demo"
(``core.demo``), "agenda", "annotators", "to_record", "exceptions" (``core.agenda``),
"session_listeners" (``calendar_export.changes``), "features" (``core.setup``).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app

KEY = "kohtaamo"


def _registries(app: Flask) -> dict[str, list[Any]]:
    return app.extensions.setdefault(KEY, {})


def register(app: Flask, name: str, item: Any) -> Any:
    """Add ``item`` to the app's registry ``name`` (a second registration of the same item is a
    no-op) and return it."""
    items = _registries(app).setdefault(name, [])
    if item not in items:
        items.append(item)
    return item


def registered(name: str, app: Flask | None = None) -> tuple[Any, ...]:
    """What was registered under ``name`` on ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    return tuple(_registries(target).get(name, ()))
