"""Kohtaamo application factory."""
from __future__ import annotations

import os

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)

    from core import config

    app.config.from_mapping(config.DEFAULTS)
    if test_config is None:
        app.config.from_mapping(config.from_environment(app.instance_path))
    else:
        app.config.from_mapping({"KOHTAAMO_ENV": "test", "SESSION_COOKIE_SECURE": False})
        app.config.from_mapping(test_config)

    from core.setup import (
        register_blueprints,
        register_cli,
        register_database,
        register_errors,
        register_extensions,
        register_i18n,
        register_security,
        register_templating,
    )

    register_database(app)
    register_extensions(app)
    register_i18n(app)
    register_security(app)
    register_templating(app)
    register_blueprints(app)
    register_errors(app)
    register_cli(app)

    from core.transaction import init_unit_of_work

    init_unit_of_work(app)  # last: its commit runs before the other after_request hooks
    return app
