from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from core.forms import Form, PhoneField, VersionedForm, strip_filter

from .passwords import MAX_LENGTH, MIN_LENGTH

PASSWORD_LENGTH_MESSAGE = _l("The password must be %(min)s–%(max)s characters long.", min=MIN_LENGTH, max=MAX_LENGTH)


def role_choices():
    return [("facilitator", _l("Facilitator")), ("lead", _l("Lead social worker")),
            ("county_admin", _l("County administrator"))]


def language_choices():
    return [("fi", "suomi"), ("sv", "svenska"), ("en", "English")]


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
                       filters=[strip_filter], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Log in"))


class StaffForm(VersionedForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)], filters=[strip_filter])
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter an email address.")),
                                                Email(_l("Enter a valid email address.")), Length(max=254)],
                       filters=[strip_filter])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)], filters=[strip_filter])
    phone = PhoneField(_l("Phone"), validators=[Optional(), Length(max=32)])
    role = SelectField(_l("Role"), choices=role_choices)
    # Choices: the units the administrator may put people in (accounts.views).
    unit_ids = SelectMultipleField(_l("Units"), coerce=int, choices=[],
                                   description=_l("A lead leads every unit they are a member of."))
    language = SelectField(_l("Language"), choices=language_choices)
    submit = SubmitField(_l("Save"))


class NewStaffForm(StaffForm):
    password = PasswordField(_l("Initial password"), validators=[
        DataRequired(_l("Enter a password.")), Length(min=MIN_LENGTH, max=MAX_LENGTH, message=PASSWORD_LENGTH_MESSAGE)],
        render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password."))],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")), Length(min=MIN_LENGTH, max=MAX_LENGTH, message=PASSWORD_LENGTH_MESSAGE)],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Enter the new password again.")), EqualTo("new_password", _l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))


class ActiveForm(Form):
    """Deactivate or reactivate a staff account (a bare button with CSRF)."""


class CodeForm(Form):
    """A code from the authenticator app (6 digits) or a recovery code (10 characters)."""
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=20)],
                       filters=[strip_filter],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false",
                                  "autocapitalize": "off"})
    submit = SubmitField(_l("Continue"))


class EnrolForm(Form):
    code = StringField(_l("The 6-digit code your app shows"),
                       validators=[DataRequired(_l("Enter the code.")), Length(max=20)], filters=[strip_filter],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("Turn on"))


class RemoveSecondFactorForm(Form):
    code = StringField(_l("A code from your app, or a recovery code"),
                       validators=[DataRequired(_l("Enter the code.")), Length(max=20)], filters=[strip_filter],
                       render_kw={"autocomplete": "one-time-code"})
    submit = SubmitField(_l("Turn off"))


class PolicyForm(Form):
    require_second_factor = BooleanField(_l("Every local account must use a second factor"))
    submit = SubmitField(_l("Save"))


class UnitForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)],
                       filters=[strip_filter])
    slug = StringField(_l("Short name in addresses and settings"),
                       description=_l("Lowercase letters, digits and hyphens, e.g. aikuissosiaalityo-ita."),
                       validators=[Optional(), Length(max=60)], filters=[strip_filter])
    submit = SubmitField(_l("Save"))
