"""Server-side login sessions on top of Flask-Login.

Flask's session cookie is signed, not stored, so on its own a copied cookie would outlive a
logout. Each login therefore creates a ``UserSession`` row and keeps its random token in the
cookie; the user loader only accepts a cookie whose token still has a row.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, g, session
from flask_babel import lazy_gettext as _l

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


def configure_login(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

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
        # Read-only views run in a shared SQLite transaction and must not write.
        if now - user_session.last_seen_at > TOUCH_EVERY and not g.get("read_only"):
            user_session.last_seen_at = now
        return user
