"""Forms of the outreach pages. Choices of staff and partners are filled in by the views."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import DateField, Form, PhoneField, VersionedForm, no_control_chars, strip_filter
from register.forms import UnitChoiceField

from .models import LAST, REVIEW_DECISIONS, TOPICS

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))
MONTHS = (_l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"), _l("July"),
          _l("August"), _l("September"), _l("October"), _l("November"), _l("December"))
NTH = ((1, _l("first")), (2, _l("second")), (3, _l("third")), (4, _l("fourth")), (LAST, _l("last")))


def optional_int(value):
    """Coerce a select's value to int; the empty choice is None."""
    if value in (None, "", "None"):
        return None
    return int(value)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VenueForm(VersionedForm):
    partner_id = SelectField(_l("Partner organisation"), coerce=optional_int,
                             validators=[InputRequired(_l("Choose the partner organisation."))])
    name = StringField(_l("Venue name"), validators=[DataRequired(_l("Enter the venue's name.")), Length(max=160),
                                                     no_control_chars], filters=[strip_filter],
                       description=_l("For example: Diaconia drop-in café"))
    unit_id = UnitChoiceField(_l("Unit"))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200), no_control_chars],
                          filters=[strip_filter])
    active = BooleanField(_l("Visits continue"), default=True)
    submit = SubmitField(_l("Save"))

    def validate_partner_id(self, field):
        if field.data not in {value for value, _label in self.partner_id.choices}:
            raise ValidationError(_l("Choose the partner organisation."))


class VenueFeedForm(Form):
    label = StringField(_l("Name for the subscription (optional)"),
                        description=_l("Who uses it, for example \"Tiina Toivonen's phone\"."),
                        filters=[strip_filter], validators=[Optional(), Length(max=120), no_control_chars])
    submit = SubmitField(_l("Create the calendar link"))


class RuleForm(VersionedForm):
    frequency = RadioField(_l("How often"), choices=[("monthly", _l("Once a month")), ("weekly", _l("Weekly"))],
                           default="monthly", validators=[InputRequired(_l("Choose how often."))])
    nth = SelectField(_l("Which week of the month"), coerce=int, choices=NTH, default=1,
                      description=_l("For monthly visits, e.g. the second Tuesday or the last Friday."))
    weekday = SelectField(_l("Weekday"), coerce=int, choices=list(enumerate(WEEKDAYS)), default=1)
    interval_weeks = SelectField(_l("For weekly visits"), coerce=int,
                                 choices=[(1, _l("every week")), (2, _l("every other week"))], default=1)
    start_time = TimeField(_l("Starts at"), validators=[InputRequired(_l("Enter the start time, e.g. 13:00."))])
    end_time = TimeField(_l("Ends at"), validators=[InputRequired(_l("Enter the end time, e.g. 15:00."))])
    valid_from = DateField(_l("First possible date"), validators=[InputRequired(_l("Enter a date."))])
    valid_until = DateField(_l("Last possible date (optional)"), validators=[Optional()])
    break_month_list = MultiCheckboxField(_l("No visits in these months"), coerce=int,
                                      choices=[(i + 1, m) for i, m in enumerate(MONTHS)])
    break_from = DateField(_l("Break from (optional)"), validators=[Optional()])
    break_until = DateField(_l("Break until (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Save and create visits"))

    def validate_end_time(self, field):
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("The end time must be after the start time."))

    def validate_valid_until(self, field):
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_l("The last date cannot be before the first date."))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # Cross-field checks here: Optional() would stop a field's own validators when empty.
        start, end = self.break_from.data, self.break_until.data
        if bool(start) != bool(end) and not (self.break_from.errors or self.break_until.errors):
            missing = self.break_until if start else self.break_from
            missing.errors = [*missing.errors, _l("Give both the first and the last day of the break, or neither.")]
            ok = False
        elif start and end and end < start:
            self.break_until.errors = [*self.break_until.errors, _l("The break cannot end before it starts.")]
            ok = False
        return ok


class PairForm(Form):
    staff1_id = SelectField(_l("First worker"), coerce=optional_int)
    staff2_id = SelectField(_l("Second worker"), coerce=optional_int)
    # The one conflict check warns before saving; this box saves despite the clash.
    confirm_clash = BooleanField(_l("Save anyway"))
    submit = SubmitField(_l("Save the pair"))

    def validate_staff2_id(self, field):
        if field.data is not None and field.data == self.staff1_id.data:
            raise ValidationError(_l("Choose two different people: the same person cannot be both workers."))


class MoveForm(VersionedForm):
    day = DateField(_l("New date"), validators=[InputRequired(_l("Enter a date."))])
    start_time = TimeField(_l("Starts at"), validators=[InputRequired(_l("Enter the start time, e.g. 13:00."))])
    end_time = TimeField(_l("Ends at"), validators=[InputRequired(_l("Enter the end time, e.g. 15:00."))])
    confirm_holiday = BooleanField(_l("Move it anyway, the venue is open that day"))
    confirm_clash = BooleanField(_l("Save anyway"))
    submit = SubmitField(_l("Move the visit"))

    def validate_end_time(self, field):
        if self.start_time.data and field.data and field.data <= self.start_time.data:
            raise ValidationError(_l("The end time must be after the start time."))


def count_field(label, description=None):
    return IntegerField(label, description=description, validators=[
        InputRequired(_l("Enter a number (0 if none).")),
        NumberRange(min=0, message=_l("A count cannot be below zero.")),
        NumberRange(max=9999, message=_l("Enter a number up to 9999.")),
    ])


TOPIC_LABELS = {"money": _l("Money and debts"), "housing": _l("Housing"), "benefits": _l("Benefits (Kela)"),
                "work": _l("Work"), "health": _l("Health"), "substance": _l("Substance use"),
                "loneliness": _l("Loneliness"), "other": _l("Other matters")}
NOT_HELD_LABELS = {"venue_closed": _l("The venue was closed"), "workers_absent": _l("The workers could not come"),
                   "safety": _l("It was not safe to stay"), "other": _l("Another reason")}
# Counts of people met: none can be more than the people met. (Staff advised are the venue's own.)
PEOPLE_COUNTS = ("people_new", "met_one_to_one", "met_in_group", *(f"topic_{t}" for t in TOPICS),
                 "errands_sorted", "referred_office", "referred_kela", "guided_onward", "appointments_booked")


class ReportForm(VersionedForm):
    held = RadioField(_l("Did the visit take place?"), default="yes",
                      choices=[("yes", _l("Yes, the visit took place")), ("no", _l("No, it did not take place"))])
    not_held_reason = SelectField(_l("Why not?"), choices=[("", _l("— choose —")), *NOT_HELD_LABELS.items()],
                                  default="")
    people_met = count_field(_l("People met"))
    people_new = count_field(_l("Of them, new to services"),
                             _l("People who do not already use the unit's services; the rest were already known."))
    met_one_to_one = count_field(_l("Met one to one"))
    met_in_group = count_field(_l("Met in a group"))
    topic_money = count_field(TOPIC_LABELS["money"])
    topic_housing = count_field(TOPIC_LABELS["housing"])
    topic_benefits = count_field(TOPIC_LABELS["benefits"])
    topic_work = count_field(TOPIC_LABELS["work"])
    topic_health = count_field(TOPIC_LABELS["health"])
    topic_substance = count_field(TOPIC_LABELS["substance"])
    topic_loneliness = count_field(TOPIC_LABELS["loneliness"])
    topic_other = count_field(TOPIC_LABELS["other"])
    errands_sorted = count_field(_l("Errand sorted on the spot"))
    referred_office = count_field(_l("Referred to the office"))
    referred_kela = count_field(_l("Referred to Kela"))
    guided_onward = count_field(_l("Referred to a partner organisation"))
    appointments_booked = count_field(_l("Appointments booked at the office"))
    staff_advised = count_field(_l("The venue's own staff given advice"),
                                _l("How many of the venue's staff; not counted in the people met."))
    queue = BooleanField(_l("There was a queue"))
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=2000)], filters=[strip_filter],
                         description=_l("No names, phone numbers or anything else that could identify a person."))
    save_anyway = BooleanField(_l("Save anyway: the text names no one who must not be named"))
    submit = SubmitField(_l("Save the counts"))

    @property
    def count_names(self) -> tuple[str, ...]:
        return ("people_met", *PEOPLE_COUNTS, "staff_advised")

    def validate(self, extra_validators=None):
        not_held = self.held.data == "no"
        ok = super().validate(extra_validators)
        if not_held:
            # A visit that did not take place has no counts: whatever was typed is not checked or kept.
            for name in self.count_names:
                field = getattr(self, name)
                field.errors = []
                field.data = 0
            ok = not any(f.errors for f in self)
            if self.not_held_reason.data not in NOT_HELD_LABELS:
                self.not_held_reason.errors = [_l("Choose why the visit did not take place.")]
                ok = False
            return ok
        people = self.people_met.data
        if people is None or self.people_met.errors:
            return ok
        # Each of these counts people met, so none can exceed the number of people met.
        for name in PEOPLE_COUNTS:
            field = getattr(self, name)
            if field.data is not None and not field.errors and field.data > people:
                field.errors = [*field.errors, _l("This cannot be more than the people met (%(n)d).", n=people)]
                ok = False
        one, group = self.met_one_to_one, self.met_in_group
        if (one.data is not None and group.data is not None and not one.errors and not group.errors
                and one.data + group.data < people):
            group.errors = [*group.errors, _l("Everyone met was met one to one or in a group: together these "
                                              "must be at least the people met (%(n)d).", n=people)]
            ok = False
        return ok


class ReportPeriodForm(Form):
    """The report's period (GET, changes nothing, so no CSRF)."""

    class Meta:
        csrf = False

    months = SelectField(_l("Period"), coerce=int, default=12,
                         choices=[(3, _l("last 3 months")), (6, _l("last 6 months")), (12, _l("last 12 months")),
                                  (24, _l("last 24 months"))])


class VenueSiteForm(VersionedForm):
    """The venue on site: its own contact person, opening hours, a private place to talk, safety,
    and the trial period's review date."""
    contact_name = StringField(_l("Contact person on site (optional)"), filters=[strip_filter],
                               validators=[Optional(), Length(max=120), no_control_chars],
                               description=_l("A member of the venue's staff, not a client."))
    contact_phone = PhoneField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)])
    contact_email = EmailField(_l("Email (optional)"), filters=[strip_filter], validators=[
        Optional(), Email(_l("Enter a valid email address, for example name@example.fi.")), Length(max=254)])
    opening_hours = StringField(_l("Opening hours (optional)"), filters=[strip_filter],
                                validators=[Optional(), Length(max=200), no_control_chars],
                                description=_l("For example: Mon–Fri 10–16"))
    private_space_note = TextAreaField(_l("A private place to talk (optional)"), filters=[strip_filter],
                                       validators=[Optional(), Length(max=2000)],
                                       description=_l("Where a person can talk without others hearing."))
    safety_note = TextAreaField(_l("Safety (optional)"), filters=[strip_filter],
                                validators=[Optional(), Length(max=2000)],
                                description=_l("What the pair should know to work safely there."))
    trial_review_on = DateField(_l("Trial period: review date (optional)"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


REVIEW_LABELS = {"continue": _l("Continue as now"), "change": _l("Continue with changes"), "end": _l("End the visits")}


class VenueReviewForm(VersionedForm):
    decision = RadioField(_l("Decision"), choices=[(d, REVIEW_LABELS[d]) for d in REVIEW_DECISIONS],
                          validators=[InputRequired(_l("Choose the decision."))])
    note = TextAreaField(_l("What was agreed (optional)"), filters=[strip_filter],
                         validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Record the decision"))


class PublicNoteForm(Form):
    """The public venue page's anonymous note: a topic from the unit's list, nothing else (no free
    text, so nothing that could carry a name is stored)."""

    topic = RadioField(_l("What would you like to ask about?"), choices=list(TOPIC_LABELS.items()),
                       validators=[InputRequired(message=_l("Choose a topic."))])
