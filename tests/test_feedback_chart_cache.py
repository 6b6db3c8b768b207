"""The results charts' cache: a hit is served from a key worked out in one small query, never by
building the summary; anything the chart would show differently (the group's release, the
threshold, attendance, the language) is a new key and a new ETag, while a released chart never
changes (late answers are not in it); hidden data never gets a chart, not even a 304; HTTP
caching headers."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from feedback import charts, release, services, summary
from feedback.models import ChartCache
from groups.models import Attendance
from tests.factories import login, make_user
from tests.sqlcapture import captured_statements
from tests.test_feedback_factories import add_responses, attend, close_window, make_group, open_now


@pytest.fixture
def group(app, facilitator):
    return make_group([facilitator, make_user(name="Paula Pari")], sessions=3, enrolled=6)


def chart_url(group, kind="means"):
    return f"/feedback/groups/{group.id}/charts/{kind}.svg"


def with_answers(group, client=None):
    """Sessions 1 and 2 closed with 5 answers each from the 5 present; session 3's window has
    none; the round released (its results page opened once)."""
    w1, w2, w3 = (services.open_session_window(s) for s in group.sessions)
    db.session.commit()
    for session in group.sessions[:2]:
        attend(session, group.enrolments[1:6])
    add_responses(w1, [[8, 7, 9, 8]] * 5)
    add_responses(w2, [[5, 6, 7, 6]] * 5)
    for w in (w1, w2, w3):
        close_window(w)
    release.ensure_group_release(group)
    db.session.commit()
    return w1, w2, w3


def cached_rows():
    return db.session.scalar(sa.select(sa.func.count()).select_from(ChartCache))


def statements_of(fn):
    with captured_statements() as statements:
        result = fn()
    return result, statements


def forbid_drawing(monkeypatch):
    """From here on, building the summary or drawing a chart fails the test."""
    def fail(*args, **kwargs):
        pytest.fail("the summary was built or a chart drawn for a cached chart")

    monkeypatch.setattr(summary, "group_summary", fail)
    monkeypatch.setattr(charts, "RENDERERS", {kind: fail for kind in charts.RENDERERS})


def test_a_cache_hit_never_builds_the_summary(app, auth_client, group, monkeypatch):
    with_answers(group)
    url = chart_url(group)
    first = auth_client.get(url)
    assert first.status_code == 200 and b"<svg" in first.data
    assert cached_rows() == 1
    forbid_drawing(monkeypatch)
    # Another process (its memory empty) reads the chart from the shared table: the login check,
    # the one query for the group's facilitators and the key, and the cached row; nothing that
    # reads answers, whatever their number.
    app.extensions.pop("kohtaamo_recent_charts")
    db.session.expunge_all()  # nothing already loaded from an earlier request
    second, statements = statements_of(lambda: auth_client.get(url))
    assert second.status_code == 200 and second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    selects = [s for s in statements if s.startswith("SELECT")]
    assert len(selects) == 3 and "feedback_chart_cache" in selects[-1], "\n".join(selects)
    assert not any("feedback_answer" in s for s in statements)
    # The process that has served the chart keeps it: the key's query is the last one.
    db.session.expunge_all()
    third, statements = statements_of(lambda: auth_client.get(url))
    assert third.status_code == 200 and third.data == first.data
    selects = [s for s in statements if s.startswith("SELECT")]
    assert len(selects) == 2 and not any("feedback_chart_cache" in s for s in selects), "\n".join(selects)


def test_a_cached_chart_is_still_only_for_the_groups_facilitators_and_leads(app, auth_client, group, lead_client):
    """The cache hit checks access in its one query: a worker who is not a facilitator gets the
    same 404 as for a group that does not exist, even for a chart this process keeps."""
    with_answers(group)
    url = chart_url(group)
    assert auth_client.get(url).status_code == 200
    assert lead_client.get(url).status_code == 200
    outsider = app.test_client()
    login(outsider, make_user(name="Olli Ulkopuolinen"))
    assert outsider.get(url).status_code == 404
    assert outsider.get(url, headers={"If-None-Match": '"x"'}).status_code == 404
    for missing in ("/feedback/groups/999999/charts/means.svg", "/feedback/groups/0/charts/means.svg",
                    f"/feedback/groups/{2**63}/charts/means.svg", "/feedback/groups/x/charts/means.svg"):
        assert auth_client.get(missing).status_code == 404


def test_a_group_without_sessions_has_no_chart(auth_client, facilitator):
    bare = make_group([facilitator, make_user(name="Paula Pari")], sessions=0, enrolled=0)
    assert auth_client.get(chart_url(bare)).status_code == 404


def test_a_process_keeps_only_its_latest_charts():
    recent = services._RecentCharts(2)
    recent.put("a", (b"A", "image/svg+xml"))
    recent.put("b", (b"B", "image/svg+xml"))
    assert recent.get("a") == (b"A", "image/svg+xml")  # "a" is now the latest used
    recent.put("c", (b"C", "image/svg+xml"))
    assert recent.get("b") is None and recent.get("a") is not None and recent.get("c") is not None


def test_etag_and_304(auth_client, group, monkeypatch):
    with_answers(group)
    first = auth_client.get(chart_url(group))
    etag = first.headers["ETag"]
    assert etag.startswith('"') and len(etag) == 66
    assert first.headers["Cache-Control"] == "private, no-cache"
    forbid_drawing(monkeypatch)
    again = auth_client.get(chart_url(group), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"].startswith("private")
    other = auth_client.get(chart_url(group), headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data


@pytest.mark.parametrize("cancelled", [False, True])
def test_results_page_links_charts_by_their_current_key(auth_client, group, cancelled):
    with_answers(group)
    db.session.add(Attendance(session_id=group.sessions[0].id, enrolment_id=group.enrolments[0].id,
                              status="present"))
    if cancelled:
        group.sessions[2].status = "cancelled"   # its window stays, without answers
    db.session.commit()
    page = auth_client.get(f"/feedback/groups/{group.id}").get_data(as_text=True)
    for kind in ("means", "distribution", "attendance"):
        marker = f"/charts/{kind}.svg?v="
        assert marker in page, kind
        v = page.split(marker, 1)[1][:16]
        # The key the page worked out from the summary is the one the chart route works out
        # from its own query: a link that names the current chart may be kept by the browser.
        response = auth_client.get(chart_url(group, kind), query_string={"v": v})
        assert response.status_code == 200
        assert response.headers["ETag"].strip('"')[:16] == v
        assert response.headers["Cache-Control"] == "private, max-age=3600"
    stale = auth_client.get(chart_url(group), query_string={"v": "0" * 16})
    assert stale.headers["Cache-Control"] == "private, no-cache"


def test_a_released_chart_never_changes(auth_client, group):
    """Late answers (a window without answers opened again, a row added by hand to a closed one)
    are not in the released figures: the chart and its ETag stay the same."""
    w1, _w2, w3 = with_answers(group)
    first = auth_client.get(chart_url(group))
    open_now(w3)                                 # allowed: it has no answers
    add_responses(w3, [[0, 0, 0, 0]] * 5)
    during = auth_client.get(chart_url(group), headers={"If-None-Match": first.headers["ETag"]})
    assert during.status_code == 304
    close_window(w3)
    add_responses(w1, [[1, 1, 1, 1]])
    after = auth_client.get(chart_url(group))
    assert after.status_code == 200 and after.headers["ETag"] == first.headers["ETag"]
    assert after.data == first.data
    assert cached_rows() == 1


def test_changed_threshold_never_serves_the_old_chart(app, auth_client, group):
    with_answers(group)
    before = auth_client.get(chart_url(group, "distribution"))
    assert before.status_code == 200
    app.config["FEEDBACK_MIN_RESPONSES"] = 6
    changed = auth_client.get(chart_url(group, "distribution"), headers={"If-None-Match": before.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != before.headers["ETag"]
    # The figures were released under k = 5 and never change: the same bars, drawn again.
    assert changed.data.count(b"<path") == before.data.count(b"<path")
    assert cached_rows() == 2


def test_hidden_data_gets_no_chart_and_no_304(auth_client, group, app):
    w1, *_ = (services.open_session_window(s) for s in group.sessions)
    db.session.commit()
    add_responses(w1, [[8, 7, 9, 8]] * 4)
    close_window(w1)
    with app.test_request_context(headers={"Accept-Language": "fi"}):
        key = summary.current_chart_state(group.id, "means", now=utcnow()).key
    for kind in ("means", "distribution"):
        response = auth_client.get(chart_url(group, kind), headers={"If-None-Match": f'"{key}"'})
        assert response.status_code == 404
    assert cached_rows() == 0


def test_attendance_is_a_new_attendance_chart_only(auth_client, group):
    with_answers(group)
    means = auth_client.get(chart_url(group, "means")).headers["ETag"]
    attendance = auth_client.get(chart_url(group, "attendance")).headers["ETag"]
    for enrolment in group.enrolments[:3]:
        db.session.add(Attendance(session_id=group.sessions[2].id, enrolment_id=enrolment.id, status="present"))
    db.session.commit()
    assert auth_client.get(chart_url(group, "attendance")).headers["ETag"] != attendance
    assert auth_client.get(chart_url(group, "means")).headers["ETag"] == means


def test_each_language_has_its_own_chart(auth_client, group, facilitator):
    with_answers(group)
    finnish = auth_client.get(chart_url(group))
    facilitator.language = "sv"
    db.session.commit()
    swedish = auth_client.get(chart_url(group))
    assert swedish.status_code == 200 and swedish.headers["ETag"] != finnish.headers["ETag"]
    assert swedish.data != finnish.data
    assert cached_rows() == 2


def test_storing_a_chart_removes_charts_drawn_more_than_a_month_ago(auth_client, group):
    now = utcnow()
    db.session.add_all([
        ChartCache(key="a" * 64, mimetype=charts.SVG, body=b"<svg/>", created_at=now - timedelta(days=31)),
        ChartCache(key="b" * 64, mimetype=charts.SVG, body=b"<svg/>", created_at=now - timedelta(days=29))])
    db.session.commit()
    with_answers(group)
    assert auth_client.get(chart_url(group)).status_code == 200
    kept = set(db.session.scalars(sa.select(ChartCache.key)))
    assert "a" * 64 not in kept and "b" * 64 in kept and len(kept) == 2


def test_a_chart_drawn_from_other_data_than_its_key_is_not_stored(app, auth_client, group, monkeypatch):
    """If the data changes between reading the key and reading the summary, the chart drawn is
    right but does not belong to the key: it is served, not stored, and not kept."""
    with_answers(group)
    real_state = summary.current_chart_state
    monkeypatch.setattr(summary, "current_chart_state",
                        lambda *args, **kwargs: dataclasses.replace(real_state(*args, **kwargs), key="0" * 64))
    response = auth_client.get(chart_url(group))
    assert response.status_code == 200 and b"<svg" in response.data
    assert response.headers["Cache-Control"] == "private, no-store" and "ETag" not in response.headers
    assert cached_rows() == 0
    kept = app.extensions.get("kohtaamo_recent_charts")
    assert kept is None or not kept.items


def test_chart_keys_name_the_drawing_code(monkeypatch):
    facts = summary.ChartFacts(sessions=[], release=(1, "2026-12-06T00:00:00+00:00"), enrolled=0)
    now = utcnow()
    texts = {"any": "text"}
    key = summary.chart_key("means", 1, facts, now=now, k=5, locale="fi", texts=texts)
    assert summary.chart_key("means", 1, facts, now=now, k=5, locale="fi", texts=texts) == key
    monkeypatch.setattr(charts, "VERSION", "another")
    assert summary.chart_key("means", 1, facts, now=now, k=5, locale="fi", texts=texts) != key
    assert summary.chart_key("means", 1, facts, now=now, k=5, locale="fi", texts={"any": "teksti"}) != key


def test_a_chart_follows_its_groups_unit_cached_or_not(app, group):
    """The chart's one query gives the group's unit too (no second read): the leads of the group's
    unit get the chart, drawn or from the cache, with or without its ETag; another unit's lead gets
    404 either way, even once the chart is cached."""
    from groups.models import Group
    from tests.factories import make_member, make_two_units

    with_answers(group)
    unit_a, unit_b = make_two_units()
    db.session.execute(sa.update(Group).where(Group.id == group.id).values(unit_id=unit_a))
    db.session.commit()
    make_member(email="lead.a@example.org", name="Liisa A", role="lead", unit_id=unit_a)
    make_member(email="lead.b@example.org", name="Leo B", role="lead", unit_id=unit_b)
    lead_a, lead_b = app.test_client(), app.test_client()
    login(lead_a, "lead.a@example.org")
    login(lead_b, "lead.b@example.org")

    assert lead_b.get(chart_url(group)).status_code == 404  # before anything is cached
    drawn = lead_a.get(chart_url(group))
    assert drawn.status_code == 200 and drawn.data.startswith(b"<?xml")
    etag = drawn.headers["ETag"]
    assert lead_a.get(chart_url(group)).data == drawn.data  # from the cache
    assert lead_a.get(chart_url(group), headers={"If-None-Match": etag}).status_code == 304
    assert lead_b.get(chart_url(group)).status_code == 404
    assert lead_b.get(chart_url(group), headers={"If-None-Match": etag}).status_code == 404
