"""The security log follows the unit (issue #23 leftovers): a lead sees on the security page only the
staff of the units they lead, in the list of second factors and in the log; a county administrator
sees everyone. The attacker, unit A's lead, finds nothing of unit B's staff there, and resetting
their second factor by URL is a 404 that changes nothing."""
from __future__ import annotations

import sqlalchemy as sa

from accounts.models import SecurityEvent, TotpCredential
from core.extensions import db
from tests.factories import PASSWORD, login


def staff(email: str, name: str, role: str, unit_ids: list[int]):
    from accounts.services import create_staff

    user = create_staff(email=email, name=name, password=PASSWORD, role=role, unit_ids=unit_ids, language="en")
    db.session.commit()
    return user


def signed_in(app, user):
    c = app.test_client()
    login(c, user)
    return c


def enrol(user) -> None:
    """A second factor and its log row, as accounts.mfa leaves them."""
    from accounts import mfa

    db.session.add(TotpCredential(user_id=user.id, secret="JBSWY3DPEHPK3PXP"))
    mfa.log(user, "totp_enrolled", address="198.51.100.7")
    db.session.commit()


def test_a_lead_sees_only_their_units_staff_in_the_security_log(app, fresh_db):
    from accounts.units import create_unit

    unit_a, unit_b = create_unit("Keskusta", "keskusta"), create_unit("Itä", "ita")
    db.session.commit()
    lead_a = staff("lead.a@example.fi", "Liisa Keskusta", "lead", [unit_a.id])
    worker_a = staff("worker.a@example.fi", "Aapo Keskusta", "facilitator", [unit_a.id])
    worker_b = staff("worker.b@example.fi", "Bertta Itä", "facilitator", [unit_b.id])
    admin = staff("admin@example.fi", "Aino Alue", "county_admin", [])
    enrol(worker_a)
    enrol(worker_b)

    page = signed_in(app, lead_a).get("/staff/security").get_data(as_text=True)
    factors, log = page.split('id="security-log"')
    assert "Aapo Keskusta" in factors and "Aapo Keskusta" in log
    assert "Bertta Itä" not in factors and "Bertta Itä" not in log
    assert f"/staff/{worker_b.id}/second-factor/reset" not in page

    everyone = signed_in(app, admin).get("/staff/security").get_data(as_text=True)
    factors, log = everyone.split('id="security-log"')
    assert "Bertta Itä" in factors and "Bertta Itä" in log and "Aapo Keskusta" in log

    # The attacker resets unit B's worker's second factor by URL: 404, and it stays.
    attacker = signed_in(app, lead_a)
    response = attacker.post_form(f"/staff/{worker_b.id}/second-factor/reset", {}, token_from="/staff/security")
    assert response.status_code == 404
    assert fresh_db.scalar(sa.select(TotpCredential.user_id).where(TotpCredential.user_id == worker_b.id)) == worker_b.id
    assert fresh_db.scalar(sa.select(sa.func.count(SecurityEvent.id)).where(SecurityEvent.kind == "totp_reset")) == 0
