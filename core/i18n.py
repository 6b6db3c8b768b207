"""Language choice: the signed-in user's own setting, else the visitor's choice kept in the
session, else the browser's preference among fi/sv/en, else Finnish."""
from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_babel import get_translations
from flask_login import current_user


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and getattr(current_user, "is_authenticated", False):
        lang = getattr(current_user, "language", None)
        if lang in languages:
            return lang
    lang = session.get("lang")
    if lang in languages:
        return lang
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_translations():
    """flask_babel.get_translations(), remembered for the context's current locale.

    A page calls gettext a hundred times, and each call looked up the context, the domain and
    the locale again and spelled out the locale's name as a dictionary key. Flask-Babel keeps
    the locale in g._flask_babel.babel_locale and puts a new Locale object there under
    force_locale (and removes it on refresh), so the remembered catalogue is used only while the
    very same locale object is in place."""
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    remembered = getattr(state, "kohtaamo_translations", None)
    if locale is not None and remembered is not None and remembered[0] is locale:
        return remembered[1]
    translations = get_translations()
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    if locale is not None:
        state.kohtaamo_translations = (locale, translations)
    return translations


def init_i18n(app: Flask, babel) -> None:
    babel.init_app(app, locale_selector=select_locale, default_timezone="Europe/Helsinki")
    # The templates' _() and ngettext() through current_translations (Flask-Babel installs
    # the same callables around get_translations()).
    app.jinja_env.install_gettext_callables(
        gettext=lambda message: current_translations().ugettext(message),
        ngettext=lambda singular, plural, n: current_translations().ungettext(singular, plural, n),
        newstyle=True)
