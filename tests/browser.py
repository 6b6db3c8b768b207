"""Browser-test support: the app served on 127.0.0.1 in a thread, Debian's Chromium driven by
Playwright, and axe-core (from axe-playwright-python) run on pages.

Use the fixtures ``live_server`` (base URL) and ``page`` (a Playwright page at phone or desktop
width), and ``assert_accessible(page)`` on every page a test reaches. Without Chromium the tests
are skipped, unless ``REQUIRE_BROWSER=1`` makes that a failure.
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _require_browser() -> None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1: " + message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


@pytest.fixture(params=[PHONE], ids=["phone"])
def viewport(request):
    return request.param


@pytest.fixture
def page(browser, live_server, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="fi-FI")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def assert_accessible(page, *, context: str = "") -> None:
    """Run axe-core's WCAG 2.1 A/AA rules on the current page; zero violations expected."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, (
        f"axe-core violations on {page.url} {context}:\n{results.generate_report()}"
    )


def click_through(page, target) -> None:
    """Click a link or a form's button and wait until the page it leads to has loaded.

    Playwright's click returns once the navigation has started; reading the page straight
    after it could see the old page or an empty new document (CI once failed on exactly
    that), so every click that leaves the page goes through here.
    """
    with page.expect_navigation():
        if isinstance(target, str):
            page.click(target)
        else:
            target.click()


def browser_login(page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    click_through(page, "main form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
