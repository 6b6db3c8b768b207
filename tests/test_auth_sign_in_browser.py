"""Signing in as staff do, in Chromium at phone width with axe on every page of ours: through the
organisation's OpenID provider (a real oidc-provider process and its own login pages), and with a
password and an authenticator code (pyotp computes the code from the key the setup page shows)."""
from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from accounts.models import TotpCredential, User  # noqa: F401
from core.extensions import db
from tests.browser import assert_accessible, browser_login, click_through
from tests.factories import PASSWORD, make_user
from tests.oidc import CLIENT_ID, CLIENT_SECRET, Provider, free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def provider_port():
    return free_port()


@pytest.fixture
def app_config(provider_port):
    return {"OIDC_ISSUER": f"http://127.0.0.1:{provider_port}", "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_SCOPES": "openid email profile", "OIDC_NAME": "Hyvinvointialue"}


def test_staff_sign_in_through_the_organisations_provider(app, page, live_server, provider_port, fresh_db):
    user = make_user(email="fiia@example.fi", name="Fiia Fasilitaattori")
    db.session.commit()
    provider = Provider(provider_port, f"{live_server.url}/login/sso/callback", f"{live_server.url}/login")
    try:
        page.goto("/login")
        assert_accessible(page, context="login with single sign-on")
        # The organisation's button comes first, before the password form.
        first = page.locator("main a.button, main form").first
        assert first.evaluate("e => e.tagName") == "A"
        click_through(page, page.get_by_role("link", name="Kirjaudu: Hyvinvointialue"))
        # The provider's own login and consent pages.
        page.fill("input[name=login]", "fiia")
        page.fill("input[name=password]", "any password")
        click_through(page, "button[type=submit]")
        click_through(page, "button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        assert_accessible(page, context="start page after single sign-on")
        assert fresh_db.get(User, user.id).oidc_subject == "fiia"
    finally:
        provider.stop()


def test_password_and_authenticator_code(app, page, live_server, fresh_db):
    user = make_user(email="leo@example.fi", name="Leo Lead", role="lead")
    db.session.commit()
    browser_login(page, "leo@example.fi", PASSWORD)
    page.goto("/account/second-factor")
    assert_accessible(page, context="second factor setup")
    secret = page.locator("code.secret-key").inner_text()
    page.fill("#enrol-code", pyotp.TOTP(secret).now())
    click_through(page, "main form button[type=submit]")
    assert_accessible(page, context="recovery codes")
    codes = [c.inner_text() for c in page.locator(".recovery-codes li code").all()]
    assert len(codes) == 10
    assert fresh_db.scalar(sa.select(TotpCredential.user_id)) == user.id
    _log_out(page)
    page.goto("/login")
    page.fill("#email", "leo@example.fi")
    page.fill("#password", PASSWORD)
    click_through(page, "main form button[type=submit]")
    assert page.url.endswith("/login/code")
    assert_accessible(page, context="code step")
    # The code used for setup may not be used again within its step, so this login uses a
    # recovery code (codes by step are covered in tests/test_auth_second_factor.py).
    page.fill("#code", codes[0])
    click_through(page, "main form button[type=submit]")
    assert not page.url.endswith("/login/code"), page.content()[:1000]
    page.goto("/staff/security")
    assert_accessible(page, context="security log")
    assert "otti käyttöön toisen tunnistustavan" in page.content()
    assert "kirjautui varakoodilla" in page.content()


def test_a_passkey_registers_signs_in_and_fails_once_removed(app, page, live_server, fresh_db):
    """Chromium's virtual authenticator (CDP WebAuthn domain) stands in for a phone's screen lock.
    Passkeys need a domain, not an IP address, so the site is opened as localhost."""
    from accounts.models import PasskeyCredential

    user = make_user(email="pasi@example.fi", name="Pasi Passkey")
    db.session.commit()
    user_id = user.id
    site = f"http://localhost:{live_server.port}"
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})

    page.goto(f"{site}/login")
    page.fill("#email", "pasi@example.fi")
    page.fill("#password", PASSWORD)
    click_through(page, "main form button[type=submit]")
    page.goto(f"{site}/account/second-factor")
    page.fill("#passkey-name", "Työpuhelin")
    click_through(page, page.get_by_role("button", name="Lisää pääsyavain"))
    assert_accessible(page, context="passkey added")
    assert "Työpuhelin" in page.content()
    stored = fresh_db.scalar(sa.select(PasskeyCredential))
    assert stored.user_id == user_id and stored.name == "Työpuhelin"

    _log_out(page)
    page.goto(f"{site}/login")
    page.fill("#email", "pasi@example.fi")
    page.fill("#password", PASSWORD)
    click_through(page, "main form button[type=submit]")
    assert page.url.endswith("/login/code")
    click_through(page, page.get_by_role("button", name="Käytä pääsyavainta"))
    page.wait_for_url(f"{site}/")
    assert fresh_db.scalar(sa.select(PasskeyCredential.last_used_at)) is not None

    # Removed on the server, the passkey the authenticator still holds is refused.
    page.goto(f"{site}/account/second-factor")
    click_through(page, page.get_by_role("button", name=re.compile("Poista")).first)
    assert fresh_db.scalar(sa.select(PasskeyCredential)) is None
    # With another factor (an authenticator app) the login still has its second step; there the
    # authenticator offers the removed passkey, and the server refuses it.
    db.session.remove()  # end the test's stale read snapshot before writing (SQLite)
    db.session.add(TotpCredential(user_id=user_id, secret=pyotp.random_base32()))
    db.session.commit()
    _log_out(page)
    page.goto(f"{site}/login")
    page.fill("#email", "pasi@example.fi")
    page.fill("#password", PASSWORD)
    click_through(page, "main form button[type=submit]")
    assert page.url.endswith("/login/code")
    status = page.evaluate("""async () => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const post = (url, body) => fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json',
            'X-CSRFToken': csrf}, body: JSON.stringify(body)});
        const options = await (await post('/login/passkey/options', {})).json();
        const credential = await navigator.credentials.get(
            {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
        return (await post('/login/passkey', {credential: credential.toJSON()})).status;
    }""")
    assert status == 400
    page.goto(f"{site}/")
    assert "/login" in page.url  # still not logged in


def _log_out(page) -> None:
    # At phone width the log-out button is inside the header's menu.
    menu = page.locator("summary.nav-menu-button")
    if menu.is_visible():
        menu.click()
    click_through(page, page.get_by_role("button", name=re.compile("Kirjaudu ulos|Log out")))


def _through_provider(page, login: str) -> None:
    page.context.clear_cookies()  # a new person: no session at the provider (nor here)
    page.goto("/login")
    click_through(page, page.get_by_role("link", name="Kirjaudu: Hyvinvointialue"))
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password")
    click_through(page, "button[type=submit]")
    click_through(page, "button[type=submit]")


def test_refused_single_sign_ons_in_the_browser(app, page, live_server, provider_port, fresh_db):
    """A person with no account and a deactivated account, each through the provider's real
    pages: a clear page (axe-checked), and nobody logged in. (A forged state, a replayed code and an
    expired token follow below, in Chromium too.)"""
    make_user(email="fiia@example.fi", name="Fiia Fasilitaattori", active=False)
    db.session.commit()
    provider = Provider(provider_port, f"{live_server.url}/login/sso/callback", f"{live_server.url}/login")
    try:
        _through_provider(page, "stranger")
        assert "Sinulla ei ole vielä Kohtaamo-tunnusta" in page.content()
        assert_accessible(page, context="no account")

        _through_provider(page, "fiia")
        assert "Tämä tunnus ei ole käytössä" in page.content()
        page.goto("/")
        assert "/login" in page.url
    finally:
        provider.stop()


def _capture_callback(page, login: str) -> str:
    """Go through the provider's real pages in Chromium, and hold back the browser's request to our
    callback: return its URL (code and state) without letting it reach the app.

    Playwright's ``page.route`` does not see a request that is the target of a redirect, which the
    callback always is; Chromium's own interception (the CDP Fetch domain) does."""
    cdp = page.context.new_cdp_session(page)
    captured: list[str] = []

    def paused(event):
        captured.append(event["request"]["url"])
        cdp.send("Fetch.fulfillRequest", {"requestId": event["requestId"], "responseCode": 200,
                                          "responseHeaders": [{"name": "Content-Type", "value": "text/plain"}],
                                          "body": base64.b64encode(b"held back by the test").decode()})

    cdp.on("Fetch.requestPaused", paused)
    cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*/login/sso/callback*", "requestStage": "Request"}]})
    try:
        page.context.clear_cookies()
        page.goto("/login")
        click_through(page, page.get_by_role("link", name="Kirjaudu: Hyvinvointialue"))
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", "any password")
        click_through(page, "button[type=submit]")
        if "held back" not in page.content():  # the provider asks for consent the first time only
            click_through(page, "button[type=submit]")
        assert "held back" in page.content()
    finally:
        cdp.send("Fetch.disable")
        cdp.detach()
    assert len(captured) == 1, captured
    query = parse_qs(urlparse(captured[0]).query)
    assert query["code"][0] and query["state"][0]
    return captured[0]


def _signed_in(page) -> bool:
    page.goto("/")
    return "/login" not in page.url


def _refusal_shown(page) -> None:
    assert "ei voitu viedä loppuun" in page.content(), page.content()[:1500]
    assert_accessible(page, context="refused sign-in")


def test_a_forged_state_is_refused_in_the_browser(app, page, live_server, provider_port, fresh_db):
    """The callback's state does not match the one this browser's session sent (a login CSRF):
    refused with a clear page; no session, and the account is not linked."""
    user = make_user(email="fiia@example.fi", name="Fiia Fasilitaattori")
    db.session.commit()
    provider = Provider(provider_port, f"{live_server.url}/login/sso/callback", f"{live_server.url}/login")
    try:
        url = _capture_callback(page, "fiia")
        parsed = urlparse(url)
        query = parse_qs(parsed.query)
        page.goto(f"{parsed.path}?{urlencode({'code': query['code'][0], 'state': 'forged'})}")
        _refusal_shown(page)
        assert not _signed_in(page)
        assert fresh_db.get(User, user.id).oidc_subject is None
        # The genuine URL still works afterwards: the refusal did not come from a broken flow.
        page.goto(url)
        assert _signed_in(page)
    finally:
        provider.stop()


def test_a_replayed_code_is_refused_in_the_browser(app, page, live_server, provider_port, fresh_db):
    """A callback URL used once (from the history, a proxy log, a shoulder) cannot sign in again,
    even with the state of a new sign-in in the same browser: the provider refuses the code."""
    make_user(email="fiia@example.fi", name="Fiia Fasilitaattori")
    db.session.commit()
    provider = Provider(provider_port, f"{live_server.url}/login/sso/callback", f"{live_server.url}/login")
    try:
        used = _capture_callback(page, "fiia")
        page.goto(used)
        assert _signed_in(page)
        # Someone else's browser, holding the used URL, starts a sign-in of its own (its state is in
        # that browser's session) and sends the old code with it.
        fresh = _capture_callback(page, "fiia")
        parsed = urlparse(used)
        code = parse_qs(parsed.query)["code"][0]
        state = parse_qs(urlparse(fresh).query)["state"][0]
        page.goto(f"{parsed.path}?{urlencode({'code': code, 'state': state})}")
        _refusal_shown(page)
        assert not _signed_in(page)
    finally:
        provider.stop()


def test_an_expired_id_token_is_refused_in_the_browser(app, page, live_server, provider_port, fresh_db):
    """ID tokens living one second; the app's clock (the live server runs in this process) is five
    minutes ahead when the callback arrives, beyond the two minutes of skew allowed."""
    user = make_user(email="fiia@example.fi", name="Fiia Fasilitaattori")
    db.session.commit()
    provider = Provider(provider_port, f"{live_server.url}/login/sso/callback", f"{live_server.url}/login",
                        id_token_ttl=1)
    try:
        url = _capture_callback(page, "fiia")
        with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5), tick=True):
            page.goto(url)
            _refusal_shown(page)
            assert not _signed_in(page)
        assert fresh_db.get(User, user.id).oidc_subject is None
    finally:
        provider.stop()


def test_a_provider_that_is_down_and_a_cancelled_sign_in_give_clear_pages(app, page, live_server, fresh_db):
    """No provider listens on the configured port: the button leads to a clear 503 page. A person
    who cancels at the provider comes back with ``error=access_denied``: a clear 400 page. Neither
    creates a session."""
    page.goto("/login")
    with page.expect_response(lambda r: r.url.endswith("/login/sso")) as answer:
        click_through(page, page.get_by_role("link", name="Kirjaudu: Hyvinvointialue"))
    assert answer.value.status == 503
    assert "ei ole juuri nyt käytettävissä" in page.content(), page.content()[:1500]
    assert_accessible(page, context="provider down")
    page.goto("/login/sso/callback?error=access_denied&error_description=cancelled")
    _refusal_shown(page)
    assert not _signed_in(page)
