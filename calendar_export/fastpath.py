"""Calendar polls answered "304 Not Modified" before Flask's request handling.

Calendar apps poll every subscribed feed again and again, all day, and almost every poll finds
the feed unchanged. The answer then needs one indexed query (``views.feed_state``), but the
Flask request around it (request context, URL matching, session and login machinery, the before
and after hooks) cost twice as much as the query and the ETag together: in process about 0.3 ms
per poll against 0.1 ms here, and under gunicorn a worker spent about 1.5 ms of CPU per poll
against 1.05 ms here (0.75 ms for a hello-world request; bench/RESULTS.md has the throughput).

So this WSGI middleware answers a poll itself when, and only when, its answer is certainly 304:
a GET or HEAD of ``/calendar/<token>.ics`` with ``If-None-Match`` that matches the ETag of the
live feed's stored body while that body is current (``views.feed_state``), and whose use need not be recorded now (``services.needs_touch``). Everything else, errors
included, goes on to the view, which gives the same answers the same way; a test checks that the
two 304s carry the same headers. Nothing is kept between requests, so app instances agree.

Needed for the 304 target (≥ 0.5× hello-world), bench/RESULTS.md "Special paths in process": a 304
took 0.25 ms with this path and 0.52 ms through Flask and the view (hello-world 0.12 ms), i.e.
0.47× against 0.22× of hello-world (bench/pathtimes.py, variant ``no_fastpath``, 6.12.2026).
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from werkzeug.http import parse_etags

from core.security import security_headers

from . import services

_FEED_PATH = re.compile(r"/calendar/([^/]{1,100})\.ics")


class NotModifiedFeeds:
    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        # As the feed view's 304 has them: the blueprint's Referrer-Policy, the app's security
        # headers, and the Vary of the view's 200 (Flask adds it because the login machinery
        # looks at the session; RFC 9110 15.4.5 wants a 304 to repeat it).
        self.headers = [("Referrer-Policy", "no-referrer"), ("Vary", "Cookie")] + [
            (key, value) for key, value in security_headers(app) if key != "Referrer-Policy"]

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and environ.get("HTTP_IF_NONE_MATCH"):
            match = _FEED_PATH.fullmatch(environ.get("PATH_INFO") or "")
            if match is not None:
                headers = self.not_modified(match.group(1), environ["HTTP_IF_NONE_MATCH"])
                if headers is not None:
                    start_response("304 NOT MODIFIED", headers)
                    return []
        return self.wsgi_app(environ, start_response)

    def not_modified(self, token: str, if_none_match: str) -> list[tuple[str, str]] | None:
        """The 304's headers, or None when the view should answer."""
        from .views import feed_state, validator_headers

        with self.app.app_context():
            try:
                state = feed_state(token)
            except sa.exc.SQLAlchemyError as error:
                # The view reads again: a lost connection has been discarded by now, so the
                # poll is usually answered; any other error meets the view's error handling.
                self.app.logger.warning("early answer of a calendar poll failed (%s); left to the view",
                                        type(error).__name__)
                return None
            if (state is None or state.etag is None or state.last_modified is None
                    or services.needs_touch(state.found)):
                return None
            if not parse_etags(if_none_match).contains_weak(state.etag):  # proxies may weaken it
                return None
            # Werkzeug leaves Last-Modified out of the view's 304s (an entity header to it).
            return [(key, value) for key, value in validator_headers(state.etag, state.last_modified)
                    if key != "Last-Modified"] + self.headers


def install(app: Flask) -> None:
    if not isinstance(app.wsgi_app, NotModifiedFeeds):
        # Flask's documented way to add WSGI middleware; mypy sees only the method it replaces.
        app.wsgi_app = NotModifiedFeeds(app, app.wsgi_app)  # type: ignore[method-assign]
