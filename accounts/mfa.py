"""A second factor for local accounts: an authenticator app (TOTP, pyotp) with ten single-use
recovery codes, the lead's requirement that every local account has one, and the security log.

The login is in two steps. After a right password the user is not logged in yet: the Flask
session holds only a pending marker (the user's id and when the password was right). The code
step must follow within ``PENDING_SECONDS``, else it starts over. A wrong code counts as a failed
login for the account and the address (``accounts.services`` throttling), so guessing codes is
slowed exactly like guessing passwords."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
import sqlalchemy as sa
import webauthn
from flask import session
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from core.db import rowcount, utcnow
from core.extensions import db

from .models import PasskeyCredential, RecoveryCode, SecurityEvent, SecurityPolicy, TotpCredential, User

ISSUER = "Kohtaamo"
PENDING_KEY = "mfa_pending"
ENROL_KEY = "mfa_enrol_secret"
MUST_ENROL_KEY = "mfa_must_enrol"
PENDING_SECONDS = 300
RECOVERY_CODES = 10
# A code from the step before the current one is accepted (a code typed as it turned over, or a
# clock a little behind); the step after is not: it has not been shown yet.
VALID_WINDOW = 1


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).lower()


# --- the policy and the log ----------------------------------------------------------------------

def policy() -> SecurityPolicy:
    row = db.session.get(SecurityPolicy, 1)
    if row is None:
        row = SecurityPolicy(id=1, require_second_factor=False)
        db.session.add(row)
        db.session.flush()
    return row


def second_factor_required() -> bool:
    row = db.session.get(SecurityPolicy, 1)
    return bool(row and row.require_second_factor)


def set_requirement(required: bool, by: User, address: str) -> None:
    row = policy()
    if row.require_second_factor != required:
        row.require_second_factor = required
        row.updated_by_id = by.id
        log(by, "requirement_on" if required else "requirement_off", actor=by, address=address)
    db.session.flush()


def log(user: User | None, kind: str, *, actor: User | None = None, address: str = "") -> None:
    db.session.add(SecurityEvent(kind=kind, user_id=user.id if user else None,
                                 actor_id=actor.id if actor else None, address=(address or "")[:64]))


# --- what a user has -----------------------------------------------------------------------------

def credential(user: User) -> TotpCredential | None:
    return db.session.scalar(sa.select(TotpCredential).where(TotpCredential.user_id == user.id))


def has_second_factor(user: User) -> bool:
    """An authenticator app or a passkey."""
    if credential(user) is not None:
        return True
    passkeys = db.session.scalar(sa.select(sa.func.count()).select_from(PasskeyCredential)
                                 .where(PasskeyCredential.user_id == user.id))
    return bool(passkeys)


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


# --- enrolment -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str

    def qr_svg(self) -> str:
        # Inline SVG markup (paths only, no style or script), so the CSP needs no exception.
        return segno.make(self.uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def start_enrolment(user: User) -> Enrolment:
    """The secret being enrolled lives in the user's (signed) session until a first code
    confirms it; only then is it stored."""
    secret = session.get(ENROL_KEY) or pyotp.random_base32()
    session[ENROL_KEY] = secret
    return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER))


def _step_of(totp: pyotp.TOTP, code: str, now: datetime) -> int | None:
    """The time step whose code ``code`` is, among the current and the previous one."""
    current = totp.timecode(now)
    for step in range(current, current - VALID_WINDOW - 1, -1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(user: User, code: str, address: str, now: datetime | None = None) -> list[str] | None:
    """Store the pending secret if ``code`` is right for it; returns the new recovery codes (shown
    once), or None for a wrong code."""
    secret = session.get(ENROL_KEY)
    code = normalise_code(code)
    if not secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = _step_of(totp, code, now or utcnow())
    if step is None:
        return None
    existing = credential(user)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    db.session.add(TotpCredential(user_id=user.id, secret=secret, last_step=step))
    session.pop(ENROL_KEY, None)
    session.pop(MUST_ENROL_KEY, None)
    log(user, "totp_enrolled", actor=user, address=address)
    return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    # 10 characters of base32: 50 random bits, written in two groups of five to be read aloud.
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    db.session.flush()
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def remove(user: User, *, actor: User, address: str) -> None:
    """The authenticator app and recovery codes; a lead's reset (a lost phone) takes the
    passkeys too, as the phone may hold them."""
    db.session.execute(sa.delete(TotpCredential).where(TotpCredential.user_id == user.id))
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if actor.id != user.id:
        db.session.execute(sa.delete(PasskeyCredential).where(PasskeyCredential.user_id == user.id))
    log(user, "totp_removed" if actor.id == user.id else "totp_reset", actor=actor, address=address)
    db.session.flush()


# --- the login's second step ---------------------------------------------------------------------

def begin_pending(user: User, target: str | None, now: datetime | None = None) -> None:
    session.clear()
    session[PENDING_KEY] = {"uid": user.id, "at": (now or utcnow()).timestamp(), "next": target or ""}


def pending(now: datetime | None = None) -> tuple[User | None, str]:
    """The user whose password was right a moment ago (None when there is none, or it expired:
    the login starts over), and where they were going."""
    marker = session.get(PENDING_KEY)
    if not isinstance(marker, dict):
        return None, ""
    at = datetime.fromtimestamp(float(marker.get("at", 0)), tz=(now or utcnow()).tzinfo)
    if (now or utcnow()) - at > timedelta(seconds=PENDING_SECONDS):
        session.pop(PENDING_KEY, None)
        return None, ""
    user = db.session.get(User, int(marker.get("uid", 0)))
    if user is None or not user.active:
        session.pop(PENDING_KEY, None)
        return None, ""
    return user, marker.get("next", "")


def verify(user: User, code: str, address: str, now: datetime | None = None) -> bool:
    """A code from the authenticator (not used before) or an unused recovery code."""
    code = normalise_code(code)
    now = now or utcnow()
    cred = credential(user)
    if cred is not None and code.isdigit() and len(code) == 6:
        step = _step_of(pyotp.TOTP(cred.secret), code, now)
        # A step at or before the last one accepted is a replay.
        if step is None or step <= cred.last_step:
            return False
        # Conditional, so two requests racing with the same code cannot both succeed.
        won = rowcount(db.session.execute(sa.update(TotpCredential)
                                          .where(TotpCredential.id == cred.id, TotpCredential.last_step < step)
                                          .values(last_step=step)))
        return bool(won)
    if len(code) == 10:
        used = rowcount(db.session.execute(sa.update(RecoveryCode)
                                           .where(RecoveryCode.user_id == user.id,
                                                  RecoveryCode.code_hash == _hash(code),
                                                  RecoveryCode.used_at.is_(None))
                                           .values(used_at=now)))
        if used:
            log(user, "recovery_code_used", actor=user, address=address)
            return True
    return False


def finish_pending() -> None:
    session.pop(PENDING_KEY, None)


# --- passkeys (WebAuthn) -------------------------------------------------------------------------
# The browser step needs JavaScript (static/js/passkeys.js, served locally under the CSP); the
# server side is the `webauthn` package. The relying party is the host the page was served from
# (a passkey is bound to it), and the origin is checked on every ceremony.

PASSKEY_CHALLENGE = "passkey_challenge"


def _relying_party() -> tuple[str, str]:
    from flask import request

    return request.host.split(":")[0], f"{request.scheme}://{request.host}"


def passkeys(user: User) -> list[PasskeyCredential]:
    return list(db.session.scalars(sa.select(PasskeyCredential).where(PasskeyCredential.user_id == user.id)
                                   .order_by(PasskeyCredential.created_at, PasskeyCredential.id)))


def registration_options(user: User) -> str:
    rp_id, _origin = _relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp_id, rp_name=ISSUER, user_name=user.email, user_display_name=user.name,
        user_id=f"kohtaamo-user-{user.id}".encode(),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                             for p in passkeys(user)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED))
    session[PASSKEY_CHALLENGE] = bytes_to_base64url(options.challenge)
    return webauthn.options_to_json(options)


def register_passkey(user: User, credential: dict, name: str, address: str) -> PasskeyCredential | None:
    challenge = session.pop(PASSKEY_CHALLENGE, None)
    if not challenge:
        return None
    rp_id, origin = _relying_party()
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id,
            expected_origin=origin, require_user_verification=True)
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError):
        return None
    row = PasskeyCredential(user_id=user.id, credential_id=bytes_to_base64url(verified.credential_id),
                            public_key=verified.credential_public_key, sign_count=verified.sign_count,
                            name=(name or "")[:60])
    db.session.add(row)
    log(user, "passkey_added", actor=user, address=address)
    db.session.flush()
    return row


def remove_passkey(user: User, passkey_id: int, address: str) -> bool:
    removed = rowcount(db.session.execute(sa.delete(PasskeyCredential).where(
        PasskeyCredential.id == passkey_id, PasskeyCredential.user_id == user.id)))
    if removed:
        log(user, "passkey_removed", actor=user, address=address)
    return bool(removed)


def authentication_options(user: User) -> str:
    rp_id, _origin = _relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                           for p in passkeys(user)])
    session[PASSKEY_CHALLENGE] = bytes_to_base64url(options.challenge)
    return webauthn.options_to_json(options)


def verify_passkey(user: User, credential: dict, now: datetime | None = None) -> bool:
    """The login's second step with a passkey of this user (a removed passkey is unknown)."""
    challenge = session.pop(PASSKEY_CHALLENGE, None)
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    if not challenge or not isinstance(credential_id, str):
        return False
    stored = db.session.scalar(sa.select(PasskeyCredential).where(
        PasskeyCredential.credential_id == credential_id, PasskeyCredential.user_id == user.id))
    if stored is None:
        return False
    rp_id, origin = _relying_party()
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp_id,
            expected_origin=origin, credential_public_key=stored.public_key,
            credential_current_sign_count=stored.sign_count, require_user_verification=True)
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        return False
    stored.sign_count = verified.new_sign_count
    stored.last_used_at = now or utcnow()
    return True
