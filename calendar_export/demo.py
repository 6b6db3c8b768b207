"""Demo data: a calendar subscription for Sovatek, whose contacts are invited to demo network
meetings. The token is thrown away (never printed or logged); rotate the subscription on the
Calendars page to get a working link."""
from __future__ import annotations

from .services import create_subscription


def seed(ctx) -> None:
    sovatek = ctx.partners.get("sovatek")
    if sovatek is None:
        return
    lead = ctx.staff.get("vastaava")
    sub, _token = create_subscription(kind="partner", target_id=sovatek.id, label="Tiina Toivonen (demo)",
                                      created_by=lead)
    ctx.extra["calendar_sovatek_subscription"] = sub
