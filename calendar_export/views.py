"""Calendar feeds (secret-token URLs, no login), single-event downloads, the subscription pages
and the ``flask calendar`` commands."""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import icalendar
import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from werkzeug.http import http_date, quote_etag

from core.channels import SendError, missing_email_settings, send_email
from core.db import get_or_404
from core.demo import register_demo
from core.extensions import db
from core.forms import ConfirmForm
from core.security import read_only
from core.transaction import writing

from . import changes, demo, fastpath, services, sources as sources_module
from .cli import register_commands
from .forms import KIND_LABELS, SendLinkForm, SubscriptionForm
from .ical import build_event_ics, build_feed_ics
from .installation import uid_policy
from .models import CalendarSubscription, FeedKind
from .sources import Window, collect_events, latest_change, register_source, sources, untracked_version

if TYPE_CHECKING:
    from collections.abc import Sequence

    from register.models import PartnerContact

bp = Blueprint("calendar_export", __name__, template_folder="templates", cli_group="calendar")
register_commands(bp)


@bp.record_once
def _redact_app_log(state) -> None:
    # core.logging filters the werkzeug and gunicorn loggers, but the app's own logger also
    # writes request paths (the 500 handler logs "Unhandled error on GET /calendar/<token>.ics").
    from core.logging import RedactTokens

    if not any(isinstance(f, RedactTokens) for f in state.app.logger.filters):
        state.app.logger.addFilter(RedactTokens())


@bp.record_once
def _watch_feed_data(state) -> None:
    # Every process that serves or changes data creates the app, so the counter is kept by all.
    changes.install(state.app)
    # The feeds' own event sources; other features register theirs with their blueprints.
    register_source(state.app, sources_module.GROUP_SESSIONS)
    register_source(state.app, sources_module.MEETINGS)
    register_demo(state.app, demo.seed)


@bp.record_once
def _answer_unchanged_polls_early(state) -> None:
    fastpath.install(state.app)


# Bump when the feed's bytes change for a reason the ETag cannot see (the rendering code, the
# Finnish catalogues and icalendar's version it sees itself: _render_fingerprint).
FEED_FORMAT = 1
FEED_MAX_AGE = 15 * 60
FEED_LOCALE = "fi"
NEW_LINK_KEY = "calendar_new_link"
ICS_MIMETYPE = "text/calendar"


@bp.after_request
def _no_referrer(response):
    # Feed URLs are capabilities: neither the feed nor the pages showing its URL may leak it
    # in a Referer header (the pages link out to Google and Outlook).
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- helpers -----------------------------------------------------------------------------------

def base_url() -> str:
    configured = (current_app.config.get("BASE_URL") or "").rstrip("/")
    if configured:
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://127.0.0.1:5000"


def feed_url(token: str) -> str:
    return f"{base_url()}/calendar/{token}.ics"


def subscribe_page_url(token: str) -> str:
    """The page that tells a subscriber (a partner) how to add the feed to their calendar. The
    token is in the path right after /calendar/, where the log filters redact it."""
    return f"{base_url()}/calendar/{token}/subscribe"


def subscribe_links(url: str, name: str = "Kohtaamo") -> dict[str, str]:
    """The feed's URL and the "subscribe from the web" links of the calendar services.

    Google takes a webcal:// address in ``cid``; Outlook for Microsoft 365 (work and school
    accounts, outlook.office.com) and Outlook.com (personal accounts, outlook.live.com) take the
    https address and the calendar's name, each percent-encoded whole."""
    webcal = "webcal://" + url.split("://", 1)[1]
    add_from_web = "/calendar/0/addfromweb?url=" + quote(url, safe="") + "&name=" + quote(name, safe="")
    return {
        "https": url,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=":/"),
        "outlook_office": "https://outlook.office.com" + add_from_web,
        "outlook_live": "https://outlook.live.com" + add_from_web,
    }


def partner_contacts_with_email(sub: CalendarSubscription) -> Sequence[PartnerContact]:
    """The partner organisation's active contacts that have an e-mail address (for the link's
    e-mail), for a partner feed; none for other feeds."""
    if sub.kind != FeedKind.PARTNER.value or sub.target_id is None:
        return []
    from register.models import PartnerContact

    return db.session.scalars(sa.select(PartnerContact).where(
        PartnerContact.organisation_id == sub.target_id, PartnerContact.active.is_(True), PartnerContact.email != "")
        .order_by(PartnerContact.name, PartnerContact.id)).all()


def link_email(page_url: str, calendar: str, language: str) -> tuple[str, str]:
    """The subject and body of the e-mail that sends a subscriber their page: the calendar's
    name and the link, nothing about any client."""
    with force_locale(language):
        subject = _("Calendar link: %(calendar)s", calendar=calendar)
        body = "\n\n".join([
            _("Hello,"),
            _("here is your link to the calendar \"%(calendar)s\". The page tells step by step how to add it to "
              "Google Calendar, Outlook, Apple Calendar or Thunderbird:", calendar=calendar),
            page_url,
            _("The calendar updates itself. Keep the link to yourself: anyone who has it can see the calendar."),
        ])
    return subject, body


def mailto(address: str, subject: str, body: str) -> str:
    # RFC 6068: percent-encoded UTF-8, spaces as %20 (not +), line breaks as %0D%0A.
    return ("mailto:" + quote(address, safe="@") + "?subject=" + quote(subject, safe="")
            + "&body=" + quote(body.replace("\n", "\r\n"), safe=""))


def feed_name(kind: str, target) -> str:
    if kind == FeedKind.STAFF.value:
        return _("Kohtaamo: %(name)s", name=target.name)
    if kind == FeedKind.GROUP.value:
        return _("Kohtaamo: %(name)s", name=target.title)
    if kind in (FeedKind.PARTNER.value, FeedKind.VENUE.value):
        return _("Kohtaamo: %(name)s", name=target.name)
    return _("Kohtaamo: the whole unit")


def _ics_response(body: bytes, *, filename: str | None = None) -> Response:
    response = Response(body, mimetype=ICS_MIMETYPE)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _write_after_read(sub_id: int, *, touch: bool, rendered: services.StoredBody | None, state_key: str = "",
                      data_version: int = 0) -> None:
    """Record the use and store a fresh body in one short write transaction after the reads.

    The feed is read-only (a shared SQLite transaction); upgrading that to a write could fail
    when another writer committed meanwhile, so the read transaction ends first and the write
    takes the lock up front. A failed write must not cost the subscriber their calendar: the
    body is served anyway and stored on a later request.
    """
    try:
        with writing():  # rolled back if it fails
            if touch:
                services.touch(sub_id)
            if rendered is not None:
                services.store_body(sub_id, state_key=state_key, etag=rendered.etag,
                                    modified_at=rendered.modified_at, data_version=data_version, body=rendered.body)
    except (sa.exc.OperationalError, sa.exc.IntegrityError):
        current_app.logger.warning("could not record the use of (or store the feed of) calendar subscription %s",
                                   sub_id)


@lru_cache(maxsize=4)
def _render_fingerprint(translation_dirs: str, modules: tuple[str, ...]) -> str:
    """What else the bytes depend on besides the data: the code that renders them, the Finnish
    catalogues and icalendar's version. A deploy that changes any of them changes every state
    key, so every stored body is rendered again (``FEED_FORMAT`` need not be remembered); the
    ETags change only for feeds whose bytes did. Only file contents count, never times, so app
    instances with the same code agree. Read once."""
    digest = hashlib.sha256(icalendar.__version__.encode())
    module_files = (getattr(sys.modules.get(name), "__file__", None) for name in modules)
    files = [Path(file) for file in module_files if file]
    files += [Path(d) / FEED_LOCALE / "LC_MESSAGES" / "messages.po" for d in translation_dirs.split(";") if d]
    for path in files:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()


def feed_state_key(found: services.ActiveFeed, window: Window, untracked: list[tuple]) -> str:
    """What a stored body must have been rendered from to be served, without reading events.

    The data counter stands for every row a feed shows (``changes.py``), including the target's
    name in the calendar name and the creator's role (``FeedScope.creator_id``); its time guards
    against a counter that was reset. The window moves once a day (``Window.for_day``). The
    subscription adds only its scope: a rotated token serves the same feed, a revoked one is
    refused before this. The counter is unit-wide, so any change moves every key; the ETag is
    made from the bytes (``services.content_etag``), so only feeds whose bytes changed get a new one.
    """
    registered = sources()
    modules = tuple(sorted({__name__, "calendar_export.ical", "calendar_export.sources"}
                           | {type(source).__module__ for source in registered}))
    key = (FEED_FORMAT, _render_fingerprint(current_app.config.get("BABEL_TRANSLATION_DIRECTORIES", ""), modules),
           FEED_LOCALE, found.kind, found.target_id, found.created_by_id, found.data_version,
           found.changed_at.isoformat() if found.changed_at else None,
           window.day.isoformat(), [source.name for source in registered], untracked)
    return hashlib.sha256(repr(key).encode()).hexdigest()[:40]


# --- the feed ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedState:
    """What a poll needs to know of a live feed before (or instead of) its body. ``etag`` and
    ``last_modified`` are None when the stored body is not current (then the view renders)."""

    found: services.ActiveFeed
    window: Window
    state_key: str
    etag: str | None
    last_modified: datetime | None
    untracked: tuple = ()


def feed_state(token: str) -> FeedState | None:
    """The feed's validators, from one query and without reading its events, when its stored body
    is current (``feed_state_key``); None for an unknown or revoked token or a feed whose target
    is gone."""
    found = services.find_active_feed(token)
    if found is None or not found.target_active:
        return None
    window = Window.around()
    untracked = untracked_version(found.scope, window)
    key = feed_state_key(found, window, untracked)
    if found.cached_state_key == key and found.cached_etag and found.cached_modified_at is not None:
        return FeedState(found=found, window=window, state_key=key, etag=found.cached_etag,
                         last_modified=found.cached_modified_at, untracked=tuple(untracked))
    return FeedState(found=found, window=window, state_key=key, etag=None, last_modified=None,
                     untracked=tuple(untracked))


def validator_headers(etag: str, last_modified: datetime) -> list[tuple[str, str]]:
    """The headers every answer of a feed carries, 200 or 304 (RFC 9110 15.4.5)."""
    return [("ETag", quote_etag(etag)), ("Last-Modified", http_date(last_modified)),
            ("Cache-Control", f"private, max-age={FEED_MAX_AGE}")]


def _render(state: FeedState) -> services.StoredBody:
    """Render the feed's body; it keeps its ETag and modified time when the bytes came out as
    stored before (a change elsewhere in the unit), else it changed at the latest data change."""
    found, window = state.found, state.window
    target = services.target_of(found.kind, found.target_id)
    if found.kind != FeedKind.UNIT.value and target is None:
        abort(404)  # gone since the first query (another transaction on PostgreSQL)
    with force_locale(FEED_LOCALE):
        name = feed_name(found.kind, target)
        events = collect_events(found.scope, window)
        cancelled = _("Cancelled")
    body = build_feed_ics(events, name, uids=uid_policy(), cancelled_label=cancelled, today=window.day)
    etag = services.content_etag(body)
    if etag == found.cached_etag and found.cached_modified_at is not None:
        modified_at = found.cached_modified_at
    else:
        # Any change to feed data, or the window moving at midnight, may have changed it.
        modified_at = max(t for t in (found.changed_at, window.day_start, latest_change(list(state.untracked)))
                          if t is not None).replace(microsecond=0)
    return services.StoredBody(etag=etag, body=body, modified_at=modified_at)


@bp.route("/calendar/<token>.ics")
@read_only(prepare_session=False)
def feed(token):
    # Most polls whose ETag matches were answered before Flask by calendar_export.fastpath;
    # this view answers the rest, and those too when the subscription's use is to be recorded.
    state = feed_state(token)
    if state is None:
        abort(404)
    found = state.found
    current = None  # the body, when it had to be found or rendered for the validators
    rendered = None
    if state.etag is None or state.last_modified is None:
        # Rendered again since the data changed somewhere (or borrowed from another subscription
        # of the same feed), then kept for this subscription with the current state key.
        current = services.stored_body(found.id, state.state_key) or _render(state)
        rendered = current
        etag, last_modified = current.etag, current.modified_at
    else:
        etag, last_modified = state.etag, state.last_modified

    if request.if_none_match:
        not_modified = request.if_none_match.contains_weak(etag)  # proxies may weaken it
    elif request.if_modified_since is not None:
        not_modified = last_modified <= request.if_modified_since
    else:
        not_modified = False
    if not_modified:
        response = Response(status=304)
    else:
        if current is None:
            current = services.stored_body(found.id, state.state_key)
            if current is None or current.etag != etag:
                # Replaced since the first query: render (and keep) it again.
                current = rendered = _render(state)
                etag, last_modified = current.etag, current.modified_at
        response = _ics_response(current.body)
    touch = services.needs_touch(found)
    if touch or rendered is not None:
        _write_after_read(found.id, touch=touch, rendered=rendered, state_key=state.state_key,
                          data_version=found.data_version)
    for key, value in validator_headers(etag, last_modified):
        response.headers[key] = value
    return response


# --- the subscriber's page ---------------------------------------------------------------------

@bp.route("/calendar/<token>/subscribe")
@read_only
def subscribe_page(token):
    """How to subscribe, for whoever holds the link (no login: the token is the key). The page
    shows only what the feed itself shows of its subscription, its calendar name; an unknown,
    revoked or ended feed is 404, as the feed is. Reading it is not a use of the feed."""
    found = services.find_active_feed(token)
    if found is None or not found.target_active:
        abort(404)
    target = services.target_of(found.kind, found.target_id)
    if found.kind != FeedKind.UNIT.value and target is None:
        abort(404)
    with force_locale(FEED_LOCALE):
        calendar = feed_name(found.kind, target)  # as the calendar app will show it
    response = Response(render_template("calendar_export/subscribe.html", calendar=calendar,
                                        links=subscribe_links(feed_url(token), calendar)))
    # The page holds the secret: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- single events -----------------------------------------------------------------------------

@bp.route("/calendar/session/<session_id>.ics")
@login_required
@read_only
def session_ics(session_id):
    """A group session for "add to my calendar". Sessions hold no client data; any staff member
    may see the unit's group schedule."""
    from groups.models import GroupSession

    from .sources import session_event, session_totals

    group_session = get_or_404(GroupSession, session_id)
    total = session_totals({group_session.group_id}).get(group_session.group_id, 0)
    body = build_event_ics(session_event(group_session, total), uids=uid_policy(), cancelled_label=_("Cancelled"))
    return _ics_response(body, filename=f"session-{group_session.id}.ics")


def _may_see_meeting(meeting) -> bool:
    # The meetings feature's own rule: the meeting's staff participants and leads only.
    from meetings.services import can_open

    return can_open(current_user, meeting)


@bp.route("/calendar/meeting/<meeting_id>.ics")
@login_required
def meeting_ics(meeting_id):
    """A network meeting for "add to my calendar", for staff who may see the meeting. The file
    has no client name, but the meeting is about a client, so the download is logged."""
    from meetings.models import Meeting
    from register.access import log_access

    from .sources import meeting_event

    meeting = get_or_404(Meeting, meeting_id)
    if not _may_see_meeting(meeting):
        abort(404)
    body = build_event_ics(meeting_event(meeting, include_remote_link=True), uids=uid_policy(),
                           cancelled_label=_("Cancelled"))
    log_access(meeting.client_id, "calendar_download", f"meeting {meeting.id}")
    return _ics_response(body, filename=f"meeting-{meeting.id}.ics")


# --- subscription pages ------------------------------------------------------------------------

def _visible_subscriptions() -> sa.Select:
    """A staff member's own feeds and those about them; a lead also the feeds of the units they
    lead and the feeds made by those units' staff (another unit's feeds are 404)."""
    from accounts.models import UnitMembership
    from accounts.units import led_unit_ids_select

    mine = sa.or_(CalendarSubscription.created_by_id == current_user.id,
                  sa.and_(CalendarSubscription.kind == FeedKind.STAFF.value,
                          CalendarSubscription.target_id == current_user.id))
    if not current_user.is_lead:
        return sa.select(CalendarSubscription).where(mine)
    led = led_unit_ids_select(current_user)
    return sa.select(CalendarSubscription).where(sa.or_(
        mine,
        sa.and_(CalendarSubscription.kind == FeedKind.UNIT.value, CalendarSubscription.target_id.in_(led)),
        CalendarSubscription.created_by_id.in_(sa.select(UnitMembership.user_id).where(UnitMembership.unit_id.in_(led)))))


def _get_subscription_or_404(sub_id) -> CalendarSubscription:
    sub = get_or_404(CalendarSubscription, sub_id)
    visible = db.session.scalar(_visible_subscriptions().where(CalendarSubscription.id == sub.id))
    if visible is None:
        abort(404)
    return sub


@bp.route("/calendar/subscriptions")
@login_required
@read_only
def subscriptions():
    subs = db.session.scalars(_visible_subscriptions().options(selectinload(CalendarSubscription.created_by)).order_by(
        CalendarSubscription.revoked_at.is_not(None), CalendarSubscription.created_at.desc(),
        CalendarSubscription.id.desc())).all()
    return render_template("calendar_export/subscriptions.html", subs=subs, names=services.target_names(subs),
                           kind_labels=KIND_LABELS, confirm=ConfirmForm())


def _choices():
    from groups.models import Group
    from groups.services import visible_condition
    from register.access import partner_visible_condition
    from register.models import PartnerOrganisation

    groups = db.session.scalars(sa.select(Group).where(visible_condition(current_user))
                                .order_by(Group.title, Group.id)).all()
    partners = db.session.scalars(sa.select(PartnerOrganisation).where(PartnerOrganisation.active.is_(True),
                                                                      partner_visible_condition(current_user))
                                  .order_by(PartnerOrganisation.name)).all()
    return groups, partners


def _show_link_once(sub: CalendarSubscription, token: str):
    # The token lives in the (signed) session cookie only until the page after this redirect.
    session[NEW_LINK_KEY] = {"id": sub.id, "token": token}
    return redirect(url_for("calendar_export.link", sub_id=sub.id))


@bp.route("/calendar/subscriptions/new", methods=["GET", "POST"])
@login_required
def new():
    form = SubscriptionForm()
    groups, partners = _choices()
    form.setup(is_lead=current_user.is_lead, groups=groups, partners=partners)
    if form.validate_on_submit() and form.check():
        # A staff feed made in the UI is always the user's own; leads use the CLI for others.
        target_id = current_user.id if form.kind.data == FeedKind.STAFF.value else form.target_id
        sub, token = services.create_subscription(kind=form.kind.data, target_id=target_id,
                                                  label=form.label.data or "", created_by=current_user)
        return _show_link_once(sub, token)
    return render_template("calendar_export/new.html", form=form)


@bp.route("/calendar/subscriptions/<sub_id>/link")
@login_required
def link(sub_id):
    sub = _get_subscription_or_404(sub_id)
    pending = session.get(NEW_LINK_KEY)
    token = None
    if pending and pending.get("id") == sub.id:
        session.pop(NEW_LINK_KEY, None)
        token = pending["token"]
    return _link_page(sub, token)


def _link_page(sub: CalendarSubscription, token: str | None, send_form: SendLinkForm | None = None):
    """The subscription's page; with ``token`` (just made, or sent back by the e-mail form) it
    shows the link, the subscriber's instructions page and the ways to send them."""
    links = page_url = None
    emails = []
    names = services.target_names([sub])
    if token is not None:
        calendar = _calendar_name(sub)
        links = subscribe_links(feed_url(token), calendar)
        page_url = subscribe_page_url(token)
        # One ready e-mail per contact, in the contact's language; or one without an address.
        contacts = partner_contacts_with_email(sub)
        recipients: Sequence[PartnerContact | None] = contacts or [None]
        for contact in recipients:
            language = contact.language if contact is not None else FEED_LOCALE
            subject, body = link_email(page_url, calendar, language)
            emails.append({"contact": contact, "href": mailto(contact.email if contact else "", subject, body)})
        if send_form is None:
            send_form = SendLinkForm(formdata=None, token=token,
                                     email=contacts[0].email if contacts else "",
                                     language=contacts[0].language if contacts else FEED_LOCALE)
    return render_template("calendar_export/link.html", sub=sub, links=links, page_url=page_url, emails=emails,
                           names=names, kind_labels=KIND_LABELS, confirm=ConfirmForm(), send_form=send_form)


def _calendar_name(sub: CalendarSubscription) -> str:
    target = services.target_of(sub.kind, sub.target_id)
    with force_locale(FEED_LOCALE):
        # The name the calendar app shows (the feed's own), as on the subscriber's page.
        return feed_name(sub.kind, target) if target is not None or sub.kind == FeedKind.UNIT.value \
            else "Kohtaamo"


@bp.route("/calendar/subscriptions/<sub_id>/send", methods=["POST"])
@login_required
def send_link(sub_id):
    """Sends the subscriber's instructions page by e-mail, now, over the app's SMTP settings. Not
    through the reminders outbox: that would keep the secret link in the database in clear, and
    the outbox's messages concern a client, which this one never does."""
    sub = _get_subscription_or_404(sub_id)
    form = SendLinkForm()
    token = form.token.data or ""
    if sub.is_revoked or not token or len(token) > 100 or services.hash_token(token) != sub.token_hash:
        abort(404)  # only the holder of this subscription's current link can send it
    if form.validate_on_submit():
        config = current_app.config
        subject, body = link_email(subscribe_page_url(token), _calendar_name(sub), form.language.data)
        if missing_email_settings(config):
            form.email.errors.append(_("Sending e-mail is not set up in this installation. Copy the link and "
                                       "send it from your own e-mail."))
        else:
            try:
                send_email(config, to=form.email.data, subject=subject, body=body)
            except (SendError, ValueError):
                form.email.errors.append(_("The e-mail could not be sent. Try again later, or copy the link and "
                                           "send it from your own e-mail."))
            else:
                flash(_("The link was sent to %(address)s.", address=form.email.data), "success")
                return _show_link_once(sub, token)
    return _link_page(sub, token, form)


# A new link stops the old one at once (a partner's subscribed calendar goes quiet): ask first.
@bp.route("/calendar/subscriptions/<sub_id>/rotate", methods=["GET"])
@login_required
@read_only
def rotate_confirm(sub_id):
    sub = _get_subscription_or_404(sub_id)
    if sub.is_revoked:
        abort(404)
    return render_template("calendar_export/rotate_confirm.html", sub=sub, names=services.target_names([sub]),
                           kind_labels=KIND_LABELS, confirm=ConfirmForm())


@bp.route("/calendar/subscriptions/<sub_id>/rotate", methods=["POST"])
@login_required
def rotate(sub_id):
    sub = _get_subscription_or_404(sub_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if sub.is_revoked:
        abort(404)
    token = services.rotate(sub)
    flash(_("A new link was made. The old link no longer works."), "success")
    return _show_link_once(sub, token)


@bp.route("/calendar/subscriptions/<sub_id>/revoke", methods=["POST"])
@login_required
def revoke(sub_id):
    sub = _get_subscription_or_404(sub_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.revoke(sub)
    flash(_("The calendar link was revoked. It no longer works."), "success")
    return redirect(url_for("calendar_export.subscriptions"))

