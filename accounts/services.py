"""Account operations: authenticate with throttling, create and edit staff, change passwords.
Functions change data and flush; the calling view commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from core.db import utcnow
from core.extensions import db

from .models import LoginAttempt, Role, User
from .passwords import hash_password, needs_rehash, verify_password
from .session_auth import end_all_sessions, end_other_sessions


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


@dataclass
class LoginResult:
    user: User | None = None
    throttled: bool = False
    retry_after: int = 0


def _recent_failures(column, value, since) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.success.is_(False), LoginAttempt.at >= since
        )
    ) or 0


def authenticate(email: str, password: str, address: str) -> LoginResult:
    """Check credentials unless the account or the address has failed too often lately.
    Every attempt is recorded, also the throttled ones."""
    email = normalise_email(email)[:254]
    address = (address or "unknown")[:64]
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    since = utcnow() - window
    if (
        _recent_failures(LoginAttempt.email, email, since) >= current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or _recent_failures(LoginAttempt.address, address, since) >= current_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    ):
        db.session.add(LoginAttempt(email=email, address=address, success=False))
        current_app.logger.warning("login throttled for account/address")
        return LoginResult(throttled=True, retry_after=int(window.total_seconds()))
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password) and user is not None and user.active
    db.session.add(LoginAttempt(email=email, address=address, success=bool(ok)))
    if not ok:
        current_app.logger.info("login failed")
        return LoginResult()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    current_app.logger.info("login succeeded for user %s", user.id)
    return LoginResult(user=user)


def create_staff(*, email: str, name: str, password: str, role: str = Role.FACILITATOR.value,
                 language: str = "fi", title: str = "", phone: str = "") -> User:
    user = User(
        email=normalise_email(email), name=name.strip(), password_hash=hash_password(password),
        role=role, language=language, title=title.strip(), phone=phone,
    )
    db.session.add(user)
    db.session.flush()
    return user


def email_taken(email: str, exclude_id: int | None = None) -> bool:
    stmt = sa.select(User.id).where(User.email == normalise_email(email))
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    return db.session.scalar(stmt) is not None


def change_password(user: User, new_password: str) -> None:
    """New hash, and every other login of this user ends (the current one stays)."""
    user.password_hash = hash_password(new_password)
    end_other_sessions(user)


def set_active(user: User, active: bool) -> None:
    user.active = active
    if not active:
        end_all_sessions(user)


def staff_choices(active_only: bool = True) -> list[User]:
    stmt = sa.select(User).order_by(User.name)
    if active_only:
        stmt = stmt.where(User.active.is_(True))
    return list(db.session.scalars(stmt))
