"""Who may see which client, and the access log.

A staff member sees a client when they have a reason: they lead the client's unit, they work with the client
(``ClientWorker``), or a feature grants it (a facilitator of a group the client is enrolled in, a
staff participant of the client's network meeting). Features add their reason with
``register_access_rule(app, rule)`` (in their blueprint's ``record_once``; kept per app, see
``core.registry``); each rule returns a SELECT of client ids, so checking and listing are
one query whatever the number of rules.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, abort, g, has_request_context
from flask_login import current_user

from accounts.units import leads_unit, led_unit_ids, led_unit_ids_select, member_unit_ids, member_unit_ids_select
from core.db import exists_per_row, utcnow
from core.extensions import db
from core.registry import register, registered
from core.transaction import writing

from . import chain
from .models import Client, ClientWorker, PartnerOrganisation

AccessRule = Callable[[int], sa.Select]


def register_access_rule(app: Flask, rule: AccessRule) -> AccessRule:
    return register(app, "access_rules", rule)


def _worker_rule(user_id: int) -> sa.Select:
    return sa.select(ClientWorker.client_id).where(ClientWorker.user_id == user_id)


def _unit_rule(user) -> sa.Select:
    # A lead sees the clients of the units they lead (accounts.units); a county administrator
    # or a facilitator sees none by their role.
    return sa.select(Client.id).where(Client.unit_id.in_(led_unit_ids_select(user)))


def _reasons(user_id: int) -> list[sa.Select]:
    # The register's own reason (the client's workers) always counts; features add theirs.
    return [rule(user_id) for rule in (_worker_rule, *registered("access_rules"))]


def accessible_client_ids(user) -> sa.CompoundSelect:
    """A SELECT of the client ids ``user`` may see: for a lead those of the units they lead, and
    for everyone the clients they have a reason for. A reason (a worker, a facilitator, a staff
    participant of a meeting) holds whatever the client's unit: someone named to work with the
    client needs the record, and naming them was a decision of the client's own unit."""
    reasons = _reasons(user.id)
    if user.is_lead:
        reasons.insert(0, _unit_rule(user))
    return sa.union(*reasons)


def client_list(user, *conditions: sa.ColumnElement[bool], first: int) -> tuple[sa.Select, Callable[[], int]]:
    """The client list of ``user``: a statement of the clients meeting ``conditions`` that
    ``can_access_client`` allows, in name order, and a function that counts them all.

    Each way in is read by its own index. A lead's units' clients come by (unit_id, active,
    name), cut at their first ``first`` rows (the pages up to the one shown, among which are the
    list's first ``first``). The clients the user has a reason for (a worker, a group, a meeting,
    an appointment) outside those units are read once per request as ids, from the reasons to the
    clients' keys: for a lead the few clients of other units they work with, for anyone else their
    own case load. The rule per row walked the county's clients by name past every other unit's,
    and PostgreSQL's count hashed the county's active clients against the reasons: both grew with
    the county (docs/SCALING.md)."""
    units = sorted(led_unit_ids(user)) if user.is_lead else []
    reasons = sa.union(*_reasons(user.id)).subquery()
    # From the reasons to each client's key (core.db.exists_per_row): PostgreSQL otherwise hashed
    # the county's active clients outside the lead's units against the reasons.
    outside = list(db.session.scalars(sa.select(reasons.c[0]).where(exists_per_row(
        Client.id == reasons.c[0], *conditions, *([Client.unit_id.not_in(units)] if units else [])))))
    branches = [sa.select(Client.id).where(Client.id.in_(outside))] if outside else []
    if units:
        in_units = (sa.select(Client.id).where(Client.unit_id.in_(units), *conditions)
                    .order_by(Client.name, Client.id).limit(first).subquery())
        branches.append(sa.select(in_units.c.id))
    rows = sa.select(Client).order_by(Client.name, Client.id)
    rows = rows.where(Client.id.in_(sa.union_all(*branches)) if branches else sa.false())

    def total() -> int:
        in_units = 0
        if units:
            in_units = db.session.scalar(sa.select(sa.func.count()).select_from(Client)
                                         .where(Client.unit_id.in_(units), *conditions)) or 0
        return in_units + len(outside)

    return rows, total


def can_access_client(user, client_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_lead and db.session.scalar(sa.select(sa.exists().where(
            Client.id == client_id, Client.unit_id.in_(sorted(led_unit_ids(user)))))):
        return True
    ids = sa.union(*_reasons(user.id)).subquery()
    return db.session.scalar(sa.select(sa.exists().where(ids.c[0] == client_id))) or False


def can_grant_client_access(user, client_id: int) -> bool:
    """Who may make another staff member (or themselves) one of the client's workers: the leads
    of the client's unit and the client's own workers. A passing reason (a group, a meeting) lets
    a facilitator see the client but not turn that reason into a lasting one."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_lead and db.session.scalar(sa.select(sa.exists().where(
            Client.id == client_id, Client.unit_id.in_(sorted(led_unit_ids(user)))))):
        return True
    return db.session.scalar(sa.select(sa.exists().where(ClientWorker.client_id == client_id,
                                                         ClientWorker.user_id == user.id))) or False


def partner_visible_condition(user):
    """The one rule for partner organisations, as SQL: shared ones (no unit) and those of the
    units the user is a member of."""
    return sa.or_(PartnerOrganisation.unit_id.is_(None),
                  PartnerOrganisation.unit_id.in_(member_unit_ids_select(getattr(user, "id", None) or 0)))


def get_partner_or_404(partner_id) -> PartnerOrganisation:
    """Load a partner organisation the current user may see; another unit's is a 404."""
    from core.db import get_or_404

    partner = get_or_404(PartnerOrganisation, partner_id)
    if partner.unit_id is not None and partner.unit_id not in member_unit_ids(current_user):
        abort(404)
    return partner


def get_client_or_404(client_id) -> Client:
    """Load a client the current user may see; anything else is a 404 (no probing by id)."""
    from core.db import get_or_404

    client = get_or_404(Client, client_id)
    if not can_access_client(current_user, client.id):
        abort(404)
    return client


def get_led_client_or_404(client_id) -> Client:
    """A client of a unit the current user leads: for a lead's own acts on the record (its access
    log, the client's data copy, erasure). A lead who sees another unit's client through a reason
    (they work with the client) still gets 404: that unit's leads decide."""
    client = get_client_or_404(client_id)
    if not leads_unit(current_user, client.unit_id):
        abort(404)
    return client


def _row(user, client_id: int, action: str, detail: str, at) -> dict:
    return {"user_id": getattr(user, "id", None), "user_name": getattr(user, "name", "") or "",
            "client_id": client_id, "action": action[:60], "detail": detail[:200], "at": at}


def _deferred() -> list[dict] | None:
    """The rows a read-only view has logged so far, or None outside read-only views.

    A read-only view runs in a shared (deferred) SQLite transaction so that page views do not
    queue behind each other for the write lock; an INSERT in that transaction could fail when
    another worker has committed meanwhile. So its log rows wait here and ``write_deferred``
    writes them with one INSERT of their own (a transaction by itself) before the page is sent."""
    if not has_request_context() or not g.get("read_only"):
        return None
    if "access_log_rows" not in g:
        g.access_log_rows = []
    return g.access_log_rows


def log_access(client_id: int, action: str, detail: str = "", user=None) -> None:
    """Record a view or change of client data: in the current transaction, or for a
    read-only view just before its page is sent (see ``_deferred``)."""
    user = user if user is not None else current_user
    deferred = _deferred()
    if deferred is not None:
        deferred.append(_row(user, client_id, action, detail, utcnow()))
        return
    chain.append_in_session([_row(user, client_id, action, detail, utcnow())])


def log_access_many(client_ids, action: str, detail: str = "", user=None) -> None:
    """One log row per client shown (e.g. a group's participant list), written with a single
    executemany statement however long the list is (chained, see ``register.chain``)."""
    ids = sorted(set(client_ids))
    if not ids:
        return
    user = user if user is not None else current_user
    now = utcnow()
    rows = [_row(user, cid, action, detail, now) for cid in ids]
    deferred = _deferred()
    if deferred is not None:
        deferred.extend(rows)
        return
    chain.append_in_session(rows)


def write_deferred(response):
    """After a read-only view: write the access-log rows it collected, in a short write
    transaction of their own (core.transaction.writing) after the view's read transaction has ended. Runs before
    the response leaves the app, so a page with client data is never sent unless its log rows
    are stored (if this fails, the error page is sent instead). Error responses log nothing, as
    a rolled-back view would."""
    rows = g.pop("access_log_rows", None)
    if not rows or response.status_code >= 400:
        return response
    # The view's reads end first (the request's commit has usually ended them already): later reads
    # in this context (a test's) then see the rows.
    if db.session().in_transaction():
        db.session.rollback()
    # Through the session, as a writing request's rows are (the chain's lock, the previous hash,
    # the rows). A raw multi-row INSERT on a connection of its own was measured against this and
    # gained nothing (bench/RESULTS.md, "Special paths": 0.99x on the client page), so it went.
    with writing():
        chain.append_in_session(rows)
    return response
