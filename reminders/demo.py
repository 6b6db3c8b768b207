"""Demo data: the unit's contact settings, and reminder policies for the demo groups and meetings."""
from __future__ import annotations

from datetime import time

import sqlalchemy as sa

from core.extensions import db
from groups.models import Group
from meetings.models import Meeting

from . import services
from .models import TargetKind
from .notices import save_team_settings


def seed(ctx) -> None:
    # The unit's "call us" line in every message and letter (a made-up number of the 09 area).
    save_team_settings(contact_phone="+358 9 310 00000", opening_hours="ma–pe 9–15", user=None)
    for group in db.session.scalars(sa.select(Group).order_by(Group.id).limit(5)):
        services.save_policy(TargetKind.GROUP.value, group.id, day_before=True, day_before_at=time(16, 0),
                             same_morning=False, same_morning_at=time(8, 0), by_sms=True, by_email=False)
    for meeting in db.session.scalars(sa.select(Meeting).order_by(Meeting.id).limit(5)):
        services.save_policy(TargetKind.MEETING.value, meeting.id, day_before=True, day_before_at=time(16, 0),
                             same_morning=True, same_morning_at=time(8, 0), by_sms=True, by_email=True)
    db.session.flush()
