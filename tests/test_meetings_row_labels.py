"""Repeated controls on the meeting page name their row (issue 27.5): each participant's
invitation and attendance selects and each plan item's status select have an accessible name
that says whose or which ("Kutsu: Matti K."), read from Chromium's accessibility tree, not from
the markup the app wrote."""
from __future__ import annotations

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from core.extensions import db
from tests.phone_walk import seed_demo, sign_in


def _meeting_with_rows():
    from meetings.models import ActionItem, Meeting

    meeting = db.session.scalar(sa.select(Meeting).join(ActionItem, ActionItem.meeting_id == Meeting.id)
                                .where(Meeting.status != "cancelled").order_by(Meeting.id))
    return meeting.id, [p.display_name for p in meeting.participants], \
        [i.what for i in meeting.items if i.status != "carried"]


@pytest.mark.browser
def test_row_selects_are_named_for_their_person_or_item(app, runner, page):
    seed_demo(app, runner)
    meeting_id, people, items = _meeting_with_rows()
    db.session.commit()
    assert len(people) >= 3 and len(items) >= 2
    sign_in(page, "ohjaaja@example.fi")
    page.goto(f"/meetings/{meeting_id}")
    tree = page.locator("main").aria_snapshot()
    # Chromium puts a space before a visually hidden span's text ("Kutsu : Matti K."): not the point here.
    names = [re.sub(r"\s+:", ":", n) for n in re.findall(r'combobox "([^"]+)"', tree)]
    counts = Counter(names)
    assert names and all(n == 1 for n in counts.values()), [n for n, c in counts.items() if c > 1]
    for person in people:
        assert f"Kutsu: {person}" in names and f"Osallistui: {person}" in names, (person, names)
    for what in items:
        assert f"Tila: {what}" in names, (what, names)
