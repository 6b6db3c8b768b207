"""`flask seed-demo` loads the demo data into an empty database only, and prints the logins."""
from __future__ import annotations

import sqlalchemy as sa

from accounts.models import User
from core.extensions import db
from register.models import Client, PartnerOrganisation
from tests.factories import login


def test_seed_demo_into_empty_database(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "ohjaaja@example.fi" in result.output and "vastaava@example.fi" in result.output
    assert "kohtaamo-demo" in result.output
    lead = db.session.scalar(sa.select(User).where(User.email == "vastaava@example.fi"))
    assert lead.is_lead
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) >= 5
    names = set(db.session.scalars(sa.select(PartnerOrganisation.name)))
    assert any("Sovatek" in n for n in names)
    # The demo logins work.
    login(app.test_client(), "ohjaaja@example.fi", "kohtaamo-demo")
    browser = app.test_client()
    login(browser, "vastaava@example.fi", "kohtaamo-demo")
    for url in ("/", "/clients", "/partners", "/staff"):
        assert browser.get(url).status_code == 200, url


def test_seed_demo_refuses_non_empty_database(app, runner, facilitator):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    gentle = runner.invoke(args=["seed-demo", "--if-empty"])
    assert gentle.exit_code == 0 and "ohjaaja@example.fi" in gentle.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
