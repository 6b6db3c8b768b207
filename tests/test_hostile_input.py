"""Whatever a URL or a form can carry is answered without a server error.

The demo site is crawled as the lead; then every kind of page is asked for again with hostile
values in its path ids and in every query argument the views read, and every form found is sent
with hostile values in all its fields. Nothing may answer 5xx (on PostgreSQL too: it refuses NUL
in text and integers beyond 64 bits, where SQLite is lenient)."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from tests.factories import login
from tests.test_site_crawl import _endpoint_of, _seed, crawl

# Every query argument a view reads (request.args.get("...") in the code) and the list filters.
QUERY_ARGS = ("page", "q", "theme", "when", "show", "status", "start", "facilitator", "mine", "client_id", "v",
              "next", "lang")
HOSTILE = ("\x00", "-1", "0", "99999999999999999999999", "1e400", "x" * 3000, "2026-02-30", "../..", "\ufffd",
           "%", "' OR 1=1 --", "<script>")
HOSTILE_IDS = ("0", "-1", "99999999999999999999999", "abc", "%00", "1.5")


class _Forms(HTMLParser):
    """The POST forms of a page: action and (name, value) pairs, a select's first option."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self.forms.append((a.get("action") or "", []))
            else:
                self.forms.append(("", None))  # a GET form: its fields are not collected
        elif not self.forms or self.forms[-1][1] is None:
            return
        elif tag in ("input", "textarea") and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1][1].append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select:
            self.forms[-1][1].append((self._select, a.get("value") or ""))
            self._select = None

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _pages_by_endpoint(app, seen) -> dict[str, str]:
    pages: dict[str, str] = {}
    for url, (code, mimetype) in seen.items():
        endpoint = _endpoint_of(app, urlsplit(url).path)
        if code == 200 and endpoint and endpoint not in pages:
            pages[endpoint] = url
    return pages


@pytest.fixture
def lead_on_demo_site(app, runner):
    _seed(runner)
    client = app.test_client()
    login(client, "vastaava@example.fi", "kohtaamo-demo")
    return client


def test_hostile_urls_get_no_server_error(app, lead_on_demo_site):
    client = lead_on_demo_site
    pages = _pages_by_endpoint(app, crawl(app, client, limit=250))
    assert len(pages) > 20, sorted(pages)
    failures = []
    for endpoint, url in pages.items():
        path = urlsplit(url).path
        for value in HOSTILE:
            query = "&".join(f"{name}={quote(value)}" for name in QUERY_ARGS)
            response = client.get(f"{path}?{query}")
            if response.status_code >= 500:
                failures.append((endpoint, f"{path}?{query[:80]}", response.status_code))
        segments = path.split("/")
        for i, segment in enumerate(segments):
            if not segment.isdigit() and len(segment) < 20:
                continue  # ids and tokens only
            for value in HOSTILE_IDS:
                mutated = "/".join(segments[:i] + [value] + segments[i + 1:])
                response = client.get(mutated)
                if response.status_code >= 500:
                    failures.append((endpoint, mutated, response.status_code))
    assert not failures, failures


def test_hostile_form_fields_get_no_server_error(app, lead_on_demo_site):
    client = lead_on_demo_site
    seen = crawl(app, client, limit=250)
    pages = _pages_by_endpoint(app, seen)
    failures, sent = [], 0
    for endpoint, url in pages.items():
        page = client.get(url)
        if page.status_code != 200 or page.mimetype != "text/html":
            continue
        parser = _Forms()
        parser.feed(page.get_data(as_text=True))
        for action, fields in parser.forms:
            if fields is None or "logout" in action or "/password" in action:
                continue
            target = (action or url).replace("&amp;", "&")
            for value in ("a\x00b", "99999999999999999999999", "", "x" * 20000):
                data = [(name, v if name == "csrf_token" else value) for name, v in fields]
                response = client.post(target, data=MultiDict(data))
                sent += 1
                if response.status_code >= 500:
                    failures.append((endpoint, target, repr(value[:10]), response.status_code))
    assert sent > 40, sent
    assert not failures, failures


def test_hostile_answers_on_the_public_feedback_form_get_no_server_error(app):
    from tests.test_feedback_factories import open_session_window

    window = open_session_window([])
    client = app.test_client()
    for value in HOSTILE:
        response = client.get(f"/f?code={quote(value)}")
        assert response.status_code < 500, (value, response.status_code)
        response = client.get(f"/f/{quote(value, safe='')}")
        assert response.status_code < 500, (value, response.status_code)
    sent = 0
    for value in ("a\x00b", "99999999999999999999999", "", "x" * 20000, "-1", "1e400"):
        page = client.get(f"/f/{window.code}")
        assert page.status_code == 200
        parser = _Forms()
        parser.feed(page.get_data(as_text=True))
        [(_action, fields)] = [f for f in parser.forms if f[1] is not None and any(n == "comment" for n, _ in f[1])]
        data = [(name, v if name == "csrf_token" else value) for name, v in fields]
        response = client.post(f"/f/{window.code}", data=MultiDict(data))
        sent += 1
        # Refused and shown again with the errors (nothing here is a valid answer).
        assert response.status_code == 200, (value, response.status_code)
    assert sent == 6
