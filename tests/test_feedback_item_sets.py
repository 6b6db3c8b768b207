"""A lead's own sets of feedback questions: edited while no answers were collected with them,
copied (built-in sets too) when they were, removed while unused; never by other staff."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from feedback import services
from feedback.models import GroupFeedbackSettings, Item, ItemSet
from tests.test_feedback_factories import make_group, open_now


def _own_set(name="Oma mittari", labels=("Tulin kuulluksi", "Yleisesti")) -> ItemSet:
    item_set = services.create_item_set(kind="session", name=name, comment_labels={"fi": "Muuta?"},
                                        item_labels=[{"fi": label} for label in labels])
    db.session.commit()
    return item_set


def _section(listing: str, name: str) -> str:
    match = re.search(rf"<h2>{re.escape(name)}.*?</section>", listing, re.S)
    assert match, name
    return match.group(0)


def test_unused_set_is_edited_with_its_kind_kept(lead_client):
    item_set = _own_set()
    url = f"/feedback/item-sets/{item_set.id}/edit"
    page = lead_client.get(url).get_data(as_text=True)
    assert 'value="Oma mittari"' in page and 'value="Tulin kuulluksi"' in page and 'value="Muuta?"' in page
    assert 'name="kind"' not in page
    data = {"name": "Korjattu mittari", "kind": "meeting", "items-0-fi": "Tulin kuulluksi", "items-0-sv": "Jag blev hörd",
            "items-1-fi": "Sain apua", "items-2-fi": "Yleisesti", "comment-fi": "Kerro lisää"}
    assert lead_client.post_form(url, data, token_from=url).status_code == 302
    db.session.expire_all()
    item_set = db.session.get(ItemSet, item_set.id)
    assert item_set.name == "Korjattu mittari" and item_set.kind == "session"
    assert [i.labels for i in item_set.items] == [{"fi": "Tulin kuulluksi", "sv": "Jag blev hörd"}, {"fi": "Sain apua"},
                                                  {"fi": "Yleisesti"}]
    assert item_set.comment_labels == {"fi": "Kerro lisää"}
    # The replaced questions are gone, not left behind.
    assert db.session.scalar(sa.select(sa.func.count(Item.id)).where(Item.item_set_id == item_set.id)) == 3


def test_bad_edit_is_refused_with_the_input_kept(lead_client):
    item_set = _own_set()
    url = f"/feedback/item-sets/{item_set.id}/edit"
    response = lead_client.post_form(url, {"name": "", "items-0-sv": "Bara svenska"}, token_from=url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Anna nimi." in page and "Kirjoita ainakin suomenkielinen muoto." in page and "Bara svenska" in page
    db.session.expire_all()
    assert db.session.get(ItemSet, item_set.id).name == "Oma mittari"


def test_set_with_answers_is_not_edited_or_removed_but_copied(app, lead_client, facilitator):
    item_set = _own_set()
    group = make_group([facilitator])
    db.session.add(GroupFeedbackSettings(group_id=group.id, session_item_set_id=item_set.id))
    db.session.commit()
    open_now(services.open_session_window(group.sessions[0]))
    listing = lead_client.get("/feedback/item-sets").get_data(as_text=True)
    own = _section(listing, "Oma mittari")
    assert f"/feedback/item-sets/{item_set.id}/edit" not in own and "/delete" not in own
    assert "sen kysymykset pysyvät sellaisina kuin ne kysyttiin" in own
    url = f"/feedback/item-sets/{item_set.id}/edit"
    refused = lead_client.get(url, follow_redirects=True).get_data(as_text=True)
    assert "joten sen kysymyksiä ei voi muuttaa" in refused
    data = {"name": "Muutettu", "items-0-fi": "Toinen kysymys"}
    assert lead_client.post_form(url, data, token_from="/feedback/item-sets").status_code == 302
    assert lead_client.post_form(f"/feedback/item-sets/{item_set.id}/delete", {},
                                 token_from="/feedback/item-sets").status_code == 302
    db.session.expire_all()
    kept = db.session.get(ItemSet, item_set.id)
    assert kept.name == "Oma mittari" and [i.labels["fi"] for i in kept.items] == ["Tulin kuulluksi", "Yleisesti"]
    # The copy starts with the set's wording and becomes a set of its own.
    copy_url = f"/feedback/item-sets/new?from={item_set.id}"
    form = lead_client.get(copy_url).get_data(as_text=True)
    assert 'value="Kopio: Oma mittari"' in form and 'value="Tulin kuulluksi"' in form
    data = {"name": "Kopio: Oma mittari", "kind": "session", "items-0-fi": "Tulin kuulluksi",
            "items-1-fi": "Yleisesti kaikki", "comment-fi": "Muuta?"}
    assert lead_client.post_form("/feedback/item-sets/new", data, token_from=copy_url).status_code == 302
    copy = db.session.scalar(sa.select(ItemSet).where(ItemSet.name == "Kopio: Oma mittari"))
    assert [i.labels["fi"] for i in copy.items] == ["Tulin kuulluksi", "Yleisesti kaikki"] and copy.id != item_set.id


def test_builtin_set_is_copied_but_not_changed(lead_client):
    listing = lead_client.get("/feedback/item-sets").get_data(as_text=True)
    assert 'href="/feedback/item-sets/new?from=builtin:session"' in listing
    form = lead_client.get("/feedback/item-sets/new?from=builtin:session").get_data(as_text=True)
    assert "Viihdyitkö ryhmässä tänään?" in form and 'value="Kopio: Kohtaamo: ryhmäkerran palaute"' in form
    assert '<option selected value="session">' in form
    assert lead_client.get("/feedback/item-sets/new?from=builtin:nonsense").status_code == 404
    for bad in ("abc", "0", "99999999999999999999"):
        assert lead_client.get(f"/feedback/item-sets/new?from={bad}").status_code == 404
    stored = services.builtin_set("session")
    db.session.commit()
    assert lead_client.get(f"/feedback/item-sets/{stored.id}/edit").status_code == 302
    assert lead_client.post_form(f"/feedback/item-sets/{stored.id}/delete", {},
                                 token_from="/feedback/item-sets").status_code == 302
    assert db.session.get(ItemSet, stored.id) is not None


def test_unused_set_is_removed_unless_a_group_chose_it(lead_client, facilitator):
    chosen, spare = _own_set("Valittu"), _own_set("Ylimääräinen")
    spare_id = spare.id  # the request deletes the row: the object cannot be read after it
    group = make_group([facilitator])
    db.session.add(GroupFeedbackSettings(group_id=group.id, session_item_set_id=chosen.id))
    db.session.commit()
    listing = lead_client.get("/feedback/item-sets").get_data(as_text=True)
    assert "/delete" not in _section(listing, "Valittu") and "/delete" in _section(listing, "Ylimääräinen")
    response = lead_client.post_form(f"/feedback/item-sets/{chosen.id}/delete", {}, token_from="/feedback/item-sets",
                                     follow_redirects=True)
    assert "Valitse ryhmälle ensin toinen sarja." in response.get_data(as_text=True)
    response = lead_client.post_form(f"/feedback/item-sets/{spare_id}/delete", {}, token_from="/feedback/item-sets",
                                     follow_redirects=True)
    assert "Kysymyssarja poistettiin." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ItemSet, chosen.id) is not None and db.session.get(ItemSet, spare_id) is None
    assert db.session.scalar(sa.select(sa.func.count(Item.id)).where(Item.item_set_id == spare_id)) == 0


@pytest.mark.parametrize("method, path", [("get", "/feedback/item-sets/{id}/edit"),
                                          ("post", "/feedback/item-sets/{id}/edit"),
                                          ("post", "/feedback/item-sets/{id}/delete")])
def test_other_staff_cannot_edit_or_remove_sets(auth_client, method, path):
    item_set = _own_set()
    url = path.format(id=item_set.id)
    response = auth_client.get(url) if method == "get" else auth_client.post_form(url, {"name": "X", "items-0-fi": "Y"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(ItemSet, item_set.id).name == "Oma mittari"


def test_removing_needs_csrf(lead_client):
    item_set = _own_set()
    assert lead_client.post(f"/feedback/item-sets/{item_set.id}/delete").status_code == 400
    assert db.session.get(ItemSet, item_set.id) is not None
