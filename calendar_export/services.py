"""Creating, finding, rotating and revoking calendar subscriptions, and the stored feed bodies
(flush, never commit)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import aware_utc, const, read_row, utcnow
from core.extensions import db

from .changes import COUNTER
from .models import CalendarDataVersion, CalendarFeedCache, CalendarSubscription, FeedKind
from .sources import FeedScope

# Writing last_used_at on every feed poll would make every read a write; this is often enough
# to tell "in use" from "abandoned".
TOUCH_EVERY = timedelta(minutes=10)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_subscription(*, kind: str, target_id: int | None, label: str = "",
                        created_by=None) -> tuple[CalendarSubscription, str]:
    """A new subscription and its token; the token is returned once and never stored."""
    kind = FeedKind(kind).value
    if kind == FeedKind.UNIT.value:
        from accounts.units import unit_for_new_record

        # The unit feed is one unit's (its id is the target, as for the other kinds): the one
        # named, else the creator's (the CLI's: the installation's first unit).
        target_id = target_id if target_id is not None else unit_for_new_record(created_by)
    elif target_id is None:
        raise ValueError("a target is needed for this kind of feed")
    token = new_token()
    sub = CalendarSubscription(kind=kind, target_id=target_id, label=(label or "").strip()[:120],
                               token_hash=hash_token(token),
                               created_by_id=getattr(created_by, "id", None))
    db.session.add(sub)
    db.session.flush()
    return sub, token


def rotate(sub: CalendarSubscription) -> str:
    """A new token for the same feed; the old URL stops working at once."""
    token = new_token()
    sub.token_hash = hash_token(token)
    sub.rotated_at = utcnow()
    db.session.flush()
    return token


def revoke(sub: CalendarSubscription) -> None:
    if sub.revoked_at is None:
        sub.revoked_at = utcnow()
        db.session.flush()
    # A revoked feed is never served again; its stored body would only take space.
    db.session.execute(sa.delete(CalendarFeedCache).where(CalendarFeedCache.subscription_id == sub.id))


@dataclass(frozen=True)
class ActiveFeed:
    """What a feed request needs of its subscription, and the feed data counter read with it."""

    id: int
    kind: str
    target_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    data_version: int
    changed_at: datetime | None
    target_active: bool   # as target_of() would find it: the feed is served only while true
    created_by_id: int | None = None
    # The subscription's stored body, if any: what it was rendered from, its ETag, when it changed.
    cached_state_key: str | None = None
    cached_etag: str | None = None
    cached_modified_at: datetime | None = None

    @property
    def scope(self) -> FeedScope:
        return FeedScope(kind=self.kind, target_id=self.target_id, creator_id=self.created_by_id)


@lru_cache(maxsize=1)
def _active_feed_statement() -> sa.Select:
    # Built once: constructing a select with joins costs more than running it (coercions and
    # cache-key work), and this runs on every feed poll, most of which are answered 304.
    from accounts.models import User
    from groups.models import Group
    from register.models import PartnerOrganisation

    sub, version, cache = CalendarSubscription.__table__, CalendarDataVersion.__table__, CalendarFeedCache.__table__
    user, group, org = User.__table__, Group.__table__, PartnerOrganisation.__table__

    # The outreach venue by its table name: outreach is a layer above (core.layers), and the feed
    # only needs to know whether the venue is still visited.
    venue = sa.table("outreach_venue", sa.column("id", sa.Integer), sa.column("active", sa.Boolean))

    def target(table, kind):
        return sa.and_(sub.c.kind == const(kind), table.c.id == sub.c.target_id)

    # The same rule as target_of(): an active staff member, an existing group, an active
    # organisation; the unit feed has no target.
    target_active = sa.case(
        (sub.c.kind == const(FeedKind.STAFF.value), sa.func.coalesce(user.c.active, sa.false())),
        (sub.c.kind == const(FeedKind.GROUP.value), group.c.id.is_not(None)),
        (sub.c.kind == const(FeedKind.PARTNER.value), sa.func.coalesce(org.c.active, sa.false())),
        (sub.c.kind == const(FeedKind.VENUE.value), sa.func.coalesce(venue.c.active, sa.false())),
        else_=sub.c.kind == const(FeedKind.UNIT.value))
    return (sa.select(sub.c.id, sub.c.kind, sub.c.target_id, sub.c.created_at, sub.c.last_used_at,
                      version.c.value, version.c.changed_at, target_active, sub.c.created_by_id,
                      cache.c.state_key, cache.c.etag, cache.c.modified_at)
            .select_from(sub.outerjoin(version, version.c.name == const(COUNTER))
                         .outerjoin(cache, cache.c.subscription_id == sub.c.id)
                         .outerjoin(user, target(user, FeedKind.STAFF.value))
                         .outerjoin(group, target(group, FeedKind.GROUP.value))
                         .outerjoin(org, target(org, FeedKind.PARTNER.value))
                         .outerjoin(venue, target(venue, FeedKind.VENUE.value)))
            .where(sub.c.token_hash == sa.bindparam("token_hash"), sub.c.revoked_at.is_(None)))


def find_active_feed(token: str) -> ActiveFeed | None:
    """The live (not revoked) subscription of this token, whether its target is still there, the
    data counter and its stored body's validators, in one query by primary keys and the token's unique index. The counter row is joined on its constant key
    (missing only in a database made without the migration, e.g. by ``create_all``; then the
    version is 0 until the first change creates the row)."""
    if not token or len(token) > 100:
        return None
    # Read outside the ORM session: most polls end here with 304 (core.db.read_row).
    row = read_row(_active_feed_statement(), {"token_hash": hash_token(token)})
    if row is None:
        return None
    return ActiveFeed(id=row[0], kind=row[1], target_id=row[2], created_at=aware_utc(row[3]),
                      last_used_at=aware_utc(row[4]), data_version=int(row[5] or 0), changed_at=aware_utc(row[6]),
                      target_active=bool(row[7]), created_by_id=row[8], cached_state_key=row[9], cached_etag=row[10],
                      cached_modified_at=aware_utc(row[11]))


def content_etag(body: bytes) -> str:
    """A feed's ETag: made from its bytes, so it changes when, and only when, the feed does."""
    return hashlib.sha256(body).hexdigest()[:40]


@dataclass(frozen=True)
class StoredBody:
    etag: str
    body: bytes
    modified_at: datetime


def stored_body(sub_id: int, state_key: str) -> StoredBody | None:
    """The body stored for this state key: the subscription's own, or else one that another
    subscription of the same feed rendered (the state key includes the feed's scope)."""
    table = CalendarFeedCache.__table__
    row = db.session.execute(
        sa.select(table.c.etag, table.c.body, table.c.modified_at).where(table.c.state_key == state_key)
        .order_by((table.c.subscription_id == sub_id).desc()).limit(1)).first()
    return StoredBody(etag=row[0], body=row[1], modified_at=aware_utc(row[2])) if row else None


def store_body(sub_id: int, *, state_key: str, etag: str, modified_at: datetime, data_version: int, body: bytes,
               now=None) -> None:
    """Keep the subscription's latest body: one upsert, so two workers rendering the same feed at
    once do not collide (the last one wins; a body rendered for an outdated state key is only
    rendered again, never served, because polls compare the key first)."""
    table = CalendarFeedCache.__table__
    insert = (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)
    stmt = insert.values(subscription_id=sub_id, state_key=state_key, etag=etag, modified_at=modified_at,
                         data_version=data_version, body=body, rendered_at=now or utcnow())
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.subscription_id],
        set_={"state_key": stmt.excluded.state_key, "etag": stmt.excluded.etag,
              "modified_at": stmt.excluded.modified_at, "data_version": stmt.excluded.data_version,
              "body": stmt.excluded.body, "rendered_at": stmt.excluded.rendered_at}))


def needs_touch(sub: CalendarSubscription | ActiveFeed, now=None) -> bool:
    now = now or utcnow()
    return sub.last_used_at is None or now - sub.last_used_at >= TOUCH_EVERY


def touch(sub_id: int, now=None) -> None:
    """Record a use. A conditional UPDATE, so concurrent polls write at most once per interval."""
    now = now or utcnow()
    db.session.execute(
        sa.update(CalendarSubscription)
        .where(CalendarSubscription.id == sub_id,
               sa.or_(CalendarSubscription.last_used_at.is_(None),
                      CalendarSubscription.last_used_at < now - TOUCH_EVERY))
        .values(last_used_at=now)
    )


def scope_of(sub: CalendarSubscription) -> FeedScope:
    return FeedScope(kind=sub.kind, target_id=sub.target_id, creator_id=sub.created_by_id)


def target_of(kind: str, target_id: int | None):
    """The user, group or partner organisation a feed is about (None for the unit feed or
    when the target no longer exists or is inactive)."""
    if kind == FeedKind.STAFF.value:
        from accounts.models import User

        user = db.session.get(User, target_id) if target_id else None
        return user if user is not None and user.active else None
    if kind == FeedKind.GROUP.value:
        from groups.models import Group

        return db.session.get(Group, target_id) if target_id else None
    if kind == FeedKind.PARTNER.value:
        from register.models import PartnerOrganisation

        org = db.session.get(PartnerOrganisation, target_id) if target_id else None
        # When the cooperation ends (organisation deactivated), its feeds stop too.
        return org if org is not None and org.active else None
    if kind == FeedKind.VENUE.value:
        # A row with .name (outreach is a layer above); a venue no longer visited has no feed.
        venue = _VENUE_TABLE
        row = db.session.execute(sa.select(venue.c.id, venue.c.name).where(
            venue.c.id == (target_id or 0), venue.c.active.is_(True))).first()
        return row
    return None


_VENUE_TABLE = sa.table("outreach_venue", sa.column("id", sa.Integer), sa.column("name", sa.String),
                        sa.column("active", sa.Boolean))


def target_names(subs) -> dict[tuple[str, int], str]:
    """Names of the subscriptions' targets, one query per kind (not one per row)."""
    from accounts.models import Unit, User
    from groups.models import Group
    from register.models import PartnerOrganisation

    wanted: dict[str, set[int]] = {}
    for sub in subs:
        if sub.target_id is not None:
            wanted.setdefault(sub.kind, set()).add(sub.target_id)
    names: dict[tuple[str, int], str] = {}
    venue_ids = wanted.get(FeedKind.VENUE.value)
    if venue_ids:
        venue = _VENUE_TABLE
        for ident, name in db.session.execute(sa.select(venue.c.id, venue.c.name)
                                              .where(venue.c.id.in_(sorted(venue_ids)))):
            names[(FeedKind.VENUE.value, ident)] = name
    for kind, model, column in ((FeedKind.STAFF.value, User, User.name),
                                (FeedKind.GROUP.value, Group, Group.title),
                                (FeedKind.PARTNER.value, PartnerOrganisation, PartnerOrganisation.name),
                                (FeedKind.UNIT.value, Unit, Unit.name)):
        ids = wanted.get(kind)
        if ids:
            for ident, name in db.session.execute(sa.select(model.id, column).where(model.id.in_(sorted(ids)))):
                names[(kind, ident)] = name
    return names
