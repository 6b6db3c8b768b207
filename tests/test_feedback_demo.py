"""The demo data shows released charts for the finished group and nothing but counts for the
running one."""
from __future__ import annotations

from core.demo import seed_all
from core.extensions import db
from tests.factories import login


def test_demo_feedback(app):
    ctx = seed_all()
    db.session.commit()
    groups = ctx.extra["groups"]
    c = app.test_client()
    login(c, "ohjaaja@example.fi", "kohtaamo-demo")
    raha = c.get(f"/feedback/groups/{groups['raharyhma'].id}").get_data(as_text=True)
    assert "charts/means.svg" in raha and "charts/distribution.svg" in raha
    assert "22 vastausta 5 ihmiseltä" in raha and "3 vastausta, 3 paikalla" in raha
    assert "Budjetointi oli tosi hyödyllinen" in raha
    assert "Loppukysely: keskiarvot (0–10), 5 vastausta" in raha
    assert c.get(f"/feedback/groups/{groups['raharyhma'].id}/charts/means.svg").status_code == 200
    arki = c.get(f"/feedback/groups/{groups['arki'].id}").get_data(as_text=True)
    assert "Näytetään, kun ryhmän kaikki kerrat on pidetty" in arki and "charts/means.svg" not in arki
