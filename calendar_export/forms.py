"""The form for a new calendar subscription."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional

from core.forms import Form, no_control_chars, strip_filter

LINK_LANGUAGES = [("fi", "suomi"), ("sv", "svenska"), ("en", "English")]

KIND_LABELS = {
    "staff": _l("My own calendar (my group sessions and network meetings)"),
    "group": _l("A group's sessions"),
    "partner": _l("A partner organisation (its network meetings and co-hosted groups)"),
    "unit": _l("The whole unit (everything)"),
    "outreach_venue": _l("An outreach venue (its visits)"),   # made on the venue's page
}


class SubscriptionForm(Form):
    # Choices are checked in check(): WTForms' own "Not a valid choice" is not translated.
    kind = RadioField(_l("Whose calendar"), validate_choice=False)
    group_id = SelectField(_l("Group"), validate_choice=False)
    partner_id = SelectField(_l("Partner organisation"), validate_choice=False)
    label = StringField(_l("Name for the subscription (optional)"),
                        description=_l("Who uses it, for example \"Tiina Toivonen's phone\"."),
                        filters=[strip_filter], validators=[Optional(), Length(max=120), no_control_chars])
    submit = SubmitField(_l("Create the calendar link"))

    def setup(self, *, is_lead: bool, groups, partners) -> None:
        kinds = ["staff", "group", "partner"] + (["unit"] if is_lead else [])
        self.kind.choices = [(k, KIND_LABELS[k]) for k in kinds]
        if not self.kind.data:
            self.kind.data = "staff"
        from groups.finding import group_choice_labels  # groups with the same title told apart by dates

        labels = group_choice_labels(groups)
        self.group_id.choices = [("", _l("Choose a group"))] + [(str(g.id), labels[g.id]) for g in groups]
        self.partner_id.choices = [("", _l("Choose an organisation"))] + [(str(p.id), p.name) for p in partners]

    def check(self) -> bool:
        """Cross-field checks after validate(): the chosen kind and its target must be allowed."""
        ok = True
        kinds = {value for value, _label in self.kind.choices}
        if self.kind.data not in kinds:
            self.kind.errors = list(self.kind.errors) + [_l("Choose whose calendar this is.")]
            return False
        if self.kind.data == "group" and self.group_id.data not in {v for v, _l2 in self.group_id.choices if v}:
            self.group_id.errors = list(self.group_id.errors) + [_l("Choose a group.")]
            ok = False
        if self.kind.data == "partner" and self.partner_id.data not in {v for v, _l2 in self.partner_id.choices if v}:
            self.partner_id.errors = list(self.partner_id.errors) + [_l("Choose a partner organisation.")]
            ok = False
        return ok

    @property
    def target_id(self) -> int | None:
        if self.kind.data == "group":
            return int(self.group_id.data)
        if self.kind.data == "partner":
            return int(self.partner_id.data)
        return None


class SendLinkForm(Form):
    """Sends the subscriber's page by e-mail, from the page that shows a new link once. The token
    comes back in the form (it is shown on that page anyway) and must be the subscription's."""

    token = HiddenField(validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Recipient's e-mail address"),
                       validators=[DataRequired(_l("Write the recipient's e-mail address.")),
                                   Email(_l("Check the e-mail address.")), Length(max=254)],
                       filters=[strip_filter])
    language = SelectField(_l("Language of the e-mail and the instructions"), choices=LINK_LANGUAGES)
    submit = SubmitField(_l("Send the link by e-mail"))
