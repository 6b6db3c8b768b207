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
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from register.models import AccessLog
from tests.factories import login
from tests.test_site_crawl import _endpoint_of, _seed, crawl

# Every query argument a view reads (request.args.get("...") in the code) and the list filters.
QUERY_ARGS = ("page", "q", "theme", "when", "show", "status", "start", "end", "facilitator", "mine", "client_id",
              "client", "v", "next", "lang", "from", "months", "code")
# Dates at the ends of Python's calendar (year 1, year 9999) overflowed date arithmetic (#20.5).
EXTREME_DATES = ("0001-01-01", "9999-12-31")
HOSTILE = ("\x00", "-1", "0", "99999999999999999999999", "1e400", "x" * 3000, "2026-02-30", "../..", "\ufffd",
           "%", "' OR 1=1 --", "<script>", "a\r\nb", *EXTREME_DATES)
# Input types that hold one line of text (an <input> without a type is a text input).
SINGLE_LINE_TYPES = ("text", "email", "tel", "search", "url")
HOSTILE_IDS = ("0", "-1", "99999999999999999999999", "abc", "%00", "1.5")


class _Forms(HTMLParser):
    """The POST forms of a page: action and (name, value) pairs, a select's first option."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        # Per form (same order): field name -> (input type or "textarea", id).
        self.kinds: list[dict[str, tuple[str, str]]] = []
        # GET forms (filters): action and the names of their date inputs.
        self.get_forms: list[tuple[str, list[str]]] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.kinds.append({})
            if (a.get("method") or "get").lower() == "post":
                self.forms.append((a.get("action") or "", []))
            else:
                self.forms.append(("", None))  # a GET form: its fields are not collected
                self.get_forms.append((a.get("action") or "", []))
        elif not self.forms:
            return
        elif self.forms[-1][1] is None:
            if tag == "input" and a.get("type") == "date" and a.get("name"):
                self.get_forms[-1][1].append(a["name"])
            return
        elif tag in ("input", "textarea") and a.get("name"):
            kind = "textarea" if tag == "textarea" else (a.get("type") or "text").lower()
            self.kinds[-1].setdefault(a["name"], (kind, a.get("id") or a["name"]))
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
    for url, (code, _mimetype) in seen.items():
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


def test_hostile_form_fields_get_no_server_error(app, lead_on_demo_site, fresh_db):
    client = lead_on_demo_site
    seen = crawl(app, client, limit=250)
    pages = _pages_by_endpoint(app, seen)
    failures, sent, unlogged, client_forms = [], 0, [], set()
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
                response, logged = _post_logged(fresh_db, lambda target=target, data=data: client.post(target, data=MultiDict(data)))
                sent += 1
                if response.status_code >= 500:
                    failures.append((endpoint, target, repr(value[:10]), response.status_code))
                if response.status_code == 200 and CLIENT_FORMS.match(urlsplit(target).path):
                    client_forms.add(endpoint)
                    if not logged:
                        unlogged.append((endpoint, target, repr(value[:10])))
    assert sent > 40, sent
    assert not failures, failures
    assert len(client_forms) >= 5 and not unlogged, (sorted(client_forms), unlogged)


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


def _post_forms(app, client):
    """Every POST form of every kind of page the lead reaches: (endpoint, page url, action,
    fields as the page filled them, field kinds)."""
    pages = _pages_by_endpoint(app, crawl(app, client, limit=250))
    found = []
    for endpoint, url in pages.items():
        page = client.get(url)
        if page.status_code != 200 or page.mimetype != "text/html":
            continue
        parser = _Forms()
        parser.feed(page.get_data(as_text=True))
        for (action, fields), kinds in zip(parser.forms, parser.kinds, strict=True):
            if fields is None or "logout" in action or "/password" in action or "/language" in action:
                continue
            found.append((endpoint, url, (action or url).replace("&amp;", "&"), fields, kinds))
    return found


# Forms about one client's record: even refused, each answers with a page that shows the client,
# and that page's access-log row must be committed (a lost commit would lose it unseen).
CLIENT_FORMS = re.compile(r"^/(clients|meetings|meetings/new|appointments/new|groups/referrals/new)/\d+(/|$)")


def _access_rows(fresh_db) -> int:
    return fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLog))


def _post_logged(fresh_db, send):
    """Send one POST: its response, and whether an access-log row was committed with it."""
    before = _access_rows(fresh_db)
    response = send()
    return response, _access_rows(fresh_db) > before


def _send_with(client, target, fields, name, value):
    data = [(n, value if n == name else v) for n, v in fields]
    return client.post(target, data=MultiDict(data))


def test_line_breaks_in_every_single_line_field_are_refused_at_the_field(app, lead_on_demo_site, fresh_db):
    """#20.3: each single-line field of each form, sent with CR/LF inside, comes back as the form
    with an error at that field: not saved (no redirect), not a server error."""
    client = lead_on_demo_site
    failures, checked, unlogged, client_forms = [], set(), [], set()
    for endpoint, _url, target, fields, kinds in _post_forms(app, client):
        for name, (kind, field_id) in kinds.items():
            if kind not in SINGLE_LINE_TYPES or name == "csrf_token" or (endpoint, name) in checked:
                continue
            checked.add((endpoint, name))
            for value in ("Rivi yksi\r\nrivi kaksi", "Rivi yksi\nrivi kaksi", "Rivi\u2028kaksi"):
                response, logged = _post_logged(fresh_db, lambda target=target, fields=fields, name=name, value=value: _send_with(client, target, fields, name, value))
                page = response.get_data(as_text=True)
                if response.status_code != 200 or f'id="{field_id}-error"' not in page:
                    failures.append((endpoint, target, name, repr(value), response.status_code))
                if CLIENT_FORMS.match(urlsplit(target).path):
                    client_forms.add(endpoint)
                    if not logged:
                        unlogged.append((endpoint, target, name))
    assert len(checked) > 30, sorted(checked)
    assert not failures, failures
    # The refused forms about a client still showed the client: their log rows were committed.
    assert len(client_forms) >= 5 and not unlogged, (sorted(client_forms), unlogged)


def test_textareas_keep_line_breaks(app, auth_client, fresh_db):
    """Multi-line fields are not single-line fields: notes with line breaks are saved as typed."""
    import sqlalchemy as sa

    from register.models import PartnerOrganisation
    from tests.factories import make_partner

    partner = make_partner(name="Sovatek")
    page = auth_client.get(f"/partners/{partner.id}/edit")
    parser = _Forms()
    parser.feed(page.get_data(as_text=True))
    [(fields, kinds)] = [(f, k) for (_a, f), k in zip(parser.forms, parser.kinds, strict=True)
                         if f is not None and any(v[0] == "textarea" for v in k.values())]
    [notes] = [n for n, (kind, _id) in kinds.items() if kind == "textarea"]
    data = MultiDict([(n, "Soita aamulla.\r\nEi perjantaisin." if n == notes else v) for n, v in fields])
    response = auth_client.post(f"/partners/{partner.id}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    saved = fresh_db.scalar(sa.select(getattr(PartnerOrganisation, notes)).where(PartnerOrganisation.id == partner.id))
    assert saved.replace("\r\n", "\n") == "Soita aamulla.\nEi perjantaisin."


def test_extreme_dates_in_every_date_field_are_refused_at_the_field(app, lead_on_demo_site, fresh_db):
    """#20.5: year 1 and year 9999 in each date field of each form: the form again with an error
    at the field, never a 500 and never a save."""
    client = lead_on_demo_site
    failures, checked, unlogged, client_forms = [], set(), [], set()
    for endpoint, _url, target, fields, kinds in _post_forms(app, client):
        for name, (kind, field_id) in kinds.items():
            if kind != "date" or (endpoint, name) in checked:
                continue
            checked.add((endpoint, name))
            for value in EXTREME_DATES:
                response, logged = _post_logged(fresh_db, lambda target=target, fields=fields, name=name, value=value: _send_with(client, target, fields, name, value))
                page = response.get_data(as_text=True)
                if response.status_code != 200 or f'id="{field_id}-error"' not in page:
                    failures.append((endpoint, target, name, value, response.status_code))
                if CLIENT_FORMS.match(urlsplit(target).path):
                    client_forms.add(endpoint)
                    if not logged:
                        unlogged.append((endpoint, target, name))
    assert len(checked) >= 5, sorted(checked)
    assert not failures, failures
    # The refused forms about a client still showed the client: their log rows were committed.
    assert len(client_forms) >= 5 and not unlogged, (sorted(client_forms), unlogged)


def test_extreme_dates_in_every_date_query_argument_get_no_server_error(app, lead_on_demo_site):
    """The GET filter forms' date fields (and every other query argument) with dates at the ends
    of the calendar, alone and as a period."""
    client = lead_on_demo_site
    pages = _pages_by_endpoint(app, crawl(app, client, limit=250))
    failures, date_args = [], set()
    for endpoint, url in pages.items():
        page = client.get(url)
        if page.status_code != 200 or page.mimetype != "text/html":
            continue
        parser = _Forms()
        parser.feed(page.get_data(as_text=True))
        for action, names in parser.get_forms:
            path = urlsplit((action or url).replace("&amp;", "&")).path
            date_args.update((path, n) for n in names)
            for first, last in [(EXTREME_DATES[0], EXTREME_DATES[1]), (EXTREME_DATES[1], EXTREME_DATES[0]),
                                (EXTREME_DATES[0], EXTREME_DATES[0]), (EXTREME_DATES[1], EXTREME_DATES[1])]:
                query = "&".join(f"{n}={first if i == 0 else last}" for i, n in enumerate(names))
                response = client.get(f"{path}?{query}")
                if response.status_code >= 500:
                    failures.append((endpoint, f"{path}?{query}", response.status_code))
    assert ("/feedback/report", "start") in date_args and ("/feedback/report", "end") in date_args, date_args
    assert not failures, failures


def test_a_participants_comment_keeps_its_line_breaks_and_public_one_line_fields_refuse_them(app, facilitator,
                                                                                              fresh_db):
    """The public feedback form's comment is a textarea: several lines are an answer. The login
    form's email and the feedback code are one line."""
    import sqlalchemy as sa

    from feedback.models import FeedbackResponse
    from tests.test_feedback_factories import open_session_window
    from tests.test_feedback_public import form_data, post

    window = open_session_window([facilitator])
    client = app.test_client()
    response = post(client, window, form_data(window, comment="Hyvä ryhmä.\r\nLisää kahvia."))
    assert response.status_code == 302
    [comment] = fresh_db.scalars(sa.select(FeedbackResponse.comment))
    assert comment.replace("\r\n", "\n") == "Hyvä ryhmä.\nLisää kahvia."
    page = app.test_client().post_form("/login", {"email": "a\r\nb@example.fi", "password": "whatever it is"})
    assert page.status_code == 200 and 'id="email-error"' in page.get_data(as_text=True)
    page = app.test_client().get(f"/f?code={window.code}%0A{window.code}")
    assert page.status_code == 200 and 'id="code-error"' in page.get_data(as_text=True)
