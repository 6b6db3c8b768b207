"""Opt-out links in reminders: a random token per message, kept only as a hash; it names nobody,
stops working when it expires or when the person's consent is withdrawn or given anew, and
every link that does not work (mistyped, tampered, expired, signed the earlier way) gets a clear
page that says to call the unit, and changes nothing."""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer

from core.extensions import db
from core.timeutil import local_to_utc
from register.models import AccessLog
from register.services import save_relative, update_client
from reminders import services
from reminders.models import OptOutLink, OutboxMessage, ReminderOptOut
from tests.factories import make_client, make_group_with_session
from tests.messaging import FakeGateway

SESSION_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
DAY_BEFORE_DUE = "2026-12-02T14:05:00Z"
RUN_AT = datetime(2026, 12, 2, 14, 5, tzinfo=UTC)
INVALID_TEXT = "Tämä linkki ei toimi enää."


@pytest.fixture
def gateway():
    with FakeGateway() as gw:
        yield gw


@pytest.fixture
def app_config(gateway):
    return {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": gateway.url, "SMS_GATEWAY_KEY": "k",
            "SMS_GATEWAY_TIMEOUT": 0.5}


@pytest.fixture(autouse=True)
def link_clock(frozen_time):
    """The whole test runs on the reminder run's day: the stop page checks expiry against it."""
    frozen_time(RUN_AT + timedelta(hours=1))
    return frozen_time


def remind(runner, facilitator, people, now=DAY_BEFORE_DUE, starts_at=SESSION_AT):
    group, _s = make_group_with_session(facilitator=facilitator, clients=people, starts_at=starts_at)
    services.save_policy("group", group.id, day_before=True, day_before_at=time(16, 0), same_morning=False,
                         same_morning_at=time(8, 0), by_sms=True, by_email=False)
    db.session.commit()
    result = runner.invoke(args=["send-reminders", "--now", now])
    assert result.exit_code == 0, result.output
    return group


def links(gateway) -> dict[str, str]:
    """Phone number -> the path of the opt-out link its SMS carried."""
    out = {}
    for payload in gateway.delivered():
        [path] = re.findall(r"http://localhost(/reminders/stop/\S+)", payload["message"])
        out[payload["to"]] = path
    return out


def nothing_stored(fresh_db):
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(ReminderOptOut)) == 0
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(AccessLog).where(
        AccessLog.action == "reminder_opt_out_link")) == 0


def refused(client, path):
    for response in (client.get(path), client.post_form(path, {}, token_from="/login")):
        assert response.status_code == 404, path
        page = response.get_data(as_text=True)
        assert INVALID_TEXT in page and "soita" in page.lower(), path
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_each_link_is_a_random_token_kept_only_as_a_hash(app, runner, facilitator, gateway, client, fresh_db):
    anna = make_client(name="Anna", worker=facilitator, phone="040 111 1111", consent=True)
    ben = make_client(name="Ben", worker=facilitator, phone="040 222 2222", consent=True)
    remind(runner, facilitator, [anna, ben])
    paths = links(gateway)
    tokens = {to: path.rsplit("/", 1)[1] for to, path in paths.items()}
    assert len(set(tokens.values())) == 2
    serializer = URLSafeSerializer(app.config["SECRET_KEY"], salt="reminder-opt-out")
    for token in tokens.values():
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)
        with pytest.raises(BadSignature):       # no longer a signed "client id"
            serializer.loads(token)
    rows = fresh_db.scalars(sa.select(OptOutLink).order_by(OptOutLink.id))
    assert {r.token_hash for r in rows} == {hashlib.sha256(t.encode()).hexdigest() for t in tokens.values()}
    assert {(r.recipient_kind, r.recipient_id) for r in rows} == {("client", anna.id), ("client", ben.id)}
    # The stored copies of the sent messages no longer hold the token in clear.
    bodies = " ".join(fresh_db.scalars(sa.select(OutboxMessage.body)))
    assert "/reminders/stop/…" in bodies and not any(t in bodies for t in tokens.values())
    # A later run that finds the reminders already queued makes no new links.
    assert runner.invoke(args=["send-reminders", "--now", "2026-12-02T14:30:00Z"]).exit_code == 0
    assert fresh_db.scalar(sa.select(sa.func.count()).select_from(OptOutLink)) == 2

    # Ben's link stops Ben's reminders, and only his.
    path = paths["+358402222222"]
    assert client.get(path).status_code == 200
    assert client.post_form(path, {}, token_from=path).status_code == 200
    assert fresh_db.scalars(sa.select(ReminderOptOut.recipient_id)) == [ben.id]


def test_a_link_stops_working_when_consent_is_withdrawn_or_given_anew(app, runner, facilitator, gateway, client,
                                                                       fresh_db, link_clock):
    person = make_client(name="Anna", worker=facilitator, phone="040 111 1111", consent=True)
    father = save_relative(person, None, name="Isä", relation="isä", phone="040 333 3333", email="", language="sv",
                           reminder_consent=True)
    db.session.commit()
    remind(runner, facilitator, [person])
    old = links(gateway)["+358401111111"]

    def set_consent(consent: bool, on: date):
        link_clock(local_to_utc(on, time(20, 0)))   # in the evening, after the run that sent the link
        update_client(person, name=person.name, phone=person.phone, email="", language="fi",
                      reminder_consent=consent)
        db.session.commit()

    set_consent(False, date(2026, 12, 2))
    refused(client, old)
    set_consent(True, date(2026, 12, 5))       # consent given anew: the old link stays dead
    refused(client, old)
    nothing_stored(fresh_db)

    # A reminder sent under the new consent carries a link that works.
    gateway.requests.clear()
    remind(runner, facilitator, [person], now="2026-12-09T14:05:00Z", starts_at=SESSION_AT + timedelta(days=7))
    new = links(gateway)["+358401111111"]
    link_clock(datetime(2026, 12, 9, 15, 0, tzinfo=UTC))
    assert client.post_form(new, {}, token_from=new).status_code == 200
    assert fresh_db.scalars(sa.select(ReminderOptOut.recipient_id)) == [person.id]
    assert father.id  # the relative's consent is untouched by the client's


def test_old_tampered_and_expired_links_get_a_clear_page_and_change_nothing(app, runner, facilitator, gateway,
                                                                            client, fresh_db, link_clock):
    person = make_client(name="Anna", worker=facilitator, phone="040 111 1111", consent=True)
    remind(runner, facilitator, [person])
    path = links(gateway)["+358401111111"]
    token = path.rsplit("/", 1)[1]
    # Links sent before this change: signed, carrying the client's id.
    old_style = URLSafeSerializer(app.config["SECRET_KEY"], salt="reminder-opt-out").dumps(["c", person.id])
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (f"/reminders/stop/{old_style}", f"/reminders/stop/{tampered}", "/reminders/stop/x",
                "/reminders/stop/" + "a" * 300):
        refused(client, bad)
    # Expired: the link is valid for OPT_OUT_LINK_VALID after it was made.
    link_clock(RUN_AT + services.OPT_OUT_LINK_VALID + timedelta(seconds=1))
    refused(client, path)
    nothing_stored(fresh_db)
    # Before expiry the same link works.
    link_clock(RUN_AT + services.OPT_OUT_LINK_VALID - timedelta(seconds=1))
    assert client.post_form(path, {}, token_from=path).status_code == 200
    assert fresh_db.scalars(sa.select(ReminderOptOut.recipient_id)) == [person.id]
