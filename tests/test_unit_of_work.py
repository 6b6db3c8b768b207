"""One unit of work per request (core.transaction): the framework's commit after the view is the
only way a request's writes reach the database, an error response or a failed commit stores
nothing, and no view or service commits by itself."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

import core.transaction
from app import FEATURES
from core.extensions import db
from groups.models import Group
from register.models import Client
from tests.test_groups_planning import _group_data

ROOT = Path(__file__).resolve().parent.parent


def _create_group_and_client(auth_client, facilitator):
    group = auth_client.post_form("/groups/new", _group_data(title="Yksikköryhmä", facilitator1_id=str(facilitator.id)),
                                  token_from="/groups/new")
    client = auth_client.post_form("/clients/new", {"name": "Tuuli T.", "phone": "", "email": "", "language": "fi",
                                                    "version": ""}, token_from="/clients/new")
    return group, client


def _stored(fresh_db) -> tuple[int, int]:
    return (fresh_db.scalar(sa.select(sa.func.count(Group.id)).where(Group.title == "Yksikköryhmä")),
            fresh_db.scalar(sa.select(sa.func.count(Client.id)).where(Client.name == "Tuuli T.")))


def test_the_requests_commit_stores_a_new_group_and_a_new_client(auth_client, facilitator, fresh_db):
    group, client = _create_group_and_client(auth_client, facilitator)
    assert (group.status_code, client.status_code) == (302, 302)
    assert _stored(fresh_db) == (1, 1)


def test_without_the_framework_commit_nothing_reaches_the_database(auth_client, facilitator, fresh_db, monkeypatch):
    """The framework's commit made a flush only: the views did their work (the rows are in the
    request's session at the moment of the commit), yet nothing is stored, so no view, service or
    later hook commits them on another path."""
    seen = []

    def flush_only():
        db.session.flush()
        seen.append((db.session.scalar(sa.select(sa.func.count(Group.id)).where(Group.title == "Yksikköryhmä")),
                     db.session.scalar(sa.select(sa.func.count(Client.id)).where(Client.name == "Tuuli T."))))

    monkeypatch.setattr(core.transaction, "commit_request", flush_only)
    group, client = _create_group_and_client(auth_client, facilitator)
    assert (group.status_code, client.status_code) == (302, 302)
    # The group's request, then the client's: each request has a session of its own, so the
    # second one no longer sees the first one's lost group.
    assert (1, 0) in seen and (0, 1) in seen
    assert _stored(fresh_db) == (0, 0)
    db.session.rollback()


def test_a_failed_commit_answers_503_and_stores_nothing(auth_client, facilitator, fresh_db, monkeypatch):
    def lost_database():
        raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(core.transaction, "commit_request", lost_database)
    response = auth_client.post_form("/clients/new", {"name": "Tuuli T.", "phone": "", "email": "", "language": "fi",
                                                      "version": ""}, token_from="/clients/new")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Tuuli T." not in response.get_data(as_text=True)
    monkeypatch.undo()
    assert _stored(fresh_db) == (0, 0)


@pytest.fixture
def flushing_routes(app):
    """Routes that add a client, flush, and then answer as asked (registered before the first request)."""
    from flask import abort

    def add(status: int):
        db.session.add(Client(name="Tuuli T.", phone="", email="", language="fi"))
        db.session.flush()
        if status == 500:
            raise RuntimeError("a bug after the flush")
        if status == 404:
            abort(404)
        return "done", status

    app.add_url_rule("/_test/flush/<int:status>", "flush_then", add)
    from accounts.units import default_unit

    default_unit()  # a client belongs to a unit (the installation's first)
    db.session.commit()
    return app


@pytest.mark.parametrize("status", [404, 409, 500])
def test_an_error_response_after_a_flush_stores_nothing(flushing_routes, client, fresh_db, status):
    response = client.get(f"/_test/flush/{status}")
    assert response.status_code == status
    assert fresh_db.scalar(sa.select(sa.func.count(Client.id)).where(Client.name == "Tuuli T.")) == 0


def test_a_successful_response_after_a_flush_is_committed(flushing_routes, client, fresh_db):
    assert client.get("/_test/flush/200").status_code == 200
    assert fresh_db.scalar(sa.select(sa.func.count(Client.id)).where(Client.name == "Tuuli T.")) == 1


# Commits allowed in views and services: each one names why on its own line.
OWN_COMMIT = re.compile(r"db\.session\.commit\(\)\s+# own commit: \S")


# After-request hooks that write in a transaction of their own, after the request's commit
# (docs/ARCHITECTURE.md, "The request lifecycle", step 4).
AFTER_REQUEST_HOOKS = {"accounts/session_auth.py", "register/access.py"}


def test_no_view_or_service_commits_except_the_commented_worker_and_cli():
    # Every module of every feature package, not only views.py and services.py: the services
    # and views split into modules named for their part (reminders/worker.py, meetings/plan.py,
    # groups/enrolment.py...) are held to the same rule.
    offenders, allowed = [], []
    for package in FEATURES:
        if package.__name__ == "core":  # the framework: its request commit and read-only hooks
            continue
        for path in sorted(Path(package.__file__).parent.rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in AFTER_REQUEST_HOOKS:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if "commit()" in line:
                    (allowed if OWN_COMMIT.search(line) else offenders).append(f"{name}:{number}")
    assert offenders == []
    # The exceptions are the reminder worker (with pair safety's alerts, sent by the same run) and
    # CLI commands only.
    assert {entry.split(":")[0] for entry in allowed} <= {"reminders/worker.py", "reminders/views.py",
                                                         "outreach/views.py", "calendar_export/cli.py",
                                                         "lifecycle/cli.py", "safety/worker.py"}
