"""Forms: reminder policy, a recipient's opt-out, the outbox buttons, and booking a new time."""
from __future__ import annotations

from datetime import time

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from core.forms import DateField, Form, PhoneField, VersionedForm, no_control_chars, strip_filter


class PolicyForm(VersionedForm):
    day_before = BooleanField(_l("The day before"))
    day_before_at = TimeField(_l("Time of the day-before reminder"), validators=[Optional()],
                              description=_l("Local time, for example 16:00."))
    same_morning = BooleanField(_l("The same morning"))
    same_morning_at = TimeField(_l("Time of the morning reminder"), validators=[Optional()],
                                description=_l("Local time, for example 08:00."))
    by_sms = BooleanField(_l("By SMS"))
    by_email = BooleanField(_l("By e-mail"))
    submit = SubmitField(_l("Save reminder settings"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for flag, field in ((self.day_before, self.day_before_at), (self.same_morning, self.same_morning_at)):
            if flag.data and field.data is None and not field.errors:
                field.errors.append(_l("Enter the time, for example 16:00."))
                ok = False
        if (self.day_before.data or self.same_morning.data) and not (self.by_sms.data or self.by_email.data):
            self.by_sms.errors.append(_l("Choose SMS, e-mail or both."))
            ok = False
        if self.same_morning.data and self.same_morning_at.data is not None and self.same_morning_at.data >= time(12, 0):
            self.same_morning_at.errors.append(_l("A morning reminder goes out before noon."))
            ok = False
        return ok


class OptOutForm(Form):
    opted_out = HiddenField()


class NewTimeForm(Form):
    outcome = RadioField(_l("Did you reach the client?"), validators=[InputRequired(_l("Choose one."))], choices=[
        ("reached", _l("Reached: we agreed a new time")),
        ("not_reached", _l("Not reached: send the new time by SMS and letter")),
    ])
    day = DateField(_l("Date of the new time"), validators=[InputRequired(_l("Enter the date."))])
    at = TimeField(_l("Time"), validators=[InputRequired(_l("Enter the time, for example 10:00."))])
    minutes = SelectField(_l("Length"), choices=[("30", _l("30 minutes")), ("45", _l("45 minutes")),
                                                 ("60", _l("60 minutes"))], default="60")
    place = StringField(_l("Place"), filters=[strip_filter],
                        validators=[DataRequired(_l("Enter the place.")), Length(max=200), no_control_chars],
                        description=_l("Shown in the SMS and the letter, for example Kauppakatu 5."))
    # Shown with the warnings (a public holiday), which come before saving.
    confirm = BooleanField(_l("Save anyway"))
    submit = SubmitField(_l("Save the new time"))


class OfferForm(Form):
    """Send the offer of a free place to a client marked "offered", to answer by a deadline."""
    enrolment_id = SelectField(_l("Client"), coerce=int, validate_choice=False)
    answer_by = DateField(_l("Answer by (date)"), validators=[InputRequired(_l("Enter the date."))])
    answer_at = TimeField(_l("Answer by (time)"), default=time(16, 0),
                          validators=[InputRequired(_l("Enter the time, for example 10:00."))])
    submit = SubmitField(_l("Send the offer"))


class OfferAnswerForm(Form):
    """The client's answer on the page of their offer link."""
    accept = SubmitField(_l("Yes, I take the place"))
    decline = SubmitField(_l("No, thank you"))


class TeamSettingsForm(VersionedForm):
    contact_phone = PhoneField(_l("Contact phone number"), validators=[Optional(), Length(max=32)],
                               description=_l("Shown in every message and letter: \"Questions: call us on …\"."))
    opening_hours = StringField(_l("Opening hours of the phone"), filters=[strip_filter],
                                validators=[Optional(), Length(max=120), no_control_chars],
                                description=_l("For example Mon–Fri 9–15."))
    submit = SubmitField(_l("Save"))
