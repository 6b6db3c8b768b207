"""Clients with as little data as the work needs, relatives, partners, and the access log."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import first_unit_default
from core.db import UTCDateTime, str_enum, utcnow
from core.extensions import db


class PartnerKind(enum.StrEnum):
    SUBSTANCE_ABUSE = "substance_abuse"
    EMPLOYMENT = "employment"
    LABOUR_FORCE_CENTRE = "labour_force_centre"
    PROBATION = "probation"
    YOUTH_OUTREACH = "youth_outreach"
    AFTERCARE = "aftercare"
    HOSPITAL = "hospital"
    PARISH = "parish"
    NGO = "ngo"
    OTHER = "other"


class Client(db.Model):
    __tablename__ = "client"
    # The client list: active clients in name order, a page at a time (tests/test_query_plans.py).
    __table_args__ = (sa.Index("ix_client_active_name", "active", "name"),
                      # A unit's active clients in name order: a lead's client list reads its
                      # units' rows a page at a time, and counts them, by this index.
                      sa.Index("ix_client_unit_active_name", "unit_id", "active", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # A name or initials: whatever the work needs, nothing more.
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    reminder_consent: Mapped[bool] = mapped_column(default=False)
    consent_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    language: Mapped[str] = mapped_column(sa.String(2), default="fi")
    # Optional, for letters only; the date the client agreed to letters at this address (like
    # phone and e-mail, it is kept only with consent: clearing the address clears the date).
    postal_address: Mapped[str] = mapped_column(sa.String(300), default="")
    postal_consent_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    # The unit whose client this is: its leads see the client (register.access).
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="RESTRICT"),
                                         default=first_unit_default())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set when the client's personal data was erased (lifecycle.erasure): the row stays so that
    # group attendance counts and meeting plans keep their shape, under a neutral name.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    relatives: Mapped[list[Relative]] = relationship(back_populates="client", cascade="all, delete-orphan",
                                                     order_by="Relative.name")
    workers: Mapped[list[ClientWorker]] = relationship(back_populates="client", cascade="all, delete-orphan")

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.replace(".", " ").split() if p]
        return "".join(p[0].upper() + "." for p in parts) or "?"


class ClientWorker(db.Model):
    """Staff who work with a client and so have a reason to see the client's data."""

    __tablename__ = "client_worker"
    __table_args__ = (sa.UniqueConstraint("client_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)

    client: Mapped[Client] = relationship(back_populates="workers")
    user = relationship("User")


class Relative(db.Model):
    __tablename__ = "relative"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    relation: Mapped[str] = mapped_column(sa.String(60), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    reminder_consent: Mapped[bool] = mapped_column(default=False)
    consent_date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    language: Mapped[str] = mapped_column(sa.String(2), default="fi")

    client: Mapped[Client] = relationship(back_populates="relatives")


class PartnerOrganisation(db.Model):
    __tablename__ = "partner_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), unique=True)
    kind: Mapped[str] = mapped_column(str_enum(PartnerKind, "kind", 40), default=PartnerKind.OTHER.value)
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    # The unit that works with the partner, or None: shared by every unit.
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}  # UPDATE ... WHERE version = <loaded>

    contacts: Mapped[list[PartnerContact]] = relationship(back_populates="organisation", cascade="all, delete-orphan",
                                                          order_by="PartnerContact.name")


class PartnerContact(db.Model):
    __tablename__ = "partner_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(120), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    language: Mapped[str] = mapped_column(sa.String(2), default="fi")
    active: Mapped[bool] = mapped_column(default=True)

    organisation: Mapped[PartnerOrganisation] = relationship(back_populates="contacts")


class AccessLog(db.Model):
    """Who processed which client's data, how and when (UTC). Written in the same transaction
    as the view or change it records, so a logged action and the log cannot disagree. Each row
    is a link of a hash chain, so an edit in the database is evident (register.chain)."""

    __tablename__ = "access_log"
    __table_args__ = (sa.Index("ix_access_log_client_at", "client_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys: the log must outlive deleted users and clients.
    user_id: Mapped[int | None] = mapped_column(nullable=True, index=True)
    user_name: Mapped[str] = mapped_column(sa.String(120), default="")
    client_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(60))
    detail: Mapped[str] = mapped_column(sa.String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The hash chain (register.chain): the previous row's hash and this row's own, over its
    # content and the previous hash. Rows are only ever appended through register.access.
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    row_hash: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)


class AccessLogRestart(db.Model):
    """Where the access log's hash chain starts again after retention removed its oldest rows.

    Retention removes a prefix of the log (rows through ``removed_through_id``); the first row
    kept still links to the last removed row's hash, which only this record vouches for. The
    record is signed with a key derived from the app's secret (register.chain.sign_restart), so
    someone who can edit the database but not read the server's secret cannot cut the log and
    write a restart record of their own. The newest record is the one ``verify`` starts from."""

    __tablename__ = "access_log_restart"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_through_id: Mapped[int] = mapped_column()
    removed_rows: Mapped[int] = mapped_column()
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    signature: Mapped[str] = mapped_column(sa.String(64))
