"""Staff users, their live login sessions and the login attempt log."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import UTCDateTime, str_enum, utcnow
from core.extensions import db


class Role(enum.StrEnum):
    FACILITATOR = "facilitator"
    LEAD = "lead"
    # Manages units and staff accounts; sees no client by this role alone (register.access).
    COUNTY_ADMIN = "county_admin"


class Unit(db.Model):
    """A team of the wellbeing-services county (e.g. adult social work, city centre). Staff belong
    to one or more units; clients and groups belong to one; partners and venues to one or none
    (shared). A lead leads every unit they are a member of (accounts.units)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.slug}>"


def first_unit_default():
    """The column default of a record's ``unit_id``: the installation's first unit (the one the
    upgrade made). Services always name the unit (accounts.units.unit_for_new_record); this only
    keeps a row built straight on the model (a test, a seed script) working on a single-unit
    installation."""
    return sa.literal_column("(SELECT min(unit.id) FROM unit)")


class UnitMembership(db.Model):
    """A staff member's membership of a unit (a user may be in several)."""

    __tablename__ = "unit_membership"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True, index=True)


class SecurityEventKind(enum.StrEnum):
    """What a security log row records (accounts.mfa.log)."""

    TOTP_ENROLLED = "totp_enrolled"
    TOTP_REMOVED = "totp_removed"
    TOTP_RESET = "totp_reset"
    RECOVERY_CODE_USED = "recovery_code_used"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    REQUIREMENT_ON = "requirement_on"
    REQUIREMENT_OFF = "requirement_off"
    # Pair safety (safety/): a tap, an overdue alert, a lead's "reached them, all fine".
    SAFETY_ARRIVED = "safety_arrived"
    SAFETY_DONE = "safety_done"
    SAFETY_ALERTED = "safety_alerted"
    SAFETY_RESOLVED = "safety_resolved"


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(120), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(str_enum(Role, "role", 20), default=Role.FACILITATOR.value)
    language: Mapped[str] = mapped_column(sa.String(2), default="fi")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The OpenID Connect provider's subject once the account was linked at a first single
    # sign-on (accounts.oidc); later sign-ins match on it, not on the email, which can change.
    oidc_subject: Mapped[str | None] = mapped_column(sa.String(255), unique=True, nullable=True)
    # Optimistic locking for the staff edit form: a stale save is refused, never overwrites.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user", cascade="all, delete-orphan")
    units: Mapped[list[Unit]] = relationship(secondary="unit_membership", order_by="Unit.name")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD.value

    @property
    def is_county_admin(self) -> bool:
        return self.role == Role.COUNTY_ADMIN.value

    @property
    def can_manage_staff(self) -> bool:
        """Leads and county administrators manage staff accounts (accounts.permissions)."""
        return self.is_lead or self.is_county_admin

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(db.Model):
    """A live login. The cookie carries a random token; only its hash is stored. Logging out,
    changing the password or deactivation deletes rows, so a copied cookie stops working."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginAttempt(db.Model):
    """Every login attempt, successful or not: the audit trail and the rate limiter's memory
    (kept in the database so the limit holds across gunicorn workers and app instances)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        sa.Index("ix_login_attempt_email_at", "email", "at"),
        sa.Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    address: Mapped[str] = mapped_column(sa.String(64))
    success: Mapped[bool] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TotpCredential(db.Model):
    """A staff member's authenticator app (RFC 6238 TOTP, 30-second steps). The secret is needed
    in the clear to check codes; it is never shown again after enrolment. ``last_step`` is the
    time step of the last accepted code, so a code cannot be used twice (a shoulder-surfed code
    replayed within its 30 seconds is refused)."""

    __tablename__ = "totp_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(sa.String(64))
    last_step: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(db.Model):
    """One of ten single-use codes for a lost phone; only a SHA-256 of the code is kept (a code
    has 50 random bits, so a plain hash cannot be reversed by guessing)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SecurityEvent(db.Model):
    """The security log a lead reads: second factors enrolled, removed and reset, recovery codes
    used, the second-factor requirement switched, pair safety's taps, alerts and resolutions.
    Names no client; ``detail`` is fixed text."""

    __tablename__ = "security_event"
    __table_args__ = (sa.Index("ix_security_event_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(str_enum(SecurityEventKind, "kind", 40))
    # The account the event is about, and who did it (a lead resetting someone's factor).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class SecurityPolicy(db.Model):
    """Installation-wide sign-in policy, one row (id 1): whether every local account must have a
    second factor. Not a unit setting: it protects the whole installation's data."""

    __tablename__ = "security_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    require_second_factor: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PasskeyCredential(db.Model):
    """A passkey (WebAuthn credential) a staff member registered as their second factor: the
    authenticator keeps the private key; this keeps its id, public key and signature counter."""

    __tablename__ = "passkey_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(sa.String(512), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    name: Mapped[str] = mapped_column(sa.String(60), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
