"""Single sign-on with OpenID Connect (Microsoft Entra ID, Keycloak, any certified provider).

Authlib's Flask client does the protocol: discovery from ``<issuer>/.well-known/openid-configuration``,
the authorization code flow with PKCE (S256), ``state`` kept in the session and checked on the
callback, ``nonce`` checked in the ID token, the token's signature checked against the provider's
JWKS, and its issuer, audience and expiry checked with a leeway of two minutes for clock skew.

This module decides only who the signed-in person is here (``match_user``): the account linked to
the token's subject; at a first sign-in the active account with the token's verified email
(which is then linked); or, when ``OIDC_AUTO_CREATE`` names a unit and a role
(``<unit slug or name>:<role>``), a new account in that unit. A deactivated
account is refused whichever way it matches. Settings come from the environment (README)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from authlib.integrations.flask_client import OAuth
from flask import current_app
from flask.sansio.app import App

from core.extensions import db

from .models import Role, User

CLIENT = "organisation"
EXTENSION = "kohtaamo.oidc"
# Authlib checks exp/iat/nbf with this much slack: clocks two minutes apart still agree.
LEEWAY_SECONDS = 120


def configured(app: App | None = None) -> bool:
    return bool((app or current_app).config.get("OIDC_ISSUER"))


def init_app(app: App) -> None:
    if not configured(app):
        return
    # One OAuth registry per app (not a module global): two apps in one process (tests, or two
    # configurations) must not share a provider's client or its cached metadata.
    oauth = OAuth(app)
    app.extensions[EXTENSION] = oauth
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    oauth.register(
        CLIENT,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config.get("OIDC_SCOPES") or "openid email profile",
                       "code_challenge_method": "S256",
                       "timeout": app.config.get("OIDC_TIMEOUT", 10)},
    )


def client():
    return current_app.extensions[EXTENSION].create_client(CLIENT)


@dataclass(frozen=True)
class Match:
    user: User | None
    reason: str = ""  # "inactive", "unknown" or "unverified" when there is no user


def _role_from_claims(claims: dict) -> str | None:
    config = current_app.config
    claim = config.get("OIDC_ROLE_CLAIM")
    if not claim:
        return None
    values = claims.get(claim) or []
    values = [values] if isinstance(values, str) else list(values)
    leads = {v.strip() for v in (config.get("OIDC_LEAD_VALUES") or "").split(",") if v.strip()}
    return Role.LEAD.value if leads & set(values) else Role.FACILITATOR.value


AUTO_CREATE_ROLES = (Role.FACILITATOR.value, Role.LEAD.value)


def auto_create_target() -> tuple[int, str] | None:
    """(unit id, role) from ``OIDC_AUTO_CREATE=<unit slug or name>:<role>``, or None: no automatic
    accounts. A setting that names no existing unit, no role or another role creates nothing
    (a wrong unit would give a stranger the wrong unit's clients); it is logged."""
    from .units import find_unit

    setting = str(current_app.config.get("OIDC_AUTO_CREATE") or "").strip()
    if not setting:
        return None
    unit_key, _sep, role = setting.rpartition(":")
    unit = find_unit(unit_key) if unit_key else None
    if unit is None or role.strip() not in AUTO_CREATE_ROLES:
        current_app.logger.warning("OIDC_AUTO_CREATE must be <unit slug or name>:<facilitator|lead> naming an "
                                   "existing unit; no account is created")
        return None
    return unit.id, role.strip()


def match_user(claims: dict) -> Match:
    """The account for a validated ID token's claims (see the module docstring)."""
    subject = str(claims.get("sub") or "")
    if not subject:
        return Match(None, "unknown")
    user = db.session.scalar(sa.select(User).where(User.oidc_subject == subject))
    email_claim = current_app.config.get("OIDC_EMAIL_CLAIM") or "email"
    email = str(claims.get(email_claim) or "").strip().lower()
    # Only a provider-verified address may link an existing account: otherwise anyone who can
    # set an unverified email at the provider could take over the staff account with that email.
    verified = claims.get("email_verified") is True or email_claim != "email"
    if user is None and email:
        candidate = db.session.scalar(sa.select(User).where(User.email == email))
        if candidate is not None:
            if not verified:
                return Match(None, "unverified")
            if candidate.oidc_subject and candidate.oidc_subject != subject:
                return Match(None, "unknown")
            user = candidate
            user.oidc_subject = subject
    if user is None:
        target = auto_create_target() if email and verified else None
        if target is None:
            return Match(None, "unknown")
        unit_id, role = target
        from .passwords import unusable_password_hash
        from .units import set_memberships

        user = User(email=email, name=str(claims.get("name") or email)[:120], oidc_subject=subject,
                    role=_role_from_claims(claims) or role, password_hash=unusable_password_hash(), active=True,
                    language=current_app.config.get("BABEL_DEFAULT_LOCALE", "fi"))
        db.session.add(user)
        db.session.flush()
        set_memberships(user, [unit_id])
    if not user.active:
        return Match(None, "inactive")
    mapped = _role_from_claims(claims)
    if mapped is not None:
        user.role = mapped
    db.session.flush()
    return Match(user)


def local_login_allowed(email: str) -> bool:
    """Passwords may be switched off (``LOCAL_LOGIN=0``) once single sign-on is in use, except for
    the break-glass administrator named in ``BREAK_GLASS_EMAIL`` (for when the provider is down)."""
    config = current_app.config
    if str(config.get("LOCAL_LOGIN", "1")).strip().lower() not in ("0", "false", "no", "off"):
        return True
    glass = (config.get("BREAK_GLASS_EMAIL") or "").strip().lower()
    return bool(glass) and email.strip().lower() == glass
