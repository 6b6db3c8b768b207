"""Forms of the groups feature; every POST goes through one of these (CSRF)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l, lazy_pgettext
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.forms import DateField, Form, VersionedForm, no_control_chars, strip_filter

from .services import MAX_WEEKS

DATE_MESSAGE = _l("Enter a date, for example 2.3.2027.")
TIME_MESSAGE = _l("Enter a time, for example 13:00.")

IDEA_SOURCES = (
    ("team_meeting", _l("Team meeting")),
    ("coffee_break", _l("Coffee break")),
    ("client_meeting", _l("Client meeting")),
    ("client_feedback", _l("Client feedback")),
    ("partner", _l("Partner")),
    ("other", _l("Other")),
)


def weekday_choices():
    names = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"), _l("Sunday"))
    return [(i, n) for i, n in enumerate(names)]


def language_choices():
    return [("fi", _l("Finnish")), ("sv", _l("Swedish")), ("en", _l("English"))]


class IdeaForm(Form):
    theme = StringField(_l("Theme"), validators=[DataRequired(_l("Enter a theme.")), Length(max=120), no_control_chars],
                        filters=[strip_filter], description=_l("For example money management, loneliness, work."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)], filters=[strip_filter])
    suggested_by = StringField(_l("Suggested by"), validators=[Optional(), Length(max=120)], filters=[strip_filter])
    source = SelectField(_l("Where the idea came from"), choices=IDEA_SOURCES)
    target_clients = StringField(_l("Target clients"), validators=[Optional(), Length(max=300)], filters=[strip_filter])
    submit = SubmitField(_l("Save the idea"))


class GroupForm(VersionedForm):
    # The unit of a new group, offered to staff in several units (groups.views removes it
    # otherwise, and on the edit form): accounts.units.unit_for_new_record.
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[])
    title = StringField(lazy_pgettext("name of a group", "Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=160), no_control_chars],
                        filters=[strip_filter])
    theme = StringField(_l("Theme"), validators=[Optional(), Length(max=120)], filters=[strip_filter])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)], filters=[strip_filter])
    target_clients = StringField(_l("Target clients"), validators=[Optional(), Length(max=300)], filters=[strip_filter])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)], filters=[strip_filter],
                        description=_l("Address or place, for example Kauppakatu 1."))
    room = StringField(_l("Room"), validators=[Optional(), Length(max=120)], filters=[strip_filter])
    capacity = IntegerField(_l("Capacity"), default=8, validators=[
        InputRequired(_l("Enter how many participants fit in.")),
        NumberRange(min=1, max=200, message=_l("Enter a number between 1 and 200."))])
    language = SelectField(_l("Language of the group"), choices=language_choices)
    facilitator1_id = SelectField(_l("First facilitator"), coerce=int)
    facilitator2_id = SelectField(_l("Second facilitator"), coerce=int,
                                  description=_l("Each group has exactly two facilitators."))
    partner_ids = SelectMultipleField(_l("Co-hosting partner organisations"), coerce=int,
                                      description=_l("Optional. Their calendars show the sessions."))
    planning_notes = TextAreaField(_l("Planning notes"), validators=[Optional(), Length(max=8000)],
                                   filters=[strip_filter])
    # Shown only when new facilitators or a new room clash with bookings of the coming sessions.
    confirm = BooleanField(_l("Save anyway, I have checked the warnings"))
    submit = SubmitField(_l("Save"))

    def validate_facilitator2_id(self, field):
        if field.data and field.data == self.facilitator1_id.data:
            raise ValidationError(_l("Choose two different people: the same person cannot be both facilitators."))


class ScheduleForm(Form):
    first_date = DateField(_l("First possible date"), validators=[InputRequired(DATE_MESSAGE)],
                           description=_l("The first session is on the chosen weekday on or after this date."))
    weekday = SelectField(_l("Weekday"), coerce=int, choices=weekday_choices)
    start_time = TimeField(_l("Start time"), validators=[InputRequired(TIME_MESSAGE)])
    minutes = IntegerField(_l("Length in minutes"), default=90, validators=[
        InputRequired(_l("Enter the length in minutes.")),
        NumberRange(min=15, max=480, message=_l("A session lasts between 15 minutes and 8 hours."))])
    weeks = IntegerField(_l("Number of weeks"), default=6, validators=[
        InputRequired(_l("Enter the number of weeks.")),
        NumberRange(min=1, max=MAX_WEEKS, message=_l("Choose between 1 and 52 weeks."))])
    break_weeks = StringField(_l("Break weeks"), validators=[Optional(), Length(max=600)], filters=[strip_filter],
                              description=_l("Any day of each week without a session, e.g. 23.12.2026, 30.12.2026. "
                                             "Public holidays are skipped automatically."))
    confirm = BooleanField(_l("Save anyway, I have checked the warnings"))
    submit = SubmitField(_l("Create the schedule"))


# A new time, room or a cancellation is told to the participants unless staff untick this.
SEND_NOTICE = _l("Send the participants a notice (SMS or e-mail, as they consented)")


class SessionForm(VersionedForm):
    day = DateField(_l("Date"), validators=[InputRequired(DATE_MESSAGE)])
    start_time = TimeField(_l("Start time"), validators=[InputRequired(TIME_MESSAGE)])
    end_time = TimeField(_l("End time"), validators=[InputRequired(TIME_MESSAGE)])
    topic = StringField(_l("Topic"), validators=[Optional(), Length(max=200), no_control_chars], filters=[strip_filter])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=120)], filters=[strip_filter])
    plan_notes = TextAreaField(_l("Session plan"), validators=[Optional(), Length(max=8000)], filters=[strip_filter])
    confirm = BooleanField(_l("Save anyway, I have checked the warnings"))
    send_notice = BooleanField(SEND_NOTICE, default=True)
    submit = SubmitField(_l("Save the session"))

    def validate_end_time(self, field):
        if field.data and self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError(_l("The end must be after the start."))


class SessionStatusForm(Form):
    status = HiddenField()
    send_notice = BooleanField(SEND_NOTICE, default=True)


class StatusForm(Form):
    target = HiddenField()


class CopyForm(Form):
    title = StringField(_l("Title of the new round"), validators=[DataRequired(_l("Enter a title.")), Length(max=160)],
                        filters=[strip_filter])
    first_date = DateField(_l("First possible date"), validators=[InputRequired(DATE_MESSAGE)],
                           description=_l("Sessions keep the weekday and time of the previous round."))
    submit = SubmitField(_l("Create the new round"))


class EnrolForm(Form):
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Enrol"))

    def validate_client_id(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose a client from the list."))


class EvaluationForm(Form):
    interesting = RadioField(_l("Was the group interesting to the participants?"),
                             choices=[("yes", _l("Yes")), ("partly", _l("Partly")), ("no", _l("No"))],
                             validators=[InputRequired(_l("Choose an answer."))])
    continue_decision = RadioField(_l("Do we continue the group?"),
                                   choices=[("yes", _l("Yes")), ("with_changes", _l("Yes, with changes")),
                                            ("no", _l("No"))],
                                   validators=[InputRequired(_l("Choose an answer."))])
    what_worked = TextAreaField(_l("What worked"), validators=[Optional(), Length(max=8000)], filters=[strip_filter])
    improvements = TextAreaField(_l("What to improve"), validators=[Optional(), Length(max=8000)],
                                 filters=[strip_filter])
    submit = SubmitField(_l("Save the evaluation"))


class CancelGroupForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Write the reason: it is sent to the participants.")),
                                                     Length(max=1000)],
                           description=_l("Sent to the enrolled clients. Write it plainly, without anyone's name."))
    submit = SubmitField(_l("Yes, cancel the group"))


def topics_form(sessions, labels: dict[int, str]):
    """One topic field per session, on one page (instead of one edit page per session)."""

    class TopicsForm(Form):
        submit = SubmitField(_l("Save the topics"))

    for session in sessions:
        setattr(TopicsForm, f"topic_{session.id}",
                StringField(labels[session.id], validators=[Optional(), Length(max=200), no_control_chars],
                            filters=[strip_filter], default=session.topic))
    return TopicsForm()


class ReferralForm(Form):
    target = SelectField(_l("Group or theme"), validators=[DataRequired(_l("Choose a group or a theme from the list."))])
    reason = StringField(_l("Why this group"), validators=[DataRequired(_l("Say briefly why.")), Length(max=300)],
                         filters=[strip_filter],
                         description=_l("A short reason the facilitators see. No health details."))
    submit = SubmitField(_l("Send the referral"))


class DeclineReferralForm(Form):
    reason = StringField(_l("Reason for declining"), validators=[DataRequired(_l("Say briefly why.")), Length(max=300)],
                         filters=[strip_filter], description=_l("The worker who made the referral sees this."))
    submit = SubmitField(_l("Decline the referral"))
