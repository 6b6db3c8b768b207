"""SQL statements per page on the large benchmark data set and on a tiny one seeded the same way
(in process, Flask test client, the lead's login): equal counts mean no query per row.
``tests/test_query_counts.py`` keeps this true in ``make test`` with controlled 3-vs-30 data."""
from __future__ import annotations

import sqlalchemy as sa

from .load import CSRF_RE


def page_urls(state: dict) -> list[tuple[str, str, str]]:
    return [
        ("Start page", "core.index", "/"),
        ("Group list", "groups.index", "/groups/"),
        ("Group page", "groups.group", f"/groups/{state['group_ids'][0]}"),
        ("Meeting list", "meetings.index", "/meetings/"),
        ("Meeting page", "meetings.show", f"/meetings/{state['meeting_ids'][0]}"),
        ("My tasks", "meetings.my_tasks", "/meetings/tasks"),
        ("Client list", "register.clients", "/clients"),
        ("Partner list", "register.partners", "/partners"),
        ("Partner feed", "calendar_export.feed", f"/calendar/{state.get('partner_feed_token')}.ics"),
        ("Feedback results", "feedback.group_results", f"/feedback/groups/{state['group_ids'][0]}"),
    ]


def count(url: str, state: dict) -> dict[str, object]:
    from app import create_app
    from core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-querycount", "TESTING": True,
                      "SERVER_NAME": None, "BASE_URL": "http://localhost"})
    results: dict[str, object] = {}
    with app.app_context():
        engine = db.engine
    # Requests run without an outer app context, as in a server: each gets a fresh g and session.
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    login = client.post("/login", data={"csrf_token": token, "email": state["lead_email"],
                                        "password": state["password"]})
    if login.status_code != 302:
        raise RuntimeError(f"login answered {login.status_code}")
    statements: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    for label, endpoint, path in page_urls(state):
        if endpoint not in app.view_functions:
            results[label] = "skipped"
            continue
        client.get(path)  # warm-up (first-use writes)
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", on_execute)
        try:
            response = client.get(path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", on_execute)
        results[label] = len(statements) if response.status_code == 200 else f"status {response.status_code}"
    engine.dispose()
    return results
