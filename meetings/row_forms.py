"""The small per-row forms of the meeting page: a participant's invitation and attendance, an
item's status, a reviewed item's decision and new date.

The page has one such form per participant and item. Building a WTForms form per row, or even
rendering each control through a Jinja macro, was a large share of the page's time, so the
controls are written here from labels and choices translated once per language per process.
The markup is what templates/_forms.html's field() gives a WTForms field (a visible label tied
to each control); the field names carry the prefixes ("p12-", "i34-", "r56-") that
ParticipationForm, ItemStatusForm and ReviewForm read when a row is posted.

Needed for the meeting page's p99 < 100 ms target, bench/RESULTS.md "Special paths": 8 participants
and 12 items (48 controls) took 0.24 ms here and 64 ms as one WTForms form per row rendered
through _forms.html's field macro (bench/micro.py ``row_forms_vs_wtforms``, 6.12.2026, a loaded
machine: both figures inflated alike).
"""
from __future__ import annotations

from types import SimpleNamespace

from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from .forms import ItemStatusForm, ParticipationForm, ReviewForm

# Plain str.format with every value escaped first: Markup.format escapes too, but through
# string.Formatter in Python, several times slower with a few dozen rows.
_SELECT = ('<div class="field">\n  <label for="{name}">{label}{who}</label>\n'
           '  <select id="{name}" name="{name}">{options}</select>\n</div>')
_OPTION = '<option {selected}value="{value}">{text}</option>'
_DATE = ('<div class="field">\n  <label for="{name}">{label}{who}</label>\n'
         '  <input id="{name}" name="{name}" type="date" value="">\n</div>')
# A row's control is named for its row ("Invitation: Matti K."), so a screen reader's list of
# form fields does not read "Invitation" six times over (issue 27.5); the visible label stays short.
_WHO = '<span class="visually-hidden">: {who}</span>'
_CSRF = '<input id="{prefix}-csrf_token" name="{prefix}-csrf_token" type="hidden" value="{token}">'


def _who(who: str | None) -> str:
    return _WHO.format(who=escape(who)) if who else ""


class RowSelect:
    """A labelled select of fixed choices; the options, with each possible value selected, are
    joined once."""

    def __init__(self, field) -> None:
        self.label = escape(str(field.args[0]))
        self.choices = [(value, str(text)) for value, text in field.kwargs["choices"]]
        self._options: dict[object, Markup] = {}

    def options(self, selected) -> Markup:
        html = self._options.get(selected)
        if html is None:
            html = Markup("".join(
                _OPTION.format(selected="selected " if value == selected else "", value=escape(value), text=escape(text))
                for value, text in self.choices))
            if len(self._options) < 64:  # the choices' values and None; anything else is not kept
                self._options[selected] = html
        return html

    def __call__(self, name: str, selected, who: str | None = None) -> Markup:
        return Markup(_SELECT.format(name=escape(name), label=self.label, who=_who(who), options=self.options(selected)))


class RowDate:
    def __init__(self, field) -> None:
        self.label = escape(str(field.args[0]))

    def __call__(self, name: str, who: str | None = None) -> Markup:
        return Markup(_DATE.format(name=escape(name), label=self.label, who=_who(who)))


def row_csrf(prefix: str) -> Markup:
    """The CSRF field of a prefixed form (the request's token, as csrf_token() gives it)."""
    return Markup(_CSRF.format(prefix=escape(prefix), token=escape(generate_csrf())))


def _for_language() -> SimpleNamespace:
    return SimpleNamespace(
        status=RowSelect(ItemStatusForm.status),
        invitation=RowSelect(ParticipationForm.invitation_status),
        attended=RowSelect(ParticipationForm.attended),
        decision=RowSelect(ReviewForm.action),
        due_date=RowDate(ReviewForm.due_date),
        csrf=row_csrf,
    )


_by_locale: dict[str, SimpleNamespace] = {}


def row_forms() -> SimpleNamespace:
    """The row controls in the current language, built once per language per process."""
    locale = str(get_locale() or "fi")
    forms = _by_locale.get(locale)
    if forms is None:
        forms = _by_locale[locale] = _for_language()
    return forms
