"""The client page's data-protection section: a lead's link to the client's own copy."""
from __future__ import annotations

from core.dashboard import Panel


def data_protection_section(client, user) -> Panel | None:
    if not user.is_lead:
        return None
    return Panel("lifecycle/_client_section.html", {}, order=90)
