"""The app with one of its special paths taken out: each special path that bypasses Flask,
Flask-Babel or the ORM (issue 17, point 8) is measured with and without, under the same gunicorn
settings, in the same run (``python -m bench.run --special-paths``).

    gunicorn -c gunicorn.conf.py "bench.variants:create_app('library_session')"

Each variant puts back the library's own way before the app is made; nothing here is used by the
app itself.
"""
from __future__ import annotations

from collections.abc import Callable


def _no_fastpath() -> None:
    """Calendar polls go through Flask and the feed view (which answers the same 304)."""
    import calendar_export.fastpath as fastpath

    fastpath.install = lambda app: None


def _orm_reads() -> None:
    """The calendar poll's one lookup through the ORM session (a transaction, the result
    processing) instead of core.db.read_row's raw autocommit cursor."""
    import calendar_export.services as services
    from core.extensions import db

    def read_row(statement, params):
        row = db.session.execute(statement, params).first()
        db.session.rollback()  # the session's read transaction ends, as the raw statement's does
        return None if row is None else tuple(row)

    services.read_row = read_row


VARIANTS: dict[str, tuple[Callable[[], None], str, str]] = {
    # name: (how, what is taken out, the special path's place in the code)
    "no_fastpath": (_no_fastpath, "the WSGI fast path for 304s", "calendar_export/fastpath.py"),
    "orm_reads": (_orm_reads, "the raw-driver read (core.db.read_row)", "core/db.py read_row"),
}


def create_app(variant: str):
    how, _what, _where = VARIANTS[variant]
    how()
    from app import create_app as make

    return make()
