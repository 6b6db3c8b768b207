"""Feedback pages take SQLite's write lock (BEGIN IMMEDIATE) only for what they store: showing
the form, a cached chart and the results page never do, and a submitted answer holds it only for
the few statements that store it. On PostgreSQL a submission share-locks its window row, so an
answer never lands in a window that was closed meanwhile (checked on both databases)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from feedback import services, views
from feedback.models import FeedbackResponse
from tests.sqlcapture import captured_statements
from tests.test_feedback_factories import add_responses, attend, close_window, make_group, open_session_window


@pytest.fixture
def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")


@pytest.fixture
def window(app, facilitator):
    return open_session_window([facilitator])


def transactions(fn) -> list[list[str]]:
    """The statements ``fn`` runs, split at each BEGIN (SQLite shows its BEGINs as statements)."""
    # Tests share the request's session: end the test's own transaction first, so the request
    # begins its own, as in a server.
    db.session.remove()
    with captured_statements() as statements:
        fn()
    runs: list[list[str]] = []
    for text in statements:
        if text.startswith("BEGIN") or not runs:
            runs.append([])
        runs[-1].append(text)
    return runs


def form_data(window):
    data = {f"item_{item.id}": "7" for item in window.item_set.items}
    data.update(window_id=str(window.id), comment="")
    return data


def test_showing_the_form_takes_no_write_lock(client, window, sqlite_only):
    url = f"/f/{window.code}"
    runs = transactions(lambda: client.get(url))
    assert runs and all(run[0] == "BEGIN" for run in runs), runs


def test_an_answer_holds_the_write_lock_only_to_store_it(client, window, sqlite_only):
    url = f"/f/{window.code}"
    data = form_data(window)
    data["csrf_token"] = client.csrf_token(url)
    response = None

    def post():
        nonlocal response
        response = client.post(url, data=data)

    runs = transactions(post)
    assert response.status_code == 302
    writing = [run for run in runs if run[0] == "BEGIN IMMEDIATE"]
    assert len(writing) == 1, runs
    assert runs[0][0] == "BEGIN" and "feedback_window.code" in " ".join(runs[0])  # the lookup only reads
    # The window (is it still open?) and its items, its answers and people (is it full?), the
    # per-address and rate-limit counters, maybe clearing old counters, the answer sheet and its scores.
    statements = writing[0][1:]
    assert len(statements) <= 7, statements
    assert statements[0].startswith("SELECT feedback_window.opens_at")
    assert statements[-2].startswith("INSERT INTO feedback_response")
    assert statements[-1].startswith("INSERT INTO feedback_answer")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse)) == 1


def test_cached_charts_and_results_take_no_write_lock(auth_client, facilitator, sqlite_only):
    group = make_group([facilitator], sessions=2, enrolled=5)
    windows = [services.open_session_window(s) for s in group.sessions]
    db.session.commit()
    for w, s in zip(windows, group.sessions, strict=True):
        attend(s, group.enrolments)
        add_responses(w, [[8, 7, 9, 8]] * 5)
        close_window(w)
    chart = f"/feedback/groups/{group.id}/charts/means.svg"
    page = f"/feedback/groups/{group.id}"
    # The first view of the finished group stores its release, and only that, in one short
    # write transaction.
    release = [run for run in transactions(lambda: auth_client.get(page)) if run[0] == "BEGIN IMMEDIATE"]
    assert len(release) == 1 and "INSERT INTO feedback_release" in " ".join(release[0]), release
    first = transactions(lambda: auth_client.get(chart))
    # A first render writes the cache row, and only that, in its own short transaction.
    writing = [run for run in first if run[0] == "BEGIN IMMEDIATE"]
    assert len(writing) == 1 and "INSERT INTO feedback_chart_cache" in " ".join(writing[0]), first
    assert not any("feedback_answer" in s for s in writing[0])
    for url in (chart, page):
        runs = transactions(lambda url=url: auth_client.get(url))
        assert all(run[0] == "BEGIN" for run in runs), (url, runs)


def test_a_window_closed_while_answering_stores_nothing(client, window, monkeypatch):
    """Staff close the window between the form's lookup and the storing of the answer: the
    answer is refused (the window is read again where it is stored) with the closed page."""
    url = f"/f/{window.code}"
    data = form_data(window)
    data["csrf_token"] = client.csrf_token(url)
    window_id = window.id
    real_form = views.response_form

    def closing_meanwhile(*args, **kwargs):
        # Another worker closes the window, on its own connection, after the lookup.
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE feedback_window SET closes_at = :t WHERE id = :id"),
                         {"t": _stored(datetime.now(UTC) - timedelta(seconds=1)), "id": window_id})
        return real_form(*args, **kwargs)

    monkeypatch.setattr(views, "response_form", closing_meanwhile)
    response = client.post(url, data=data)
    assert response.status_code == 200
    assert "Palauteaika on päättynyt" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackResponse)) == 0
    assert "kohtaamo_feedback_given" not in response.headers.get("Set-Cookie", "")


def _stored(value: datetime):
    # UTCDateTime stores naive UTC on SQLite; a raw UPDATE must do the same.
    return value.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else value
