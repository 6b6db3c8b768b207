"""The venue on site (contact person, opening hours, a private place to talk, safety, the trial
period's review date) and the trial review, which shows the venue's figures and records continue /
change / end. Routes on the outreach blueprint (imported by views.py)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from accounts.permissions import lead_required
from core.extensions import db
from core.formatting import number
from core.timeutil import local_today

from . import report, services
from .forms import TOPIC_LABELS, VenueReviewForm, VenueSiteForm
from .models import TOPICS
from .views import bp, get_venue_or_404


@bp.route("/venues/<venue_id>/site", methods=["GET", "POST"])
def venue_site(venue_id):
    venue = get_venue_or_404(venue_id)
    form = VenueSiteForm(obj=venue)
    if request.method == "GET":
        form.version.data = str(venue.version)
    elif form.validate_on_submit() and form.check_version(venue.version):
        services.save_venue_site(venue, {name: getattr(form, name).data for name in services.SITE_FIELDS})
        flash(_("Venue saved."), "success")
        return redirect(url_for("outreach.venue", venue_id=venue.id))
    return render_template("outreach/venue_site.html", form=form, venue=venue)


@bp.route("/venues/<venue_id>/review", methods=["GET", "POST"])
@lead_required
def venue_review(venue_id):
    venue = get_venue_or_404(venue_id)
    form = VenueReviewForm()
    if request.method == "GET":
        form.version.data = str(venue.version)
    elif form.validate_on_submit() and form.check_version(venue.version):
        try:
            services.record_review(venue, form.decision.data, form.note.data)
        except services.OutreachError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            flash(_("Decision recorded."), "success")
            return redirect(url_for("outreach.venue", venue_id=venue.id))
    months = services.review_months(venue, local_today())
    # The same suppressed figures as the report (report.suppressed), so the review period
    # against the report's periods gives no hidden month away.
    stats = report.by_venue(months, venue_id=venue.id).get(venue.id)
    k = report.threshold()
    hidden = report.hidden_text(k)
    return render_template("outreach/venue_review.html", form=form, venue=venue, stats=stats, k=k,
                           cell=lambda value: hidden if value is None else number(value, 0),
                           months=months, today=local_today(), topics=TOPICS, topic_labels=TOPIC_LABELS)
