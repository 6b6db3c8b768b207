"""View helpers."""
from __future__ import annotations

from collections.abc import Callable

from flask import request

from .extensions import db

# Far beyond any list's last page: a larger number in a URL is read as this one, because an
# OFFSET past the database's integer range would fail instead of giving an empty page.
LAST_PAGE_ASKED = 1_000_000


def paginate(stmt, *, per_page: int, total: Callable[[], int] | None = None):
    """``db.paginate`` on the URL's ``page`` argument, whatever it holds: not a number or
    below 1 is the first page, a page past the end is empty (lists show "no more"). ``total``
    counts the rows, for a list whose rows and total are found best in different ways (the
    library counts the rows' statement as a subquery)."""
    pagination = db.paginate(stmt, page=page_arg(), per_page=per_page, error_out=False, count=total is None)
    if total is not None:
        pagination.total = total()
    return pagination


def page_arg() -> int:
    """The page ``paginate`` shows: the URL's ``page``, or 1 when it is not a number or below 1.
    For a statement that must know how many rows the pages up to it take (``page * per_page``)."""
    try:
        page = int(request.args.get("page", 1))
    except (TypeError, ValueError):
        page = 1
    return min(max(page, 1), LAST_PAGE_ASKED)


def search_arg(name: str, *, limit: int = 120) -> str:
    """Free text to search for, from the URL: trimmed, at most ``limit`` characters, without
    control characters (nobody types them, and PostgreSQL refuses NUL in text). Match it with
    ``column.icontains(text, autoescape=True)``, so a typed % or _ is looked for, not a wildcard."""
    text = request.args.get(name) or ""
    return "".join(ch for ch in text if ch.isprintable()).strip()[:limit]


def id_arg(name: str) -> int:
    """A record id from the URL, or 0 for none: anything but a number a key column can hold
    (the database would refuse a larger one with an error) is no choice at all."""
    try:
        value = int(request.args.get(name) or 0)
    except ValueError:
        return 0
    return value if 0 < value < 2**63 else 0
