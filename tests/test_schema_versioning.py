"""Optimistic locking is the database's: the mapper's UPDATE says ``WHERE version = <loaded>``.

``VersionedForm.check_version`` compares the form's version with the row read at the start of
the request; two saves that both pass that check (both read version n before either wrote)
used to both win, the later silently overwriting the earlier. With ``version_id_col`` the later
UPDATE matches no row, SQLAlchemy raises ``StaleDataError``, and core.transaction answers it as
any stale edit: nothing saved, the message at the form, the input kept."""
from __future__ import annotations

import html

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import register.services
from core.extensions import db
from register.models import AccessLog, Client
from tests.conftest import BACKEND
from tests.factories import make_client

STALE = ("Someone else saved this record while you were editing. Your changes are kept below; check the current "
         "version in another tab and save again.")


def _versioned_tables():
    import app  # noqa: F401  (every feature's models, through the explicit feature list)

    return sorted(m.class_.__name__ for m in db.Model.registry.mappers if "version" in m.columns)


@pytest.mark.parametrize("model", _versioned_tables())
def test_every_row_with_a_version_is_locked_by_the_mapper(app, model):
    mapper = next(m for m in db.Model.registry.mappers if m.class_.__name__ == model)
    assert mapper.version_id_col is mapper.columns["version"], f"{model}.version is not the mapper's version_id_col"


def test_two_sessions_racing_on_one_row_the_second_flush_is_refused(app, fresh_db):
    """Two independent sessions (two connections, as two app workers): both load, both change;
    the first commits, the second's flush finds no row at the version it loaded."""
    client_id = make_client(name="Alkuperäinen").id
    engine = fresh_db.engine
    with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
        mine, theirs = first.get(Client, client_id), second.get(Client, client_id)
        assert mine.version == theirs.version == 1
        # On SQLite a reader's open transaction would hold the writer back; the loaded objects
        # stay in each session after their reads end.
        first.commit()
        second.commit()
        mine.name, theirs.name = "Ensimmäinen", "Toinen"
        first.commit()
        with pytest.raises(StaleDataError):
            second.flush()
        second.rollback()
    row = fresh_db.get(Client, client_id)
    assert (row.name, row.version) == ("Ensimmäinen", 2)


def _form(client, name):
    return {"name": name, "phone": "", "email": "", "language": "fi", "postal_address": "",
            "version": str(client.version)}


def _stale_message(lang="fi"):
    with force_locale(lang):
        return gettext(STALE)


@pytest.mark.skipif(BACKEND != "postgres", reason="on SQLite no save can come between a request's read and its "
                    "write: test_on_sqlite_a_rival_save_waits_for_the_request")
def test_a_save_that_loses_the_race_answers_as_a_stale_edit(app, lead_client, fresh_db, monkeypatch):
    client = make_client(name="Alkuperäinen")
    client_id = client.id
    original = register.services.update_client
    rivals = []

    def rival_saves_first(target, **kwargs):
        # The rival's save commits on a connection of its own after this request checked the
        # form's version and before it writes: the two saves really race.
        with fresh_db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE client SET name = 'Toisen tallennus', version = version + 1 WHERE id = :id"),
                         {"id": target.id})
        rivals.append(target.id)
        return original(target, **kwargs)

    monkeypatch.setattr(register.services, "update_client", rival_saves_first)
    response = lead_client.post_form(f"/clients/{client_id}/edit", _form(client, "Minun tallennukseni"))
    body = html.unescape(response.get_data(as_text=True))
    assert rivals == [client_id]
    assert response.status_code == 200
    assert _stale_message() in body
    assert 'value="Minun tallennukseni"' in body        # the input is kept
    assert 'value="2"' in body                           # the next save goes against the stored version
    with force_locale("fi"):
        assert gettext("Changes saved.") not in body      # the lost run's flash is not shown
    row = fresh_db.get(Client, client_id)
    assert (row.name, row.version) == ("Toisen tallennus", 2)
    # What the answer committed: only the re-rendered form's access-log row (the lost save's
    # "update" row went with its rollback).
    logged = fresh_db.execute(sa.select(AccessLog.action, AccessLog.detail).where(AccessLog.client_id == client_id))
    assert [tuple(r) for r in logged] == [("view", "edit form")]


@pytest.mark.skipif(BACKEND != "postgres", reason="on SQLite no save can come between a request's read and its "
                    "write: test_on_sqlite_a_rival_save_waits_for_the_request")
def test_a_race_lost_at_the_commit_answers_as_a_stale_edit_without_the_success_message(app, lead_client, fresh_db,
                                                                                        monkeypatch):
    """Here the view's change reaches the database only at the request's commit (nothing
    flushes before): the view has already flashed "Changes saved." and redirected when the
    UPDATE finds the row changed."""
    client = make_client(name="Alkuperäinen")
    client_id = client.id

    def rival_then_plain_change(target, **kwargs):
        with fresh_db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE client SET name = 'Toisen tallennus', version = version + 1 WHERE id = :id"),
                         {"id": target.id})
        target.name = kwargs["name"]
        target.version += 1

    monkeypatch.setattr(register.services, "update_client", rival_then_plain_change)
    response = lead_client.post_form(f"/clients/{client_id}/edit", _form(client, "Minun tallennukseni"))
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert _stale_message() in body and 'value="Minun tallennukseni"' in body
    with force_locale("fi"):
        assert gettext("Changes saved.") not in body
    assert "Changes saved." not in body
    row = fresh_db.get(Client, client_id)
    assert (row.name, row.version) == ("Toisen tallennus", 2)
    logged = fresh_db.execute(sa.select(AccessLog.action, AccessLog.detail).where(AccessLog.client_id == client_id))
    assert [tuple(r) for r in logged] == [("view", "edit form")]
    follow = html.unescape(lead_client.get(f"/clients/{client_id}").get_data(as_text=True))
    with force_locale("fi"):
        assert gettext("Changes saved.") not in follow


@pytest.mark.skipif(BACKEND == "postgres", reason="SQLite's write lock; PostgreSQL races for real above")
def test_on_sqlite_a_rival_save_waits_for_the_request(app, lead_client, fresh_db, monkeypatch):
    client = make_client(name="Alkuperäinen")
    client_id = client.id
    original = register.services.update_client
    refused = []

    def rival_tries(target, **kwargs):
        engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], connect_args={"timeout": 0.2})
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE client SET name = 'Toisen tallennus', version = version + 1 "
                                     "WHERE id = :id"), {"id": target.id})
        except sa.exc.OperationalError as error:
            refused.append("locked" in str(error))
        finally:
            engine.dispose()
        return original(target, **kwargs)

    monkeypatch.setattr(register.services, "update_client", rival_tries)
    response = lead_client.post_form(f"/clients/{client_id}/edit", _form(client, "Minun tallennukseni"))
    assert response.status_code == 302
    assert refused == [True]
    row = fresh_db.get(Client, client_id)
    assert (row.name, row.version) == ("Minun tallennukseni", 2)


def test_losing_the_race_twice_is_a_409_page_and_nothing_is_saved(app, lead_client, fresh_db, monkeypatch):
    """The view runs once more after a lost race; if that run loses too, the answer is a page
    saying nothing was saved (never a 500, never a half-saved record)."""
    client = make_client(name="Alkuperäinen")
    client_id = client.id
    calls = []

    def always_loses(target, **kwargs):
        calls.append(target.id)
        target.name = "Ei tallennu"
        raise StaleDataError("UPDATE statement on table 'client' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(register.services, "update_client", always_loses)
    response = lead_client.post_form(f"/clients/{client_id}/edit", _form(client, "Minun tallennukseni"))
    assert calls == [client_id, client_id]
    assert response.status_code == 409
    with force_locale("fi"):
        assert gettext("Not saved") in response.get_data(as_text=True)
    row = fresh_db.get(Client, client_id)
    assert (row.name, row.version) == ("Alkuperäinen", 1)
