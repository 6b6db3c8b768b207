"""Password guessing is throttled without letting anyone lock an owner out (issue #20, point 11).

Per (account, address) pair a hard limit; per address a hard limit over all accounts; per account
only a growing delay for each address after its own last attempt. Counted in the database."""
from __future__ import annotations

import sqlalchemy as sa

from accounts import services
from accounts.models import LoginAttempt, User
from tests.factories import PASSWORD, login

WRONG = "wrong password here"


def _login(client, email, password, address):
    return client.post_form("/login", {"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_a_flood_from_one_address_stops_that_address_and_not_the_owner(app, facilitator, fresh_db):
    attacker = app.test_client()
    statuses = [_login(attacker, facilitator.email, WRONG, "203.0.113.66").status_code for _ in range(30)]
    limit = app.config["LOGIN_MAX_FAILURES_PER_PAIR"]
    assert statuses[:limit] == [200] * limit and set(statuses[limit:]) == {429}
    # The attacker's address is stopped even with the right password...
    refused = _login(attacker, facilitator.email, PASSWORD, "203.0.113.66")
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "Liian monta epäonnistunutta yritystä" in refused.get_data(as_text=True)
    assert attacker.get("/").status_code == 302
    # ...while the owner, from the office, logs in at once.
    owner = app.test_client()
    response = _login(owner, facilitator.email, PASSWORD, "198.51.100.7")
    assert response.status_code == 302
    assert owner.get("/").status_code == 200
    attempts = fresh_db.scalars(sa.select(LoginAttempt).where(LoginAttempt.email == facilitator.email))
    assert len(attempts) == 32 and [a.success for a in attempts].count(True) == 1


def test_a_flood_from_many_addresses_slows_each_of_them_and_not_the_owner(app, facilitator):
    botnet = app.test_client()
    for i in range(40):
        _login(botnet, facilitator.email, WRONG, f"192.0.2.{i + 1}")
    # The account has had 40 failures: an address that guessed already must wait before its next
    # guess is even checked (the right password too)...
    again = _login(botnet, facilitator.email, PASSWORD, "192.0.2.1")
    assert again.status_code == 429
    wait = int(again.headers["Retry-After"])
    assert 1 <= wait <= app.config["LOGIN_MAX_DELAY_SECONDS"]
    assert "sekuntia" in again.get_data(as_text=True)
    # ...but the owner from an address of their own is let in.
    owner = app.test_client()
    assert _login(owner, facilitator.email, PASSWORD, "198.51.100.7").status_code == 302
    assert owner.get("/").status_code == 200


def test_the_per_account_delay_grows_and_ends(app, facilitator, frozen_time):
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    delays = [services.account_delay(n) for n in range(limit + 8)]
    assert delays[:limit] == [0] * limit
    assert delays[limit:] == sorted(delays[limit:]) and delays[limit] > 0
    assert max(delays) == app.config["LOGIN_MAX_DELAY_SECONDS"]
    client = app.test_client()
    for i in range(limit + 3):
        _login(client, facilitator.email, WRONG, f"192.0.2.{i + 1}")
    assert _login(client, facilitator.email, PASSWORD, "192.0.2.1").status_code == 429
    # Once the delay has passed, the same address's next guess is checked again.
    frozen_time.shift(seconds=app.config["LOGIN_MAX_DELAY_SECONDS"] + 1)
    assert _login(client, facilitator.email, PASSWORD, "192.0.2.1").status_code == 302


def test_guesses_of_the_current_password_are_throttled_like_logins(app, client, facilitator, fresh_db):
    login(client, facilitator)

    def change(current):
        return client.post_form("/account/password", {
            "current_password": current, "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase"}, token_from="/account/password")

    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_PAIR"]):
        wrong = change("not my password at all")
        assert wrong.status_code == 200 and "Nykyinen salasana on väärä" in wrong.get_data(as_text=True)
    before = fresh_db.scalar(sa.select(User.password_hash).where(User.id == facilitator.id))
    # The next guess is not checked, not even the right password.
    refused = change(PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "Liian monta epäonnistunutta yritystä" in refused.get_data(as_text=True)
    assert fresh_db.scalar(sa.select(User.password_hash).where(User.id == facilitator.id)) == before
    failures = fresh_db.scalar(sa.select(sa.func.count(LoginAttempt.id)).where(
        LoginAttempt.email == facilitator.email, LoginAttempt.success.is_(False)))
    assert failures == app.config["LOGIN_MAX_FAILURES_PER_PAIR"] + 1
    # And the guesses count for logins from the same address too.
    other = app.test_client()
    assert other.post_form("/login", {"email": facilitator.email, "password": PASSWORD}).status_code == 429


def test_a_success_starts_the_pairs_count_afresh(app, facilitator, fresh_db):
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES_PER_PAIR"]
    for _ in range(limit - 1):
        assert _login(client, facilitator.email, WRONG, "198.51.100.7").status_code == 200
    assert _login(client, facilitator.email, PASSWORD, "198.51.100.7").status_code == 302
    client.post_form("/logout", token_from="/")
    # Mistyped passwords after the success count from it, not from the earlier ones.
    for _ in range(limit - 1):
        assert _login(client, facilitator.email, WRONG, "198.51.100.7").status_code == 200
    assert _login(client, facilitator.email, PASSWORD, "198.51.100.7").status_code == 302
    # Every attempt was recorded (the throttle's memory is the database).
    attempts = fresh_db.scalars(sa.select(LoginAttempt.success).where(LoginAttempt.email == facilitator.email)
                                .order_by(LoginAttempt.id))
    assert attempts == ([False] * (limit - 1) + [True]) * 2
