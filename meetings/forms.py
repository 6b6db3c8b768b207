"""Forms of network meetings. Choices that depend on the meeting (participants, relatives) are
filled in by the view."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l, lazy_pgettext
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional, ValidationError

from core.forms import DateField, Form, VersionedForm, no_control_chars, strip_filter

from .models import ClientIdentification, InvitationStatus, ItemStatus, PlaceKind

PLACE_LABELS = {
    PlaceKind.OFFICE.value: _l("Office"),
    PlaceKind.HOME_VISIT.value: _l("Home visit"),
    PlaceKind.PARTNER_VENUE.value: _l("Partner's premises"),
    PlaceKind.REMOTE.value: _l("Remote meeting"),
}
STATUS_LABELS = {
    "planned": _l("Planned"),
    "held": _l("Held"),
    "cancelled": _l("Cancelled"),
}
INVITATION_LABELS = {
    InvitationStatus.INVITED.value: _l("Invited"),
    InvitationStatus.ACCEPTED.value: _l("Accepted"),
    InvitationStatus.DECLINED.value: _l("Declined"),
}
ITEM_STATUS_LABELS = {
    ItemStatus.OPEN.value: lazy_pgettext("plan item status", "Open"),
    ItemStatus.DONE.value: _l("Done"),
    ItemStatus.DROPPED.value: _l("Dropped"),
    ItemStatus.CARRIED.value: _l("Carried forward"),
}
KIND_LABELS = {
    "staff": _l("Staff member"),
    "partner": _l("Partner"),
    "relative": _l("Relative"),
    "client": _l("Client"),
}
IDENTIFICATION_LABELS = {
    ClientIdentification.INITIALS.value: _l("Initials"),
    ClientIdentification.FIRST_NAME.value: _l("First name"),
    ClientIdentification.NONE.value: _l("Not at all"),
}
# Free texts that partners see (their personal link shows an item's what and with whom;
# invitations to them show the place): the hint at each, and the confirmation that lets a text
# that seems to name the client be saved anyway.
PARTNER_TEXT_HINT = _l("Partners see this: do not write the client's name here.")
SAVE_ANYWAY = _l("Save anyway: the text names no one who must not be named")
# The one conflict check warns before saving; this box saves despite the clash.
CONFIRM_CLASH = _l("Save anyway")
LENGTHS = [("30", _l("30 minutes")), ("45", _l("45 minutes")), ("60", _l("1 hour")), ("90", _l("1½ hours")),
           ("120", _l("2 hours"))]


class MultiCheckboxField(SelectMultipleField):
    """Rendered by the template as a fieldset of checkboxes; ids are strings of integers."""

    def pre_validate(self, form):
        # Only offered values are accepted; a forged id is an error at the field, never a 500.
        offered = {str(v) for v, _label in (self.choices or [])}
        if any(str(v) not in offered for v in (self.data or [])):
            raise ValidationError(_l("Choose only from the list."))


SEND_NOTICE = _l("Send the client and relatives a notice (SMS or e-mail, as they consented)")


class CancelForm(Form):
    send_notice = BooleanField(SEND_NOTICE, default=True)
    submit = SubmitField(_l("Cancel the meeting"))


class MeetingDetailsForm(VersionedForm):
    purpose = StringField(_l("Purpose"), validators=[DataRequired(_l("Write the purpose of the meeting.")),
                                                     Length(max=300), no_control_chars], filters=[strip_filter],
                          description=_l("For example: follow-up of the activation plan."))
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter a date."))])
    start = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter a time, for example 13:00."))])
    length = SelectField(_l("Length"), choices=LENGTHS, default="60")
    place_kind = SelectField(_l("Place"), choices=list(PLACE_LABELS.items()), default=PlaceKind.OFFICE.value)
    place = StringField(_l("Address or room"), validators=[Optional(), Length(max=200), no_control_chars],
                        filters=[strip_filter], description=PARTNER_TEXT_HINT)
    remote_link = URLField(_l("Link to the remote meeting"),
                           validators=[Optional(), URL(message=_l("Enter a full web address starting with https://.")),
                                       Length(max=500)], filters=[strip_filter])
    client_identification = SelectField(
        _l("How partner links name the client"), choices=list(IDENTIFICATION_LABELS.items()),
        default=ClientIdentification.INITIALS.value,
        description=_l("Partners' personal links show the client only this way."))
    save_anyway = BooleanField(SAVE_ANYWAY)
    confirm_clash = BooleanField(CONFIRM_CLASH)
    # Shown on the edit form only: a new time or place is told to the client and relatives.
    send_notice = BooleanField(SEND_NOTICE, default=True)
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # Checked here because Optional() on the field stops its own validators when it is empty.
        link = self.remote_link.data or ""
        if link and not link.lower().startswith(("https://", "http://")):
            # Only web links: a javascript: or other scheme must never become a clickable link.
            self.remote_link.errors = list(self.remote_link.errors) + [
                _l("Enter a full web address starting with https://.")]
            ok = False
        if self.place_kind.data == PlaceKind.REMOTE.value and not self.remote_link.data:
            self.remote_link.errors = list(self.remote_link.errors) + [_l("A remote meeting needs a link.")]
            ok = False
        return ok

    def validate_length(self, field):
        if field.data not in dict(LENGTHS):
            raise ValidationError(_l("Choose a length from the list."))


class MeetingForm(MeetingDetailsForm):
    staff = MultiCheckboxField(lazy_pgettext("meeting participants", "Staff"), coerce=str)
    contacts = MultiCheckboxField(_l("Partners"), coerce=str)
    relatives = MultiCheckboxField(_l("Relatives"), coerce=str)
    include_client = BooleanField(_l("The client takes part"), default=True)
    submit = SubmitField(_l("Arrange the meeting"))

    def validate_staff(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one staff member."))


class FollowUpForm(Form):
    purpose = StringField(_l("Purpose"), validators=[DataRequired(_l("Write the purpose of the meeting.")),
                                                     Length(max=300), no_control_chars], filters=[strip_filter])
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter a date."))])
    start = TimeField(_l("Start time"), validators=[InputRequired(_l("Enter a time, for example 13:00."))])
    length = SelectField(_l("Length"), choices=LENGTHS, default="60")
    confirm_clash = BooleanField(CONFIRM_CLASH)
    submit = SubmitField(_l("Schedule the next meeting"))


class NotesForm(VersionedForm):
    worries = TextAreaField(_l("Worries raised"), validators=[Optional(), Length(max=5000)], filters=[strip_filter])
    summary = TextAreaField(_l("Shared understanding"), validators=[Optional(), Length(max=5000)],
                            filters=[strip_filter], description=_l("A summary of what was agreed, in plain words."))
    held = BooleanField(_l("The meeting was held"))
    submit = SubmitField(_l("Save the record"))


class ItemForm(Form):
    # The choices are the meeting's participants; a value not among them is refused by the service
    # with a clear message rather than WTForms' generic "Not a valid choice".
    responsible = SelectField(_l("Responsible person"), validate_choice=False,
                              validators=[DataRequired(_l("Choose who is responsible for this item."))])
    what = StringField(_l("What"), validators=[DataRequired(_l("Write what will be done.")), Length(max=500),
                                               no_control_chars], filters=[strip_filter],
                       description=PARTNER_TEXT_HINT)
    with_whom = StringField(_l("With whom"), validators=[Optional(), Length(max=300), no_control_chars],
                            filters=[strip_filter], description=PARTNER_TEXT_HINT)
    due_date = DateField(_l("By when"), validators=[Optional()])
    save_anyway = BooleanField(SAVE_ANYWAY)
    save_duplicate = BooleanField(_l("Add it anyway: it is a separate task"))
    submit = SubmitField(_l("Add to the plan"))


class ItemEditForm(VersionedForm):
    """Correcting an item of the plan (a typo, a new date, another responsible person)."""

    responsible = ItemForm.responsible
    what = ItemForm.what
    with_whom = ItemForm.with_whom
    due_date = ItemForm.due_date
    save_anyway = ItemForm.save_anyway
    submit = SubmitField(_l("Save changes"))


class ItemStatusForm(Form):
    status = SelectField(_l("Status"), choices=[(k, v) for k, v in ITEM_STATUS_LABELS.items() if k != "carried"])
    submit = SubmitField(_l("Change"))


class ReviewForm(Form):
    # No default: a decision is made on purpose, not by pressing "Save" past an item.
    action = SelectField(_l("Decision"), choices=[("", _l("Choose…")), ("done", _l("Done")), ("dropped", _l("Dropped")),
                                                   ("carry", _l("Carry forward"))],
                         validators=[DataRequired(_l("Choose a decision: done, dropped or carried forward."))])
    due_date = DateField(_l("New due date (if carried forward)"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class ParticipationForm(Form):
    invitation_status = SelectField(_l("Invitation"), choices=list(INVITATION_LABELS.items()))
    attended = SelectField(_l("Attended"), choices=[("", _l("Not recorded")), ("yes", _l("Yes")), ("no", _l("No"))])
    submit = SubmitField(_l("Save"))


class AddParticipantForm(Form):
    # Values are "<kind>:<id>" (or "client"); the service checks them, so a forged value gets a
    # clear message at the field.
    person = SelectField(_l("Person"), validate_choice=False,
                         validators=[DataRequired(_l("Choose the person to invite."))])
    submit = SubmitField(_l("Invite"))
