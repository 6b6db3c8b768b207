"""Creating, finding, rotating and revoking calendar subscriptions (flush, never commit)."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db

from .models import CalendarSubscription, FeedKind
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
        target_id = None
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


def find_active(token: str) -> CalendarSubscription | None:
    """The live subscription for a token, or None (unknown, malformed or revoked)."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(sa.select(CalendarSubscription).where(
        CalendarSubscription.token_hash == hash_token(token), CalendarSubscription.revoked_at.is_(None)))


def needs_touch(sub: CalendarSubscription, now=None) -> bool:
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
    return FeedScope(kind=sub.kind, target_id=sub.target_id)


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
    return None


def target_names(subs) -> dict[tuple[str, int], str]:
    """Names of the subscriptions' targets, one query per kind (not one per row)."""
    from accounts.models import User
    from groups.models import Group
    from register.models import PartnerOrganisation

    wanted: dict[str, set[int]] = {}
    for sub in subs:
        if sub.target_id is not None:
            wanted.setdefault(sub.kind, set()).add(sub.target_id)
    names: dict[tuple[str, int], str] = {}
    for kind, model, column in ((FeedKind.STAFF.value, User, User.name),
                                (FeedKind.GROUP.value, Group, Group.title),
                                (FeedKind.PARTNER.value, PartnerOrganisation, PartnerOrganisation.name)):
        ids = wanted.get(kind)
        if ids:
            for ident, name in db.session.execute(sa.select(model.id, column).where(model.id.in_(sorted(ids)))):
                names[(kind, ident)] = name
    return names
