"""Demo groups: a finished and evaluated Raharyhmä with attendance, a running group co-hosted by
Sovatek, one in planning and a few ideas. Dates are relative to today so the demo looks current."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today, to_local

from . import enrolment as groups_enrolment, planning, schedule, services
from .models import Attendance, GroupEvaluation, GroupIdea, GroupStatus

RAHA_TOPICS = ["Kela-etuudet", "Budjetointi", "Velat ja ulosotto", "Laskut ja maksut", "Säästäminen",
               "Mitä seuraavaksi"]
ARKI_TOPICS = ["Tutustuminen", "Uni ja vuorokausirytmi", "Ruoka ja arjen rytmi", "Liikkuminen", "Päihteet ja arki",
               "Omat voimavarat", "Yhteenveto"]


def _schedule(group, first, weekday, start, minutes, weeks, topics):
    planned = schedule.plan_dates(first_date=first, weekday=weekday, start=start, minutes=minutes, weeks=weeks)
    schedule.generate_schedule(group, planned, topics=topics, minutes=minutes)


def seed(ctx) -> None:
    staff, clients = ctx.staff, ctx.clients
    today = local_today()

    # A finished, evaluated money-management group (started about three months ago).
    raha = planning.save_group(
        None, title="Raharyhmä", theme="Raha-asiat",
        description="Kuuden kerran ryhmä arjen raha-asioista: etuudet, budjetti, velat ja säästäminen.",
        target_clients="Aikuissosiaalityön asiakkaat, joilla on raha-asioissa haasteita", venue="Kauppakatu 1, Jyväskylä",
        room="Ryhmähuone Kipinä", capacity=8, planning_notes="Kahvit ja pullat. Kela-asiantuntija vieraaksi 1. kerralla.",
        facilitator1_id=staff["ohjaaja"].id, facilitator2_id=staff["sanna"].id, created_by=staff["ohjaaja"])
    _schedule(raha, today - timedelta(days=100), 1, time(13, 0), 90, 6, RAHA_TOPICS)
    raha.status = GroupStatus.ENROLLING.value
    members = [groups_enrolment.enrol(raha, clients[k].id) for k in ("mk", "ls", "jv", "th", "pn")]
    raha.status = GroupStatus.FINISHED.value
    db.session.flush()
    # A believable pattern: most came most weeks, one dropped out halfway.
    pattern = {
        "mk": "PPPAPP", "ls": "PPEPPP", "jv": "PAPPAP", "th": "PPPAAA", "pn": "PPPPPE",
    }
    codes = {"P": "present", "A": "absent", "E": "excused"}
    for enrolment, key in zip(members, ("mk", "ls", "jv", "th", "pn"), strict=True):
        for session, code in zip(sorted(raha.sessions, key=lambda s: s.number), pattern[key], strict=True):
            db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status=codes[code],
                                      recorded_by_id=staff["ohjaaja"].id))
    raha.evaluation = GroupEvaluation(
        interesting="yes", continue_decision="with_changes",
        what_worked="Budjetointikerta ja Kela-asiantuntijan vierailu. Kahvi ja rauhallinen tila auttoivat.",
        improvements="Velkakerralle enemmän aikaa ja talous- ja velkaneuvonta mukaan. Muistutus tekstiviestinä "
                     "edellisenä päivänä.", recorded_by_id=staff["ohjaaja"].id)
    raha.status = GroupStatus.EVALUATED.value

    # A running group co-hosted by Sovatek: four of seven sessions held.
    arki = planning.save_group(
        None, title="Arjen hallinta -ryhmä", theme="Arjen hallinta",
        description="Seitsemän kertaa arjen rytmistä, voimavaroista ja päihteettömästä arjesta.",
        target_clients="Päihdekuntoutuksen jälkeen arkeen palaavat", venue="Sovatek, Kauppakatu 1",
        room="Sali 2", capacity=6, facilitator1_id=staff["pekka"].id, facilitator2_id=staff["ohjaaja"].id,
        partner_ids=[ctx.partners["sovatek"].id], created_by=staff["pekka"])
    _schedule(arki, today - timedelta(days=27), today.weekday(), time(10, 0), 90, 7, ARKI_TOPICS)
    arki.status = GroupStatus.ENROLLING.value
    arki_members = [groups_enrolment.enrol(arki, clients[k].id) for k in ("eb", "ss", "ak", "pn")]
    arki.status = GroupStatus.RUNNING.value
    db.session.flush()
    for session in arki.sessions:
        if to_local(session.starts_at).date() < today:
            for i, enrolment in enumerate(arki_members):
                status = "absent" if (i + session.number) % 5 == 0 else "present"
                db.session.add(Attendance(session_id=session.id, enrolment_id=enrolment.id, status=status,
                                          recorded_by_id=staff["pekka"].id))

    # One in planning: the next round of Raharyhmä, with the previous evaluation to learn from.
    seuraava = schedule.copy_round(raha, title="Raharyhmä, kevät", first_date=today + timedelta(days=70),
                                   user=staff["ohjaaja"])
    seuraava.planning_notes = "Pyydetään talous- ja velkaneuvoja velkakerralle."
    seuraava.facilitator2_id = staff["anna"].id

    ideas = [
        ("Yksinäisyys ja kohtaamiset", "Kahviryhmä yksin asuville, matala kynnys.", "Sanna", "coffee_break",
         "Yksin asuvat aikuiset"),
        ("Työelämään paluu", "Yhdessä TYP:n kanssa: työkokeilut, CV, haastatteluun valmistautuminen.",
         "Tiimipalaveri", "team_meeting", "Pitkään työttömänä olleet"),
        ("Digitaidot arjessa", "Pankkitunnukset, Kela ja Omakanta puhelimella.", "Asiakas toivoi", "client_meeting",
         "Asiakkaat, joilla vähän digitaitoja"),
    ]
    for theme, description, by, source, target in ideas:
        services.create_idea(theme=theme, description=description, suggested_by=by, source=source,
                             target_clients=target, created_by=staff["sanna"])
    db.session.flush()
    # Referrals from client meetings: one waits for the spring round's facilitators (the demo
    # facilitator among them), two show the demand for a theme in the backlog.
    groups_enrolment.refer(clients["jv"].id, target=f"group:{seuraava.id}", user=staff["sanna"],
                   reason="Vuokrarästejä, haluaa oppia tekemään budjetin.")
    loneliness = db.session.scalars(sa.select(GroupIdea).where(GroupIdea.theme == "Yksinäisyys ja kohtaamiset")).one()
    for key, reason in (("eb", "Asuu yksin, toivoo seuraa arkeen."), ("th", "Vähän kontakteja, kiinnostunut ryhmästä.")):
        groups_enrolment.refer(clients[key].id, target=f"idea:{loneliness.id}", user=staff["ohjaaja"], reason=reason)
    ctx.extra["groups"] = {"raharyhma": raha, "arki": arki, "seuraava": seuraava}
