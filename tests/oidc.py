"""A real OpenID Connect provider for the sign-in tests: panva's oidc-provider (the OpenID-certified
Node implementation, `tests/oidc_provider/`), started as its own process on 127.0.0.1, and a small
driver that signs a person in through its login and consent pages over HTTP, as a browser would.

Without node or the npm package the tests skip on a developer's machine and fail under CI
(``CI`` or ``REQUIRE_BROWSER``), like the calendar readers."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from bs4 import BeautifulSoup

HERE = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "kohtaamo"
CLIENT_SECRET = "test-client-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _require() -> None:
    missing = None
    if shutil.which("node") is None:
        missing = "node is not installed"
    elif not (HERE / "node_modules" / "oidc-provider").is_dir():
        missing = "run `npm ci` in tests/oidc_provider"
    if missing:
        if os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"the OpenID provider for the sign-in tests is missing: {missing}")
        pytest.skip(missing)


class Provider:
    def __init__(self, port: int, redirect_uri: str, logout_uri: str, id_token_ttl: int = 3600):
        _require()
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PORT": str(port), "REDIRECT_URI": redirect_uri, "LOGOUT_URI": logout_uri,
               "CLIENT_SECRET": CLIENT_SECRET, "ID_TOKEN_TTL": str(id_token_ttl)}
        self.process = subprocess.Popen(["node", "server.mjs"], cwd=HERE, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the OpenID provider did not start: {self.process.stdout.read()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process.stdout.close()


def sign_in_at_provider(authorize_url: str, login: str, stop_at: str) -> str:
    """Follow the provider's pages from the authorize URL: the login form (any password), then
    the consent form, until it redirects to ``stop_at`` (our callback); returns that URL."""
    http = requests.Session()
    url, method, data = authorize_url, "GET", None
    for _ in range(12):
        response = http.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url, method, data = urljoin(url, response.headers["Location"]), "GET", None
            if url.startswith(stop_at):
                return url
            continue
        form = BeautifulSoup(response.text, "html.parser").find("form")
        assert form is not None, response.text[:2000]
        data = {i.get("name"): i.get("value", "") for i in form.find_all("input") if i.get("name")}
        if "login" in data:
            data.update(login=login, password="any password")
        url, method = urljoin(url, form.get("action")), "POST"
    raise AssertionError("the provider never redirected back")
