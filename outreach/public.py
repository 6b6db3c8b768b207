"""Telling people the workers are coming (#25.3): the printable A4 poster of a venue (staff, in
Finnish, Swedish or English) and the public venue page its QR code opens (no login; reached by
the venue's unguessable token). Neither carries anything about a client: the venue, its coming
visits, what the workers can help with and the unit's phone number. Routes on the outreach
blueprint (imported by views.py)."""
from __future__ import annotations

import sqlalchemy as sa
import segno
from flask import abort, current_app, render_template, request, url_for
from flask_babel import force_locale

from core.extensions import db
from core.security import read_only
from core.timeutil import now_utc

from .forms import TOPIC_LABELS
from .models import TOPICS, OutreachVenue, OutreachVisit, VisitStatus
from .views import bp

POSTER_VISITS = 3
PUBLIC_VISITS = 8
# What the workers can help with: the unit's topic list, less the catch-all "other".
HELP_TOPICS = tuple(t for t in TOPICS if t != "other")


def coming_visits(venue: OutreachVenue, limit: int) -> list[OutreachVisit]:
    """The venue's next scheduled visits that have not ended (none for a venue no longer visited)."""
    if not venue.active:
        return []
    return list(db.session.scalars(
        sa.select(OutreachVisit)
        .where(OutreachVisit.venue_id == venue.id, OutreachVisit.ends_at > now_utc(),
               OutreachVisit.status == VisitStatus.SCHEDULED.value)
        .order_by(OutreachVisit.starts_at, OutreachVisit.id).limit(limit)))


def public_url(venue: OutreachVenue, lang: str | None = None) -> str:
    base = (current_app.config.get("BASE_URL") or request.host_url).rstrip("/")
    return base + url_for("outreach.public_venue", token=venue.public_token, lang=lang)


def _language(default: str | None = None) -> str | None:
    lang = request.args.get("lang")
    return lang if lang in current_app.config["LANGUAGES"] else default


def _unit_phone() -> str:
    from reminders.notices import team_settings   # the unit's contact settings (notices)

    row = team_settings()
    return row.contact_phone if row is not None else ""


@bp.route("/venues/<venue_id>/poster")
@read_only
def venue_poster(venue_id):
    from core.db import get_or_404

    venue = get_or_404(OutreachVenue, venue_id)
    lang = _language("fi")
    url = public_url(venue, lang)
    # Inline SVG (paths only, no style or script), so the CSP needs no exception and no asset is fetched.
    qr = segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
    with force_locale(lang):
        return render_template("outreach/poster.html", venue=venue, lang=lang, url=url, qr=qr,
                               visits=coming_visits(venue, POSTER_VISITS), phone=_unit_phone(),
                               topics=HELP_TOPICS, topic_labels=TOPIC_LABELS,
                               languages=current_app.config["LANGUAGES"])


@bp.route("/v/<token>")
@read_only
def public_venue(token):
    venue = db.session.scalar(sa.select(OutreachVenue).where(OutreachVenue.public_token == token)) \
        if 0 < len(token) <= 32 else None
    if venue is None:
        abort(404)
    lang = _language()
    context = dict(venue=venue, visits=coming_visits(venue, PUBLIC_VISITS), phone=_unit_phone(),
                   topics=HELP_TOPICS, topic_labels=TOPIC_LABELS)
    if lang is None:
        return render_template("outreach/public_venue.html", **context)
    with force_locale(lang):
        return render_template("outreach/public_venue.html", **context)
