"""What features plug into the lower layers is kept per app (core.registry), never in a module
global: two apps in one process see only their own registrations, and the calendar feeds' change
listeners sit on the app's session, not on SQLAlchemy's global Session class."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

import app as app_module
from accounts.models import User
from calendar_export import changes
from core import registry
from core.dashboard import Panel, panels_for, register_panel
from core.extensions import db
from register.access import register_access_rule
from register.models import Client
from tests.conftest import CsrfClient, _make_test_app
from tests.factories import login, make_client, make_user


@pytest.fixture
def other_apps(database_url):
    """Apps of their own on the test's database; their engines are closed afterwards."""
    made = []

    def make():
        made.append(_make_test_app(database_url))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


NAMES = ("features", "panels", "client_sections", "access_rules", "busy_sources", "calendar_sources",
         "reminder_sources", "reminder_targets", "group_cancel_audience", "demo", "agenda", "annotators", "to_record",
         "exceptions", "session_listeners")


def test_two_bare_apps_keep_their_own_registrations():
    first, second = Flask("first"), Flask("second")

    def one():
        return 1

    def two():
        return 2

    registry.register(first, "things", one)
    registry.register(first, "things", one)  # once only
    registry.register(second, "things", two)
    assert registry.registered("things", first) == (one,)
    assert registry.registered("things", second) == (two,)
    with second.app_context():
        assert registry.registered("things") == (two,)
        assert registry.registered("nothing here") == ()


def test_an_app_without_features_has_empty_registries_although_every_feature_is_imported():
    # Every feature module is imported by now (app.py imports them all). Had any of them filled
    # a registry at import time, a bare app would see it.
    assert {feature.__name__ for feature in app_module.FEATURES} >= {"groups", "meetings", "reminders"}
    bare = Flask("bare")
    for name in NAMES:
        assert registry.registered(name, bare) == (), name


def test_each_app_gets_every_registration_once(other_apps):
    one, two = other_apps(), other_apps()
    for name in NAMES:
        first, second = registry.registered(name, one), registry.registered(name, two)
        assert first, f"nothing registered under {name!r}"
        assert len(set(map(id, first))) == len(first), name  # no duplicates
        assert first == second, name  # the same functions and objects, in the same order
    assert [f.__name__ for f in registry.registered("features", one)] == [
        f.__name__ for f in app_module.FEATURES]
    busy_kinds = sorted(source.kind for source in registry.registered("busy_sources", one))
    assert busy_kinds == ["appointment", "group", "meeting", "outreach"]
    calendar_names = sorted(source.name for source in registry.registered("calendar_sources", one))
    assert calendar_names == ["appointment", "group_session", "meeting", "outreach"]


def test_an_access_rule_and_a_panel_on_one_app_do_not_leak_into_another(app, other_apps, facilitator):
    other = other_apps()
    other.test_client_class = CsrfClient
    client = make_client(name="Rekisteröimätön", worker=make_user())
    db.session.commit()

    def rule(user_id):
        return sa.select(Client.id).where(Client.name == "Rekisteröimätön", sa.literal(user_id) == facilitator.id)

    def panel(user):
        return Panel("core/_test_panel.html", {})

    register_access_rule(other, rule)
    register_panel(other, panel)

    mine, theirs = app.test_client(), other.test_client()
    login(mine, facilitator)
    login(theirs, facilitator)
    assert theirs.get(f"/clients/{client.id}").status_code == 200
    assert mine.get(f"/clients/{client.id}").status_code == 404  # the rule is the other app's only
    assert rule in registry.registered("access_rules", other)
    assert rule not in registry.registered("access_rules", app)
    with other.app_context():
        assert panel in registry.registered("panels")
    # The panel never reaches this app's start page either.
    assert all(p.template != "core/_test_panel.html" for p in panels_for(facilitator))


def test_calendar_change_listeners_are_on_the_apps_session_not_the_global_class(app, fresh_db, facilitator):
    for name, fn in (("after_flush", changes._after_flush), ("do_orm_execute", changes._do_orm_execute),
                     ("before_commit", changes._before_commit)):
        assert sa.event.contains(db.session, name, fn), name
        assert not sa.event.contains(Session, name, fn), name

    def counter():
        return fresh_db.scalar(sa.text("SELECT value FROM calendar_data_version WHERE name = 'calendar'"))

    user_id = facilitator.id
    db.session.commit()  # the test's session holds no snapshot while another session writes
    before = counter() or 0
    # A session of its own (a script's, a test's) is not the app's: its changes are not watched,
    # although staff names are in the feeds.
    with Session(db.engine) as own:
        own.get(User, user_id).name = "Oma Istunto"
        own.commit()
    assert (counter() or 0) == before
    # The app's session is: the same change raises the counter at commit.
    db.session.get(User, user_id).name = "Uusi Nimi"
    db.session.commit()
    assert counter() == before + 1
