"""Demo network meetings: a held meeting with a relative and partners from three organisations
(Sovatek, TYP, TE-palvelut) and a plan, its upcoming follow-up with items carried forward, and a
second client's upcoming meeting with the probation service. Dates are relative to today."""
from __future__ import annotations

from datetime import time, timedelta

from core.timeutil import local_today

from . import arranging, plan
from .models import ParticipantKind


def _p(meeting, kind, **match):
    return next(p for p in meeting.participants
                if p.kind == kind and all(getattr(p, k) == v for k, v in match.items()))


def seed(ctx) -> None:
    today = local_today()
    ohjaaja, pekka, sanna = ctx.staff["ohjaaja"], ctx.staff["pekka"], ctx.staff["sanna"]
    tiina, jari, maija = ctx.contacts["sovatek_tiina"], ctx.contacts["typ_jari"], ctx.contacts["te_maija"]
    mk = ctx.clients["mk"]

    starts, ends = arranging.meeting_times(today - timedelta(days=14), time(13, 0), 60)
    held = arranging.create_meeting(
        client=mk, purpose="Aktivointisuunnitelman laatiminen", starts_at=starts, ends_at=ends,
        place_kind="office", place="Neuvotteluhuone 2", staff_ids=[ohjaaja.id, pekka.id],
        contact_ids=[tiina.id, jari.id, maija.id], relative_ids=[ctx.relatives["mk_aiti"].id], created_by=ohjaaja)
    for p in held.participants:
        p.invitation_status = "accepted"
        p.attended = True
    arranging.save_notes(held, user=ohjaaja, held=True,
                        worries="Vuokrarästit ovat kasvaneet. Päihteiden käyttö on lisääntynyt viikonloppuisin.",
                        summary="Matti haluaa päästä kuntouttavaan työtoimintaan. Ensin hoidetaan asuminen ja "
                                "aloitetaan päihdetyön tapaamiset. Äiti tukee arjessa.")
    client_p = _p(held, ParticipantKind.CLIENT.value)
    due = today + timedelta(days=3)
    done = plan.add_item(held, responsible_id=client_p.id, what="Soittaa vuokranantajalle maksusuunnitelmasta",
                             with_whom="Olli Ohjaaja", due_date=today - timedelta(days=7)).item
    plan.set_item_status(done, "done", by_name=ohjaaja.name)
    carry1 = plan.add_item(held, responsible_id=_p(held, "partner", contact_id=tiina.id).id,
                               what="Aloittaa päihdetyön tapaamiset", with_whom="Matti", due_date=due).item
    carry2 = plan.add_item(held, responsible_id=_p(held, "partner", contact_id=jari.id).id,
                               what="Selvittää kuntouttavan työtoiminnan paikat", due_date=due).item
    dropped = plan.add_item(held, responsible_id=_p(held, "relative").id,
                                what="Lähteä mukaan kirjastokäynnille", with_whom="Matti").item
    plan.add_item(held, responsible_id=_p(held, "staff", user_id=ohjaaja.id).id,
                      what="Hakea harkinnanvaraista toimeentulotukea vuokrarästeihin", due_date=due)
    plan.add_item(held, responsible_id=_p(held, "partner", contact_id=maija.id).id,
                      what="Päivittää työllistymissuunnitelma", with_whom="Jari Järvinen",
                      due_date=today + timedelta(days=10))

    starts, ends = arranging.meeting_times(today + timedelta(days=7), time(10, 0), 60)
    follow = plan.schedule_follow_up(held, user=ohjaaja, starts_at=starts, ends_at=ends,
                                         purpose="Suunnitelman seuranta")
    plan.review_item(follow, carry1, "carry", by_name=ohjaaja.name, due_date=today + timedelta(days=21))
    plan.review_item(follow, carry2, "carry", by_name=ohjaaja.name)
    plan.review_item(follow, dropped, "dropped", by_name=ohjaaja.name)

    ls = ctx.clients["ls"]
    starts, ends = arranging.meeting_times(today + timedelta(days=3), time(14, 0), 45)
    other = arranging.create_meeting(
        client=ls, purpose="Verkostopalaveri: tilanteen kartoitus", starts_at=starts, ends_at=ends,
        place_kind="home_visit", place="Laura S:n koti", staff_ids=[ohjaaja.id, sanna.id],
        contact_ids=[ctx.contacts["rise_ville"].id, tiina.id], relative_ids=[ctx.relatives["ls_puoliso"].id],
        created_by=ohjaaja)

    # The demo facilitator's week (the agenda): a meeting tomorrow, and one six days ago that is
    # still to record ("was held" not marked), overdue by more than three working days.
    th = ctx.clients["th"]
    starts, ends = arranging.meeting_times(today + timedelta(days=1), time(9, 0), 60)
    arranging.create_meeting(client=th, purpose="Asumisen tuki: tilannekatsaus", starts_at=starts, ends_at=ends,
                            place_kind="office", place="Sosiaalitoimisto, huone 12", staff_ids=[ohjaaja.id, pekka.id],
                            include_client=True, created_by=ohjaaja)
    starts, ends = arranging.meeting_times(today - timedelta(days=6), time(10, 0), 60)
    arranging.create_meeting(client=mk, purpose="Päihdekuntoutuksen jatko", starts_at=starts, ends_at=ends,
                            place_kind="office", place="Sosiaalitoimisto, huone 12", staff_ids=[ohjaaja.id, pekka.id],
                            contact_ids=[tiina.id], include_client=True, created_by=ohjaaja)

    ctx.extra["meetings"] = {"held": held, "follow_up": follow, "home_visit": other}
