"""Security headers, cookies, error pages and bad URLs."""
from __future__ import annotations

import logging

import pytest

from core.logging import RedactTokens, redact
from tests.factories import login, login_sessions


def test_headers_on_every_response(client):
    for url in ("/login", "/does-not-exist", "/static/css/app.css"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
        response.close()


def test_html_pages_are_not_cached(auth_client):
    assert auth_client.get("/").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, facilitator):
    response = login(client, facilitator)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_session_cookie_is_set_at_login_only_and_expires_with_the_login(app, client, facilitator, fresh_db):
    response = login(client, facilitator)
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie  # the login's lifetime (PERMANENT_SESSION_LIFETIME) from now
    client.get("/")  # (shows, and so takes out of the session, the login's flash message)
    for url in ("/", "/meetings/", "/groups/"):
        page = client.get(url)
        assert page.status_code == 200
        assert "Set-Cookie" not in page.headers, url
    # Still logged in with the cookie of the login; logout replaces it (the login is gone).
    assert client.get("/").status_code == 200
    out = client.post_form("/logout", token_from="/")
    assert "kohtaamo_session=" in out.headers["Set-Cookie"]
    assert login_sessions(fresh_db, facilitator.id) == 0   # the login's row is gone, not only the cookie
    assert client.get("/").status_code == 302


def test_secure_cookie_in_production(tmp_path, monkeypatch):
    """A production app (configured from the environment, as gunicorn starts it) sets its login
    cookie Secure, HttpOnly and SameSite=Lax: read from the real Set-Cookie header. Its own
    SQLite file whatever the backend under test: the flags do not depend on the database."""
    from app import create_app
    from core.extensions import db
    from tests.conftest import CsrfClient
    from tests.factories import make_user

    monkeypatch.delenv("KOHTAAMO_ENV", raising=False)
    monkeypatch.setenv("SECRET_KEY", "production-test-secret-0123456789")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.db'}")
    production = create_app()
    assert production.config["KOHTAAMO_ENV"] == "production"
    production.test_client_class = CsrfClient
    with production.app_context():
        try:
            db.create_all()
            user = make_user(role="facilitator", name="Pia Production", email="pia@example.fi")
            response = login(production.test_client(), user)
        finally:
            db.session.remove()
            db.engine.dispose()
    name = production.config["SESSION_COOKIE_NAME"]
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert cookies, response.headers
    flags = {part.strip().split("=")[0].lower() for part in cookies[-1].split(";")[1:]}
    assert {"secure", "httponly"} <= flags
    assert "samesite=lax" in cookies[-1].lower()


@pytest.mark.parametrize("url", ["/nope", "/clients/abc", "/clients/0", "/clients/-5", "/partners/1e9",
                                 "/clients/%00", "/clients/999999999999999999999"])
def test_bad_urls_are_404_not_500(auth_client, url):
    response = auth_client.get(url)
    assert response.status_code == 404
    assert "Sivua ei löytynyt" in response.get_data(as_text=True)


def test_405_page(auth_client):
    response = auth_client.put("/clients")
    assert response.status_code == 405
    assert "Allow" in response.headers


def test_413_page(auth_client):
    response = auth_client.post("/clients/new", data={"name": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_500_page_leaks_nothing(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internal detail" not in body and "Traceback" not in body


def test_tokens_are_redacted_from_logs():
    token = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abc"
    assert token not in redact(f'"GET /calendar/{token}.ics HTTP/1.1" 200')
    assert token not in redact(f'"GET /p/{token} HTTP/1.1" 200')
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - "%s" %s',
                               ("127.0.0.1", f"GET /calendar/{token}.ics HTTP/1.1", "200"), None)
    RedactTokens().filter(record)
    assert token not in record.getMessage()
    gunicorn_style = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s",
                                       None, None)
    gunicorn_style.args = {"r": f"GET /calendar/{token}.ics HTTP/1.1"}
    RedactTokens().filter(gunicorn_style)
    assert token not in gunicorn_style.getMessage()


def test_no_security_header_twice_and_a_views_own_value_wins(client, facilitator):
    from calendar_export import services as feeds

    sub, token = feeds.create_subscription(kind="staff", target_id=facilitator.id, created_by=facilitator)
    from core.extensions import db

    db.session.commit()
    for url, referrer in (("/login", "same-origin"), (f"/calendar/{token}.ics", "no-referrer")):
        response = client.get(url)
        keys = [key.lower() for key, _value in response.headers.items()]
        assert len(keys) == len(set(keys)), keys
        assert response.headers["Referrer-Policy"] == referrer


def test_strict_transport_security_when_cookies_are_https_only(database_url):
    from tests.conftest import _make_test_app

    assert "Strict-Transport-Security" not in _make_test_app(database_url).test_client().get("/login").headers
    secure = _make_test_app(database_url, {"SESSION_COOKIE_SECURE": True}).test_client()
    assert secure.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_session_cookie_is_checked_against_the_current_key(app, client, facilitator):
    login(client, facilitator)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.get("/").status_code == 200
    # The signer is built once per key, so a changed key must take effect at once: the old
    # cookie is refused, unless the old key is kept as a fallback (a key rotation).
    app.secret_key = "rotated-secret"
    assert client.get("/").status_code == 302
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret"]
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("path", ["/groups/", "/login"])
def test_an_unreachable_database_gives_a_503_page_that_needs_no_database(app, auth_client, path):
    """A restart or a lost connection: every statement fails. The page says to try again soon,
    leaks nothing, and renders without the database (the user cannot be loaded for it)."""
    import sqlalchemy as sa

    from core.extensions import db

    def unreachable(_conn, _cursor, statement, parameters, _context, _executemany):
        raise sa.exc.OperationalError(statement, parameters, Exception("server closed the connection unexpectedly"))

    db.session.remove()  # nothing cached from the login
    sa.event.listen(db.engine, "before_cursor_execute", unreachable)
    try:
        response = auth_client.get(path)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", unreachable)
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "<h1>Tilapäisesti poissa käytöstä</h1>" in body
    assert "server closed" not in body and "Traceback" not in body and "SELECT" not in body
    db.session.remove()
    assert auth_client.get("/groups/").status_code == 200  # still logged in once it is back


def test_other_database_errors_stay_500s(app, client):
    import sqlalchemy as sa

    @app.route("/constraint")
    def constraint():
        raise sa.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    response = client.get("/constraint")
    assert response.status_code == 500 and "Retry-After" not in response.headers
