"""Sections of a client's page that features add: the client's network meetings, groups, ...

The register knows nothing of the features; each registers a function of (client, user) that
returns a ``core.dashboard.Panel`` (template and context) or None when it has nothing to show,
on the app (``register_client_section(app, fn)`` in its blueprint's ``record_once``).
The client page has already checked that the user may see the client and logged the view, so a
section shows only that client's records, and only those the user may open."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from core.dashboard import Panel
from core.registry import register, registered

SectionFactory = Callable[[object, object], Panel | None]


def register_client_section(app: Flask, factory: SectionFactory) -> SectionFactory:
    return register(app, "client_sections", factory)


def sections_for(client, user) -> list[Panel]:
    result = [section for factory in registered("client_sections") if (section := factory(client, user)) is not None]
    return sorted(result, key=lambda s: s.order)
