"""Contact settings per unit (issue #25/#23 leftovers): each unit has its own "call us" phone number
and opening hours, edited by the unit's lead (a county administrator edits any unit's and the
installation's, which a unit without its own falls back to). A client's messages end with their
own unit's line, and an outreach venue's poster and public page show its unit's number. Another
unit's settings are a 404 for a lead (attacker test), and nothing is saved."""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_to_utc, local_today
from reminders.models import TeamSettings
from tests.factories import PASSWORD, login, make_group_with_session, make_partner

A_PHONE, B_PHONE, FALLBACK = "+358 9 310 11111", "+358 9 310 22222", "+358 9 310 99999"


def staff(email: str, role: str, unit_ids: list[int]):
    from accounts.services import create_staff

    user = create_staff(email=email, name=email.split("@")[0].title(), password=PASSWORD, role=role,
                        unit_ids=unit_ids, language="en")
    db.session.commit()
    return user


def signed_in(app, user):
    c = app.test_client()
    login(c, user)
    return c


@pytest.fixture
def units(app):
    from accounts.units import create_unit
    from reminders.notices import save_team_settings

    unit_a = create_unit("Aikuissosiaalityö Keskusta", "keskusta")
    unit_b = create_unit("Aikuissosiaalityö Itä", "ita")
    save_team_settings(contact_phone=FALLBACK, opening_hours="ma–pe 9–15", user=None)
    db.session.commit()
    return {"a": unit_a.id, "b": unit_b.id, "lead_a": staff("lead.a@example.fi", "lead", [unit_a.id]),
            "lead_b": staff("lead.b@example.fi", "lead", [unit_b.id]),
            "worker_a": staff("worker.a@example.fi", "facilitator", [unit_a.id]),
            "admin": staff("admin@example.fi", "county_admin", [])}


def rows(fresh_db):
    return dict(fresh_db.execute(sa.select(TeamSettings.unit_id, TeamSettings.contact_phone)))


def form(phone, version="0"):
    return {"contact_phone": phone, "opening_hours": "ma–pe 9–15", "version": version}


def test_a_lead_edits_their_own_units_contact_only(app, units, fresh_db):
    lead_a = signed_in(app, units["lead_a"])
    page = lead_a.get("/reminders/contact").get_data(as_text=True)
    # No row of its own yet: the form shows the fallback and says so.
    assert "Aikuissosiaalityö Keskusta" in page and "no contact details of its own yet" in page
    assert re.search(r'name="contact_phone"[^>]*value="\+358 9 310 99999"', page)
    response = lead_a.post_form("/reminders/contact", form("09 310 11111"), token_from="/reminders/contact")
    assert response.status_code == 302
    assert rows(fresh_db) == {None: FALLBACK, units["a"]: "+358931011111"}
    # The attacker: unit B's settings by URL, read or written, are a 404 and change nothing.
    other = f"/reminders/contact?unit={units['b']}"
    assert lead_a.get(other).status_code == 404
    assert lead_a.post_form(other, form("09 000 0000"), token_from="/reminders/contact").status_code == 404
    assert rows(fresh_db) == {None: FALLBACK, units["a"]: "+358931011111"}
    # Nor the installation's fallback row, which is the county administrator's.
    assert "every unit without its own" not in lead_a.get("/reminders/contact").get_data(as_text=True).lower()
    # A worker edits no unit's.
    assert signed_in(app, units["worker_a"]).get("/reminders/contact").status_code == 403


def test_the_county_admin_edits_any_units_and_the_fallback(app, units, fresh_db):
    admin = signed_in(app, units["admin"])
    page = admin.get("/reminders/contact").get_data(as_text=True)
    assert "Aikuissosiaalityö Keskusta" in page and "Aikuissosiaalityö Itä" in page
    response = admin.post_form(f"/reminders/contact?unit={units['b']}", form("09 310 22222"),
                               token_from="/reminders/contact")
    assert response.status_code == 302
    response = admin.post_form("/reminders/contact", form("09 310 88888", version="1"),
                               token_from="/reminders/contact")
    assert response.status_code == 302
    assert rows(fresh_db) == {None: "+358931088888", units["b"]: "+358931022222"}
    assert admin.get("/reminders/contact?unit=999999").status_code == 404


def test_each_clients_message_ends_with_their_own_units_line(app, units, fresh_db):
    from register.models import Client
    from register.services import create_client
    from reminders.models import OutboxMessage
    from reminders.notices import save_team_settings

    save_team_settings(contact_phone=A_PHONE, opening_hours="ma–pe 9–15", user=units["lead_a"], unit_id=units["a"])
    worker = units["worker_a"]
    in_a = create_client(name="Aino Aa", phone="040 111 2222", reminder_consent=True, created_by=worker)
    in_b = create_client(name="Bertta Bee", phone="040 333 4444", reminder_consent=True, created_by=worker)
    db.session.flush()
    db.session.get(Client, in_b.id).unit_id = units["b"]   # unit B has no settings of its own: the fallback
    db.session.commit()
    day = local_today() + timedelta(days=8)
    group, session = make_group_with_session(facilitator=worker, clients=[in_a, in_b],
                                             starts_at=local_to_utc(day, time(10, 0)))
    db.session.commit()
    url = f"/groups/{group.id}/sessions/{session.id}/edit"
    c = signed_in(app, worker)
    response = c.post_form(url, {"day": (day + timedelta(days=1)).isoformat(), "start_time": "13:00",
                                 "end_time": "15:00", "topic": session.topic or "", "room": session.room or "",
                                 "plan_notes": "", "version": str(session.version), "confirm": "y",
                                 "send_notice": "y"}, token_from=url)
    assert response.status_code == 302
    bodies = dict(fresh_db.execute(sa.select(OutboxMessage.client_id, OutboxMessage.body)))
    assert bodies[in_a.id].endswith(f"Soita meille {A_PHONE} (ma–pe 9–15).")
    assert bodies[in_b.id].endswith(f"Soita meille {FALLBACK} (ma–pe 9–15).")


def test_the_venue_poster_and_public_page_show_the_venues_units_number(app, units):
    from outreach import services
    from reminders.notices import save_team_settings

    save_team_settings(contact_phone=A_PHONE, opening_hours="", user=None, unit_id=units["a"])
    partner = make_partner(name="Seurakunta", kind="parish")
    own = services.save_venue(None, partner_id=partner.id, name="Kahvila", address="", active=True)
    own.unit_id = units["a"]
    shared = services.save_venue(None, partner_id=partner.id, name="Kirjasto", address="", active=True)
    db.session.commit()
    c = signed_in(app, units["worker_a"])
    poster = c.get(f"/outreach/venues/{own.id}/poster?lang=fi").get_data(as_text=True)
    assert A_PHONE in poster and FALLBACK not in poster
    public = app.test_client().get(f"/outreach/v/{own.public_token}").get_data(as_text=True)
    assert A_PHONE in public
    # A shared venue is every unit's: the installation's number.
    assert FALLBACK in c.get(f"/outreach/venues/{shared.id}/poster?lang=fi").get_data(as_text=True)


def test_upgrade_gives_each_unit_the_old_rows_values_and_keeps_it_as_the_fallback(empty_database_url):
    """The migration (venue feeds, unit contacts) on a database holding the one settings row and
    two units: each unit gets the row's values as its own, the row stays as the fallback, and a
    venue calendar subscription is then accepted by the database's kind check."""
    from pathlib import Path

    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    from tests.conftest import _make_test_app

    script = ScriptDirectory(str(Path(__file__).resolve().parents[1] / "migrations"))
    [mine] = [r for r in script.walk_revisions() if r.doc.startswith("venue calendar feeds as subscriptions")]
    app = _make_test_app(empty_database_url)
    with app.app_context():
        upgrade(revision=mine.down_revision)
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO unit (name, slug, created_at) VALUES "
                                 "('Keskusta', 'keskusta', CURRENT_TIMESTAMP), ('Itä', 'ita', CURRENT_TIMESTAMP)"))
            conn.execute(sa.text("INSERT INTO team_settings (contact_phone, opening_hours, updated_at, version) "
                                 "VALUES ('+358931012345', 'ma–pe 9–15', CURRENT_TIMESTAMP, 3)"))
        upgrade(revision=mine.revision)
        with db.engine.begin() as conn:
            got = conn.execute(sa.text("SELECT u.slug, t.contact_phone, t.opening_hours FROM team_settings t "
                                       "LEFT JOIN unit u ON u.id = t.unit_id ORDER BY t.id")).all()
            assert [tuple(r) for r in got] == [(None, "+358931012345", "ma–pe 9–15"),
                                               ("keskusta", "+358931012345", "ma–pe 9–15"),
                                               ("ita", "+358931012345", "ma–pe 9–15")]
            conn.execute(sa.text("INSERT INTO calendar_subscription (kind, target_id, label, token_hash, created_at) "
                                 "VALUES ('outreach_venue', 1, '', 'h', CURRENT_TIMESTAMP)"))
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO calendar_subscription (kind, target_id, label, token_hash, created_at) "
                                 "VALUES ('venue', 1, '', 'h2', CURRENT_TIMESTAMP)"))
        db.session.remove()
        # The pool's connections closed here: the fixture drops the database WITH (FORCE), and a
        # connection left open was reported (ResourceWarning) in whichever test ran next.
        db.engine.dispose()


def test_the_county_admin_reaches_every_units_contact_details_by_links(app, units):
    """From the start page by links alone: the menu's Staff, its Units, then each unit's contact
    details and the fallback's (before, the county administrator had to type the address)."""
    admin = signed_in(app, units["admin"])

    def follow(html: str, text: str) -> str:
        found = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(text)}', html)
        assert found, text
        return found.group(1).replace("&amp;", "&")

    staff_page = admin.get(follow(admin.get("/").get_data(as_text=True), "Staff")).get_data(as_text=True)
    units_page = admin.get(follow(staff_page, "Units")).get_data(as_text=True)
    links = set(re.findall(r'<a href="([^"]+)">Contact details in messages', units_page))
    assert {link.replace("&amp;", "&") for link in links} == {
        "/reminders/contact", f"/reminders/contact?unit={units['a']}", f"/reminders/contact?unit={units['b']}"}
    for link, heading in (("/reminders/contact", "Contact details in messages</h1>"),
                          (f"/reminders/contact?unit={units['b']}", "Contact details in messages: Aikuissosiaalityö Itä")):
        response = admin.get(link)
        assert response.status_code == 200 and heading in response.get_data(as_text=True)
