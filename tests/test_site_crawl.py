"""Crawl the demo site as each demo user: every page reachable by links answers without a
server error. The crawl is shared: axe-core runs on one page of every kind it reaches, as four
kinds of user at 360 and 1280 px, in tests/test_phone_axe_widths.py (a superset, checked when
this file's own axe walk at 360 px was removed as a repeat: its 73 kinds of page are among
that walk's 90)."""
from __future__ import annotations

import re
from collections import defaultdict, deque
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest

from tests.factories import login

HREF_RE = re.compile(r'href="([^"]+)"')
SKIP_PREFIXES = ("/static/", "/logout", "/calendar/", "webcal:", "mailto:", "tel:", "http://", "https://")


def _seed(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


def _endpoint_of(app, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except Exception:  # noqa: BLE001 - not a GET route of this app
        return None
    return endpoint


def crawl(app, client, start: str = "/", limit: int = 400) -> dict[str, tuple[int, str]]:
    """GET every internal link reachable from ``start``: url -> (status, mimetype)."""
    seen: dict[str, tuple[int, str]] = {}
    # A calendar's previous/next links lead on for ever (the agenda's ?day=): a few of each kind
    # are enough to check the pages they lead to.
    dated: defaultdict[tuple, set[str]] = defaultdict(set)
    queue = deque([start])
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = (response.status_code, response.mimetype)
        if response.status_code != 200 or response.mimetype != "text/html":
            response.close()
            continue
        for href in HREF_RE.findall(response.get_data(as_text=True)):
            href = urldefrag(href.replace("&amp;", "&"))[0]
            if not href.startswith("/") or href.startswith("//") or href.startswith(SKIP_PREFIXES):
                continue
            parts = urlsplit(href)
            if "day=" in parts.query:
                kind = (parts.path, tuple(sorted(k for k, _v in parse_qsl(parts.query))))
                if href not in dated[kind] and len(dated[kind]) >= 3:
                    continue
                dated[kind].add(href)
            if href not in seen:
                queue.append(href)
    return seen


@pytest.mark.parametrize("email", ["ohjaaja@example.fi", "vastaava@example.fi"])
def test_no_page_of_the_demo_site_fails(app, runner, email):
    _seed(runner)
    client = app.test_client()
    login(client, email, "kohtaamo-demo")
    seen = crawl(app, client)
    failures = {url: code for url, (code, _) in seen.items() if code >= 500}
    assert not failures, failures
    assert len(seen) > 20, f"crawl reached only {sorted(seen)}"
    endpoints = {_endpoint_of(app, urlsplit(u).path) for u in seen}
    # meetings.invite: the invite list has a page of its own, reached from the meeting page.
    for expected in ("groups.index", "meetings.index", "meetings.show", "meetings.invite", "register.clients",
                     "register.partners"):
        if expected in app.view_functions:
            assert expected in endpoints, f"{expected} not linked from the site"
