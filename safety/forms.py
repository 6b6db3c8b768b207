"""The "we are there" form: the agreed margin and the contact person (both have defaults, so the
pair only taps the button)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l, ngettext
from wtforms import SelectField, SubmitField

from core.forms import Form


class ArriveForm(Form):
    margin = SelectField(_l("Alert if we are not done this long after the planned end"), coerce=int)
    contact = SelectField(_l("Contact person"), coerce=int)
    submit = SubmitField(_l("We are there"))


def minutes_label(n: int) -> str:
    return ngettext("%(num)d minute", "%(num)d minutes", n)
