"""Forms of appointments. The workers' choices are filled in by the view."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TimeField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from core.forms import DateField, Form, VersionedForm, strip_filter

from .models import AppointmentKind, AppointmentStatus

KIND_LABELS = {
    AppointmentKind.OFFICE.value: _l("Office"),
    AppointmentKind.HOME_VISIT.value: _l("Home visit"),
    AppointmentKind.PHONE.value: _l("Phone"),
    AppointmentKind.VIDEO.value: _l("Video"),
}
STATUS_LABELS = {
    AppointmentStatus.BOOKED.value: _l("Booked"),
    AppointmentStatus.HELD.value: _l("Held"),
    AppointmentStatus.NO_SHOW.value: _l("Did not come"),
    AppointmentStatus.CANCELLED.value: _l("Cancelled"),
}
SHORTEST, LONGEST = 15, 120
MINUTES_IN_DAY = 24 * 60


class AppointmentForm(VersionedForm):
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()), default=AppointmentKind.OFFICE.value)
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter a date."))])
    start = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter a time, for example 13:00."))])
    minutes = IntegerField(_l("Length in minutes"), default=45,
                           validators=[InputRequired(_l("Enter the length in minutes, 15 to 120."))],
                           description=_l("15 to 120 minutes."))
    worker1 = SelectField(_l("Worker"), coerce=str)
    worker2 = SelectField(_l("Second worker"), coerce=str,
                          description=_l("A home visit is made in pairs (work safety)."))
    place = StringField(_l("Room or address"), validators=[Optional(), Length(max=200)], filters=[strip_filter])
    interpreter = BooleanField(_l("Interpreter needed"))
    interpreter_language = StringField(_l("Interpreter's language"), validators=[Optional(), Length(max=60)],
                                       filters=[strip_filter])
    send_notice = BooleanField(_l("Tell the client of the change"), default=True)
    confirm = BooleanField(_l("Save anyway"))
    submit = SubmitField(_l("Save"))

    def validate_minutes(self, field):
        if field.data is None:
            return
        if field.data > MINUTES_IN_DAY:
            raise ValidationError(_l("An appointment cannot be longer than a day."))
        if not SHORTEST <= field.data <= LONGEST:
            raise ValidationError(_l("An appointment lasts 15 to 120 minutes."))

    def validate_worker1(self, field):
        if field.data not in {v for v, _label in self.worker1.choices if v}:
            raise ValidationError(_l("Choose only from the list."))

    def validate_worker2(self, field):
        if field.data and field.data not in {v for v, _label in self.worker2.choices if v}:
            raise ValidationError(_l("Choose only from the list."))
        if field.data and field.data == self.worker1.data:
            raise ValidationError(_l("Choose two different workers."))

    def validate_kind(self, field):
        if field.data not in KIND_LABELS:
            raise ValidationError(_l("Choose only from the list."))

    def validate_interpreter_language(self, field):
        if self.interpreter.data and not field.data:
            raise ValidationError(_l("Write the interpreter's language."))


class StatusForm(Form):
    status = SelectField(choices=[(AppointmentStatus.HELD.value, ""), (AppointmentStatus.NO_SHOW.value, "")])


class CancelForm(Form):
    send_notice = BooleanField(_l("Tell the client of the change"), default=True)
    submit = SubmitField(_l("Cancel the appointment"))


class NextForm(Form):
    weeks = SelectField(choices=[("1", ""), ("2", "")])
