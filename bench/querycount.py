"""SQL statements per page on the large benchmark data set and on a tiny one seeded the same way
(in process, Flask test client, the lead's login): equal counts mean no query per row.
``tests/test_query_counts.py`` keeps this true in ``make test`` with controlled 3-vs-30 data.

The pages of one group, meeting, outreach venue and visit use the records the seed picked by
shape (``state["measured"]``, see ``bench.seed.pick``), so both data sets show the same kinds of
rows. When counts differ anyway, ``differences`` says which statement shapes only one set ran,
and ``write_statements`` lists every page's statements for a reader to see why."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from .inprocess import app_and_client


def page_urls(state: dict) -> list[tuple[str, str, str | None]]:
    """(label, endpoint, path); path None when the data set has no such record (not seeded)."""
    measured = state.get("measured") or {}
    group_id = measured.get("group_id") or state["group_ids"][0]
    meeting_id = measured.get("meeting_id") or state["meeting_ids"][0]
    venue_id, visit_id = measured.get("outreach_venue_id"), measured.get("outreach_visit_id")
    return [
        ("Start page", "core.index", "/"),
        ("Group list", "groups.index", "/groups/"),
        ("Group page", "groups.group", f"/groups/{group_id}"),
        ("Meeting list", "meetings.index", "/meetings/"),
        ("Meeting page", "meetings.show", f"/meetings/{meeting_id}"),
        ("My tasks", "meetings.my_tasks", "/meetings/tasks"),
        ("Client list", "register.clients", "/clients"),
        ("Partner list", "register.partners", "/partners"),
        ("Partner feed", "calendar_export.feed", f"/calendar/{state.get('partner_feed_token')}.ics"),
        ("Feedback results", "feedback.group_results", f"/feedback/groups/{group_id}"),
        ("Outreach rota", "outreach.index", "/outreach/" if venue_id else None),
        ("Outreach venues", "outreach.venues", "/outreach/venues" if venue_id else None),
        ("Outreach venue", "outreach.venue", f"/outreach/venues/{venue_id}" if venue_id else None),
        ("Outreach visit", "outreach.visit", f"/outreach/visits/{visit_id}" if visit_id else None),
        ("Outreach report", "outreach.report", "/outreach/report" if venue_id else None),
    ]


def capture(url: str, state: dict) -> dict[str, dict]:
    """Per page: {"result": count or why not measured, "statements": [SQL, ...]} of the second
    request (the first one does first-use writes)."""
    from core.extensions import db

    app, client = app_and_client(url, state, name="querycount")
    results: dict[str, dict] = {}
    with app.app_context():
        engine = db.engine
    statements: list[tuple[str, object]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    for label, endpoint, path in page_urls(state):
        if endpoint not in app.view_functions:
            results[label] = {"result": "skipped", "statements": []}
            continue
        if path is None:
            results[label] = {"result": "not seeded", "statements": []}
            continue
        client.get(path)  # warm-up (first-use writes)
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", on_execute)
        try:
            response = client.get(path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", on_execute)
        results[label] = {"result": len(statements) if response.status_code == 200
                          else f"status {response.status_code}",
                          "statements": [listing(sql, params) for sql, params in statements]}
    engine.dispose()
    return results


def count(url: str, state: dict) -> dict[str, object]:
    return {label: page["result"] for label, page in capture(url, state).items()}


# --- statement shapes ----------------------------------------------------------------------------

_PARAM = re.compile(r"%\(\w+\)s(::\w+(\[\])?)?|\$\d+|\?")
_IN_LIST = re.compile(r"IN \((\?(, )?)+\)")
# An empty IN list, as SQLAlchemy renders it on SQLite and on PostgreSQL.
_EMPTY_IN = re.compile(r"IN \(SELECT (?:[^()]|\([^()]*\))* WHERE 1 ?!= ?1\)")


def _columns(match: re.Match) -> str:
    columns = match.group(1)
    parts = [c.strip() for c in columns.split(", ")]
    # Entity loads (many columns) become table.*; a short list of chosen columns stays as it is.
    if len(parts) <= 5 or "(" in columns:
        return f"SELECT {columns} FROM "
    tables = list(dict.fromkeys(p.split(".")[0] for p in parts if "." in p))
    return "SELECT " + ", ".join(f"{t}.*" for t in tables) + " FROM "


def shape(sql: str) -> str:
    """A statement without its parameters, IN-list lengths and long column lists: two pages
    running the same query on different rows give the same shape."""
    text = " ".join(sql.split())
    text = _PARAM.sub("?", text)
    text = _EMPTY_IN.sub("IN (<empty>)", text)
    text = _IN_LIST.sub("IN (…)", text)
    return re.sub(r"^SELECT (.+?) FROM ", _columns, text, count=1)


def listing(sql: str, parameters) -> str:
    """The shape plus how many values went into it (what grows with the data)."""
    values = len(parameters) if isinstance(parameters, list | tuple | dict) else 0
    return f"{shape(sql)}  [{values} values]"


def _bare(line: str) -> str:
    return line.rsplit("  [", 1)[0]


def differences(small: list[str], large: list[str]) -> dict[str, list[str]]:
    """Statement shapes run only on one side (with how many more times), parameters ignored."""
    a, b = Counter(map(_bare, small)), Counter(map(_bare, large))
    return {"small": [f"{s} ×{n}" if n > 1 else s for s, n in (a - b).items()],
            "large": [f"{s} ×{n}" if n > 1 else s for s, n in (b - a).items()]}


def compare(small: dict[str, dict], large: dict[str, dict]) -> dict:
    pages = {label: [small.get(label, {}).get("result"), page["result"]] for label, page in large.items()}
    diffs = {label: differences(small[label]["statements"], large[label]["statements"])
             for label, (s, b) in pages.items() if s != b and isinstance(s, int) and isinstance(b, int)}
    return {"pages": pages, "differences": diffs}


def write_statements(path: Path, name: str, small: dict[str, dict], large: dict[str, dict], small_state: dict,
                     large_state: dict) -> None:
    """Every page's statements on both data sets, the differing shapes first, for a reader."""
    result = compare(small, large)
    lines = [f"SQL statements per page, {name}: small data set (scale {small_state.get('scale')}) and large "
             f"(scale {large_state.get('scale')}); the lead's login, second request. Shapes: parameters as ?, "
             "IN lists as (…), long column lists as table.*; [n values] is how many parameters the statement had.",
             "", "Measured records (chosen by shape, bench.seed.pick):"]
    ms, ml = small_state.get("measured") or {}, large_state.get("measured") or {}
    for key in sorted(k for k in ml if k.endswith("_shape")):
        same = "same shape" if ms.get(key) == ml.get(key) else "DIFFERENT SHAPE"
        record = key.removesuffix("_shape")
        lines.append(f"- {record}: small #{ms.get(record + '_id')} {ms.get(key)}; large #{ml.get(record + '_id')} "
                     f"{ml.get(key)} ({same})")
    lines.append("")
    for label, (s, b) in result["pages"].items():
        lines.append(f"== {label}: small {s}, large {b}" + ("" if s == b else "  ** differs **"))
        diff = result["differences"].get(label)
        if diff:
            lines += [f"  only small: {x}" for x in diff["small"]] + [f"  only large: {x}" for x in diff["large"]]
        for side, pages in (("small", small), ("large", large)):
            lines.append(f"  -- {side}")
            lines += [f"  {n:>3} {line}" for n, line in enumerate(pages.get(label, {}).get("statements", []), 1)]
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
