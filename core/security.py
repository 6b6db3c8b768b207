"""Security headers, safe redirects and the read-only marker for views that never write."""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import Flask, current_app, g, request

from .extensions import db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def read_only(view=None, *, prepare_session: bool = True, methods: tuple[str, ...] = ("GET", "HEAD")):
    """Mark a GET view that never writes (access-log rows aside, see register.access), so SQLite
    reads in a plain (shared) transaction and page views do not queue for the write lock.

    Only a mark: the flag must be set before the request's first query, which is usually the
    login check (a blueprint's before_request or @login_required) and runs before the view. So
    ``mark_read_only_request``, an app-level before_request hook, sets ``g.read_only`` from the
    mark once the URL is matched; functools.wraps carries the mark through the other decorators,
    so their order does not matter.

    ``prepare_session=False``: the view's first read does not go through the ORM session
    (core.db.read_row, for the calendar polls), so no session connection is set up for it in
    advance on PostgreSQL; later session reads then run in an ordinary transaction.

    ``methods``: the methods read in a read transaction (a POST that reads first and stores in a
    short ``core.transaction.writing()`` step at its end, like a feedback answer)."""
    def mark(view):
        view.read_only = methods
        view.prepare_session = prepare_session
        return view

    return mark if view is None else mark(view)


def mark_read_only_request() -> None:
    if request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    if request.method in getattr(view, "read_only", ()):
        g.read_only = True
        # (A session already in a transaction, as in tests that share the app context, keeps it.)
        if (getattr(view, "prepare_session", True) and db.engine.dialect.name == "postgresql"
                and not db.session().in_transaction()):
            start_autocommit()


def start_autocommit() -> None:
    """Give the session (which has no transaction yet) a PostgreSQL connection in autocommit
    mode: each statement is then a transaction of its own, with no BEGIN and no ROLLBACK round
    trips. Under READ COMMITTED each statement sees its own snapshot either way, so reads see
    exactly what they would in a transaction. The connection gets its usual transactional mode
    back when it returns to the pool (core.transaction.writing() ends this phase before any write)."""
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def is_safe_next(target: str | None) -> bool:
    """Only paths on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(urljoin(request.host_url, target))
    return parts.scheme in ("http", "https") and parts.netloc == urlsplit(request.host_url).netloc


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every response carries unless its view set its own (also those answered
    before Flask, calendar_export.fastpath)."""
    always = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
              ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY"),
              ("Cross-Origin-Opener-Policy", "same-origin"),
              ("Permissions-Policy", "camera=(), microphone=(), geolocation=()")]
    if app.config.get("SESSION_COOKIE_SECURE"):
        always.append(("Strict-Transport-Security", "max-age=31536000"))
    return always


def init_security(app: Flask) -> None:
    from .logging import install as install_log_redaction

    install_log_redaction(app.logger)
    # Flask's own SecureCookieSessionInterface: building its signer per request costs tens of µs
    # (bench/RESULTS.md, "Special paths"), too little for any target to need a cached one.
    app.before_request(mark_read_only_request)

    always = security_headers(app)

    @app.after_request
    def headers(response):
        # Every response passes here (feed polls answered 304 too), so the headers a view has
        # set are looked at once instead of once per header.
        present = {key.lower() for key, _value in response.headers.items()}
        for key, value in always:
            if key.lower() not in present:
                response.headers.add(key, value)
        # Pages with client data must not be kept by shared caches or the back/forward cache.
        if "cache-control" not in present and response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response
