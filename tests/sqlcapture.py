"""Watching the SQL a piece of code runs, for tests that count statements or check which
transaction mode a request used."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def captured_statements(engine: sa.Engine | None = None) -> Iterator[list[str]]:
    """Every statement run on ``engine`` (the app's by default) inside the block, whitespace
    collapsed, BEGINs included (SQLite shows them as statements; PostgreSQL's are implicit)."""
    if engine is None:
        from core.extensions import db

        engine = db.engine
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
