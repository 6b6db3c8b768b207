"""The venue's calendar feed as calendar subscriptions (``calendar_export``): made on the venue's
page for the venue's own staff (a calendar on their wall or phone), each with its own secret
token in the URL, revocable on the same page, served by the calendar feeds' own route (its
visits without the staff's names: ``calendar_source.VENUE_SCOPE``). The subscription records who
made it, when it was last used and when it was revoked, as the partner feeds do. Routes on the
outreach blueprint (imported by views.py)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from calendar_export import services as feeds
from calendar_export.models import CalendarSubscription, FeedKind
from calendar_export.views import NEW_LINK_KEY
from core.db import get_or_404
from core.extensions import db
from core.forms import ConfirmForm

from .forms import VenueFeedForm
from .models import OutreachVenue
from .views import bp, get_venue_or_404, render_venue


def venue_subscriptions(venue: OutreachVenue) -> list[CalendarSubscription]:
    """The venue's calendar links, live ones first."""
    return list(db.session.scalars(
        sa.select(CalendarSubscription)
        .where(CalendarSubscription.kind == FeedKind.VENUE.value, CalendarSubscription.target_id == venue.id)
        .options(selectinload(CalendarSubscription.created_by))
        .order_by(CalendarSubscription.revoked_at.is_not(None), CalendarSubscription.created_at.desc(),
                  CalendarSubscription.id.desc())))


@bp.route("/venues/<venue_id>/calendar-links", methods=["POST"])
def venue_feed_new(venue_id):
    venue = get_venue_or_404(venue_id)
    form = VenueFeedForm()
    if not form.validate_on_submit():
        return render_venue(venue, feed_form=form)
    sub, token = feeds.create_subscription(kind=FeedKind.VENUE.value, target_id=venue.id,
                                           label=form.label.data or "", created_by=current_user)
    # Shown once on the calendar link page (calendar_export.views.link), as every new link is.
    session[NEW_LINK_KEY] = {"id": sub.id, "token": token}
    return redirect(url_for("calendar_export.link", sub_id=sub.id))


@bp.route("/venues/<venue_id>/calendar-links/<sub_id>/revoke", methods=["POST"])
def venue_feed_revoke(venue_id, sub_id):
    venue = get_venue_or_404(venue_id)
    sub = get_or_404(CalendarSubscription, sub_id)
    if sub.kind != FeedKind.VENUE.value or sub.target_id != venue.id:
        abort(404)  # another venue's (or any other) subscription is not this page's
    if not ConfirmForm().validate_on_submit():
        abort(400)
    feeds.revoke(sub)
    flash(_("The calendar link was revoked. It no longer works."), "success")
    return redirect(url_for("outreach.venue", venue_id=venue.id))
