"""Login, logout, server-side sessions, throttling and password rules."""
from __future__ import annotations

import sqlalchemy as sa

from accounts.models import LoginAttempt, User, UserSession
from core.extensions import db
from tests.factories import PASSWORD, login, make_user


def test_password_is_hashed_with_argon2id(app, facilitator):
    stored = db.session.get(User, facilitator.id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_login_success_redirects_and_is_logged(client, facilitator):
    response = login(client, facilitator)
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert facilitator.name in page.get_data(as_text=True)
    attempt = db.session.scalars(sa.select(LoginAttempt)).one()
    assert attempt.success is True and attempt.email == facilitator.email


def test_wrong_password_is_refused_and_logged(client, facilitator):
    response = client.post_form("/login", {"email": facilitator.email, "password": "wrong password here"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Väärä sähköpostiosoite tai salasana" in body
    # The typed email is kept in the form.
    assert f'value="{facilitator.email}"' in body
    assert client.get("/").status_code == 302
    attempt = db.session.scalars(sa.select(LoginAttempt)).one()
    assert attempt.success is False


def test_email_is_case_insensitive(client, facilitator):
    response = client.post_form("/login", {"email": facilitator.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # the session was stored


def test_deactivated_user_cannot_log_in(client, fresh_db):
    user = make_user(active=False)
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert client.get("/").status_code == 302
    assert fresh_db.scalars(sa.select(LoginAttempt.success)) == [False]  # the refused attempt counts


def test_login_rate_limited_per_account_and_address(app, client, facilitator):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        client.post_form("/login", {"email": facilitator.email, "password": "wrong password here"})
    # Even the right password is refused from this address (other addresses: test_auth_throttle).
    response = client.post_form("/login", {"email": facilitator.email, "password": PASSWORD})
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert "Liian monta epäonnistunutta yritystä" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_rate_limited_per_address(app, client):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for i in range(3):
        client.post_form("/login", {"email": f"nobody{i}@example.fi", "password": "wrong password here"})
    user = make_user()
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429


def test_rate_limit_is_shared_through_the_database(app, facilitator):
    """Two clients (think: two gunicorn workers) see the same failure count."""
    first, second = app.test_client(), app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES_PER_PAIR"]
    for i in range(limit):
        (first if i % 2 else second).post_form("/login", {"email": facilitator.email, "password": "nope nope nope"})
    third = app.test_client()
    assert third.post_form("/login", {"email": facilitator.email, "password": PASSWORD}).status_code == 429


def test_next_only_redirects_inside_the_site(client, facilitator):
    token = client.csrf_token()
    data = {"email": facilitator.email, "password": PASSWORD, "csrf_token": token}
    response = client.post("/login?next=https://evil.example/steal", data=data)
    assert response.headers["Location"] == "/"
    client.post_form("/logout", token_from="/")
    for bad in ("//evil.example", "/\\evil.example", "javascript:alert(1)"):
        data["csrf_token"] = client.csrf_token()
        response = client.post("/login", query_string={"next": bad}, data=data)
        assert response.headers["Location"] == "/", bad
        client.post_form("/logout", token_from="/")
    data["csrf_token"] = client.csrf_token()
    response = client.post("/login?next=/clients", data=data)
    assert response.headers["Location"] == "/clients"
    assert client.get("/clients").status_code == 200


def test_login_required_redirects_with_next(client):
    response = client.get("/clients")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_really_ends_the_session(app, client, facilitator):
    login(client, facilitator)
    cookie = client.get_cookie("kohtaamo_session").value
    assert client.post_form("/logout", token_from="/").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id))) == 0
    # A copy of the old cookie no longer works.
    thief = app.test_client()
    thief.set_cookie("kohtaamo_session", cookie)
    assert thief.get("/").status_code == 302


def test_logout_is_post_only(auth_client):
    assert auth_client.get("/logout").status_code == 405
    assert auth_client.get("/").status_code == 200


def test_password_change_ends_other_sessions(app, facilitator):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, facilitator)
    login(phone, facilitator)
    response = laptop.post_form("/account/password", {
        "current_password": PASSWORD, "new_password": "a brand new passphrase", "confirm": "a brand new passphrase",
    }, token_from="/account/password")
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200      # this login stays
    assert phone.get("/").status_code == 302       # the other one ended
    fresh = app.test_client()
    assert fresh.post_form("/login", {"email": facilitator.email, "password": PASSWORD}).status_code == 200
    login(fresh, facilitator, "a brand new passphrase")


def test_password_rules(auth_client, facilitator):
    def change(new, confirm=None, current=PASSWORD):
        return auth_client.post_form("/account/password", {
            "current_password": current, "new_password": new, "confirm": confirm if confirm is not None else new,
        }, token_from="/account/password")

    short = change("short pass")
    assert short.status_code == 200 and "12–128 merkkiä" in short.get_data(as_text=True)
    assert "12–128 merkkiä" in change("x" * 129).get_data(as_text=True)
    assert "eivät täsmää" in change("long enough password", "another long password").get_data(as_text=True)
    assert "Nykyinen salasana on väärä" in change("long enough password", current="not my password").get_data(as_text=True)
    # No composition rules: twelve lowercase letters are fine.
    assert change("aaaabbbbcccc").status_code == 302
    auth_client.post_form("/logout", token_from="/")
    login(auth_client, facilitator, "aaaabbbbcccc")  # the new password was stored
