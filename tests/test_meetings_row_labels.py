"""Repeated controls on the meeting page name their row (issue 27.5): each participant's
invitation and attendance selects and each plan item's status select have an accessible name
that says whose or which ("Kutsu: Matti K."), read from Chromium's accessibility tree, not from
the markup the app wrote."""
from __future__ import annotations

import re

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
    from meetings.models import Meeting

    meeting = db.session.get(Meeting, meeting_id)
    participant_ids = {p.display_name: p.id for p in meeting.participants}
    item_ids = {i.what: i.id for i in meeting.items if i.status != "carried"}
    db.session.commit()
    assert len(people) >= 3 and len(items) >= 2
    sign_in(page, "ohjaaja@example.fi")
    # The meeting page lists the rows with one "edit" link each, named for its row (issue 22).
    page.goto(f"/meetings/{meeting_id}")
    tree = page.locator("main").aria_snapshot()
    links = [re.sub(r"\s+:", ":", n) for n in re.findall(r'link "([^"]+)"', tree)]
    assert not re.findall(r'combobox "', tree.split("Kirjaus")[0])
    for name in people + items:
        assert links.count(f"Muokkaa: {name}") == 1, (name, links)
    # Each row's edit page names its controls for the row ("Kutsu: Matti K.").
    for person in people:
        page.goto(f"/meetings/{meeting_id}/participants/{participant_ids[person]}")
        # Chromium puts a space before a visually hidden span's text ("Kutsu : Matti K."): not the point here.
        names = [re.sub(r"\s+:", ":", n) for n in re.findall(r'combobox "([^"]+)"', page.locator("main").aria_snapshot())]
        assert names == [f"Kutsu: {person}", f"Osallistui: {person}"], names
    for what in items:
        page.goto(f"/meetings/{meeting_id}/items/{item_ids[what]}/edit")
        names = [re.sub(r"\s+:", ":", n) for n in re.findall(r'combobox "([^"]+)"', page.locator("main").aria_snapshot())]
        assert f"Tila: {what}" in names, (what, names)
