"""One unit of work per request: the framework commits, views and services never do.

Lifecycle of a request (see docs/ARCHITECTURE.md):

1. ``core.security.mark_read_only_request`` (before_request) reads the route's ``@read_only`` mark
   and opens the right transaction: on SQLite a deferred (shared) BEGIN instead of BEGIN
   IMMEDIATE, on PostgreSQL an autocommit connection (read-only views still write their
   access-log rows, so a READ ONLY transaction is not possible there).
2. The view parses, calls services (which only flush) and renders its page.
3. ``finish_request`` (the first after_request hook to run) commits once when the response
   status is below 400 (or the view called ``keep_writes()``); otherwise it rolls back. A view
   that re-renders a form after a service flushed and then refused rolls back itself first.
   A failing commit is answered like any error in the view (core.errors: 503 for a lost
   database), so a page is never sent unless what it reports is stored.
4. Exceptions are rolled back by the error handlers (core.errors) before their page is rendered.

Only ``writing()`` (a read-only view's short write step) and the after-request hooks that
write on their own (access log, session touch) commit elsewhere, all inside core or its hooks.
"""
from __future__ import annotations

import contextlib

from flask import Flask, current_app, g, request, session
from sqlalchemy.orm.exc import StaleDataError

from .extensions import db


def keep_writes() -> None:
    """The request's writes are committed even though it answers 400 or more: a refused login
    attempt answered 429 is still recorded for the throttle."""
    g.keep_writes = True


def commit_request() -> None:
    """The request's one commit (patched in tests to prove it is the only path)."""
    db.session.commit()


def finish_request(response):
    if response.status_code >= 400 and not g.get("keep_writes"):
        db.session.rollback()
        return response
    try:
        commit_request()
    except StaleDataError as error:
        # Lost a race at the commit's flush: the view's second answer (answer_stale_edit) is
        # committed or rolled back like any other.
        return finish_request(current_app.make_response(current_app.handle_user_exception(error)))
    except Exception as error:  # answered like an error in the view: 503 for a lost database
        return current_app.make_response(current_app.handle_user_exception(error))
    return response


@contextlib.contextmanager
def writing():
    """The write step of a ``@read_only`` view that reads first (a feed recording its use, a
    cached chart stored, an answer stored): the read transaction ends, the block runs in a write
    transaction of its own (on SQLite BEGIN IMMEDIATE, taking the lock only now, because
    upgrading the read transaction could fail when another worker committed since it began),
    which is committed here, and the view continues reading. Objects loaded before are expired.
    In a writing view it is a plain block: the request's commit covers it."""
    if not g.get("read_only"):
        yield
        return
    db.session.rollback()
    g.read_only = False
    try:
        yield
        db.session.commit()  # the read-only view's own write step, one short transaction
    except BaseException:
        db.session.rollback()
        raise
    finally:
        g.read_only = True


def answer_stale_edit(error: StaleDataError):
    """Two saves of the same row raced and this one lost: the mapper's UPDATE (``version_id_col``)
    said ``WHERE version = <the version this request loaded>`` and found no row, because the other
    save committed first. Everything this request did is rolled back and its view runs once more
    on what is stored now: the form's ``VersionedForm.check_version`` then sees the new version
    and answers as for any stale edit (the message at the form, the input kept, nothing saved).
    If the row changes again during that second run, the answer is a 409 page."""
    db.session.rollback()
    view = current_app.view_functions.get(request.endpoint or "")
    if g.get("stale_edit_retried") or view is None:
        from .errors import render_error
        return render_error(409)
    g.stale_edit_retried = True
    # A race lost at the commit comes after the view flashed its success: that message must not
    # show on the page that says nothing was saved.
    session.pop("_flashes", None)
    current_app.logger.info("Stale edit on %s %s; answering from the stored version", request.method, request.path)
    try:
        return current_app.ensure_sync(view)(**(request.view_args or {}))
    except Exception as again:  # e.g. a 404 (deleted meanwhile), or this race lost again (409)
        return current_app.handle_user_exception(again)


def init_unit_of_work(app: Flask) -> None:
    app.register_error_handler(StaleDataError, answer_stale_edit)
    # Registered last, so it runs first of the app's after_request hooks (Flask runs them in
    # reverse): before the access-log and session-touch hooks, which write on their own.
    app.after_request(finish_request)
