"""Jinja filters for local (Helsinki) times, dates and numbers in the reader's language (formatted
by core.formatting) and the navigation shown in the base layout."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, g, has_request_context, request
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context

# The formatting itself lives in core.formatting; these names stay importable from here.
from .formatting import (
    local_date,
    local_dt,
    local_time,
    month_year,
    number,
    percent,
    recorded,
    time_range,
    weekday_date,
)

# (endpoint, label, lead only). Entries whose endpoint is not registered are left out, so a
# feature appears in the menu as soon as its blueprint exists.
NAV = (
    ("core.index", _l("Start"), False),
    ("groups.index", _l("Groups"), False),
    ("meetings.index", _l("Network meetings"), False),
    ("meetings.my_tasks", _l("My tasks"), False),
    ("outreach.index", _l("Outreach"), False),
    ("register.clients", _l("Clients"), False),
    ("register.partners", _l("Partners"), False),
    ("calendar_export.subscriptions", _l("Calendars"), False),
    ("reminders.outbox", _l("Outbox"), False),
    ("feedback.report", _l("Reports"), True),
    ("accounts.staff_list", _l("Staff"), True),
)


def _template_filter(function):
    """The filter for templates: the language comes from the template's context (set once per
    render by ``layout_context``) instead of a lookup through Flask-Babel per value."""

    @pass_context
    def template_filter(context, value, *args, **kwargs):
        return function(value, *args, locale=context.get("current_locale"), **kwargs)

    return template_filter


_translated: dict[tuple[int, str], tuple[Mapping[str, object], dict[str, str]]] = {}


def translated_labels(labels: Mapping[str, object]) -> dict[str, str]:
    """A dict of lazy (``_l``) labels (a module's constant) translated into the current
    language, once per language per process: a list of 150 rows would otherwise translate the
    same status labels 150 times. Treat the result as read-only."""
    locale = get_locale()
    if locale is None:  # no context: whatever str() gives, not kept
        return {name: str(label) for name, label in labels.items()}
    key = (id(labels), str(locale))
    cached = _translated.get(key)
    if cached is None or cached[0] is not labels:  # (an id reused by another mapping)
        cached = _translated[key] = (labels, {name: str(label) for name, label in labels.items()})
    return cached[1]


def note_form_error() -> str:
    """Called by the error summary as it renders: the page's title then starts with "Error:"
    and the summary, not the flash messages, takes the focus (base.html renders the content
    before the head for this)."""
    if has_request_context():
        g.page_has_error = True
    return ""


def page_has_error() -> bool:
    return bool(has_request_context() and g.get("page_has_error"))


def init_templating(app: Flask) -> None:
    app.jinja_env.filters.update(dt=_template_filter(local_dt), d=_template_filter(local_date),
                                 t=_template_filter(local_time), wd=_template_filter(weekday_date),
                                 num=_template_filter(number), pct=_template_filter(percent),
                                 month_year=_template_filter(month_year), tr=_template_filter(time_range),
                                 recorded=_template_filter(recorded))
    app.jinja_env.globals["note_form_error"] = note_form_error
    app.jinja_env.globals["page_has_error"] = page_has_error
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def layout_context():
        items = []
        if getattr(current_user, "is_authenticated", False):
            is_lead = getattr(current_user, "is_lead", False)
            for endpoint, label, lead_only in NAV:
                # A county administrator manages staff (accounts.permissions.staff_admin_required).
                staff_admin = endpoint == "accounts.staff_list" and getattr(current_user, "is_county_admin", False)
                if is_lead or not lead_only or staff_admin:
                    items.append((endpoint, label))
        return {
            "nav_items": items,
            "current_locale": str(get_locale() or "fi"),
            "languages": (("fi", "suomi"), ("sv", "svenska"), ("en", "English")),
            "current_endpoint": request.endpoint if request else None,
        }
