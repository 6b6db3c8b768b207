from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from core.forms import Form, PhoneField, VersionedForm, no_control_chars, strip_filter

from .models import PartnerKind

EMAIL_MESSAGE = _l("Enter a valid email address, for example name@example.fi.")


def language_choices():
    return [("fi", _l("Finnish")), ("sv", _l("Swedish")), ("en", _l("English"))]


SHARED_UNIT_LABEL = _l("Shared by every unit (county-wide)")
NO_SUCH_UNIT = _l("Choose shared, or one of your own units.")


def _unit_id(value):
    """A unit choice's value: None for the shared choice, -1 (no unit has it) for anything that is
    not a number, so a forged value reaches the field's own message instead of a coercion error."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def unit_choices(user) -> list[tuple]:
    """The choices of a ``UnitChoiceField``: shared (no unit) and the user's own units."""
    from accounts.units import units_of

    return [("", SHARED_UNIT_LABEL)] + [(u.id, u.name) for u in units_of(user)]


class UnitChoiceField(SelectField):
    """Whose record this is: shared by every unit (None) or one of the user's own units. The view
    fills ``choices`` with ``unit_choices(current_user)``; a value outside them (a forged POST) is
    an error at the field, and the services check the unit again (``accounts.units``)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("description", _l("A shared record is seen by the staff of every unit."))
        super().__init__(label, validators, coerce=_unit_id, validate_choice=False, **kwargs)

    def pre_validate(self, form):
        if self.data not in {_unit_id(value) for value, _label in self.choices}:
            raise ValidationError(NO_SUCH_UNIT)


def partner_kind_choices():
    labels = {
        PartnerKind.SUBSTANCE_ABUSE: _l("Substance-abuse treatment"),
        PartnerKind.EMPLOYMENT: _l("Employment services"),
        PartnerKind.LABOUR_FORCE_CENTRE: _l("Labour-force service centre"),
        PartnerKind.PROBATION: _l("Probation service"),
        PartnerKind.YOUTH_OUTREACH: _l("Youth outreach"),
        PartnerKind.AFTERCARE: _l("Aftercare"),
        PartnerKind.HOSPITAL: _l("Hospital"),
        PartnerKind.PARISH: _l("Parish"),
        PartnerKind.NGO: _l("NGO"),
        PartnerKind.OTHER: _l("Other"),
    }
    return [(kind.value, label) for kind, label in labels.items()]


def partner_kind_label(value: str) -> str:
    return str(dict(partner_kind_choices()).get(value, value))


class ClientForm(VersionedForm):
    name = StringField(_l("Name or initials"), validators=[DataRequired(_l("Enter a name or initials.")),
                                                          Length(max=120), no_control_chars], filters=[strip_filter],
                       description=_l("Record only what the work needs: initials are enough."))
    phone = PhoneField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)])
    email = EmailField(_l("Email (optional)"), validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=254)],
                       filters=[strip_filter])
    language = SelectField(_l("Preferred language"), choices=language_choices)
    reminder_consent = BooleanField(_l("Consents to reminders by SMS or email"))
    postal_address = TextAreaField(_l("Postal address (optional)"), validators=[Optional(), Length(max=300)],
                                   filters=[strip_filter],
                                   description=_l("Only for letters, for example when a new time cannot be told "
                                                  "by phone."))
    postal_consent = BooleanField(_l("Consents to letters at this address"))
    submit = SubmitField(_l("Save"))

    def validate_postal_consent(self, field):
        if field.data and not (self.postal_address.data or "").strip():
            raise ValidationError(_l("Enter the address, or untick the consent to letters."))


class RelativeForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120), no_control_chars],
                       filters=[strip_filter])
    relation = StringField(_l("Relation to the client"), validators=[Optional(), Length(max=60)], filters=[strip_filter],
                           description=_l("For example mother, spouse, friend."))
    phone = PhoneField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)])
    email = EmailField(_l("Email (optional)"), validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=254)],
                       filters=[strip_filter])
    language = SelectField(_l("Preferred language"), choices=language_choices)
    reminder_consent = BooleanField(_l("Consents to reminders by SMS or email"))
    submit = SubmitField(_l("Save"))


class PartnerForm(VersionedForm):
    unit_id = UnitChoiceField(_l("Unit"))
    name = StringField(_l("Organisation name"), validators=[DataRequired(_l("Enter the organisation's name.")),
                                                           Length(max=160), no_control_chars], filters=[strip_filter])
    kind = SelectField(_l("Kind"), choices=partner_kind_choices)
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)], filters=[strip_filter])
    phone = PhoneField(_l("Phone"), validators=[Optional(), Length(max=32)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)], filters=[strip_filter])
    submit = SubmitField(_l("Save"))


class ContactForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120), no_control_chars],
                       filters=[strip_filter])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)], filters=[strip_filter])
    email = EmailField(_l("Email"), validators=[Optional(), Email(EMAIL_MESSAGE), Length(max=254)], filters=[strip_filter])
    phone = PhoneField(_l("Phone"), validators=[Optional(), Length(max=32)])
    language = SelectField(_l("Language"), choices=language_choices)
    submit = SubmitField(_l("Save"))


class NewClientForm(ClientForm):
    # The unit the client belongs to; offered only to staff in several units (the view removes
    # it otherwise): accounts.units.unit_for_new_record.
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[])
