"""argon2id password hashing (argon2-cffi's defaults follow RFC 9106's recommendations)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verifying against a dummy hash for unknown emails keeps response times alike, so timing does
# not reveal which addresses have accounts.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")

MIN_LENGTH = 12
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def unusable_password_hash() -> str:
    """For accounts that sign in only through single sign-on: no password verifies against it
    (it is not an argon2 hash, so ``verify_password`` is False for every input)."""
    import secrets

    return "!sso-only-" + secrets.token_hex(16)
