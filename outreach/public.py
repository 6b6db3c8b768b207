"""Telling people the workers are coming (#25.3): the printable A4 poster of a venue (staff, in
Finnish, Swedish or English) and the public venue page its QR code opens (no login; reached by
the venue's unguessable token). Neither carries anything about a client: the venue, its coming
visits, what the workers can help with and the unit's phone number. Routes on the outreach
blueprint (imported by views.py)."""
from __future__ import annotations

import hashlib
import hmac
from contextlib import nullcontext
from datetime import timedelta

import segno
import sqlalchemy as sa
from babel.dates import format_date
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _, lazy_pgettext, pgettext

from core.extensions import db
from core.formatting import format_locale, local_time
from core.security import read_only
from core.timeutil import now_utc, to_local

from .forms import TOPIC_LABELS, PublicNoteForm
from .models import TOPICS, OutreachTopicNote, OutreachVenue, OutreachVisit, VisitStatus
from .views import bp, get_venue_or_404

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


def _unit_phone(venue: OutreachVenue) -> str:
    """The phone number of the venue's unit (its own contact settings, else the installation's;
    a shared venue has the installation's)."""
    from reminders.notices import team_settings  # the units' contact settings (notices)

    row = team_settings(venue.unit_id)
    return row.contact_phone if row is not None else ""


# The poster's languages: the app's, and plain Finnish (selkosuomi) for readers of Finnish as a
# second language or with reading difficulties. "fi-selko" is not a locale: it is the Finnish
# locale with the plain texts (pgettext "plain-language poster"), written by the rules of the
# plain-language SMS texts (reminders/texts.py): short sentences, common words, one thing per
# sentence, the reader addressed as "you", the weekday and "kello" written out.
PLAIN = "fi-selko"
POSTER_LANGUAGE_NAMES = {"fi": "suomeksi", PLAIN: "selkosuomeksi", "sv": "på svenska", "en": "in English"}
PLAIN_TOPIC_LABELS = {
    "money": lazy_pgettext("plain-language poster", "money and debts"),
    "housing": lazy_pgettext("plain-language poster", "a place to live"),
    "benefits": lazy_pgettext("plain-language poster", "money from Kela"),
    "work": lazy_pgettext("plain-language poster", "work and study"),
    "health": lazy_pgettext("plain-language poster", "health"),
    "substance": lazy_pgettext("plain-language poster", "alcohol and drugs"),
    "loneliness": lazy_pgettext("plain-language poster", "being alone"),
}


def plain_visit_text(visit: OutreachVisit) -> str:
    """"tiistaina 3.12. kello 13.00–15.00": the weekday and "kello" written out (no "ti", no "klo")."""
    day = format_date(to_local(visit.starts_at).date(), "EEEE d.M.", locale=format_locale("fi"))
    return pgettext("plain-language poster", "%(day)s at %(start)s–%(end)s", day=day,
                    start=local_time(visit.starts_at, locale="fi"), end=local_time(visit.ends_at, locale="fi"))


@bp.route("/venues/<venue_id>/poster")
@read_only
def venue_poster(venue_id):
    venue = get_venue_or_404(venue_id)
    lang = request.args.get("lang") if request.args.get("lang") in POSTER_LANGUAGE_NAMES else "fi"
    plain = lang == PLAIN
    locale = "fi" if plain else lang
    # The QR code opens the public page in the poster's language (plain Finnish: the Finnish page).
    url = public_url(venue, locale)
    # Inline SVG (paths only, no style or script), so the CSP needs no exception and no asset is fetched.
    qr = segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")
    visits = coming_visits(venue, POSTER_VISITS)
    with force_locale(locale):
        return render_template("outreach/poster.html", venue=venue, lang=lang, plain=plain, url=url, qr=qr,
                               visits=visits, phone=_unit_phone(venue), topics=HELP_TOPICS,
                               topic_labels=PLAIN_TOPIC_LABELS if plain else TOPIC_LABELS,
                               plain_visits=[plain_visit_text(v) for v in visits] if plain else [],
                               # not "languages": base.html's
                               poster_languages=POSTER_LANGUAGE_NAMES)


def _venue_or_404(token: str) -> OutreachVenue:
    venue = db.session.scalar(sa.select(OutreachVenue).where(OutreachVenue.public_token == token)) \
        if 0 < len(token) <= 32 else None
    if venue is None:
        abort(404)
    return venue


@bp.route("/v/<token>/calendar.ics")
def public_venue_feed(token):
    """The venue's old feed address (the venue's page token, which could not be revoked) is gone
    for good: a venue's calendar is now a calendar link made and revoked on the venue's page
    (outreach.feeds). 410 Gone tells a calendar app to stop asking; nothing is read."""
    abort(410)


@bp.route("/v/<token>", methods=["GET", "POST"])
@read_only
def public_venue(token):
    """The venue's coming visits and the anonymous topic note (for the next visit). Open to
    anyone who has the address; a flood of notes is refused per address and per venue (429)."""
    venue = _venue_or_404(token)
    lang = _language()
    visits = coming_visits(venue, PUBLIC_VISITS)
    status = 200
    with force_locale(lang) if lang else nullcontext():
        form = PublicNoteForm()
        if visits and form.validate_on_submit():
            try:
                add_note(venue, visits[0], form.topic.data, request.remote_addr or "unknown")
            except NotesLimited:
                status = 429
                form.form_errors.append(_("Many notes have just been left here. Try again in an hour, or ask "
                                          "the workers on the spot."))
            else:
                flash(_("Thank you! The workers will know to expect this topic."), "success")
                return redirect(url_for("outreach.public_venue", token=venue.public_token, lang=lang))
        return render_template("outreach/public_venue.html", venue=venue, visits=visits, phone=_unit_phone(venue),
                               topics=HELP_TOPICS, topic_labels=TOPIC_LABELS, form=form, lang=lang), status


# --- the anonymous topic notes ------------------------------------------------------------------

class NotesLimited(Exception):
    """Too many notes lately from this address, or to this venue."""


NOTE_WINDOW = timedelta(hours=1)
NOTES_PER_ADDRESS = 5     # per venue and hour: a few topics from one phone
NOTES_PER_VENUE = 60      # per hour from everyone: a flood is stopped, an ordinary day is not


def note_address_key(venue: OutreachVenue, address: str, day) -> str:
    """A keyed hash of the address salted with the venue and the day: not reversible without the
    secret key, and different for every venue and day (as feedback.services.address_key)."""
    mac = hmac.new(current_app.config["SECRET_KEY"].encode(),
                   f"outreach-note|{venue.id}|{day.isoformat()}|{address}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def check_note_throttle(venue: OutreachVenue, key: str, now) -> bool:
    """May a note be taken now? Counted in the database (as accounts' login throttle counts its
    recorded attempts), so the limits hold across workers."""
    since = now - NOTE_WINDOW
    recent = sa.select(sa.func.count(OutreachTopicNote.id)).where(
        OutreachTopicNote.venue_id == venue.id, OutreachTopicNote.created_at >= since)
    config = current_app.config
    if (db.session.scalar(recent) or 0) >= int(config.get("OUTREACH_NOTES_PER_VENUE", NOTES_PER_VENUE)):
        return False
    mine = db.session.scalar(recent.where(OutreachTopicNote.address_key == key)) or 0
    return mine < int(config.get("OUTREACH_NOTES_PER_ADDRESS", NOTES_PER_ADDRESS))


def add_note(venue: OutreachVenue, visit: OutreachVisit, topic: str, address: str) -> OutreachTopicNote:
    if topic not in TOPICS:
        raise ValueError(topic)
    now = now_utc()
    key = note_address_key(venue, address, to_local(now).date())
    if not check_note_throttle(venue, key, now):
        raise NotesLimited()
    note = OutreachTopicNote(venue_id=venue.id, visit_id=visit.id, topic=topic, address_key=key, created_at=now)
    db.session.add(note)
    db.session.flush()
    return note


def expected_topics(visit: OutreachVisit) -> list[tuple[str, int]]:
    """What people said on the public page they would like to ask at this visit: (topic, notes),
    most asked first."""
    rows = db.session.execute(
        sa.select(OutreachTopicNote.topic, sa.func.count(OutreachTopicNote.id))
        .where(OutreachTopicNote.visit_id == visit.id).group_by(OutreachTopicNote.topic)).all()
    return sorted(((t, n) for t, n in rows if t in TOPICS), key=lambda r: (-r[1], TOPICS.index(r[0])))
