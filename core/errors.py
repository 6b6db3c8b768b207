"""Translated error pages that say what happened and leak nothing else."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db, login_manager

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. If you were sending a form, go back, reload the page and try again.")),
    403: (_l("No access"), _l("You do not have access to this page.")),
    404: (_l("Page not found"), _l("The page you were looking for does not exist or has been removed.")),
    405: (_l("Not allowed"), _l("This address cannot be used that way.")),
    409: (_l("Not saved"), _l("Someone else saved this record at the same moment. Nothing you sent was saved: go back, reload the page and try again.")),
    413: (_l("Too large"), _l("What you sent is too large.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a while and try again.")),
    500: (_l("Something went wrong"), _l("Something went wrong on our side. Nothing you did caused it; try again in a moment.")),
    503: (_l("Briefly unavailable"), _l("The service cannot reach its database just now. Nothing you did caused it; try again in a moment.")),
}

# Seconds a client is asked to wait when the database cannot be reached (a restart, a failover).
RETRY_AFTER_UNAVAILABLE = 5


def database_unavailable(error: Exception) -> bool:
    """The database could not be reached or was too busy (a restart, a lost connection, SQLite's
    lock wait running out): the request may succeed as it is a moment later. Other database
    errors (a constraint, bad SQL) are bugs and stay 500s."""
    if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError,
                              sa.exc.TimeoutError))


def render_error(code: int, message=None):
    title, default_message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title, message=message or default_message), code


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        db.session.rollback()
        return render_error(400, _l("The form had expired or was not sent from this site. Nothing was saved. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        code = error.code or 500
        if code not in MESSAGES:
            return error
        response = render_error(code)
        valid_methods = getattr(error, "valid_methods", None)  # a MethodNotAllowed's
        if code == 405 and valid_methods:
            return response[0], code, {"Allow": ", ".join(valid_methods)}
        if code == 429 and error.response is not None and error.response.headers.get("Retry-After"):
            return response[0], code, {"Retry-After": error.response.headers["Retry-After"]}
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:
            # The connection is already gone; the session is discarded at the end of the request.
            app.logger.warning("could not roll back after an error on %s %s", request.method, request.path)
        if database_unavailable(error):
            app.logger.error("Database unavailable on %s %s: %s", request.method, request.path,
                             type(error).__name__, exc_info=error)
            # The page must not need the database: shown as to a visitor (loading or refreshing
            # the user, or their language, would meet the same error inside this handler).
            g._login_user = login_manager.anonymous_user()
            page, code = render_error(503)
            return page, code, {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)
