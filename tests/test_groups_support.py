"""Helpers shared by the groups tests (no tests here): build groups through the services."""
from __future__ import annotations

import re
from datetime import date, time

from core.extensions import db
from groups import planning, schedule
from groups.models import Group


def make_group(f1, f2=None, *, title: str = "Raharyhmä", room: str = "Ryhmähuone 1", capacity: int = 8,
               weeks: int = 0, first: date = date(2027, 1, 4), start: time = time(13, 0), minutes: int = 90,
               status: str | None = None, topics: list[str] | None = None) -> Group:
    group = planning.save_group(None, title=title, theme="Raha", venue="Kauppakatu 1", room=room, capacity=capacity,
                                facilitator1_id=f1.id, facilitator2_id=f2.id if f2 else None, created_by=f1)
    if weeks:
        planned = schedule.plan_dates(first_date=first, weekday=first.weekday(), start=start, minutes=minutes,
                                      weeks=weeks)
        schedule.generate_schedule(group, planned, topics=topics)
    if status:
        group.status = status
    db.session.commit()
    return group


def token_from(client, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def text_of(response) -> str:
    return response.get_data(as_text=True)
