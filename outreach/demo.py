"""Demo outreach: four partner venues with their agreed schedules, visits generated for the
coming months with staff pairs, and past visits with anonymous counts for the lead's report."""
from __future__ import annotations

import random
from datetime import time, timedelta

from core.extensions import db
from core.timeutil import local_to_utc, local_today

from . import services
from .models import LAST, OutreachTopicNote, OutreachVisit

VENUES = (
    # partner key, venue, address, nth, weekday, start, end, break months
    ("seurakunta", "Diakonian avoin kahvila", "Yliopistonkatu 12, Jyväskylä", 2, 1, time(13), time(15), (7,)),
    ("sovatek", "Sovatekin olohuone", "Kauppakatu 1, Jyväskylä", LAST, 4, time(10), time(12), (7,)),
    ("etsiva", "Nuorten Ohjaamo", "Kilpisenkatu 3, Jyväskylä", 1, 2, time(12), time(14), (6, 7)),
    ("typ", "Kuntouttavan työtoiminnan verstas", "Asemakatu 5, Jyväskylä", 3, 3, time(9), time(11), (7,)),
)


def seed(ctx) -> None:
    rng = random.Random(8)  # the same demo every time
    today = local_today()
    pairs = [("ohjaaja", "sanna"), ("pekka", "anna"), ("sanna", "anna"), ("ohjaaja", "pekka")]
    for index, (partner_key, name, address, nth, weekday, start, end, breaks) in enumerate(VENUES):
        partner = ctx.partners.get(partner_key)
        if partner is None:
            continue
        venue = services.save_venue(None, partner_id=partner.id, name=name, address=address, active=True)
        spec = services.RuleSpec(frequency="monthly", nth=nth, weekday=weekday, break_months=breaks,
                                 valid_from=services.add_months(today, -8))
        services.save_rule(venue, spec=spec, start_time=start, end_time=end)
        # Past visits, done and counted, so the report has months to show.
        past = services.generate_visits(venue, today=services.add_months(today, -7), end=today)
        for n, visit in enumerate(past):
            a, b = pairs[(index + n) % len(pairs)]
            services.assign_pair(visit, ctx.staff[a].id, ctx.staff[b].id)
            people = rng.randint(2, 12)
            counts = {
                "people_met": people, "topic_benefits": rng.randint(0, people), "topic_housing": rng.randint(0, 3),
                "topic_money": rng.randint(0, 4), "topic_health": rng.randint(0, 2), "topic_other": rng.randint(0, 2),
                "guided_onward": rng.randint(0, 3), "appointments_booked": rng.randint(0, 3),
            }
            # What the seeds describe besides the counts above, from a generator of its own so
            # the rest of the demo data stays as it was.
            more = random.Random(f"{name}-{n}")
            in_group = more.randint(0, people)
            counts.update({
                "people_new": more.randint(0, people // 2), "met_one_to_one": people - in_group // 2,
                "met_in_group": in_group, "topic_work": more.randint(0, 2), "topic_substance": more.randint(0, 1),
                "topic_loneliness": more.randint(0, 3), "errands_sorted": more.randint(0, 3),
                "referred_office": more.randint(0, 2), "referred_kela": more.randint(0, 2),
                "staff_advised": more.randint(0, 2),
            })
            counts = {name: min(value, people) for name, value in counts.items()}
            if n == 1 and index == 1:
                services.save_report(visit, ctx.staff[a], {}, held=False, not_held_reason="venue_closed")
                continue
            services.save_report(visit, ctx.staff[a], counts, queue=more.random() < 0.3,
                                 note="Kahvilan väki kysyi Kelan lomakkeista." if n % 4 == 0 else "")
        # Coming visits: most with a pair, one with a single worker and one with nobody yet, so
        # the rota shows its flags.
        coming = services.generate_visits(venue, today=today)
        for n, visit in enumerate(coming):
            a, b = pairs[(index + n + 1) % len(pairs)]
            if n == 1 and index == 0:
                services.assign_pair(visit, ctx.staff["anna"].id, None)
            elif n == 2 and index == 1:
                continue
            else:
                services.assign_pair(visit, ctx.staff[a].id, ctx.staff[b].id)
        if index == 2 and coming:
            services.cancel_visit(coming[-1])
        if index == 0:
            # An extra visit tomorrow (agreed for a food-aid day), so the demo facilitator's
            # agenda has an outreach visit in the coming days.
            day = today + timedelta(days=1)
            visit = OutreachVisit(venue_id=venue.id, starts_at=local_to_utc(day, start), ends_at=local_to_utc(day, end))
            db.session.add(visit)
            db.session.flush()
            services.assign_pair(visit, ctx.staff["ohjaaja"].id, ctx.staff["sanna"].id)
            # Its poster is ready to print, and people have left topics on its public page for
            # this next visit (the pair sees them on the visit's page).
            for topic, n in (("benefits", 3), ("housing", 2), ("money", 1)):
                for i in range(n):
                    db.session.add(OutreachTopicNote(venue_id=venue.id, visit_id=visit.id, topic=topic,
                                                     address_key=f"demo{topic}{i}".ljust(32, "0")))
    db.session.flush()
