"""View helpers."""
from __future__ import annotations

from flask import render_template

from .extensions import db


def render_and_commit(template: str, **context) -> str:
    """Render a page, then commit the request's writes (access-log rows) once.

    Committing first would expire every object loaded for the page, and rendering would then
    reload them one row at a time. If the commit fails the error handler rolls back and the
    rendered page is never sent, so a page is shown only with its access log written.
    """
    html = render_template(template, **context)
    db.session.commit()
    return html
