"""Every page that shows a client's name or initials writes an access-log row for that client,
in the same request, for the user who saw it.

The pages are not a hand list: the crawl of tests/test_site_crawl.py walks the demo site as a
lead and as a facilitator, and each page it reaches is checked as it is fetched (the rows the
request committed, read through ``fresh_db``). The clients get distinctive names first, so
finding one on a page is no accident. A GET page that takes an id and is not reached by the crawl
fails the test unless it is named in NOT_CRAWLED with the test that checks it instead, so a new
page cannot escape by not being linked."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from markupsafe import escape

from core.extensions import db
from register.models import AccessLog, Client
from tests.factories import login
from tests.test_site_crawl import _endpoint_of, _seed, crawl

# Unusual first names with distinct initials: a page naming one of them names that client.
FIRST_NAMES = ["Aapeli", "Bertiina", "Cecilie", "Daavidi", "Eetla", "Fanniina", "Gunilla", "Hilkkaliisa",
               "Iiris", "Jooseppi"]
SURNAME = "Qvarnström"

# GET routes that take an id and that the crawl does not reach: why, and where they are checked.
NOT_CRAWLED = {
    "meetings.partner_view": "the partner's personal link is never linked from a staff page; "
                             "tests/test_meetings_partner_identification.py checks its log rows",
    "outreach.report_chart": "an image (<img src>), not a page: it names no client",
    "outreach.report_topics_chart": "an image (<img src>), not a page: it names no client",
    "outreach.public_venue_feed": "the venue's retired feed address, linked from nowhere: 410 Gone, nothing read "
                                  "(tests/test_outreach_venue_feed.py)",
}
# Territories whose pages this test must reach.
BLUEPRINTS = ("register", "meetings", "groups", "outreach")


def _rename_clients() -> dict[int, str]:
    clients = db.session.scalars(sa.select(Client).order_by(Client.id)).all()
    assert len(clients) <= len(FIRST_NAMES)
    for client, first in zip(clients, FIRST_NAMES, strict=False):
        client.name = f"{first} {SURNAME}"
    db.session.commit()
    return {c.id: c.name for c in clients}


def _shown(page: str, name: str) -> bool:
    """The client's full name, first name or initials ("A.Q.", "A. Q.") on the page."""
    first, surname = name.split()
    if str(escape(name)) in page or re.search(rf"\b{first}\b", page):
        return True
    initials = rf"(?<![\w.]){first[0]}\.\s?{surname[0]}\.(?!\w)"
    return re.search(initials, page) is not None


class CheckingClient:
    """A test client for ``crawl`` that checks each page as it is fetched."""

    def __init__(self, http, fresh_db, user_id: int, names: dict[int, str]):
        self.http, self.fresh_db, self.user_id, self.names = http, fresh_db, user_id, names
        self.unlogged: dict[str, list[str]] = {}
        self.naming_pages: set[str] = set()

    def get(self, url):
        before = self.fresh_db.scalar(sa.select(sa.func.coalesce(sa.func.max(AccessLog.id), 0)))
        response = self.http.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            shown = {cid for cid, name in self.names.items() if _shown(page, name)}
            if shown:
                self.naming_pages.add(url)
                logged = set(self.fresh_db.scalars(
                    sa.select(AccessLog.client_id).where(AccessLog.id > before, AccessLog.user_id == self.user_id)))
                if shown - logged:
                    self.unlogged[url] = sorted(self.names[c] for c in shown - logged)
        return response


@pytest.mark.parametrize("email", ["vastaava@example.fi", "ohjaaja@example.fi"])
def test_every_page_naming_a_client_logs_the_view(app, runner, fresh_db, email):
    _seed(runner)
    names = _rename_clients()
    from accounts.models import User

    user_id = db.session.scalar(sa.select(User.id).where(User.email == email))
    http = app.test_client()
    login(http, email, "kohtaamo-demo")
    checking = CheckingClient(http, fresh_db, user_id, names)
    seen = crawl(app, checking, limit=1000)
    assert len(seen) < 1000, "the crawl stopped at its limit: raise it"
    assert not checking.unlogged, sorted(checking.unlogged)
    # The check saw the pages that matter (a renamed client that no page showed proves nothing).
    endpoints = {_endpoint_of(app, urlsplit(u).path) for u in checking.naming_pages}
    for expected in ("register.client", "register.relative_form", "meetings.show", "meetings.index"):
        assert expected in endpoints, f"{expected} not checked: {sorted(e for e in endpoints if e)}"


def test_the_crawl_reaches_every_page_that_takes_an_id(app, runner):
    """A GET page under a client, meeting, group or visit is reached by the lead's crawl (or named
    in NOT_CRAWLED with where it is checked), so the test above covers it."""
    _seed(runner)
    http = app.test_client()
    login(http, "vastaava@example.fi", "kohtaamo-demo")
    reached = {_endpoint_of(app, urlsplit(u).path) for u in crawl(app, http, limit=1000)}
    missing = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or not rule.arguments:
            continue
        if rule.endpoint.split(".")[0] not in BLUEPRINTS or rule.endpoint in NOT_CRAWLED:
            continue
        if rule.endpoint not in reached:
            missing.append(f"{rule.rule} ({rule.endpoint})")
    assert not missing, missing


def test_a_refused_save_of_a_client_form_logs_the_view(auth_client, facilitator, fresh_db):
    """A form that comes back with errors shows the client's name like its first render does."""
    from register.models import Client as ClientModel
    from tests.factories import make_client

    client = make_client(name="Aapeli Qvarnström", worker=facilitator)

    def views():
        return fresh_db.scalars(sa.select(AccessLog.detail).where(AccessLog.client_id == client.id,
                                                                  AccessLog.action == "view"))

    response = auth_client.post_form(f"/clients/{client.id}/edit", {"name": "Aapeli Qvarnström", "email": "bad@", "language": "fi", "version": "1"})
    assert response.status_code == 200 and "Aapeli Qvarnström" in response.get_data(as_text=True)
    assert views() == ["edit form"]
    response = auth_client.post_form(f"/clients/{client.id}/relatives/new", {"name": "", "language": "fi"})
    assert response.status_code == 200 and "Aapeli Qvarnström" in response.get_data(as_text=True)
    assert sorted(views()) == ["edit form", "relative form"]
    assert fresh_db.get(ClientModel, client.id).name == "Aapeli Qvarnström"
