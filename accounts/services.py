"""Account operations: authenticate with throttling, create and edit staff, change passwords.
Functions change data and flush; the calling view commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from core.db import aware_utc, utcnow
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


@dataclass
class Throttle:
    """Whether a password guess may be checked now, and if not, for how many seconds not."""
    refused: bool = False
    retry_after: int = 0


def _failures(since, **match) -> tuple[int, datetime | None]:
    """Recent failed attempts matching ``match`` (email, address) and the latest one's time."""
    conditions = [getattr(LoginAttempt, k) == v for k, v in match.items()]
    count, latest = db.session.execute(
        sa.select(sa.func.count(LoginAttempt.id), sa.func.max(LoginAttempt.at))
        .where(*conditions, LoginAttempt.success.is_(False), LoginAttempt.at >= since)).one()
    return count or 0, aware_utc(latest)


def _since_success(since, **match):
    """``since``, or the last successful attempt matching ``match`` if that is later."""
    conditions = [getattr(LoginAttempt, k) == v for k, v in match.items()]
    last = db.session.scalar(sa.select(sa.func.max(LoginAttempt.at)).where(
        *conditions, LoginAttempt.success.is_(True), LoginAttempt.at >= since))
    return max(since, aware_utc(last)) if last is not None else since


def account_delay(failures: int) -> int:
    """Seconds an address must wait between guesses at an account that has had ``failures``
    failed attempts (from anywhere) in the window: none up to LOGIN_MAX_FAILURES_PER_ACCOUNT,
    then doubling from 2 s up to LOGIN_MAX_DELAY_SECONDS."""
    over = failures - current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    if over < 0:
        return 0
    return min(2 ** min(over + 1, 16), current_app.config["LOGIN_MAX_DELAY_SECONDS"])


def check_throttle(email: str, address: str) -> Throttle:
    """May ``address`` guess the password of ``email`` now?

    * per (account, address) pair: a hard limit of LOGIN_MAX_FAILURES_PER_PAIR failures in the
      window: the guesser is stopped, nobody else is;
    * per address: a hard limit of LOGIN_MAX_FAILURES_PER_ADDRESS failures over all accounts
      (one address trying many accounts);
    * per account: never a hard lock, which anyone who knows a staff email could trigger to
      keep its owner out. Once the account has had LOGIN_MAX_FAILURES_PER_ACCOUNT failures,
      each address waits a growing delay (``account_delay``) after its own last attempt at this
      account. An attacker spreading guesses over many addresses is slowed on each one, while
      the owner, from an address that has not been guessing, is let in at once.

    Counted in the database, so the limits hold across gunicorn workers."""
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    now = utcnow()
    since = now - window
    # Failures count from the last success (of the pair, of the account): an owner who mistyped
    # and then got in starts afresh.
    pair_since = _since_success(since, email=email, address=address)
    pair, pair_latest = _failures(pair_since, email=email, address=address)
    if pair >= config["LOGIN_MAX_FAILURES_PER_PAIR"]:
        return Throttle(True, int(window.total_seconds()))
    by_address, _latest = _failures(since, address=address)
    if by_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return Throttle(True, int(window.total_seconds()))
    if pair_latest is not None:
        account, _latest = _failures(_since_success(since, email=email), email=email)
        wait = account_delay(account) - (now - pair_latest).total_seconds()
        if wait > 0:
            return Throttle(True, max(1, int(wait + 0.999)))
    return Throttle()


def record_attempt(email: str, address: str, success: bool) -> None:
    db.session.add(LoginAttempt(email=email, address=address, success=success))


def _clean(email: str, address: str) -> tuple[str, str]:
    return normalise_email(email)[:254], (address or "unknown")[:64]


def authenticate(email: str, password: str, address: str) -> LoginResult:
    """Check credentials unless ``check_throttle`` says wait. Every attempt is recorded, also
    the throttled ones."""
    email, address = _clean(email, address)
    throttle = check_throttle(email, address)
    if throttle.refused:
        record_attempt(email, address, False)
        current_app.logger.warning("login throttled for account/address")
        return LoginResult(throttled=True, retry_after=throttle.retry_after)
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password) and user is not None and user.active
    record_attempt(email, address, bool(ok))
    if user is None or not ok:
        current_app.logger.info("login failed")
        return LoginResult()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    current_app.logger.info("login succeeded for user %s", user.id)
    return LoginResult(user=user)


def check_current_password(user: User, password: str, address: str) -> LoginResult:
    """The current password asked on the change-password page: a guess at the account like a
    login (someone at an unlocked screen), throttled and recorded the same way."""
    email, address = _clean(user.email, address)
    throttle = check_throttle(email, address)
    if throttle.refused:
        record_attempt(email, address, False)
        current_app.logger.warning("password check throttled for user %s", user.id)
        return LoginResult(throttled=True, retry_after=throttle.retry_after)
    ok = verify_password(user.password_hash, password)
    record_attempt(email, address, ok)
    return LoginResult(user=user if ok else None)


def create_staff(*, email: str, name: str, password: str, role: str = Role.FACILITATOR.value,
                 language: str = "fi", title: str = "", phone: str = "", unit_ids=None) -> User:
    """A new staff account, a member of ``unit_ids`` (None: the installation's first unit, as on a
    single-team installation)."""
    from .units import default_unit, set_memberships

    user = User(
        email=normalise_email(email), name=name.strip(), password_hash=hash_password(password),
        role=role, language=language, title=title.strip(), phone=phone,
    )
    db.session.add(user)
    db.session.flush()
    set_memberships(user, [default_unit().id] if unit_ids is None else unit_ids)
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
