"""Language choice: the signed-in user's own setting, else the visitor's choice kept in the
session, else the browser's preference among fi/sv/en, else Finnish."""
from __future__ import annotations

from flask import Flask, current_app, request, session
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


def init_i18n(app: Flask, babel) -> None:
    babel.init_app(app, locale_selector=select_locale, default_timezone="Europe/Helsinki")
