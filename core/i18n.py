"""Language choice: the signed-in user's own setting, else the visitor's choice kept in the
session, else the browser's preference among fi/sv/en, else Finnish."""
from __future__ import annotations

from functools import cache

import flask_babel
from babel import support
from flask import Flask, current_app, request, session
from flask_login import current_user
from wtforms.i18n import messages_path


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and getattr(current_user, "is_authenticated", False):
        lang = getattr(current_user, "language", None)
        if isinstance(lang, str) and lang in languages:
            return lang
    lang = session.get("lang")
    if isinstance(lang, str) and lang in languages:
        return lang
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_i18n(app: Flask, babel) -> None:
    babel.init_app(app, locale_selector=select_locale, default_timezone="Europe/Helsinki")


@cache
def _wtforms_catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class FieldMessages:
    """gettext/ngettext for WTForms: the app's catalogues first (core.wtforms_messages gives
    every WTForms message a plain Finnish and Swedish text), WTForms' own catalogue for
    anything they leave out. Its Finnish catalogue leaves some messages in English ("Not a
    valid time value.")."""

    def __init__(self, app_translations, wtforms_catalogue) -> None:
        self._app = app_translations
        self._wtforms = wtforms_catalogue

    def gettext(self, string: str) -> str:
        found = self._app.ugettext(string)
        return found if found != string else self._wtforms.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self._app.ungettext(singular, plural, n)
        return found if found not in (singular, plural) else self._wtforms.ungettext(singular, plural, n)


def wtforms_translations() -> FieldMessages | None:
    """WTForms' own messages ("This field is required.") in the request's language, for
    core.forms.Form. Flask-WTF's provider parses WTForms' catalogue from disk once per request
    that builds a form (every page with a button does); this parses it once per language per
    process, and the app's catalogues are the request's own. None outside a request, so WTForms
    keeps its English messages there."""
    locale = flask_babel.get_locale()
    if locale is None:
        return None
    return FieldMessages(flask_babel.get_translations(), _wtforms_catalogue(str(locale)))
