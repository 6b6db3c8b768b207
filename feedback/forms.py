"""Forms: the participants' feedback form (built per item set), the code entry, window actions,
item sets, group settings and the report period."""
from __future__ import annotations

import functools

from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    Label,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from core.forms import DateField, Form, no_control_chars, strip_filter

from .scales import DONT_KNOW, SCALES, ZERO_TO_TEN, scale as scale_of, scale_choices
from .services import COMMENT_MAX


def _choice_on_scale(values: tuple[str, ...]):
    def check(form, field):
        # Nothing chosen is "don't know" too: every question may be skipped.
        if field.data not in (None, "", DONT_KNOW) and field.data not in values:
            raise ValidationError(_l("Choose one of the options."))
    return check


class ResponseFormBase(Form):
    # Labels given (the comment's is set per item set): a field without one asks WTForms for a
    # translated default, which loads its catalogue from disk on every request.
    window_id = HiddenField("")
    comment = TextAreaField("", validators=[Optional(), Length(max=COMMENT_MAX, message=_l(
        "The comment is too long: at most %(max)d characters.", max=COMMENT_MAX)), no_control_chars],
        filters=[strip_filter])
    submit = SubmitField(_l("Send feedback"))

    item_fields: list
    scale: object

    def scores(self) -> dict:
        """item id -> the value chosen, or None for "don't know" (or nothing chosen)."""
        return {int(f.name.removeprefix("item_")): (int(f.data) if f.data not in (None, "", DONT_KNOW) else None)
                for f in self.item_fields}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.comment.data and all(v is None for v in self.scores().values()):
            # An empty sheet says nothing, but would still count as an answer.
            self.form_errors.append(_l("Answer at least one question, or write something in the box."))
            ok = False
        return ok


def response_form(item_set, locale: str, **kwargs) -> ResponseFormBase:
    """A form with one radio group per item of the set, on the set's scale, each with "don't
    know" (labels in the visitor's language)."""
    worded = [(item.id, *item.label_and_language(locale)) for item in item_set.items]
    labels = tuple((item_id, text) for item_id, text, _lang in worded)
    form = _response_form_class(labels, scale_of(item_set.scale).key)(**kwargs)
    form.scale = scale_of(item_set.scale)
    comment = item_set.comment_labels.get(locale)
    if comment:
        form.comment.label.text = comment
    elif item_set.comment_labels.get("fi"):
        # The Finnish wording stands in for a missing translation: a screen reader reads it in Finnish.
        form.comment.label = LanguageLabel(form.comment.id, item_set.comment_labels["fi"], "fi")
    else:
        form.comment.label.text = _l("Anything else you want to say? (optional)")
    form.item_fields = [form[f"item_{item_id}"] for item_id, _label in labels]
    for (_item_id, _text, lang), f in zip(worded, form.item_fields, strict=True):
        f.label_lang = lang if lang != locale else None
    return form


class LanguageLabel(Label):
    """A label whose text is in another language than the page's (``lang`` on the element)."""

    def __init__(self, field_id: str, text: str, lang: str):
        super().__init__(field_id, text)
        self.lang = lang

    def __call__(self, text=None, **kwargs):
        kwargs.setdefault("lang", self.lang)
        return super().__call__(text, **kwargs)


@functools.lru_cache(maxsize=256)
def _response_form_class(labels: tuple[tuple[int, str], ...], scale_key: str = ZERO_TO_TEN) -> type[ResponseFormBase]:
    """The form class for these (item id, label) pairs, built once per process rather than on
    every request (the pairs are the whole key, so an edited label is simply another class)."""

    class ResponseForm(ResponseFormBase):
        pass

    values = tuple(str(v) for v in SCALES[scale_key].values)
    for item_id, label in labels:
        setattr(ResponseForm, f"item_{item_id}", RadioField(
            label, choices=[(v, v) for v in values + (DONT_KNOW,)], validate_choice=False,
            validators=[Optional(), _choice_on_scale(values)]))
    return ResponseForm


class CodeForm(Form):
    class Meta:
        csrf = False  # a GET form that only looks a code up

    code = StringField(_l("Feedback code"), validators=[DataRequired(_l("Enter the code you were given."))],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class WindowActionForm(Form):
    action = HiddenField(validators=[DataRequired()])


def item_set_kind_choices():
    return [("session", _l("Session feedback")), ("group_end", _l("End-of-group survey")),
            ("meeting", _l("Network meeting feedback"))]


class LabelsForm(Form):
    class Meta:
        csrf = False  # part of ItemSetForm, which carries the token

    fi = StringField(_l("Finnish"), validators=[Optional(), Length(max=200)], filters=[strip_filter])
    sv = StringField(_l("Swedish"), validators=[Optional(), Length(max=200)], filters=[strip_filter])
    en = StringField(_l("English"), validators=[Optional(), Length(max=200)], filters=[strip_filter])


class ItemSetForm(Form):
    name = StringField(_l("Name of the set"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)],
                       filters=[strip_filter])
    kind = SelectField(_l("Used for"), choices=item_set_kind_choices)
    scale = SelectField(_l("Answer scale"), choices=scale_choices, default=ZERO_TO_TEN)
    items = FieldList(FormField(LabelsForm), min_entries=6, max_entries=6)
    comment = FormField(LabelsForm)
    submit = SubmitField(_l("Save the set"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        filled = [entry for entry in self.items if any(entry.form.data.get(lang) for lang in ("fi", "sv", "en"))]
        for entry in filled:
            if not entry.form.fi.data:
                entry.form.fi.errors.append(_l("Give at least the Finnish wording."))
                ok = False
        if not filled:
            self.form_errors.append(_l("Give at least one item."))
            ok = False
        return ok

    def item_labels(self) -> list[dict]:
        return [{lang: entry.form.data[lang] for lang in ("fi", "sv", "en") if entry.form.data[lang]}
                for entry in self.items if entry.form.data.get("fi")]

    def comment_labels(self) -> dict:
        return {lang: self.comment.form.data[lang] for lang in ("fi", "sv", "en") if self.comment.form.data[lang]}


class ItemSetEditForm(ItemSetForm):
    """A set's wording changed; what it is used for stays (groups may have chosen it for that)."""

    kind = None
    scale = None


class GroupSettingsForm(Form):
    # Values are ids, or "builtin:<kind>" for a built-in set not stored yet.
    session_set = SelectField(_l("Session feedback items"))
    end_set = SelectField(_l("End-of-group survey items"))
    submit = SubmitField(_l("Save"))


class PeriodForm(Form):
    class Meta:
        csrf = False  # read-only report filter sent with GET

    start = DateField(_l("From"), validators=[InputRequired(_l("Enter a start date."))])
    end = DateField(_l("To"), validators=[InputRequired(_l("Enter an end date."))])
    submit = SubmitField(_l("Show"))

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The end date must be on or after the start date."))
