"""No client's name and no secret token reaches a server log (issue #20, point 2).

Checked from the outside: a real gunicorn with the project's gunicorn.conf.py, and the real
werkzeug development server (``flask run``), each on a random port of 127.0.0.1 against the
test's database. The test signs in, searches for a client by name on both search pages (and the
groups' theme search), opens an opt-out link, a calendar feed, a partner link and a feedback
code, then reads everything the server wrote to stdout and stderr (gunicorn's access and error
logs, werkzeug's request log, the app's own log): neither the name nor any token may appear, in
clear or percent-encoded, while the requests themselves must be there (redacted)."""
from __future__ import annotations

import http.client
import logging
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from core.extensions import db
from core.logging import RedactTokens, redact
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
SECRET = "log-test-secret-key-0123456789abcdef"
FIRST, LAST = "Zorbulon", "Vähäkangas"
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Just enough of a browser over http.client: cookies kept by hand (production cookies are
    Secure, which a cookie jar would not send over plain HTTP)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def get(self, path: str) -> int:
        return self.request("GET", path)[0]


def _wait_ready(proc: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise AssertionError("server did not start")


def _start(kind: str, database_url: str, tmp_path: Path) -> tuple[subprocess.Popen, int, Path]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("KOHTAAMO_ENV", "WERKZEUG_RUN_MAIN")}
    env.update({"SECRET_KEY": SECRET, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"})
    bindir = Path(sys.executable).parent
    if kind == "gunicorn":
        env.update({"BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"})
        cmd = [str(bindir / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "app:create_app()"]
    else:
        # The development server, as `make run` starts it (debug off: no reloader process).
        env["KOHTAAMO_ENV"] = "development"
        cmd = [str(bindir / "flask"), "--app", "app", "run", "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path / f"{kind}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    _wait_ready(proc, port)
    return proc, port, log


def _seed(app):
    """A facilitator, a client with a distinctive name and a secret of every kind."""
    from calendar_export.services import create_subscription
    from core.db import utcnow
    from meetings import partner_links
    from reminders.services import _from_client, new_opt_out_link
    from tests.factories import make_client, make_user
    from tests.test_feedback_factories import open_session_window
    from tests.test_meetings_support import make_contact, make_meeting

    user = make_user(email="logs@example.fi")
    person = make_client(name=f"{FIRST} {LAST}", worker=user)
    contact = make_contact("Sovatek")
    make_meeting([user], client=person, contacts=[contact])
    _link, partner_token = partner_links.create_partner_link(contact, user=user)
    _sub, feed_token = create_subscription(kind="unit", target_id=None, created_by=user)
    db.session.commit()
    window = open_session_window([user])
    person.reminder_consent, person.consent_date = True, utcnow().date()
    stop_url, stop_link = new_opt_out_link(_from_client(person), utcnow())
    db.session.add(stop_link)
    db.session.commit()
    stop_token = stop_url.rsplit("/", 1)[1]
    secrets = {"partner": partner_token, "feed": feed_token, "stop": stop_token, "code": window.code}
    db.session.remove()
    return secrets


def _browse(port: int, secrets: dict) -> None:
    browser = Browser(port)
    status, page = browser.request("GET", "/login")
    token = CSRF_RE.search(page).group(1)
    status, _ = browser.request("POST", "/login?next=" + quote(f"/clients?q={FIRST}", safe=""),
                                {"csrf_token": token, "email": "logs@example.fi", "password": PASSWORD})
    assert status == 302, status
    name = f"{FIRST} {LAST}"
    status, page = browser.request("GET", "/clients?" + urlencode({"q": name, "page": "1"}))
    assert status == 200 and FIRST in page  # found: the search really ran
    status, page = browser.request("GET", "/meetings/?" + urlencode({"q": LAST}))
    assert status == 200 and FIRST in page
    assert browser.get("/groups/?" + urlencode({"theme": FIRST})) == 200
    assert browser.get(f"/reminders/stop/{secrets['stop']}") == 200
    assert browser.get(f"/calendar/{secrets['feed']}.ics") == 200
    assert browser.get(f"/calendar/{secrets['feed']}x.ics") == 404  # a wrong guess is a secret too
    assert Browser(port).get(f"/p/{secrets['partner']}") == 200
    assert Browser(port).get(f"/f/{secrets['code']}") == 200
    assert Browser(port).get(f"/f?code={secrets['code']}") in (301, 302, 303)


def _forbidden(secrets: dict) -> list[str]:
    words = [FIRST, LAST, *secrets.values()]
    return sorted({form for w in words for form in (w, quote(w), quote(w, safe=""), quote_plus_safe(w))})


def quote_plus_safe(word: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(word)


@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_no_client_name_or_token_reaches_the_server_logs(app, database_url, tmp_path, server):
    secrets = _seed(app)
    proc, port, log = _start(server, database_url, tmp_path)
    try:
        _browse(port, secrets)
        time.sleep(0.5)  # let the last access-log lines be written
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text("utf-8", "replace")
    lowered = text.lower()
    leaks = [word for word in _forbidden(secrets) if word.lower() in lowered]
    assert not leaks, (leaks, text[-3000:])
    # The requests were logged (so the check above is not vacuous), with the secrets redacted.
    for line in ("/clients?q=[redacted]&page=1", "/meetings/?q=[redacted]", "/groups/?theme=[redacted]",
                 "/reminders/stop/[redacted]", "/calendar/[redacted].ics", "/p/[redacted]", "/f/[redacted]",
                 "/f?code=[redacted]", "/login?next=[redacted]"):
        assert line in text, (line, text[-3000:])


def test_the_redaction_filter_covers_messages_arguments_and_tracebacks():
    """The app's own logger: a path in the message, in an argument, in an exception text."""
    record = logging.LogRecord("app", logging.ERROR, __file__, 1, "Unhandled error on %s %s",
                               ("GET", "/reminders/stop/WyJjIiwxXQ.abc-def"), None)
    try:
        raise ValueError(f"bad /clients?q={FIRST}")
    except ValueError:
        record.exc_info = sys.exc_info()
    RedactTokens().filter(record)
    formatted = logging.Formatter().format(record)
    assert "WyJjIiwxXQ" not in formatted and FIRST not in formatted
    assert "/reminders/stop/[redacted]" in formatted and "q=[redacted]" in formatted


@pytest.mark.parametrize(("raw", "logged"), [
    ("GET /clients?q=Matti+Meik%C3%A4l%C3%A4inen&page=2 HTTP/1.1", "GET /clients?q=[redacted]&page=2 HTTP/1.1"),
    ("/meetings/?show=past&page=Matti", "/meetings/?show=past&page=[redacted]"),
    ("/feedback/report?start=2026-01-01&end=2026-02-01", "/feedback/report?start=2026-01-01&end=2026-02-01"),
    ('"GET /groups/?when=Matti%20V HTTP/1.1" 200', '"GET /groups/?when=[redacted] HTTP/1.1" 200'),
    ("/search?Matti", "/search?[redacted]"),
    ("/clients?Matti=1&q=&page=3", "/clients?[redacted]&q=&page=3"),
    ("/calendar/meeting/12.ics", "/calendar/meeting/12.ics"),
    ("/f/thanks", "/f/thanks"),
    ("/p/abc/items/4/done", "/p/[redacted]/items/4/done"),
])
def test_redact_keeps_only_harmless_values(raw, logged):
    assert redact(raw) == logged


def test_database_errors_do_not_quote_their_parameters(app):
    """An unexpected database error is logged with its traceback; SQLAlchemy would put the
    statement's parameters (a searched name) into its message."""
    import sqlalchemy as sa

    from core.extensions import db

    try:
        db.session.execute(sa.text("SELECT no_such_column FROM client WHERE name = :name"), {"name": FIRST})
    except sa.exc.DBAPIError as exc:
        message = str(exc)
    else:
        raise AssertionError("the statement should have failed")
    finally:
        db.session.rollback()
    assert "no_such_column" in message and FIRST not in message


def test_every_url_bearing_atom_of_the_access_log_is_redacted():
    """Whatever access_log_format an operator sets: the bare query string, the path, the raw URI
    and the referrer (a search page's address) are redacted too."""
    from gunicorn.glogging import SafeAtoms

    atoms = SafeAtoms({"r": f"GET /clients?q={FIRST} HTTP/1.1", "q": f"q={FIRST}&page=2", "U": "/p/secret-token",
                       "f": f"https://kohtaamo.example/meetings/?q={LAST}", "{raw_uri}e": f"/clients?q={FIRST}",
                       "{query_string}e": f"q={FIRST}", "{referer}i": f"/clients?q={FIRST}", "s": "200"})
    fmt = '"%(r)s" %(q)s %(U)s %(f)s %({RAW_URI}e)s %({query_string}e)s %({Referer}i)s %(s)s'
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, fmt, (atoms,), None)
    RedactTokens().filter(record)
    line = record.getMessage()
    assert FIRST not in line and LAST not in line and "secret-token" not in line, line
    assert line.startswith('"GET /clients?q=[redacted] HTTP/1.1" q=[redacted]&page=2 /p/[redacted]'), line
