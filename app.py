"""Kohtaamo application factory."""
from __future__ import annotations

import os
from types import ModuleType

from flask import Flask

import accounts.views
import appointments.views
import calendar_export.views
import core.views
import feedback.views
import groups.views
import lifecycle.views
import meetings.views
import outreach.views
import register.views
import reminders.views
import safety.views
from accounts.session_auth import configure_login
from core import config
from core.setup import (
    register_cli,
    register_database,
    register_errors,
    register_extensions,
    register_features,
    register_i18n,
    register_security,
    register_templating,
)
from core.transaction import init_unit_of_work

# Every feature, always installed. Each package's ``views.bp`` is registered in this order (the
# start page lists panels and exceptions of equal rank in it); a feature plugs itself into the
# lower layers' registries from its blueprint's ``record_once`` (core.registry). Which feature may
# import which: docs/ARCHITECTURE.md, checked by ``python -m core.layers``.
FEATURES: tuple[ModuleType, ...] = (
    core,
    accounts,
    register,
    groups,
    meetings,
    feedback,
    calendar_export,
    reminders,
    outreach,
    appointments,
    safety,
    lifecycle,
)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)

    app.config.from_mapping(config.DEFAULTS)
    if test_config is None:
        app.config.from_mapping(config.from_environment(app.instance_path))
    else:
        app.config.from_mapping({"KOHTAAMO_ENV": "test", "SESSION_COOKIE_SECURE": False})
        app.config.from_mapping(test_config)

    register_database(app)
    register_extensions(app)
    configure_login(app)
    register_i18n(app, FEATURES)
    register_security(app)
    register_templating(app)
    register_features(app, FEATURES)
    register_errors(app)
    register_cli(app)
    init_unit_of_work(app)  # last: its commit runs before the other after_request hooks
    return app
