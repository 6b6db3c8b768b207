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
