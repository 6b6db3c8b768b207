"""Demo data: the foundation every feature's demo builds on (staff, partner organisations and
their contacts, clients and their relatives), first of the demo seeds (core.demo)."""
from __future__ import annotations

from accounts.services import create_staff
from accounts.units import create_unit
from core.demo import DEMO_PASSWORD, DemoContext

from . import services as reg


def seed_foundation(ctx: DemoContext) -> None:
    # Two units of the county: the demo's people work in the centre; the east unit has its own
    # lead, a worker and clients, so a lead's view of one unit can be seen next to the other's.
    ctx.units["keskusta"] = create_unit("Aikuissosiaalityö Keskusta", "aikuissosiaalityo-keskusta")
    ctx.units["ita"] = create_unit("Aikuissosiaalityö Itä", "aikuissosiaalityo-ita")

    staff = [
        ("ohjaaja", "ohjaaja@example.fi", "Olli Ohjaaja", "facilitator", "Sosiaaliohjaaja"),
        ("vastaava", "vastaava@example.fi", "Veera Vastaava", "lead", "Johtava sosiaalityöntekijä"),
        ("sanna", "sanna.sosiaalityontekija@example.fi", "Sanna Saarinen", "facilitator", "Sosiaalityöntekijä"),
        ("pekka", "pekka.psykiatrinen@example.fi", "Pekka Peltonen", "facilitator", "Psykiatrinen sairaanhoitaja"),
        ("anna", "anna.ohjaaja@example.fi", "Anna-Kristiina Aalto", "facilitator", "Sosiaaliohjaaja"),
    ]
    for key, email, name, role, title in staff:
        ctx.staff[key] = create_staff(email=email, name=name, password=DEMO_PASSWORD, role=role, title=title,
                                      unit_ids=[ctx.units["keskusta"].id])
    east = [
        ("ita_vastaava", "vastaava.ita@example.fi", "Irma Itkonen", "lead", "Johtava sosiaalityöntekijä"),
        ("ita_ohjaaja", "ohjaaja.ita@example.fi", "Iiro Immonen", "facilitator", "Sosiaaliohjaaja"),
    ]
    for key, email, name, role, title in east:
        ctx.staff[key] = create_staff(email=email, name=name, password=DEMO_PASSWORD, role=role, title=title,
                                      unit_ids=[ctx.units["ita"].id])
    ctx.staff["hallinto"] = create_staff(email="hallinto@example.fi", name="Heikki Hallinto", password=DEMO_PASSWORD,
                                         role="county_admin", title="Pääkäyttäjä", unit_ids=[])

    partners = [
        ("sovatek", "Sovatek-säätiö", "substance_abuse", "Kauppakatu 1, Jyväskylä",
         [("sovatek_tiina", "Tiina Toivonen", "Päihdetyöntekijä", "tiina.toivonen@sovatek.example")]),
        ("typ", "Työvoiman palvelukeskus (TYP)", "labour_force_centre", "Asemakatu 5, Jyväskylä",
         [("typ_jari", "Jari Järvinen", "Työvalmentaja", "jari.jarvinen@typ.example")]),
        ("te", "TE-palvelut", "employment", "Vapaudenkatu 38, Jyväskylä",
         [("te_maija", "Maija Mäkelä", "Asiantuntija", "maija.makela@te.example")]),
        ("rise", "Rikosseuraamuslaitos", "probation", "Kilpisenkatu 10, Jyväskylä",
         [("rise_ville", "Ville Virtanen", "Rikosseuraamustyöntekijä", "ville.virtanen@rise.example")]),
        ("etsiva", "Etsivä nuorisotyö", "youth_outreach", "Kilpisenkatu 3, Jyväskylä",
         [("etsiva_noora", "Noora Nieminen", "Etsivä nuorisotyöntekijä", "noora.nieminen@etsiva.example")]),
        ("seurakunta", "Jyväskylän seurakunta, diakonia", "parish", "Yliopistonkatu 12, Jyväskylä",
         [("srk_eero", "Eero Esko", "Diakoni", "eero.esko@srk.example")]),
        ("sairaala", "Keski-Suomen keskussairaala, psykiatria", "hospital", "Hoitajantie 3, Jyväskylä",
         [("sairaala_liisa", "Liisa Lahtinen", "Sairaanhoitaja", "liisa.lahtinen@ksshp.example")]),
    ]
    for key, name, kind, address, contacts in partners:
        org = reg.save_partner(None, name=name, kind=kind, address=address)
        ctx.partners[key] = org
        for ckey, cname, title, email in contacts:
            ctx.contacts[ckey] = reg.save_contact(org, None, name=cname, title=title, email=email)

    clients = [
        ("mk", "Matti K.", "+358401234567", True, "fi", "ohjaaja"),
        ("ls", "Laura S.", "+358501112233", True, "fi", "ohjaaja"),
        ("jv", "J. V.", "", False, "fi", "sanna"),
        ("eb", "Erik B.", "+358449876543", True, "sv", "sanna"),
        ("th", "Tiina H.", "+358405556677", False, "fi", "ohjaaja"),
        ("ak", "A. K.", "", False, "en", "anna"),
        ("pn", "Pertti N.", "+358407778899", True, "fi", "pekka"),
        ("ss", "Sari S.", "+358401010101", True, "fi", "anna"),
    ]
    for key, name, phone, consent, lang, worker in clients:
        ctx.clients[key] = reg.create_client(name=name, phone=phone, language=lang, reminder_consent=consent,
                                             created_by=ctx.staff[worker])
    for key, name, phone, consent, lang in (("it_rv", "Riikka V.", "+358402223344", True, "fi"),
                                            ("it_ol", "Olavi L.", "", False, "fi")):
        ctx.clients[key] = reg.create_client(name=name, phone=phone, language=lang, reminder_consent=consent,
                                             created_by=ctx.staff["ita_ohjaaja"])
    ctx.relatives["mk_aiti"] = reg.save_relative(ctx.clients["mk"], None, name="Helena K.", relation="äiti",
                                                 phone="+358405554433", email="", language="fi", reminder_consent=True)
    ctx.relatives["ls_puoliso"] = reg.save_relative(ctx.clients["ls"], None, name="Mikko S.", relation="puoliso",
                                                    phone="", email="mikko@example.fi", language="fi",
                                                    reminder_consent=False)

