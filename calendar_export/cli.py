"""``flask calendar create|list|revoke``: provisioning feed subscriptions from the command line,
e.g. for many partners at once. Secrets are printed only once, by ``create``."""
from __future__ import annotations

import re

import click
import sqlalchemy as sa
from flask import Blueprint

from core.db import immediate_transactions
from core.extensions import db

from . import services
from .models import CalendarSubscription, FeedKind

_TOKEN_IN_URL = re.compile(r"/calendar/([A-Za-z0-9_\-]+)\.ics")


def _find_partner(name: str):
    from register.models import PartnerOrganisation

    wanted = name.strip().lower()
    exact = db.session.scalars(sa.select(PartnerOrganisation)
                               .where(sa.func.lower(PartnerOrganisation.name) == wanted)).all()
    if len(exact) == 1:
        return exact[0]
    matches = [p for p in db.session.scalars(sa.select(PartnerOrganisation).order_by(PartnerOrganisation.name))
               if wanted and wanted in p.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise click.ClickException(f"No partner organisation called {name!r}.")
    raise click.ClickException(f"{name!r} matches several organisations: " + "; ".join(p.name for p in matches))


def _target(partner, group, staff, unit) -> tuple[str, int | None, str]:
    chosen = [x for x in (partner, group, staff, unit) if x is not None]
    if len(chosen) != 1:
        raise click.UsageError("Give exactly one of --partner NAME, --group ID, --staff EMAIL or --unit [SLUG].")
    if partner is not None:
        org = _find_partner(partner)
        return FeedKind.PARTNER.value, org.id, org.name
    if group is not None:
        from groups.models import Group

        found = db.session.get(Group, group) if group > 0 else None
        if found is None:
            raise click.ClickException(f"No group with id {group}.")
        return FeedKind.GROUP.value, found.id, found.title
    if staff is not None:
        from accounts.models import User

        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == staff.strip().lower()))
        if user is None or not user.active:
            raise click.ClickException(f"No active staff member with the e-mail address {staff!r}.")
        return FeedKind.STAFF.value, user.id, user.name
    from accounts.units import default_unit, find_unit

    found_unit = find_unit(unit) if unit else default_unit()
    if found_unit is None:
        raise click.ClickException(f"No unit with the short name or name {unit!r}.")
    return FeedKind.UNIT.value, found_unit.id, found_unit.name


def register_commands(bp: Blueprint) -> None:
    @bp.cli.command("create")
    @click.option("--partner", help="Partner organisation name (or a unique part of it).")
    @click.option("--group", type=int, help="Group id.")
    @click.option("--staff", help="Staff member's e-mail address.")
    @click.option("--unit", is_flag=False, flag_value="", default=None,
                  help="A unit's feed: its short name or name (alone: the installation's first unit).")
    @click.option("--label", default="", help="Who uses the subscription.")
    def create(partner, group, staff, unit, label):
        """Create a feed subscription and print its URL (shown only this once)."""
        from .views import feed_url

        with immediate_transactions():
            kind, target_id, name = _target(partner, group, staff, unit)
            sub, token = services.create_subscription(kind=kind, target_id=target_id, label=label or "")
            db.session.commit()  # own commit: a CLI command (no request, so no request commit)
        click.echo(f"Subscription {sub.id} ({kind}: {name}). Feed URL, shown only now:")
        click.echo(feed_url(token))

    @bp.cli.command("list")
    def list_():
        """List subscriptions (without their secrets)."""
        subs = db.session.scalars(sa.select(CalendarSubscription).order_by(CalendarSubscription.id)).all()
        names = services.target_names(subs)
        if not subs:
            click.echo("No calendar subscriptions.")
        for sub in subs:
            target = names.get((sub.kind, sub.target_id), "-")
            state = f"revoked {sub.revoked_at:%Y-%m-%d %H:%M}Z" if sub.revoked_at else "active"
            used = f"{sub.last_used_at:%Y-%m-%d %H:%M}Z" if sub.last_used_at else "never"
            click.echo(f"{sub.id:>5}  {sub.kind:<8} {target:<40} {state:<24} last used {used}  {sub.label}")

    @bp.cli.command("revoke")
    @click.argument("token_or_url")
    def revoke(token_or_url):
        """Revoke the subscription with this token or feed URL."""
        match = _TOKEN_IN_URL.search(token_or_url)
        token = match.group(1) if match else token_or_url.strip()
        with immediate_transactions():
            sub = db.session.scalar(sa.select(CalendarSubscription)
                                    .where(CalendarSubscription.token_hash == services.hash_token(token)))
            if sub is None:
                raise click.ClickException("No subscription has that token.")
            if sub.revoked_at is not None:
                click.echo(f"Subscription {sub.id} was already revoked.")
                return
            services.revoke(sub)
            db.session.commit()  # own commit: a CLI command (no request, so no request commit)
        click.echo(f"Subscription {sub.id} revoked.")
