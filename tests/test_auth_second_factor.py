"""A second factor for local accounts (issue #24, point 2): enrolment confirmed by a first code,
logins that ask for a code, codes at the right, previous and wrong time step with the clock frozen
(time-machine), replays, recovery codes, throttling, expiry of the code step, the lead's
requirement and reset, and the security log. Codes are computed with pyotp from the secret the
enrolment page shows, as an authenticator app would; stored rows are read through ``fresh_db``."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from accounts.models import LoginAttempt, RecoveryCode, SecurityEvent, TotpCredential
from tests.factories import PASSWORD, login


def _t0() -> datetime:
    # 10 s into the next 30-s step: a little ahead of the real clock, never behind it (signed
    # cookies made now would be "from the future" and refused), and far enough into its step
    # that "the previous step" is unambiguous.
    now = int(datetime.now(UTC).timestamp())
    return datetime.fromtimestamp(now - now % 30 + 40, tz=UTC)


def _secret(page: str) -> str:
    return re.search(r'<code class="secret-key">([A-Z2-7]+)</code>', page).group(1)


def _enrol(client, at=None) -> tuple[str, list[str]]:
    at = at or _t0()
    with time_machine.travel(at, tick=False):
        page = client.get("/account/second-factor").get_data(as_text=True)
        secret = _secret(page)
        response = client.post_form("/account/second-factor", {"enrol-code": pyotp.TOTP(secret).at(at),
                                                                "enrol-csrf_token": client.csrf_token(
                                                                    "/account/second-factor")})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    codes = re.findall(r"<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>", response.get_data(as_text=True))
    return secret, codes


def _password(client, user, address="198.51.100.7"):
    return client.post_form("/login", {"email": user.email, "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": address})


def _code(client, code, address="198.51.100.7"):
    return client.post_form("/login/code", {"code": code}, token_from="/login/code",
                            environ_base={"REMOTE_ADDR": address})


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


@pytest.fixture
def enrolled(app, facilitator, fresh_db):
    client = app.test_client()
    login(client, facilitator)
    secret, codes = _enrol(client)
    # The enrolment reached the database (a test that relies on it must not pass without it).
    assert fresh_db.scalar(sa.select(TotpCredential.user_id).where(TotpCredential.user_id == facilitator.id)) \
        == facilitator.id
    client.post_form("/logout", {}, token_from="/")
    return secret, codes


def test_enrolment_needs_a_right_first_code_and_stores_only_hashes(app, auth_client, facilitator, fresh_db):
    with time_machine.travel(_t0(), tick=False):
        page = auth_client.get("/account/second-factor").get_data(as_text=True)
        assert "<svg" in page  # the QR code, inline
        secret = _secret(page)
        wrong = auth_client.post_form("/account/second-factor", {"enrol-code": "000000",
                                      "enrol-csrf_token": auth_client.csrf_token("/account/second-factor")})
    assert "does not match" in wrong.get_data(as_text=True) or "ei täsmää" in wrong.get_data(as_text=True)
    assert fresh_db.scalar(sa.select(TotpCredential)) is None

    secret2, codes = _enrol(auth_client)
    assert secret2 == secret  # the key shown stays the same until it is confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = fresh_db.scalar(sa.select(TotpCredential))
    assert stored.user_id == facilitator.id and stored.secret == secret
    hashes = fresh_db.scalars(sa.select(RecoveryCode.code_hash))
    assert len(hashes) == 10 and not any(c.replace("-", "") in h for c in codes for h in hashes)
    events = fresh_db.scalars(sa.select(SecurityEvent.kind))
    assert events == ["totp_enrolled"]


def test_a_login_asks_for_the_code_and_takes_the_current_or_previous_step(app, facilitator, enrolled):
    secret, _codes = enrolled
    totp = pyotp.TOTP(secret)
    client = app.test_client()
    t = _t0() + timedelta(minutes=5)
    with time_machine.travel(t, tick=False):
        response = _password(client, facilitator)
        assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
        assert not _logged_in(client)  # a right password alone is not a login
        # The next step's code has not been shown yet; two steps back is too old.
        assert _code(client, totp.at(t + timedelta(seconds=30))).status_code == 200
        assert _code(client, totp.at(t - timedelta(seconds=60))).status_code == 200
        assert not _logged_in(client)
        assert _code(client, totp.at(t - timedelta(seconds=30))).status_code == 302  # the previous step
        assert _logged_in(client)


def test_a_used_code_cannot_be_used_again(app, facilitator, enrolled):
    secret, _codes = enrolled
    t = _t0() + timedelta(minutes=10)
    code = pyotp.TOTP(secret).at(t)
    first, second = app.test_client(), app.test_client()
    with time_machine.travel(t, tick=False):
        _password(first, facilitator)
        assert _code(first, code).status_code == 302
        _password(second, facilitator)
        refused = _code(second, code)
    assert refused.status_code == 200 and not _logged_in(second)
    assert "already used" in refused.get_data(as_text=True) or "jo käytetty" in refused.get_data(as_text=True)


def test_a_recovery_code_works_once_and_is_logged(app, facilitator, enrolled, fresh_db):
    _secret_, codes = enrolled
    client = app.test_client()
    _password(client, facilitator)
    assert _code(client, codes[3].upper()).status_code == 302  # case and dash do not matter
    assert _logged_in(client)
    other = app.test_client()
    _password(other, facilitator)
    assert _code(other, codes[3]).status_code == 200 and not _logged_in(other)
    assert "recovery_code_used" in fresh_db.scalars(sa.select(SecurityEvent.kind))
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                           .where(RecoveryCode.used_at.is_not(None))) == 1


def test_guessing_codes_is_throttled_like_guessing_passwords(app, facilitator, enrolled, fresh_db):
    client = app.test_client()
    _password(client, facilitator, address="203.0.113.9")
    statuses = [_code(client, f"{n:06d}", address="203.0.113.9").status_code for n in range(8)]
    limit = app.config["LOGIN_MAX_FAILURES_PER_PAIR"]
    assert 429 in statuses and statuses.index(429) <= limit
    failures = fresh_db.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)
                               .where(LoginAttempt.email == facilitator.email, LoginAttempt.success.is_(False)))
    assert failures >= limit


def test_a_code_entered_after_the_login_step_expired_starts_over(app, facilitator, enrolled):
    secret, _codes = enrolled
    client = app.test_client()
    with time_machine.travel(_t0() + timedelta(hours=1), tick=False):
        _password(client, facilitator)
    late = _t0() + timedelta(hours=1, minutes=6)
    with time_machine.travel(late, tick=False):
        response = _code(client, pyotp.TOTP(secret).at(late))
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert not response.headers["Location"].endswith("/login/code")
        assert not _logged_in(client)


def test_the_code_step_without_a_password_step_leads_to_the_login(app, client):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_a_deactivated_account_cannot_finish_the_code_step(app, facilitator, lead, enrolled):
    secret, _codes = enrolled
    client = app.test_client()
    _password(client, facilitator)
    lead_client = app.test_client()
    login(lead_client, lead)
    lead_client.post_form(f"/staff/{facilitator.id}/active", {}, token_from="/staff")
    response = _code(client, pyotp.TOTP(secret).now())
    assert response.status_code == 302 and not _logged_in(client)


def test_the_lead_requires_a_second_factor_and_the_next_login_leads_to_setup(app, lead, facilitator, fresh_db):
    lead_client = app.test_client()
    login(lead_client, lead)
    lead_client.post_form("/staff/security", {"require_second_factor": "y"}, token_from="/staff/security")
    assert "requirement_on" in fresh_db.scalars(sa.select(SecurityEvent.kind))

    client = app.test_client()
    login(client, facilitator)
    for page in ("/", "/clients", "/account/password"):
        response = client.get(page)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/second-factor")
    later = _t0()
    _secret_, codes = _enrol(client, at=later)
    assert len(codes) == 10
    # (Checked at the enrolment's moment: its cookie was signed then.)
    with time_machine.travel(later + timedelta(seconds=1), tick=False):
        assert _logged_in(client)
        # With the requirement on, it cannot be turned off.
        page = client.get("/account/second-factor").get_data(as_text=True)
    assert "remove-code" not in page


def test_a_lead_removes_a_lost_phone_and_the_log_says_who(app, lead, facilitator, enrolled, fresh_db):
    lead_client = app.test_client()
    login(lead_client, lead)
    page = lead_client.get("/staff/security").get_data(as_text=True)
    assert facilitator.name in page
    lead_client.post_form(f"/staff/{facilitator.id}/second-factor/reset", {}, token_from="/staff/security")
    assert fresh_db.scalar(sa.select(TotpCredential)) is None
    event = fresh_db.scalar(sa.select(SecurityEvent).where(SecurityEvent.kind == "totp_reset"))
    assert event.user_id == facilitator.id and event.actor_id == lead.id
    # The facilitator signs in with the password alone again.
    client = app.test_client()
    assert _password(client, facilitator).status_code == 302 and _logged_in(client)


def test_turning_it_off_needs_a_valid_code(app, facilitator, enrolled, fresh_db):
    secret, _codes = enrolled
    client = app.test_client()
    t = _t0() + timedelta(minutes=2)
    with time_machine.travel(t, tick=False):
        _password(client, facilitator)
        assert _code(client, pyotp.TOTP(secret).at(t - timedelta(seconds=30))).status_code == 302
        bad = client.post_form("/account/second-factor", {"remove-code": "123456",
                               "remove-csrf_token": client.csrf_token("/account/second-factor")})
        assert bad.status_code == 200 and fresh_db.scalar(sa.select(TotpCredential)) is not None
        good = client.post_form("/account/second-factor", {"remove-code": pyotp.TOTP(secret).at(t),
                                "remove-csrf_token": client.csrf_token("/account/second-factor")})
    assert good.status_code == 302 and fresh_db.scalar(sa.select(TotpCredential)) is None
    assert "totp_removed" in fresh_db.scalars(sa.select(SecurityEvent.kind))


def test_only_a_lead_sees_the_security_page(auth_client):
    assert auth_client.get("/staff/security").status_code == 403
