"""Demo data for ``make run`` and ``flask seed-demo``: a small unit with staff, partners and
clients. Each feature adds its own part through ``<feature>/demo.py`` with ``seed(ctx)``, registered
on the app with ``register_demo(app, seed)`` when its blueprint is (``core.registry``); the register
lays the foundation (staff, partners, clients: ``register.demo``), the others build on it, in the
order of ``app.FEATURES``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask

from core.extensions import db
from core.registry import register, registered

DEMO_PASSWORD = "kohtaamo-demo"
DEMO_LOGINS = (("ohjaaja@example.fi", "facilitator"), ("vastaava@example.fi", "lead"),
               ("vastaava.ita@example.fi", "lead (Itä)"), ("hallinto@example.fi", "county_admin"))


@dataclass
class DemoContext:
    """What the foundation created, for the features' seeds to build on."""

    staff: dict = field(default_factory=dict)       # key -> User
    units: dict = field(default_factory=dict)       # key -> Unit ("keskusta": everyone above; "ita")
    partners: dict = field(default_factory=dict)    # key -> PartnerOrganisation
    contacts: dict = field(default_factory=dict)    # key -> PartnerContact
    clients: dict = field(default_factory=dict)     # key -> Client
    relatives: dict = field(default_factory=dict)   # key -> Relative
    extra: dict = field(default_factory=dict)       # features share their objects here


def database_is_empty() -> bool:
    # The staff table by name: core does not import the features' models (docs/ARCHITECTURE.md).
    user = sa.table("user", sa.column("id"))
    return db.session.scalar(sa.select(sa.func.count(user.c.id))) == 0


def register_demo(app: Flask, seed: Callable[[DemoContext], None]) -> None:
    register(app, "demo", seed)


def seed_all() -> DemoContext:
    ctx = DemoContext()
    for seed in registered("demo"):
        seed(ctx)
        db.session.flush()
    return ctx
