"""Form pieces every feature uses: phone numbers, dates within the range the app handles,
single-line text without control characters, stale-edit detection, bare CSRF buttons."""
from __future__ import annotations

from datetime import date

import phonenumbers
import wtforms
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import ValidationError

from . import timeutil
from .i18n import wtforms_translations

# The dates anyone here plans or reports on. Python's dates end at year 9999 and local-to-UTC
# conversion and week arithmetic overflow at the ends, so years 1 and 9999 gave 500s; nothing
# before this unit's records or more than a few years ahead is meant.
EARLIEST_DATE = date(2000, 1, 1)
YEARS_AHEAD = 10


def latest_date(today: date | None = None) -> date:
    """The last date a form accepts: ``YEARS_AHEAD`` years from today (read at validation time,
    so a long-running server does not keep the window of the day it started)."""
    today = today or timeutil.local_today()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def date_in_range(day: date | None) -> bool:
    """Whether services may do arithmetic on ``day`` (see ``EARLIEST_DATE``)."""
    return day is not None and EARLIEST_DATE <= day <= latest_date()


def date_range_message() -> str:
    from .formatting import local_date

    first, last = (local_date(d) for d in (EARLIEST_DATE, latest_date()))
    return _("Enter a date between %(first)s and %(last)s.", first=first, last=last)


class DateField(wtforms.DateField):
    """A date (``<input type="date">``) within ``EARLIEST_DATE`` … ``latest_date()``; every date
    field of every form, GET filters included, is one of these."""

    def post_validate(self, form, validation_stopped):
        if not validation_stopped and self.data is not None and not date_in_range(self.data):
            self.errors.append(date_range_message())


def normalise_phone(raw: str, region: str = "FI") -> str:
    """E.164 form of a phone number (Finland by default); ValueError if it is not a valid number."""
    raw = (raw or "").strip()
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("invalid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneField(StringField):
    """A phone number, optional unless a DataRequired validator is added; stored as E.164."""

    def post_validate(self, form, validation_stopped):
        if validation_stopped or not self.data or not self.data.strip():
            if self.data is not None:
                self.data = self.data.strip()
            return
        try:
            self.data = normalise_phone(self.data)
        except ValueError:
            self.errors.append(_l("Enter a valid phone number, for example 040 123 4567 or +358 40 123 4567."))


class Form(FlaskForm):
    """The base of every form here: Flask-WTF's (CSRF, request data), with WTForms' own messages
    translated from a catalogue parsed once per language (core.i18n.wtforms_translations).

    Every text field is checked for control characters after its own validators, so no form can
    forget it: a single-line field (``StringField`` and its kinds, hidden fields too) refuses line
    breaks and every other control character; a ``TextAreaField`` keeps line breaks and tabs and
    refuses the rest (NUL, escape sequences). Passwords are left as typed."""

    class Meta:
        def get_translations(self, form):
            return wtforms_translations()

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for field in self:
            ok = _check_text(field) and ok
        return ok


def _check_text(field) -> bool:
    """Adds the control-character error to ``field`` (or its entries) when it has none yet."""
    if isinstance(field, wtforms.FieldList):
        return all([_check_text(entry) for entry in field.entries])
    if isinstance(field, wtforms.FormField):
        return True if isinstance(field.form, Form) else all([_check_text(f) for f in field.form])
    if isinstance(field, wtforms.PasswordField) or not isinstance(field, wtforms.StringField):
        return True
    value = field.data
    if not isinstance(value, str) or field.errors:
        return not field.errors
    message = _text_error(value, multiline=isinstance(field, wtforms.TextAreaField))
    if message is None:
        return True
    field.errors = [*field.errors, message]
    return False


def _text_error(value: str, *, multiline: bool):
    if not multiline and any(ch in value for ch in "\r\n\u2028\u2029"):
        return _l("Write this on one line, without line breaks.")
    if any(_is_control(ch) and not (multiline and ch in "\r\n\t") for ch in value):
        return _l("Remove the special characters from this field.")
    return None


class ConfirmForm(Form):
    """A form with nothing but the CSRF token, for bare buttons (delete, cancel, withdraw)."""


class VersionedForm(Form):
    """Carries the record's version so a stale save (someone else saved meanwhile) is refused."""

    version = HiddenField()

    def check_version(self, current_version: int) -> bool:
        try:
            sent = int(self.version.data)
        except (TypeError, ValueError):
            sent = -1
        if sent != current_version:
            self.form_errors.append(
                _l("Someone else saved this record while you were editing. Your changes are kept "
                   "below; check the current version in another tab and save again.")
            )
            # The next save goes against the version now in the database.
            self.version.data = str(current_version)
            return False
        return True


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value


def no_control_chars(form, field):
    """For single-line text (names, titles, places, phone numbers…): no control characters at all,
    line breaks included. A line break in a one-line value would split a log line, a calendar
    property or a mail header, and nobody types one in a one-line field. On a textarea, line
    breaks and tabs are kept. (``Form`` checks every text field this way anyway; this validator
    just runs the check before a field's later ones.)"""
    if not isinstance(field.data, str):
        return
    message = _text_error(field.data, multiline=isinstance(field, wtforms.TextAreaField))
    if message is not None:
        raise ValidationError(message)


def _is_control(ch: str) -> bool:
    # C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    return ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029"
