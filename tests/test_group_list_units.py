"""A staff member's group list (issue #23): the rows newest first with the rule per row
(groups.services.visible_condition), the total ("Page 1 of N") unit by unit and by the
facilitator indexes (visible_count). They must agree: the user's units' groups and the groups
they facilitate in another unit, each once; another unit's other groups never."""
from __future__ import annotations

from core.extensions import db
from tests.factories import linked_ids, login, make_member, make_two_units


def _ids(html: str) -> set[int]:
    return linked_ids(html, "/groups/")


def test_the_group_list_and_its_page_count_agree(app):
    from groups.models import Group

    unit_a, unit_b = make_two_units()
    me = make_member(email="fiia@example.fi", name="Fiia Facilitator", role="facilitator", unit_id=unit_a, language="en")
    ours = [Group(title=f"Ryhmä {n:02}", unit_id=unit_a) for n in range(48)]
    ours.append(Group(title="Oma ryhmä", unit_id=unit_a, facilitator1_id=me.id))  # both reasons: once
    theirs_mine = Group(title="Idän ryhmä, minä ohjaan", unit_id=unit_b, facilitator2_id=me.id)
    theirs = Group(title="Idän ryhmä", unit_id=unit_b)
    db.session.add_all([*ours, theirs_mine, theirs])
    db.session.commit()
    c = app.test_client()
    login(c, me)

    html = c.get("/groups/").get_data(as_text=True)
    assert _ids(html) == {g.id for g in ours} | {theirs_mine.id}
    assert "Page 1 of" not in html  # 50 groups: one page, not a second for a group counted twice
    assert theirs.id not in _ids(html)

    last = Group(title="Uusin ryhmä", unit_id=unit_a)
    db.session.add(last)
    db.session.commit()
    assert "Page 1 of 2" in c.get("/groups/").get_data(as_text=True)
    assert len(_ids(c.get("/groups/?page=2").get_data(as_text=True))) == 1
