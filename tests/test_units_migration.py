"""The units upgrade keeps a single-team installation working: a database seeded at the previous
revision (rows as the old code left them) gets one default unit, every staff member in it, every
client, group and partner in it, and the unit feed names it; after the upgrade the lead still sees
the clients and the group, the old unit feed still serves the team's session, and a new client
lands in the default unit."""
from __future__ import annotations

import icalendar
import sqlalchemy as sa

from calendar_export.services import hash_token
from tests.conftest import CsrfClient, _make_test_app
from tests.factories import login, make_client, make_partner, make_user
from tests.test_calendar_export_data import make_group, make_session, soon, subscribe
from tests.test_calendar_interop_uids import _with_later_columns

BEFORE = "b7e24d91c3a6"


def test_upgrade_puts_an_existing_team_in_one_default_unit(empty_database_url):
    from flask_migrate import upgrade

    from core.extensions import db

    app = _make_test_app(empty_database_url)
    app.test_client_class = CsrfClient
    with app.app_context():
        upgrade(revision=BEFORE)

        def seed():
            lead = make_user(role="lead", name="Leo Lead", email="leo.old@example.fi")
            worker = make_user(name="Fiia Facilitator", email="fiia.old@example.fi")
            client = make_client(name="Vanha Asiakas", worker=worker)
            group = make_group("Vanha ryhmä", (worker,))
            session = make_session(group, 1, soon(5))
            make_partner(name="Vanha kumppani")
            db.session.commit()
            found = {"lead": lead.id, "worker": worker.id, "client": client.id, "group": group.id,
                     "session": session.id}
            db.session.remove()
            return found

        ids = _with_later_columns(db.engine, db.metadata, seed)
        assert "unit" not in sa.inspect(db.engine).get_table_names()
        with db.engine.begin() as conn:  # a unit feed as the old code made it: no target
            conn.execute(sa.text("INSERT INTO calendar_subscription (kind, label, token_hash, created_at) "
                                 "SELECT 'unit', 'Seinä', :h, created_at FROM client_group"),
                         {"h": hash_token("old-unit")})

        upgrade()  # the migration under test

        with db.engine.connect() as conn:
            units = conn.execute(sa.text("SELECT id, slug FROM unit")).all()
            assert len(units) == 1 and units[0].slug == "default"
            unit_id = units[0].id
            members = conn.execute(sa.text("SELECT user_id FROM unit_membership WHERE unit_id = :u"),
                                   {"u": unit_id}).scalars().all()
            assert sorted(members) == sorted([ids["lead"], ids["worker"]])
            for table in ("client", "client_group", "partner_organisation"):
                assert conn.execute(sa.text(f"SELECT DISTINCT unit_id FROM {table}")).scalars().all() == [unit_id]
            assert conn.execute(sa.text("SELECT target_id FROM calendar_subscription")).scalar_one() == unit_id
        db.session.remove()

        c = app.test_client()
        login(c, "leo.old@example.fi")
        assert "Vanha Asiakas" in c.get("/clients").get_data(as_text=True)
        assert c.get(f"/clients/{ids['client']}/access-log").status_code == 200
        assert c.get(f"/groups/{ids['group']}/participants").status_code == 200
        feed = app.test_client().get("/calendar/old-unit.ics")
        assert feed.status_code == 200
        uids = {str(ev["UID"]).split("@")[0] for ev in icalendar.Calendar.from_ical(feed.get_data()).walk("VEVENT")}
        assert f"session-{ids['session']}" in uids
        assert c.post_form("/clients/new", {"name": "Uusi Asiakas", "language": "fi"},
                           token_from="/clients/new").status_code == 302
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT unit_id FROM client WHERE name = 'Uusi Asiakas'")).scalar_one() \
                == unit_id
        # A new unit feed is the default unit's too.
        assert subscribe("unit")
        db.session.remove()
        db.engine.dispose()
