"""Partners' personal links (routes of the meetings blueprint, ``views.bp``): staff create and revoke
them; a partner opens their items and marks them done without a login."""
from __future__ import annotations

from types import SimpleNamespace

from flask import abort, flash, make_response, redirect, render_template, session, url_for
from flask_babel import force_locale, gettext as _
from flask_login import current_user, login_required

from core.db import get_or_404, utcnow
from core.forms import ConfirmForm
from core.timeutil import local_today
from register.access import log_access

from . import arranging, partner_links
from .models import Meeting, MeetingParticipant, ParticipantKind, PartnerLink
from .views import _meeting_or_404, bp

# --- partner links (staff side) ----------------------------------------------------------------

def _partner_participant(meeting: Meeting, participant_id) -> MeetingParticipant:
    participant = arranging.participant_of(meeting, participant_id)
    if participant is None or participant.kind != ParticipantKind.PARTNER.value or participant.contact is None:
        abort(404)
    return participant


@bp.route("/meetings/<meeting_id>/participants/<participant_id>/link", methods=["POST"])
@login_required
def create_link(meeting_id, participant_id):
    meeting = _meeting_or_404(meeting_id)
    participant = _partner_participant(meeting, participant_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    link, token = partner_links.create_partner_link(participant.contact, user=current_user)
    log_access(meeting.client_id, "change", f"meeting {meeting.id} partner link for contact {participant.contact_id}")
    # The token is shown once, in this response, and never stored in clear (not even in the flash).
    url = url_for("meetings.partner_view", token=token, _external=True)
    return render_template("meetings/link_created.html", meeting=meeting, participant=participant, url=url)


@bp.route("/meetings/<meeting_id>/links/<link_id>/revoke", methods=["POST"])
@login_required
def revoke_link(meeting_id, link_id):
    meeting = _meeting_or_404(meeting_id)
    link = get_or_404(PartnerLink, link_id)
    if link.contact_id not in {p.contact_id for p in meeting.participants if p.kind == ParticipantKind.PARTNER.value}:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    partner_links.revoke_partner_link(link)
    log_access(meeting.client_id, "change", f"meeting {meeting.id} partner link {link.id} revoked")
    flash(_("The link was revoked. It no longer works."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


# --- partner links (partner side, no login) ----------------------------------------------------

def _no_referrer(response):
    # The token is in the URL: no page may pass it on to another site in a Referer header.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_or_404(token: str) -> PartnerLink:
    link = partner_links.link_for_token(token)
    if link is None:
        abort(404)
    return link


def _partner_language(link: PartnerLink) -> str:
    """The partner's own language unless they chose another with the language switch."""
    language = session.get("lang") or link.contact.language
    return language if language in ("fi", "sv", "en") else "fi"


def _partner_actor(link: PartnerLink):
    contact = link.contact
    return SimpleNamespace(id=None, name=f"{contact.name} ({contact.organisation.name}), partner link")


@bp.route("/p/<token>")
def partner_view(token):
    link = _link_or_404(token)
    items = partner_links.partner_open_items(link.contact_id)
    next_meetings = partner_links.partner_next_meetings(link.contact_id)
    # One heading per client, naming the client as the strictest of the meetings under it
    # allows: a meeting whose staff chose "not at all" (or initials) never has its items or time
    # shown under a heading that another meeting's setting filled with more.
    groups: dict[int, dict] = {}
    for item in items:
        g = groups.setdefault(item.meeting.client_id, {"meetings": [], "items": [], "next": None})
        g["items"].append(item)
        g["meetings"].append(item.meeting)
    for client_id, m in next_meetings.items():
        g = groups.setdefault(client_id, {"meetings": [], "items": [], "next": None})
        g["next"] = m
        g["meetings"].append(m)
    for g in groups.values():
        g["label"] = partner_links.client_label_of(g["meetings"])
    actor = _partner_actor(link)
    for client_id in sorted(groups):
        log_access(client_id, "view", "partner link", user=actor)
    link.last_used_at = utcnow()
    with force_locale(_partner_language(link)):
        html = render_template("meetings/partner.html", link=link, groups=list(groups.values()), token=token,
                               today=local_today(), recent=partner_links.partner_recently_done(link))
    return _no_referrer(make_response(html))


@bp.route("/p/<token>/items/<item_id>/undo", methods=["POST"])
def partner_undo(token, item_id):
    link = _link_or_404(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        item = partner_links.partner_undo_done(link, item_id)
    except LookupError:
        abort(404)
    log_access(item.meeting.client_id, "change", f"partner link: item {item.id} reopened", user=_partner_actor(link))
    link.last_used_at = utcnow()
    with force_locale(_partner_language(link)):
        flash(_("The task is open again."), "success")
    return _no_referrer(redirect(url_for("meetings.partner_view", token=token)))


@bp.route("/p/<token>/items/<item_id>/done", methods=["POST"])
def partner_done(token, item_id):
    link = _link_or_404(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        item = partner_links.partner_mark_done(link, item_id)
    except LookupError:
        abort(404)
    log_access(item.meeting.client_id, "change", f"partner link: item {item.id} done", user=_partner_actor(link))
    link.last_used_at = utcnow()
    with force_locale(_partner_language(link)):
        flash(_("Thank you. The task is marked done."), "success")
    return _no_referrer(redirect(url_for("meetings.partner_view", token=token)))
