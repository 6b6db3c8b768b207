"""The client page's section of the client's appointments (those the user may open), with the
way to book the next one."""
from __future__ import annotations

from core.dashboard import Panel

from . import services


def client_appointments_section(client, user) -> Panel:
    # Shown even when empty: the section is where an appointment for this client is booked.
    return Panel("appointments/_client_section.html",
                 {"appointments": services.client_appointments(client.id, user)}, order=15)
