"""The client page's data-protection section: a lead's link to the client's own copy."""
from __future__ import annotations

from core.dashboard import Panel


def data_protection_section(client, user) -> Panel | None:
    from accounts.units import leads_unit

    if not leads_unit(user, client.unit_id):  # the same rule as the pages it links to
        return None
    return Panel("lifecycle/_client_section.html", {}, order=90)
