"""Field-level messages (WTForms' own and the app's) are in the user's language: bad values
for each kind of field, submitted in Finnish and in Swedish, come back with errors that differ
from the English ones and contain none of WTForms' English messages. The list of WTForms'
messages is read from WTForms' own template (wtforms.pot), not from the app."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from wtforms.i18n import messages_path

from tests.factories import login, make_user


def _wtforms_msgids() -> list[str]:
    with (Path(messages_path()) / "wtforms.pot").open("rb") as fh:
        return [m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id]


def _field_errors(html: str) -> dict[str, str]:
    soup = BeautifulSoup(html, "html.parser")
    return {p["id"].removesuffix("-error"): " ".join(p.get_text(" ").split())
            for p in soup.select("p.error[id$='-error']")}


def _client(app, language: str, role: str = "lead"):
    user = make_user(role=role, language=language)
    c = app.test_client()
    login(c, user)
    return c


def _submit_bad_values(app, language: str) -> dict[str, str]:
    """Bad values in a group form (integer, choices, multiple choice, too long), a schedule
    form (date, time, integer) and a staff form (email, required): every field's error."""
    c = _client(app, language)
    errors: dict[str, str] = {}
    page = c.post_form("/groups/new", {"title": "x" * 200, "capacity": "kahdeksan", "language": "xx",
                                       "facilitator1_id": "abc", "partner_ids": "abc"}, token_from="/groups/new")
    errors.update({f"group.{k}": v for k, v in _field_errors(page.get_data(as_text=True)).items()})
    return errors


def _submit_schedule(app, language: str, group_id: int) -> dict[str, str]:
    c = _client(app, language)
    url = f"/groups/{group_id}/schedule"
    page = c.post_form(url, {"first_date": "31.2.2026", "weekday": "1", "start_time": "25.99",
                             "minutes": "1,5", "weeks": "x"}, token_from=url)
    return {f"schedule.{k}": v for k, v in _field_errors(page.get_data(as_text=True)).items()}


def _submit_staff(app, language: str) -> dict[str, str]:
    c = _client(app, language)
    page = c.post_form("/staff/new", {"name": "", "email": "not an address", "role": "boss", "language": "xx"},
                       token_from="/staff/new")
    return {f"staff.{k}": v for k, v in _field_errors(page.get_data(as_text=True)).items()}


@pytest.fixture
def group_id(app):
    from core.extensions import db
    from groups.models import Group

    lead = make_user(role="lead")
    c = app.test_client()
    login(c, lead)
    response = c.post_form("/groups/new", {"title": "Raharyhmä", "capacity": "8", "language": "fi",
                                           "facilitator1_id": str(lead.id), "facilitator2_id": "0"},
                           token_from="/groups/new")
    assert response.status_code == 302, _field_errors(response.get_data(as_text=True))
    return db.session.scalars(db.select(Group.id)).one()


def test_every_wtforms_message_has_a_finnish_and_swedish_text_in_the_app():
    from core.i18n_tools import ROOT, read_catalog

    english = _wtforms_msgids()
    assert "Not a valid time value." in english and len(english) > 30
    for locale in ("fi", "sv"):
        catalog = read_catalog(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", locale)
        for msgid in english:
            message = catalog.get(msgid)
            assert message is not None and not message.fuzzy, (locale, msgid)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings) and all(s != msgid for s in strings), (locale, msgid, strings)


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_bad_values_get_messages_in_the_users_language(app, group_id, language):
    english = {**_submit_bad_values(app, "en"), **_submit_schedule(app, "en", group_id), **_submit_staff(app, "en")}
    mine = {**_submit_bad_values(app, language), **_submit_schedule(app, language, group_id),
            **_submit_staff(app, language)}
    # Each kind of field was refused, in both languages.
    for name in ("group.title", "group.capacity", "group.language", "group.facilitator1_id", "group.partner_ids",
                 "schedule.first_date", "schedule.start_time", "schedule.minutes", "schedule.weeks",
                 "staff.name", "staff.email", "staff.role", "staff.language"):
        assert name in english and name in mine, (name, sorted(english), sorted(mine))
    wtforms_english = _wtforms_msgids()
    for name, text in mine.items():
        assert text != english[name], (name, text)
        assert not any(msgid.split("%")[0].strip() and msgid.split("%")[0].strip() in text
                       for msgid in wtforms_english), (name, text)
    if language == "fi":
        assert mine["schedule.start_time"] == "Anna kellonaika muodossa 10.00."
        assert mine["group.capacity"].startswith("Anna kokonaisluku, esimerkiksi 3.")
    else:
        assert mine["schedule.start_time"] == "Ange klockslaget i formen 10.00."
