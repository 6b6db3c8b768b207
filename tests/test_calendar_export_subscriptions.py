"""Subscription pages and the ``flask calendar`` commands: create, show once, list, rotate, revoke."""
from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from calendar_export.models import CalendarSubscription
from core.extensions import db
from tests.factories import login, make_partner, make_user
from tests.test_calendar_export_data import make_group, make_session, soon

NEW = "/calendar/subscriptions/new"
LIST = "/calendar/subscriptions"
FEED_RE = re.compile(r'value="(http://localhost/calendar/([A-Za-z0-9_\-]{43})\.ics)"')


@pytest.fixture
def partner(app):
    return make_partner(name="Sovatek-säätiö")


@pytest.fixture
def group(app, facilitator, lead):
    g = make_group("Raharyhmä", (facilitator, lead))
    make_session(g, 1, soon(), topic="Budjetti")
    db.session.commit()
    return g


def subs() -> list[CalendarSubscription]:
    db.session.expire_all()
    return db.session.scalars(sa.select(CalendarSubscription).order_by(CalendarSubscription.id)).all()


def create(c, **data):
    data.setdefault("label", "")
    return c.post_form(NEW, data, token_from=NEW)


def test_create_own_subscription_shows_the_link_once(auth_client, facilitator, group):
    response = create(auth_client, kind="staff", label="Fiian puhelin")
    assert response.status_code == 302
    [sub] = subs()
    assert (sub.kind, sub.target_id, sub.label, sub.created_by_id) == ("staff", facilitator.id, "Fiian puhelin",
                                                                      facilitator.id)
    page = auth_client.get(response.headers["Location"])
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = page.get_data(as_text=True)
    url, token = FEED_RE.search(html).groups()
    assert hashlib.sha256(token.encode()).hexdigest() == sub.token_hash
    assert token not in sub.token_hash
    assert f'href="webcal://localhost/calendar/{token}.ics"' in html
    assert f"https://calendar.google.com/calendar/r?cid=webcal://localhost/calendar/{token}.ics" in html
    for host in ("outlook.live.com", "outlook.office.com"):
        assert (f"https://{host}/calendar/0/addfromweb?url=http%3A%2F%2Flocalhost%2Fcalendar%2F"
                f"{token}.ics&amp;name=Kohtaamo%3A%20Fiia%20Facilitator") in html
    assert "8–24" in html
    assert 'readonly' in html and 'for="feed-url"' in html
    # Shown once: the same page again no longer has the token.
    again = auth_client.get(response.headers["Location"]).get_data(as_text=True)
    assert token not in again and "näytettiin vain kerran" in again
    feed = auth_client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and b"Raharyhm" in feed.get_data()


def test_create_group_and_partner_subscriptions(auth_client, group, partner):
    assert create(auth_client, kind="group", group_id=str(group.id)).status_code == 302
    assert create(auth_client, kind="partner", partner_id=str(partner.id)).status_code == 302
    assert [(s.kind, s.target_id) for s in subs()] == [("group", group.id), ("partner", partner.id)]
    listing = auth_client.get(LIST)
    html = listing.get_data(as_text=True)
    assert listing.headers["Referrer-Policy"] == "no-referrer"
    assert "Raharyhmä" in html and "Sovatek-säätiö" in html and "Ei vielä käytetty" in html


@pytest.mark.parametrize("data, field_id, message", [
    ({"kind": "group", "group_id": ""}, "group_id", "Valitse ryhmä."),
    ({"kind": "group", "group_id": "99999"}, "group_id", "Valitse ryhmä."),
    ({"kind": "group", "group_id": "abc"}, "group_id", "Valitse ryhmä."),
    ({"kind": "partner", "partner_id": ""}, "partner_id", "Valitse yhteistyökumppani."),
    ({"kind": "partner", "partner_id": "-1"}, "partner_id", "Valitse yhteistyökumppani."),
    ({"kind": "unit"}, "kind", "Valitse, kenen kalenteri tämä on."),
    ({"kind": "everyone"}, "kind", "Valitse, kenen kalenteri tämä on."),
    ({"kind": "staff", "label": "x" * 121}, "label", "121"),
])
def test_bad_input_is_refused_at_the_field_with_input_kept(auth_client, group, partner, data, field_id, message):
    data = {"label": "Minun merkintäni", **data}
    response = create(auth_client, **data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field_id}-error"' in html
    if message.isdigit():
        assert "120" in html
    else:
        assert message in html
    assert 'value="' + data["label"][:20] in html
    assert subs() == []


def test_missing_csrf_token_is_refused(auth_client):
    response = auth_client.post(NEW, data={"kind": "staff"})
    assert response.status_code == 400
    assert subs() == []


def test_only_leads_create_the_unit_feed(auth_client, lead_client):
    assert "Koko yksikkö" not in auth_client.get(NEW).get_data(as_text=True)
    assert "Koko yksikkö" in lead_client.get(NEW).get_data(as_text=True)
    assert create(lead_client, kind="unit").status_code == 302
    # The lead's own unit's feed (units: the feed names its unit).
    from accounts.units import default_unit

    assert [(s.kind, s.target_id) for s in subs()] == [("unit", default_unit().id)]


def test_rotate_and_revoke(auth_client, facilitator):
    location = create(auth_client, kind="staff").headers["Location"]
    old_url = FEED_RE.search(auth_client.get(location).get_data(as_text=True)).group(1)
    old_path = old_url.removeprefix("http://localhost")
    [sub] = subs()
    rotated = auth_client.post_form(f"/calendar/subscriptions/{sub.id}/rotate", token_from=LIST)
    assert rotated.status_code == 302
    new_url = FEED_RE.search(auth_client.get(rotated.headers["Location"]).get_data(as_text=True)).group(1)
    new_path = new_url.removeprefix("http://localhost")
    assert new_path != old_path
    assert auth_client.get(old_path).status_code == 404
    assert auth_client.get(new_path).status_code == 200
    assert subs()[0].rotated_at is not None

    assert auth_client.get(f"/calendar/subscriptions/{sub.id}/revoke").status_code == 405
    revoked = auth_client.post_form(f"/calendar/subscriptions/{sub.id}/revoke", token_from=LIST)
    assert revoked.status_code == 302
    assert subs()[0].revoked_at is not None
    assert auth_client.get(new_path).status_code == 404
    assert "Peruttu" in auth_client.get(LIST).get_data(as_text=True)
    # A revoked subscription cannot be brought back by rotating it.
    assert auth_client.post_form(f"/calendar/subscriptions/{sub.id}/rotate", token_from=LIST).status_code == 404


def test_others_subscriptions_are_404(app, auth_client, lead_client, partner):
    create(lead_client, kind="partner", partner_id=str(partner.id))
    [sub] = subs()
    assert "Sovatek-säätiö" not in auth_client.get(LIST).get_data(as_text=True)
    for path in (f"/calendar/subscriptions/{sub.id}/link",):
        assert auth_client.get(path).status_code == 404
    for action in ("rotate", "revoke"):
        assert auth_client.post_form(f"/calendar/subscriptions/{sub.id}/{action}", token_from=LIST).status_code == 404
    for bad in ("abc", "0", "99999"):
        assert auth_client.get(f"/calendar/subscriptions/{bad}/link").status_code == 404
    assert subs()[0].revoked_at is None
    # Leads see and manage everyone's subscriptions.
    mine = make_user(name="Mari Muu")
    other_client = app.test_client()
    login(other_client, mine)
    create(other_client, kind="staff")
    html = lead_client.get(LIST).get_data(as_text=True)
    assert "Mari Muu" in html and "Sovatek-säätiö" in html


def test_pages_need_login(client):
    for path in (LIST, NEW):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- command line ------------------------------------------------------------------------------

def test_cli_create_list_revoke(app, runner, client, partner, group, facilitator):
    from accounts.units import default_unit

    result = runner.invoke(args=["calendar", "create", "--partner", "sovatek", "--label", "Tiina"])
    assert result.exit_code == 0, result.output
    url = re.search(r"http://localhost/calendar/([A-Za-z0-9_\-]{43})\.ics", result.output)
    assert url
    assert client.get(url.group(0).removeprefix("http://localhost")).status_code == 200
    assert runner.invoke(args=["calendar", "create", "--group", str(group.id)]).exit_code == 0
    assert runner.invoke(args=["calendar", "create", "--staff", facilitator.email.upper()]).exit_code == 0
    assert runner.invoke(args=["calendar", "create", "--unit"]).exit_code == 0
    assert [(s.kind, s.target_id) for s in subs()] == [
        ("partner", partner.id), ("group", group.id), ("staff", facilitator.id), ("unit", default_unit().id)]

    listing = runner.invoke(args=["calendar", "list"])
    assert listing.exit_code == 0
    assert "Sovatek-säätiö" in listing.output and "Raharyhmä" in listing.output and "Tiina" in listing.output
    assert url.group(1) not in listing.output
    assert all(s.token_hash not in listing.output for s in subs())

    revoked = runner.invoke(args=["calendar", "revoke", url.group(0)])
    assert revoked.exit_code == 0, revoked.output
    assert subs()[0].revoked_at is not None
    assert client.get(url.group(0).removeprefix("http://localhost")).status_code == 404
    assert runner.invoke(args=["calendar", "revoke", "nope" * 11]).exit_code != 0


@pytest.mark.parametrize("args, message", [
    (["--partner", "Nobody"], "No partner organisation"),
    (["--group", "999"], "No group with id 999"),
    (["--staff", "nobody@example.fi"], "No active staff member"),
    ([], "Give exactly one"),
    (["--unit", "--group", "1"], "Give exactly one"),
])
def test_cli_friendly_errors(runner, partner, args, message):
    result = runner.invoke(args=["calendar", "create", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert subs() == []


def test_list_page_queries_do_not_grow_with_subscriptions(app, lead_client, partner, group, fresh_db):
    from tests.test_calendar_export_feeds import _count_queries

    create(lead_client, kind="partner", partner_id=str(partner.id))
    create(lead_client, kind="group", group_id=str(group.id))
    create(lead_client, kind="staff")
    create(lead_client, kind="unit")  # every kind once (a unit feed's target is its unit)

    def fetch():
        assert lead_client.get(LIST).status_code == 200

    few = _count_queries(app, fetch)
    for n in range(8):
        other = make_partner(name=f"Kumppani {n}")
        create(lead_client, kind="partner", partner_id=str(other.id))
        create(lead_client, kind="staff")
        create(lead_client, kind="unit")
    # The list really grew: 4 + 8 × 3 subscriptions were stored.
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(CalendarSubscription)) == 28
    assert _count_queries(app, fetch) == few
