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

from flask import Flask, current_app, g

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


def init_unit_of_work(app: Flask) -> None:
    # Registered last, so it runs first of the app's after_request hooks (Flask runs them in
    # reverse): before the access-log and session-touch hooks, which write on their own.
    app.after_request(finish_request)
