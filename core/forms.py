"""Form pieces every feature uses: phone numbers, stale-edit detection, bare CSRF buttons."""
from __future__ import annotations

import phonenumbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import ValidationError

from .i18n import wtforms_translations


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
    translated from a catalogue parsed once per language (core.i18n.wtforms_translations)."""

    class Meta:
        def get_translations(self, form):
            return wtforms_translations()


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
    if field.data and any(ord(ch) < 32 and ch not in "\r\n\t" for ch in field.data):
        raise ValidationError(_l("Remove the special characters from this field."))
