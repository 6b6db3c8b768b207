"""Side-by-side micro-measurements:

- the full partner feed over HTTP, rendered (its stored body dropped first) and served from the
  stored body, vs icalendar alone serialising the same events (the pure builder
  ``calendar_export.ical.build_feed_ics``, in process, no database, no request);
- a results chart served from the cache vs its first render (over HTTP, and in process: the
  matplotlib render vs the cache lookup).
"""
from __future__ import annotations

import itertools
import statistics
import time

import sqlalchemy as sa

from .load import Browser

REPEAT = 7


def _median_ms(fn, repeat: int = REPEAT) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 2), value


def _app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-micro", "TESTING": False,
                       "SERVER_NAME": None})


def feed_vs_icalendar(port: int, state: dict, url: str) -> dict:
    from flask_babel import force_locale

    from calendar_export import services as cal
    from calendar_export.ical import build_feed_ics
    from calendar_export.sources import FeedScope, Window, collect_events
    from core.extensions import db

    path = f"/calendar/{state['partner_feed_token']}.ics"
    browser = Browser(port)
    status, _h, body = browser.request("GET", path)  # warm the worker's caches
    assert status == 200, status

    def fetch():
        s, _hh, b = browser.request("GET", path)
        assert s == 200, s
        return b

    # The feed keeps its rendered body until the data changes; the stored-body GET is measured
    # in the load table. Here every request renders: the stored bodies are dropped before each
    # one (outside the timing), so this is the full render that the target is about.
    store = sa.create_engine(url)

    def drop_stored_bodies():
        with store.begin() as conn:
            conn.execute(sa.text("DELETE FROM calendar_feed_cache"))

    def render():
        drop_stored_bodies()
        t0 = time.perf_counter()
        b = fetch()
        return time.perf_counter() - t0, b

    renders = [render() for _ in range(REPEAT)]
    http_ms = round(statistics.median(t for t, _ in renders) * 1000, 2)
    body = renders[-1][1]
    stored_ms, _ = _median_ms(fetch)
    store.dispose()
    browser.close()
    events_in_feed = body.count(b"BEGIN:VEVENT")

    app = _app(url)
    with app.app_context(), app.test_request_context():
        scope = FeedScope("partner", state["busy_partner_id"])
        window = Window.around()
        with force_locale("fi"):
            query_ms, events = _median_ms(lambda: collect_events(scope, window), 3)
        target = cal.target_of("partner", state["busy_partner_id"])
        build_ms, built = _median_ms(lambda: build_feed_ics(events, f"Kohtaamo: {target.name}"))
        db.session.remove()
        db.engine.dispose()
    return {"events": events_in_feed, "events_built": len(events), "http_full_feed_ms": http_ms,
            "http_stored_body_ms": stored_ms,
            "icalendar_alone_ms": build_ms, "collect_events_ms": query_ms,
            "ratio": round(http_ms / build_ms, 2) if build_ms else None, "bytes": len(body),
            "same_size": abs(len(built) - len(body)) < 200}


def chart_cache(port: int, state: dict, url: str, workers: int = 5) -> dict:
    from core.db import utcnow
    from core.extensions import db
    from feedback import charts, services, summary
    from feedback.models import ChartCache
    from groups.models import Group

    paths = state.get("chart_paths") or []
    if not paths:
        return {"skipped": "no chart with enough responses to show"}
    path = paths[0]
    group_id, kind = int(path.split("/")[3]), path.rsplit("/", 1)[1].removesuffix(".svg")
    app = _app(url)
    store = sa.create_engine(url)

    # The chart measured is drawn from the group's roll calls (the attendance chart) or its
    # answers. Each timed first render needs data no worker has drawn yet: a key (summary.chart_key)
    # that no worker's in-memory copy and no stored row has. Deleting the stored charts alone does
    # not do it (a worker keeps the charts it served last), nor does a late answer (it changes
    # neither the roll calls nor a released group's figures): two of four runs timed a worker's
    # copy as the "first render". So each sample changes the roll call of one more session (its
    # present count is in the key, so the counts together are a key not seen before): an absent
    # participant marked present, or, in a session without absences, one present marked absent,
    # taken from the fullest sessions so that no count falls under the k threshold. The group's
    # release is dropped too: a finished group's figures would otherwise stay as they were.
    with store.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT a.id, a.session_id, a.status FROM attendance a JOIN group_session s ON s.id = a.session_id "
            "WHERE s.group_id = :g AND s.status <> 'cancelled' ORDER BY a.id"), {"g": group_id}).all()
    by_session: dict[int, list] = {}
    for row in rows:
        by_session.setdefault(row.session_id, []).append(row)
    fullest = sorted(by_session.values(), key=lambda rs: -sum(r.status == "present" for r in rs))
    # Round robin over the sessions; a session's count moves one way only, so no two samples
    # give the same counts.
    per_session = [[(r.id, "present") for r in rs if r.status != "present"]
                   or [(r.id, "absent") for r in rs if r.status == "present"][:2] for rs in fullest]
    changes = [change for round_ in itertools.zip_longest(*per_session) for change in round_ if change]
    samples = 5
    if len(changes) < samples:
        store.dispose()
        return {"skipped": f"the chart's group has {len(changes)} roll-call changes to make, {samples} needed"}

    def new_chart_state(sample: int):
        with store.begin() as conn:
            attendance_id, status = changes[sample]
            conn.execute(sa.text("UPDATE attendance SET status = :s WHERE id = :a"), {"s": status, "a": attendance_id})
            conn.execute(sa.delete(ChartCache))
            conn.execute(sa.text("DELETE FROM feedback_release WHERE group_id = :g"), {"g": group_id})

    browser = Browser(port)
    assert browser.login(state["lead_email"], state["password"]) == 302
    # Warm the worker on another page first, so the first render is not also a cold start.
    browser.request("GET", f"/feedback/groups/{group_id}")
    # The first render is timed several times (each after a new answer, outside the timing) and
    # the median kept: one sample on a shared machine moves the ratio by half.
    firsts, keys = [], set()
    for sample in range(samples):
        new_chart_state(sample)
        t0 = time.perf_counter()
        status, headers, first_body = browser.request("GET", path)
        firsts.append(time.perf_counter() - t0)
        assert status == 200, status
        keys.add(headers.get("etag"))
    # Each sample drew a chart of its own: had one been served from a copy, two would share a key.
    assert len(keys) == samples, f"{len(keys)} distinct chart keys in {samples} first renders"
    first_ms = round(statistics.median(firsts) * 1000, 2)
    store.dispose()

    def fetch():
        s, _hh, b = browser.request("GET", path)
        assert s == 200 and b == first_body
        return b

    # gunicorn's sync workers take turns, and a worker's first request to the database opens
    # its connection (PostgreSQL's password exchange alone takes milliseconds) on a server
    # process whose catalogue caches are still cold. Warm every worker first: the target is a
    # chart served from the cache in a running app, not a worker's first connection.
    for _ in range(10 * workers):
        fetch()
    cached_ms, _ = _median_ms(fetch, 21)
    browser.close()

    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "fi"}):
        group = db.session.get(Group, group_id)
        data = summary.group_summary(group).charts[kind]
        render = charts.RENDERERS[kind]
        render_ms, _ = _median_ms(lambda: render(data), 5)
        # What the route does on a hit: work out the key from the database, then read the row.
        now = utcnow()
        hit_ms, hit = _median_ms(
            lambda: services.cached_chart(summary.current_chart_state(group_id, kind, now=now).key), 11)
        assert hit is not None, "expected a cache hit"
        db.session.remove()
        db.engine.dispose()
    return {"path": path, "http_first_ms": first_ms, "http_cached_ms": cached_ms,
            "http_ratio": round(first_ms / cached_ms, 1) if cached_ms else None,
            "render_ms": render_ms, "cache_lookup_ms": hit_ms,
            "inprocess_ratio": round(render_ms / hit_ms, 1) if hit_ms else None}


def source_hashing() -> dict:
    """What hashing source files for the cache keys costs: once per process (the charts' renderer
    version at import, the feeds' render fingerprint on the first feed; both are remembered)."""
    import importlib
    import sys

    from flask import current_app

    app = _app("sqlite://")
    with app.app_context():
        from calendar_export import views
        from calendar_export.sources import sources

        modules = tuple(sorted({views.__name__, "calendar_export.ical", "calendar_export.sources"}
                               | {type(source).__module__ for source in sources()}))
        dirs = current_app.config.get("BABEL_TRANSLATION_DIRECTORIES", "")

        def fingerprint():
            views._render_fingerprint.cache_clear()
            return views._render_fingerprint(dirs, modules)

        fingerprint_ms, _ = _median_ms(fingerprint, 5)
        charts_ms, _ = _median_ms(lambda: importlib.reload(sys.modules["feedback.charts"]), 5)
    return {"feed_fingerprint_ms": fingerprint_ms, "charts_module_reload_ms": charts_ms, "files": len(modules) + 1}


def session_signer(repeat: int = 20000) -> dict:
    """Building the session cookie's signer, as Flask's SecureCookieSessionInterface does on every
    open_session and save_session (a cached signer was measured at 0.2 µs on 6.12.2026 and removed:
    no target needed the difference)."""
    import timeit

    from flask.sessions import SecureCookieSessionInterface

    app = _app("sqlite://")
    interface = SecureCookieSessionInterface()
    best = min(timeit.repeat(lambda: interface.get_signing_serializer(app), number=repeat, repeat=5))
    return {"library_us": round(best / repeat * 1e6, 1), "kept_us": 0.2}


