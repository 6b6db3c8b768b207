"""Server-side login sessions on top of Flask-Login.

Flask's session cookie is signed, not stored, so on its own a copied cookie would outlive a
logout. Each login therefore creates a ``UserSession`` row and keeps its random token in the
cookie; the user loader only accepts a cookie whose token still has a row.

A login ends ``PERMANENT_SESSION_LIFETIME`` after it began, and also after
``SESSION_IDLE_MINUTES`` without a request (an unattended screen). The row's ``last_seen_at``
is moved on at most once a minute, by a short write of its own after the view (``touch``), so
page views stay reads and a view that does not commit still counts as activity.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, flash, g, redirect, request, session
from flask_babel import lazy_gettext as _l
from flask_login import login_url
from flask_login.utils import make_next_param

from core.db import utcnow
from core.extensions import db, login_manager

from .models import User, UserSession

SESSION_KEY = "sid"
# Writing last_seen on every request would make every GET a write; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> None:
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user=user, token_hash=_hash(token)))
    session.clear()
    session[SESSION_KEY] = token
    session.permanent = True


def end_current_session() -> None:
    token = session.get(SESSION_KEY)
    if token:
        db.session.execute(sa.delete(UserSession).where(UserSession.token_hash == _hash(token)))
    session.clear()


def end_other_sessions(user: User) -> None:
    token = session.get(SESSION_KEY)
    stmt = sa.delete(UserSession).where(UserSession.user_id == user.id)
    if token:
        stmt = stmt.where(UserSession.token_hash != _hash(token))
    db.session.execute(stmt)


def end_all_sessions(user: User) -> None:
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))


@functools.cache
def _session_statement() -> sa.Select:
    """The live session of a token with its active user; built once, as every page runs it."""
    return (sa.select(UserSession, User).join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == sa.bindparam("token_hash"), User.id == sa.bindparam("user_id"),
                   User.active.is_(True)))


IDLE_MESSAGE = _l("You were logged out after a while without activity. Log in again to continue.")


def touch(response):
    """After the view and its commit (core.transaction): record that the login is in use
    (``g.session_touch``, set by the user loader at most once a minute), in a short transaction
    of its own."""
    pending = g.pop("session_touch", None)
    if pending is None or response.status_code >= 500:  # e.g. the database cannot be reached
        return response
    session_id, now = pending
    db.session.rollback()  # the request's transaction has ended (committed, or rolled back on an error)
    g.read_only = False  # a write transaction of its own: on SQLite BEGIN IMMEDIATE
    db.session.execute(sa.update(UserSession).where(UserSession.id == session_id, UserSession.last_seen_at < now)
                       .values(last_seen_at=now).execution_options(synchronize_session=False))
    db.session.commit()  # an after-request hook's own transaction, after the request's commit
    return response


def configure_login(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.after_request(touch)

    @login_manager.unauthorized_handler
    def unauthorized():
        # Flask-Login's own handler, with a message that says why when the login went idle.
        message = IDLE_MESSAGE if g.get("session_idle") else login_manager.login_message
        flash(message, login_manager.login_message_category)
        target = login_url(login_manager.login_view)
        return redirect(login_url(login_manager.login_view, next_url=make_next_param(target, request.url)))

    @login_manager.user_loader
    def load_user(user_id: str):
        token = session.get(SESSION_KEY)
        if not token or not str(user_id).isdigit():
            return None
        row = db.session.execute(_session_statement(), {"token_hash": _hash(token), "user_id": int(user_id)}).first()
        if row is None:
            return None
        user_session, user = row
        lifetime = app.permanent_session_lifetime
        now = utcnow()
        if now - user_session.created_at > lifetime:
            return None
        if now - user_session.last_seen_at > timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]):
            g.session_idle = True
            return None
        if now - user_session.last_seen_at > TOUCH_EVERY:
            g.session_touch = (user_session.id, now)
        return user
