"""The test client's requests run as in production: each in an app context, ``g`` and database
session of its own, so a test sees only what a request committed (tests/conftest.py, CsrfClient),
and the lost-commit check (tests/lost_commit.py) records the tests that store through a request."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g

import core.transaction
from core.extensions import db
from register.models import Client
from tests import lost_commit
from tests.factories import make_client


def _routes(app):
    def add():
        db.session.add(Client(name="Tuuli T.", phone="", email="", language="fi"))
        db.session.flush()
        return "added"

    def session_id():
        return str(id(db.session()))

    def remember():
        seen = g.get("remembered", "nothing")
        g.remembered = "something"
        return seen

    def count():
        return str(db.session.scalar(sa.select(sa.func.count(Client.id))))

    app.add_url_rule("/_test/add", "test_add", add, methods=["POST"])
    app.add_url_rule("/_test/session", "test_session", session_id)
    app.add_url_rule("/_test/remember", "test_remember", remember)
    app.add_url_rule("/_test/count", "test_count", count)
    app.config["WTF_CSRF_ENABLED"] = False
    from accounts.units import default_unit

    default_unit()  # a client belongs to a unit (the installation's first)
    db.session.commit()


def test_a_request_has_a_session_of_its_own(app, client):
    _routes(app)
    first, second = client.get("/_test/session").get_data(as_text=True), client.get("/_test/session").get_data(
        as_text=True)
    assert str(id(db.session())) not in (first, second)


def test_g_does_not_carry_over_between_requests(app, client):
    _routes(app)
    assert client.get("/_test/remember").get_data(as_text=True) == "nothing"
    assert client.get("/_test/remember").get_data(as_text=True) == "nothing"


def test_what_a_request_flushed_but_never_committed_is_not_seen_by_the_test(app, client, monkeypatch):
    _routes(app)
    monkeypatch.setattr(core.transaction, "commit_request", lambda: db.session.flush())
    assert client.post("/_test/add").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 0


def test_a_request_sees_the_tests_setup_and_the_test_sees_the_requests_commit(app, client):
    _routes(app)
    make_client(name="Aino A.")
    db.session.add(Client(name="Not committed by the test", phone="", email="", language="fi"))
    assert client.get("/_test/count").get_data(as_text=True) == "2"  # the test's setup is committed first
    existing = db.session.scalars(sa.select(Client).order_by(Client.id)).all()
    assert client.post("/_test/add").status_code == 200
    # The objects the test held were expired: they and a new query read the committed state.
    assert [c.name for c in existing] == ["Aino A.", "Not committed by the test"]
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 3


def test_recording_notes_a_writing_request_but_not_login_or_reads(app, client, facilitator, monkeypatch):
    monkeypatch.setattr(lost_commit, "RECORD_DIR", "unused")
    monkeypatch.setattr(lost_commit, "LOST_COMMIT", None)
    lost_commit.install(app, monkeypatch)
    _routes(app)
    from tests.factories import login

    login(client, facilitator)
    client.get("/_test/count")
    assert lost_commit._state["test_writes"] is False
    client.post("/_test/add")
    assert lost_commit._state["test_writes"] is True


def test_the_lost_commit_stores_nothing_but_keeps_logins(app, client, facilitator, fresh_db, monkeypatch):
    monkeypatch.setattr(lost_commit, "RECORD_DIR", None)
    monkeypatch.setattr(lost_commit, "LOST_COMMIT", "unused")
    lost_commit.install(app, monkeypatch)
    _routes(app)
    from tests.factories import login

    login(client, facilitator)
    assert client.get("/").status_code == 200  # the login's session was stored
    assert client.post("/_test/add").status_code == 200
    assert fresh_db.scalar(sa.select(sa.func.count(Client.id))) == 0
