"""Sections of a client's page that features add: the client's network meetings, groups, ...

The register knows nothing of the features; each registers a function of (client, user) that
returns a ``core.dashboard.Panel`` (template and context) or None when it has nothing to show.
The client page has already checked that the user may see the client and logged the view, so a
section shows only that client's records, and only those the user may open."""
from __future__ import annotations

from collections.abc import Callable

from core.dashboard import Panel

SectionFactory = Callable[[object, object], Panel | None]
_sections: list[SectionFactory] = []


def register_client_section(factory: SectionFactory) -> SectionFactory:
    if factory not in _sections:
        _sections.append(factory)
    return factory


def sections_for(client, user) -> list[Panel]:
    result = [section for factory in _sections if (section := factory(client, user)) is not None]
    return sorted(result, key=lambda s: s.order)
