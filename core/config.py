"""Configuration from the environment.

``KOHTAAMO_ENV=development`` (what ``make run`` sets) relaxes two things: a missing ``SECRET_KEY``
is generated into ``instance/`` and the session cookie may travel over plain HTTP on localhost.
Anything else is production and refuses to start without ``SECRET_KEY``.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    pass


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "kohtaamo.db")
    # Heroku-style and bare URLs get the psycopg 3 driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _dev_secret(instance_path: str) -> str:
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def from_environment(instance_path: str) -> dict:
    env = os.environ.get("KOHTAAMO_ENV", "production").strip().lower()
    development = env == "development"
    secret = os.environ.get("SECRET_KEY", "").strip()
    if not secret:
        if not development:
            raise ConfigError("SECRET_KEY must be set (or KOHTAAMO_ENV=development for local use)")
        secret = _dev_secret(instance_path)
    return {
        "KOHTAAMO_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SESSION_COOKIE_SECURE": not development,
        "BASE_URL": os.environ.get("BASE_URL", "").rstrip("/"),
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0") or 0),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25") or 25),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "") in ("1", "true", "yes"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", ""),
        "SMS_BACKEND": os.environ.get("SMS_BACKEND", "outbox"),
        "SMS_GATEWAY_URL": os.environ.get("SMS_GATEWAY_URL", ""),
        "SMS_GATEWAY_KEY": os.environ.get("SMS_GATEWAY_KEY", ""),
        "SMS_GATEWAY_TIMEOUT": float(os.environ.get("SMS_GATEWAY_TIMEOUT", "10") or 10),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "20") or 20),
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "30") or 30),
        "FEEDBACK_PER_ADDRESS_LIMIT": int(os.environ.get("FEEDBACK_PER_ADDRESS_LIMIT", "2") or 2),
        "SAFETY_MARGIN_MINUTES": int(os.environ.get("SAFETY_MARGIN_MINUTES", "30") or 30),
        # Retention periods as given (lifecycle.retention checks them when the app starts) and
        # the key that encrypts backups (core.backup); unset means the default / unencrypted.
        **{key: os.environ[key] for key in RETENTION_KEYS if os.environ.get(key, "").strip()},
        "BACKUP_KEY": os.environ.get("BACKUP_KEY", "").strip(),
        # Single sign-on (accounts.oidc; README "Single sign-on"). Unset OIDC_ISSUER: passwords only.
        **{key: os.environ.get(key, "").strip() for key in OIDC_KEYS},
        "LOCAL_LOGIN": os.environ.get("LOCAL_LOGIN", "1").strip(),
    }


RETENTION_KEYS = ("RETENTION_CLIENT_MONTHS", "RETENTION_MESSAGE_TEXT_MONTHS", "RETENTION_ACCESS_LOG_MONTHS",
                  "RETENTION_USE_RECORDS_MONTHS", "RETENTION_LOGIN_ATTEMPT_DAYS")
OIDC_KEYS = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_SCOPES", "OIDC_EMAIL_CLAIM", "OIDC_NAME",
             "OIDC_AUTO_CREATE", "OIDC_ROLE_CLAIM", "OIDC_LEAD_VALUES", "BREAK_GLASS_EMAIL")


DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "kohtaamo_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # A login lasts PERMANENT_SESSION_LIFETIME from the login itself (accounts.session_auth
    # checks its server-side row against it), so the cookie set at login already expires then;
    # re-signing and re-sending it with every response would change nothing but the cost.
    "SESSION_REFRESH_EACH_REQUEST": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "BABEL_DEFAULT_LOCALE": "fi",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Helsinki",
    "LANGUAGES": ("fi", "sv", "en"),
    # A login also ends after this many minutes without a request (accounts.session_auth).
    "SESSION_IDLE_MINUTES": 30,
    # Pair safety (safety/): minutes after a visit's planned end before a missing "we are done" alerts.
    "SAFETY_MARGIN_MINUTES": 30,
    # Login throttling (accounts.services.check_throttle), counted over the window: failures one
    # address may make at one account, and at all accounts, before it is refused; failures an
    # account may have from anywhere before each address waits a growing delay (never a lock).
    "LOGIN_MAX_FAILURES_PER_PAIR": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_DELAY_SECONDS": 60,
    "LOGIN_WINDOW_SECONDS": 15 * 60,
    # Feedback aggregates need at least this many responses behind them (never below 3).
    "FEEDBACK_MIN_RESPONSES": 5,
}
