"""Dead ends fixed: no `<option value="None">` anywhere on the demo site; groups of the same
title told apart in drop-downs by their dates; the new-meeting form that says "no relatives
recorded" links to adding one and comes back to the form."""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from core.extensions import db
from register.models import Relative
from tests.factories import login, make_client, make_user
from tests.test_groups_support import make_group
from tests.test_site_crawl import _seed, crawl


def test_no_page_of_the_demo_site_offers_the_value_none(app, runner):
    _seed(runner)
    offenders = {}
    for email in ("ohjaaja@example.fi", "vastaava@example.fi"):
        http = app.test_client()
        login(http, email, "kohtaamo-demo")
        seen = crawl(app, http, limit=250)
        for url, (code, mimetype) in seen.items():
            if code == 200 and mimetype == "text/html":
                html = http.get(url).get_data(as_text=True)
                if 'value="None"' in html:
                    offenders[url] = re.findall(r'<select[^>]*name="([^"]+)"', html)
        assert any("/outreach/visits/" in u for u in seen), "the crawl reached no outreach visit page"
    assert not offenders, offenders


def test_groups_with_the_same_title_are_told_apart_in_drop_downs(auth_client, facilitator):
    other = make_user(name="Toinen Ohjaaja")
    make_group(facilitator, other, title="Raharyhmä", weeks=2, first=date(2027, 1, 4))
    make_group(facilitator, other, title="Raharyhmä", weeks=2, first=date(2027, 3, 1))
    make_group(facilitator, other, title="Raharyhmä")
    page = auth_client.get("/calendar/subscriptions/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="group_id".*?</select>', page, re.S).group(0)
    labels = [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<option[^>]*>(.*?)</option>", select, re.S)][1:]
    assert len(labels) == 3 and len(set(labels)) == 3, labels
    assert "Raharyhmä, 4.1.2027–11.1.2027" in labels
    assert "Raharyhmä, 1.3.2027–8.3.2027" in labels
    assert "Raharyhmä, ei vielä aikataulua" in labels


def test_no_relatives_links_to_adding_one_and_back(auth_client, facilitator, fresh_db):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    db.session.commit()
    form_url = f"/meetings/new/{client.id}"
    page = auth_client.get(form_url).get_data(as_text=True)
    link = re.search(r'href="(/clients/\d+/relatives/new\?next=[^"]+)"', page)
    assert link, "no link to add a relative"
    target = link.group(1).replace("&amp;", "&")
    response = auth_client.post_form(target, {"name": "Helena Kuusela", "relation": "äiti", "phone": "",
                                              "email": "", "language": "fi"}, token_from=target)
    assert response.status_code == 302 and response.location.endswith(form_url)
    assert fresh_db.scalar(sa.select(Relative.name).where(Relative.client_id == client.id)) == "Helena Kuusela"
    assert "Helena Kuusela" in auth_client.get(form_url).get_data(as_text=True)


def test_an_unsafe_next_is_not_followed(auth_client, facilitator, fresh_db):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    db.session.commit()
    url = f"/clients/{client.id}/relatives/new?next=//evil.example/x"
    response = auth_client.post_form(url, {"name": "Helena", "relation": "äiti", "phone": "", "email": "",
                                           "language": "fi"}, token_from=url)
    assert response.status_code == 302 and "evil" not in response.location
    assert fresh_db.scalars(sa.select(Relative.name).where(Relative.client_id == client.id)) == ["Helena"]


def test_a_partner_link_can_be_copied_and_emailed(app, client, facilitator, fresh_db):
    from html import unescape
    from urllib.parse import parse_qs, unquote, urlsplit

    from meetings.models import PartnerLink
    from tests.test_meetings_partner import _create_link, _setup

    held, _upcoming, mine, _own, _other, _staff = _setup(facilitator)
    mine.email = "tiina@sovatek.example"
    db.session.commit()
    login(client, facilitator)
    url, _token = _create_link(client, held, mine)
    from tests.test_meetings_support import participant

    page = client.post_form(f"/meetings/{held.id}/participants/{participant(held, 'partner', contact_id=mine.id).id}/link")
    # Both links were stored.
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(PartnerLink).where(
        PartnerLink.contact_id == mine.id)) == 2
    html = page.get_data(as_text=True)
    assert 'data-copy-row data-copy-target="partner-link"' in html and "js/calendar.js" in html
    mailto = unescape(re.search(r'href="(mailto:[^"]+)"', html).group(1))
    parts = urlsplit(mailto)
    assert unquote(parts.path) == "tiina@sovatek.example"
    body = parse_qs(parts.query)["body"][0]
    new_url = re.search(r'id="partner-link"[^>]*value="([^"]+)"', html).group(1)
    assert new_url in body


def test_topics_of_all_sessions_on_one_page(auth_client, facilitator, fresh_db):
    from groups.models import GroupSession, SessionChange

    group = make_group(facilitator, make_user(), weeks=3, first=date(2027, 1, 4))
    url = f"/groups/{group.id}"
    assert f'href="{url}/topics"' in auth_client.get(url).get_data(as_text=True)
    page = auth_client.get(f"{url}/topics").get_data(as_text=True)
    ids = [s.id for s in group.sessions]
    for i, sid in enumerate(ids, start=1):
        assert f'name="topic_{sid}"' in page and f"Ryhmäkerta {i}/3" in page
    data = {f"topic_{ids[0]}": "Budjetti", f"topic_{ids[1]}": "Velat", f"topic_{ids[2]}": ""}
    response = auth_client.post_form(f"{url}/topics", data, token_from=f"{url}/topics")
    assert response.status_code == 302
    topics = fresh_db.scalars(sa.select(GroupSession.topic).where(GroupSession.group_id == group.id)
                              .order_by(GroupSession.starts_at))
    assert topics == ["Budjetti", "Velat", ""]
    assert fresh_db.scalar(sa.select(sa.func.count(SessionChange.id)).where(SessionChange.field == "topic")) == 2

    # A control character is refused at its field, the input kept, nothing stored.
    bad = dict(data)
    bad[f"topic_{ids[2]}"] = "Rivi\x07"
    response = auth_client.post_form(f"{url}/topics", bad, token_from=f"{url}/topics")
    assert response.status_code == 200 and f'id="topic_{ids[2]}-error"' in response.get_data(as_text=True)
    assert fresh_db.scalars(sa.select(GroupSession.topic).where(GroupSession.id == ids[2])) == [""]
