"""Finnish by default, Swedish and English on request; the choice is remembered."""
from __future__ import annotations

from core.extensions import db
from tests.factories import login


def test_finnish_by_default(client):
    body = client.get("/login").get_data(as_text=True)
    assert 'lang="fi"' in body and "Kirjaudu sisään" in body


def test_browser_preference_is_used(client):
    body = client.get("/login", headers={"Accept-Language": "sv-FI,sv;q=0.9"}).get_data(as_text=True)
    assert 'lang="sv"' in body and "Logga in" in body


def test_anonymous_switch_is_remembered(client):
    token = client.csrf_token()
    response = client.post("/language", data={"language": "en", "next": "/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    body = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in body and "Log in" in body


def test_user_language_is_saved_and_follows_login(app, facilitator):
    browser = app.test_client()
    login(browser, facilitator)
    browser.post_form("/language", {"language": "sv", "next": "/"}, token_from="/")
    db.session.refresh(facilitator)
    assert facilitator.language == "sv"
    other_device = app.test_client()
    login(other_device, facilitator)
    assert 'lang="sv"' in other_device.get("/").get_data(as_text=True)


def test_language_switch_rejects_unknown_language_and_foreign_next(client):
    token = client.csrf_token()
    assert client.post("/language", data={"language": "de", "csrf_token": token}).status_code == 400
    response = client.post("/language", data={"language": "sv", "next": "https://evil.example/", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_language_switch_needs_csrf(client):
    assert client.post("/language", data={"language": "sv"}).status_code == 400


def test_error_pages_are_translated(client):
    assert "Sidan hittades inte" in client.get("/nope", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Page not found" in client.get("/nope", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_date_filters_follow_the_page_language_and_helsinki_time(app):
    """The filters are memoised per (language, value, pattern) and take the language from the
    template's context: the same instant must still come out per language and in local time."""
    from datetime import UTC, datetime

    from flask import render_template_string
    from flask_babel import force_locale

    instant = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 02:30 EET, just before the DST change
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)    # 15:00 EEST
    template = "{{ a|d }} {{ a|t }} {{ a|wd }} {{ b|dt }}"
    with app.test_request_context("/"):
        with force_locale("fi"):
            assert render_template_string(template, a=instant, b=summer) == "29.3.2026 2.30 su 29.3.2026 1.7.2026 15.00"
        with force_locale("sv"):
            assert render_template_string(template, a=instant, b=summer) == \
                "29.3.2026 2.30 sön 29.3.2026 1.7.2026 15.00"  # sv_FI: Finland-Swedish dates and times
        with force_locale("en"):  # en_FI: day-first dates and a 24-hour clock
            assert render_template_string(template, a=instant, b=summer) == \
                "29/03/2026 2.30 Sun 29/03/2026 01/07/2026, 15.00"
        with force_locale("fi"):
            assert render_template_string("{{ a|d }}", a=instant) == "29.3.2026"


def test_the_remembered_catalogue_follows_the_locale(app):
    # Flask-Babel looks the catalogue up for the context's locale; a
    # force_locale (messages in the recipient's language) and a refresh must still switch it,
    # in templates, in views and in lazy labels alike.
    from flask import render_template_string
    from flask_babel import force_locale, gettext, lazy_gettext, refresh

    label = lazy_gettext("Network meeting")
    with app.test_request_context("/", headers={"Accept-Language": "fi"}):
        assert gettext("Network meeting") == "Verkostopalaveri"
        with force_locale("sv"):
            assert gettext("Network meeting") == "Nätverksmöte" == str(label)
            assert render_template_string('{{ _("Network meeting") }}') == "Nätverksmöte"
        assert gettext("Network meeting") == "Verkostopalaveri" == str(label)
        assert render_template_string('{{ _("Network meeting") }}') == "Verkostopalaveri"
        with force_locale("en"):
            assert gettext("Network meeting") == "Network meeting"
        from flask import g

        g._flask_babel.babel_locale = None
        refresh()
        assert gettext("Network meeting") == "Verkostopalaveri"
