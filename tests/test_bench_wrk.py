"""The benchmark's outside load generator (bench/wrk.py with bench/wrk_paths.lua) measures what
it claims: real wrk against a real gunicorn with the project's gunicorn.conf.py, its figures
parsed from the script's JSON, every status other than the expected one counted as an error
(so a page that answers the login redirect is never measured as a fast page), paths cycled,
and a signed-in page reached with the session cookie of one login, copied by hand from the
production cookie that carries Secure.

Short runs (2 s, after one warm-up request per path and worker, so that a cold worker's first
page on a busy machine does not outlast the run): this proves the harness, it measures nothing.
"""
from __future__ import annotations

import contextlib
import urllib.error
import urllib.request

import pytest

from bench import seed as bench_seed, wrk
from bench.load import Browser
from bench.run import wrk_request
from bench.server import Gunicorn


@pytest.fixture(scope="module")
def hello():
    wrk.ensure_wrk()
    with Gunicorn("bench.hello:app", workers=2, name="test-hello") as server:
        yield server


def test_wrk_measures_hello_world_and_reports_percentiles(hello):
    result = wrk.run(hello.port, ["/"], duration=1, concurrency=4)
    assert result["generator"] == "wrk" and result["errors"] == {}
    assert result["requests"] > 100 and result["ok"] == result["requests"]
    assert result["rps"] == pytest.approx(result["ok"] / result["seconds"], rel=0.01)
    assert 0 < result["p50_ms"] <= result["p90_ms"] <= result["p95_ms"] <= result["p99_ms"] <= result["max_ms"]


def test_a_status_other_than_the_expected_one_is_an_error(hello):
    """Half the paths answer 404: wrk itself counts only 4xx/5xx as "status errors" and a login
    redirect (302) not at all, so the script counts every unexpected status, and only the
    expected responses make the req/s figure."""
    result = wrk.run(hello.port, ["/", "/missing"], duration=1, concurrency=4)
    (key, bad), = result["errors"].items()
    assert key == "status other than 200 (first: 404)"
    # The paths alternate: about half of the requests went to each.
    assert 0.4 < bad / result["requests"] < 0.6
    assert result["ok"] == result["requests"] - bad
    expected_304 = wrk.run(hello.port, ["/"], duration=1, concurrency=2, expect=304)
    assert expected_304["ok"] == 0 and expected_304["rps"] == 0.0


def _warm(port: int, paths: list[str], headers: dict[str, str], workers: int = 2) -> None:
    """Ask each path once per worker before wrk runs: the first page a worker renders loads its
    templates and catalogues, which on a loaded 2-core machine can take longer than the run."""
    for path in paths[:3] * workers:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        # A 302 or 304 is an answer too (urllib raises it); the run below checks the statuses.
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=60).close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('wrk') / 'bench.db'}"
    state = bench_seed.seed(url, scale=0.005, progress=False)
    wrk.ensure_wrk()
    with Gunicorn("app:create_app()", database_url=url, workers=2, name="test-app") as server:
        yield server, state


def test_signed_in_pages_are_measured_with_the_copied_session_cookie(app_server):
    server, state = app_server
    browser = Browser(server.port)
    assert browser.login(state["lead_email"], state["password"]) == 302
    browser.close()
    # Production settings: the session cookie is Secure, which a plain-http client would drop.
    assert "kohtaamo_session" in browser.cookies
    cookie = wrk.cookie_header(browser.cookies)

    paths, headers, expect = wrk_request("meeting_page", state)
    assert len(paths) == len(state["meeting_ids"]) > 1
    _warm(server.port, paths, {**headers, "Cookie": cookie})
    signed_in = wrk.run(server.port, paths, duration=2, concurrency=2, headers={**headers, "Cookie": cookie},
                        expect=expect)
    assert signed_in["errors"] == {} and signed_in["ok"] > 0

    # Without the cookie every request is the login redirect, and the run says so.
    signed_out = wrk.run(server.port, ["/meetings/tasks"], duration=1, concurrency=2)
    assert signed_out["ok"] == 0
    assert list(signed_out["errors"]) == ["status other than 200 (first: 302)"]


def test_every_new_daily_page_answers_under_wrk(app_server):
    """The pages the benchmark added (meeting list, client list and page, outreach rota, the
    reports) and the conditional feed GET answer their expected status for the lead's cookie."""
    server, state = app_server
    browser = Browser(server.port)
    assert browser.login(state["lead_email"], state["password"]) == 302
    browser.close()
    cookie = wrk.cookie_header(browser.cookies)
    for scenario in ("meeting_list", "client_list", "client_page", "outreach_rota", "feedback_report",
                     "outreach_report", "feed_304"):
        paths, headers, expect = wrk_request(scenario, {**state, "_port": server.port})
        if scenario != "feed_304":
            headers["Cookie"] = cookie
        _warm(server.port, paths, headers)
        result = wrk.run(server.port, paths, duration=2, concurrency=2, headers=headers, expect=expect)
        assert result["errors"] == {} and result["ok"] > 0, (scenario, result)
