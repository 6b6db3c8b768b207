"""A large, realistic, deterministic data set for the benchmark: five years of a 50-worker unit.

At ``--scale 1``: 50 staff, 40 partner organisations, 5,000 clients, about 2,000 groups,
15,000 sessions, 10,000 network meetings, 60,000 action items and 100,000 feedback responses,
plus what ties them together (enrolments, attendance, participants, feedback windows and
answers, a partner calendar subscription). Rows go in with bulk ``insert()`` in batches and
explicit ids, so seeding takes a minute or two rather than hours.

The same ``--seed`` gives the same data on the same day (times are laid out around today, so
that feeds, open feedback windows and "my tasks" have current data). Works on SQLite and
PostgreSQL. Tables of features that are not installed are skipped and listed in the state.

    .venv/bin/python -m bench.seed --database-url sqlite:///bench/data/bench.db --scale 0.1
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time as _time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa

BATCH = 5000
BENCH_PASSWORD = "bench-password-2026"
LEAD_EMAIL = "lead@bench.kohtaamo.example"
FACILITATOR_EMAIL = "worker03@bench.kohtaamo.example"
# Open feedback windows for the load test: each window accepts at most FEEDBACK_RATE_LIMIT (60)
# answers per 10 minutes (anti-abuse), so load is spread over many windows, as it would be when
# a whole unit's groups end at the same time.
OPEN_WINDOWS = 400

FIRST = ["Aino", "Eino", "Helmi", "Väinö", "Sanni", "Jari", "Tuula", "Mikko", "Leena", "Kari", "Pirjo", "Juha",
         "Anneli", "Timo", "Sari", "Pekka", "Riikka", "Matti", "Hanna", "Ville", "Elina", "Antti", "Kaisa", "Olli",
         "Johanna", "Sami", "Maria", "Jussi", "Minna", "Heikki", "Linnea", "Oskar", "Ebba", "Viktor"]
LAST = ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen", "Koskinen",
        "Järvinen", "Lehtonen", "Saarinen", "Salminen", "Heinonen", "Niemi", "Lindqvist", "Nyström", "Holm",
        "Karjalainen", "Turunen", "Salonen", "Rantanen", "Lahtinen", "Manninen"]
THEMES = ["Arjen hallinta", "Päihteetön arki", "Työelämään paluu", "Raha-asiat kuntoon", "Vertaistuki",
          "Mielen hyvinvointi", "Liikunta ja luonto", "Ruokaryhmä", "Asumisen taidot", "Vanhemmuus",
          "Digitaidot", "Suomen kieli arjessa"]
TOPICS = ["Tutustuminen", "Oma arki", "Vahvuudet", "Raha ja budjetti", "Palvelut", "Verkostot", "Tavoitteet",
          "Palaute ja jatko", "Vierailija", "Retki"]
ROOMS = ["Kokoushuone Koivu", "Ryhmätila Kuusi", "Olohuone", "Keittiö", "Sali 2"]
VENUES = ["Sosiaaliasema, Hämeentie 1", "Kohtaamispaikka Silta", "Seurakuntatalo", "Kirjaston ryhmätila"]
PARTNER_KINDS = ["substance_abuse", "employment", "labour_force_centre", "probation", "youth_outreach",
                 "aftercare", "hospital", "parish", "ngo", "other"]
TASKS = ["Varaa aika työkkäriin", "Hae toimeentulotukea", "Soita asuntotoimistoon", "Selvitä velkaneuvonta",
         "Täytä Kelan hakemus", "Varaa lääkäriaika", "Etsi kuntouttava työtoiminta", "Käy tutustumassa ryhmään",
         "Pyydä lausunto", "Sovi seuraava tapaaminen"]
PURPOSES = ["Tilannekartoitus", "Asumisen suunnitelma", "Työllistymisen polku", "Päihdekuntoutuksen jälkeen",
            "Talousasiat", "Seurantapalaveri"]
COMMENTS = ["Hyvä kerta, kiitos!", "Enemmän aikaa keskustelulle.", "Mukava porukka.", "Aihe oli tärkeä.",
            "Kahvi oli hyvää.", "Tuntui turvalliselta.", "Liian lyhyt kerta.", "Ohjaajat kuuntelivat."]


@dataclass
class Sizes:
    users: int = 50
    partners: int = 40
    clients: int = 5000
    groups: int = 2000
    meetings: int = 10000
    items: int = 60000
    responses: int = 100000

    @classmethod
    def scaled(cls, scale: float) -> Sizes:
        base = cls()
        return cls(users=max(6, round(base.users * min(1.0, scale * 4))), partners=max(3, round(base.partners * min(1.0, scale * 4))),
                   clients=max(20, round(base.clients * scale)), groups=max(6, round(base.groups * scale)),
                   meetings=max(10, round(base.meetings * scale)), items=max(30, round(base.items * scale)),
                   responses=max(30, round(base.responses * scale)))


@dataclass
class Progress:
    enabled: bool = True
    started: float = field(default_factory=_time.monotonic)

    def __call__(self, table: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / total) if total else width
        sys.stderr.write(f"\r[seed] {table:<28} [{'#' * filled}{'.' * (width - filled)}] {done:>7}/{total:<7} "
                         f"{_time.monotonic() - self.started:6.1f}s")
        if done >= total or not sys.stderr.isatty():
            sys.stderr.write("\n")
        sys.stderr.flush()


def _insert(table, rows: list[dict], progress: Progress, label: str | None = None) -> int:
    from core.extensions import db

    total = len(rows)
    if total == 0:
        progress(label or table.name, 0, 0)
        return 0
    for start in range(0, total, BATCH):
        db.session.execute(sa.insert(table), rows[start:start + BATCH])
        db.session.commit()
        progress(label or table.name, min(total, start + BATCH), total)
    return total


def _local(day: date, at: time) -> datetime:
    from core.timeutil import local_to_utc

    return local_to_utc(day, at)


def create_schema(app) -> str:
    """``flask db upgrade`` when migrations exist, then create_all for any table the migrations do
    not (yet) have. Returns how the schema was made."""
    from core.extensions import db

    how = "create_all"
    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    with app.app_context():
        if versions.is_dir() and any(versions.glob("*.py")):
            from flask_migrate import upgrade

            upgrade()
            how = "flask db upgrade + create_all for the rest"
        db.create_all()
    return how


def seed(url: str, *, scale: float = 1.0, seed_value: int = 2026, progress: bool = True,
         today: date | None = None) -> dict:
    """Seed an empty database at ``url``; return the state the benchmark needs (ids, tokens)."""
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-seed", "TESTING": False})
    schema = create_schema(app)
    with app.app_context():
        state = _seed(app, scale=scale, seed_value=seed_value, progress=Progress(progress), today=today)
        state["schema"] = schema
        from core.extensions import db

        db.session.remove()
        db.engine.dispose()
    return state


def _seed(app, *, scale: float, seed_value: int, progress: Progress, today: date | None) -> dict:  # noqa: C901
    from accounts.models import User
    from accounts.passwords import hash_password
    from core.extensions import db
    from core.setup import installed_features
    from groups.models import (Attendance, Enrolment, Group, GroupEvaluation, GroupPartner, GroupSession)
    from meetings.models import ActionItem, Meeting, MeetingParticipant
    from register.models import Client, ClientWorker, PartnerContact, PartnerOrganisation, Relative

    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        raise RuntimeError("the benchmark database is not empty; seed only into an empty database")

    rng = random.Random(seed_value)
    sizes = Sizes.scaled(scale)
    now = datetime.now(UTC).replace(microsecond=0)
    today = today or now.date()
    # Five years of the unit: four and a half behind us, half a year planned ahead.
    first_day = today - timedelta(days=int(4.5 * 365))
    last_day = today + timedelta(days=int(0.5 * 365))
    span = (last_day - first_day).days
    counts: dict[str, int] = {}
    stamp = now

    # --- staff -----------------------------------------------------------------------------------
    password_hash = hash_password(BENCH_PASSWORD)
    users = []
    for i in range(1, sizes.users + 1):
        role = "lead" if i <= 2 else "facilitator"
        email = LEAD_EMAIL if i == 1 else f"worker{i:02d}@bench.kohtaamo.example"
        users.append({"id": i, "email": email, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "title":
                      "Johtava sosiaalityöntekijä" if role == "lead" else "Sosiaaliohjaaja",
                      "phone": f"+35840{1000000 + i}", "password_hash": password_hash, "role": role,
                      "language": "sv" if i % 9 == 0 else "fi", "active": True, "created_at": stamp,
                      "updated_at": stamp, "version": 1})
    counts["user"] = _insert(User.__table__, users, progress)
    user_ids = [u["id"] for u in users]
    workers = user_ids[2:] or user_ids

    # --- partners and their contacts -------------------------------------------------------------
    partners, contacts = [], []
    contact_by_partner: dict[int, list[int]] = {}
    for p in range(1, sizes.partners + 1):
        kind = PARTNER_KINDS[(p - 1) % len(PARTNER_KINDS)]
        partners.append({"id": p, "name": f"Kumppani {p:02d} ({kind})", "kind": kind,
                         "address": f"Yhteistyökatu {p}, Helsinki", "phone": f"+3589{3100000 + p}", "notes": "",
                         "active": True, "created_at": stamp, "updated_at": stamp, "version": 1})
        for _c in range(3):
            cid = len(contacts) + 1
            contacts.append({"id": cid, "organisation_id": p, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                             "title": "Ohjaaja", "email": f"contact{cid}@partner{p}.example", "phone": "",
                             "language": "fi", "active": True})
            contact_by_partner.setdefault(p, []).append(cid)
    counts["partner_organisation"] = _insert(PartnerOrganisation.__table__, partners, progress)
    counts["partner_contact"] = _insert(PartnerContact.__table__, contacts, progress)
    partner_ids = [p["id"] for p in partners]
    busy_partner = 1  # the feed benchmark's partner: co-hosts many groups

    # --- clients, relatives, their workers -------------------------------------------------------
    clients, relatives, client_workers = [], [], []
    relatives_of: dict[int, list[int]] = {}
    workers_of: dict[int, list[int]] = {}
    for c in range(1, sizes.clients + 1):
        clients.append({"id": c, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                        "phone": f"+35850{2000000 + c}" if rng.random() < 0.8 else "",
                        "email": "", "reminder_consent": rng.random() < 0.6, "consent_date": None,
                        "language": "sv" if rng.random() < 0.06 else "fi", "active": rng.random() < 0.85,
                        "created_by_id": rng.choice(workers), "created_at": stamp, "updated_at": stamp,
                        "version": 1})
        chosen = rng.sample(workers, k=min(len(workers), 1 + (rng.random() < 0.3)))
        # The lead works with a share of clients too (so "my tasks" and feeds have data).
        if rng.random() < 0.05:
            chosen = sorted(set(chosen) | {1})
        workers_of[c] = chosen
        for w in chosen:
            client_workers.append({"id": len(client_workers) + 1, "client_id": c, "user_id": w})
        if rng.random() < 0.5:
            rid = len(relatives) + 1
            relatives.append({"id": rid, "client_id": c, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                              "relation": rng.choice(["äiti", "isä", "sisar", "puoliso", "ystävä"]),
                              "phone": f"+35844{3000000 + rid}", "email": "", "reminder_consent": False,
                              "consent_date": None, "language": "fi"})
            relatives_of.setdefault(c, []).append(rid)
    counts["client"] = _insert(Client.__table__, clients, progress)
    counts["relative"] = _insert(Relative.__table__, relatives, progress)
    counts["client_worker"] = _insert(ClientWorker.__table__, client_workers, progress)
    client_ids = [c["id"] for c in clients]

    # --- groups, sessions, enrolments, attendance ------------------------------------------------
    groups, sessions, group_partners, enrolments, attendance, evaluations = [], [], [], [], [], []
    sessions_of: dict[int, list[dict]] = {}
    per_group = 15000 / 2000  # sessions per group, at any scale
    for g in range(1, sizes.groups + 1):
        start_day = first_day + timedelta(days=rng.randrange(span))
        start_day -= timedelta(days=start_day.weekday())
        start_day += timedelta(days=rng.randrange(5))
        n_sessions = max(1, int(round(rng.uniform(per_group - 2.5, per_group + 2.5))))
        starts_at_local = time(rng.choice([9, 10, 12, 13, 14]), rng.choice([0, 30]))
        minutes = rng.choice([60, 90, 90, 120])
        f1, f2 = rng.sample(workers, 2) if len(workers) >= 2 else (workers[0], None)
        if rng.random() < 0.04:
            f1 = 1  # the lead facilitates now and then
            f2 = f2 if f2 != 1 else None
        theme = rng.choice(THEMES)
        group_sessions = []
        for n in range(1, n_sessions + 1):
            day = start_day + timedelta(weeks=n - 1)
            starts = _local(day, starts_at_local)
            cancelled = rng.random() < 0.03
            s = {"id": len(sessions) + 1, "group_id": g, "number": n, "starts_at": starts,
                 "ends_at": starts + timedelta(minutes=minutes), "topic": rng.choice(TOPICS), "room": "",
                 "plan_notes": "", "status": "cancelled" if cancelled else "scheduled",
                 "sequence": 1 if cancelled else 0, "created_at": stamp, "updated_at": stamp, "version": 1}
            sessions.append(s)
            group_sessions.append(s)
        sessions_of[g] = group_sessions
        first, last = group_sessions[0]["starts_at"], group_sessions[-1]["ends_at"]
        if last < now:
            status = "evaluated" if rng.random() < 0.7 else "finished"
        elif first < now:
            status = "running"
        else:
            status = rng.choice(["enrolling", "planning"])
        groups.append({"id": g, "title": f"{theme} {g}", "theme": theme, "description": "Ryhmä aikuissosiaalityön asiakkaille.",
                       "target_clients": "Aikuissosiaalityön asiakkaat", "venue": rng.choice(VENUES),
                       "room": rng.choice(ROOMS), "capacity": rng.choice([6, 8, 8, 10]),
                       "language": "sv" if rng.random() < 0.05 else "fi", "planning_notes": "", "break_weeks": "",
                       "session_minutes": minutes, "status": status, "facilitator1_id": f1, "facilitator2_id": f2,
                       "previous_round_id": None, "created_by_id": f1, "created_at": _local(start_day - timedelta(days=30), time(12)),
                       "updated_at": stamp, "version": 1})
        hosts = set()
        if rng.random() < 0.3:
            hosts.add(busy_partner)
        for _h in range(rng.choice([0, 1, 1, 2])):
            hosts.add(rng.choice(partner_ids))
        for p in sorted(hosts):
            group_partners.append({"id": len(group_partners) + 1, "group_id": g, "partner_id": p})
        members = rng.sample(client_ids, k=min(len(client_ids), rng.randint(4, 8)))
        for idx, c in enumerate(members):
            eid = len(enrolments) + 1
            state = "enrolled" if idx < 7 else "waiting"
            enrolments.append({"id": eid, "group_id": g, "client_id": c, "status": state, "created_at": stamp,
                               "updated_at": stamp})
            if state != "enrolled":
                continue
            for s in group_sessions:
                if s["starts_at"] < now and s["status"] == "scheduled":
                    attendance.append({"id": len(attendance) + 1, "session_id": s["id"], "enrolment_id": eid,
                                       "status": rng.choices(["present", "absent", "excused"], [8, 1, 1])[0],
                                       "recorded_by_id": f1, "recorded_at": s["ends_at"]})
        if status == "evaluated":
            evaluations.append({"id": len(evaluations) + 1, "group_id": g, "interesting": rng.choice(["yes", "partly"]),
                                "continue_decision": rng.choice(["yes", "with_changes", "no"]),
                                "what_worked": "Vertaistuki toimi.", "improvements": "Enemmän aikaa keskustelulle.",
                                "recorded_by_id": f1, "recorded_at": last})
    counts["client_group"] = _insert(Group.__table__, groups, progress)
    counts["group_session"] = _insert(GroupSession.__table__, sessions, progress)
    counts["group_partner"] = _insert(GroupPartner.__table__, group_partners, progress)
    counts["enrolment"] = _insert(Enrolment.__table__, enrolments, progress)
    counts["attendance"] = _insert(Attendance.__table__, attendance, progress)
    counts["group_evaluation"] = _insert(GroupEvaluation.__table__, evaluations, progress)

    # --- network meetings, participants, action items --------------------------------------------
    meetings, participants, items = [], [], []
    per_meeting_items = sizes.items / sizes.meetings
    for m in range(1, sizes.meetings + 1):
        client = rng.choice(client_ids)
        day = first_day + timedelta(days=rng.randrange(span))
        starts = _local(day, time(rng.choice([9, 10, 11, 13, 14]), rng.choice([0, 30])))
        past = starts < now
        cancelled = rng.random() < 0.04
        status = "cancelled" if cancelled else ("held" if past else "planned")
        creator = rng.choice(workers_of[client])
        meetings.append({"id": m, "client_id": client, "purpose": rng.choice(PURPOSES), "starts_at": starts,
                         "ends_at": starts + timedelta(minutes=rng.choice([60, 90])),
                         "place_kind": rng.choice(["office", "office", "partner_venue", "remote", "home_visit"]),
                         "place": "Sosiaaliasema", "remote_link": "", "status": status,
                         "worries": "" if not past else "Asuminen ja toimeentulo.",
                         "summary": "" if not past else "Sovittiin seuraavista askelista.",
                         "client_identification": "initials", "previous_meeting_id": None,
                         "sequence": 1 if cancelled else 0, "created_by_id": creator, "created_at": starts - timedelta(days=14),
                         "updated_at": stamp, "version": 1})
        mine = []

        def add(kind, **ids):
            pid = len(participants) + 1
            participants.append({"id": pid, "meeting_id": m, "kind": kind, "user_id": ids.get("user_id"),
                                 "contact_id": ids.get("contact_id"), "relative_id": ids.get("relative_id"),
                                 "invitation_status": "accepted", "attended": True if past and not cancelled else None})
            mine.append((kind, pid, ids.get("user_id")))

        add("client")
        for w in workers_of[client]:
            add("staff", user_id=w)
        partner_pool = [busy_partner] if rng.random() < 0.2 else []
        partner_pool += rng.sample(partner_ids, k=rng.choice([1, 1, 2]))
        for p in dict.fromkeys(partner_pool):
            add("partner", contact_id=rng.choice(contact_by_partner[p]))
        if relatives_of.get(client) and rng.random() < 0.3:
            add("relative", relative_id=relatives_of[client][0])
        n_items = max(0, int(round(rng.uniform(per_meeting_items - 3, per_meeting_items + 3))))
        for _i in range(n_items):
            kind, pid, _uid = rng.choice(mine)
            due = day + timedelta(days=rng.randint(7, 60))
            if cancelled:
                item_status = "dropped"
            elif due < today - timedelta(days=60):
                item_status = rng.choices(["done", "dropped", "carried"], [8, 1, 1])[0]
            else:
                item_status = rng.choices(["open", "done"], [3, 1])[0]
            items.append({"id": len(items) + 1, "meeting_id": m, "responsible_id": pid, "what": rng.choice(TASKS),
                          "with_whom": "", "due_date": due, "status": item_status,
                          "status_changed_by": "", "status_changed_at": None, "carried_from_id": None,
                          "created_at": starts, "updated_at": stamp, "version": 1})
    counts["meeting"] = _insert(Meeting.__table__, meetings, progress)
    counts["meeting_participant"] = _insert(MeetingParticipant.__table__, participants, progress)
    counts["action_item"] = _insert(ActionItem.__table__, items, progress)

    features = installed_features()
    skipped: list[str] = []
    state: dict = {"scale": scale, "seed": seed_value, "today": today.isoformat(), "password": BENCH_PASSWORD,
                   "lead_email": LEAD_EMAIL, "facilitator_email": FACILITATOR_EMAIL,
                   "group_ids": sample_ids(rng, [g["id"] for g in groups if g["status"] in ("running", "evaluated")], 50),
                   "meeting_ids": sample_ids(rng, [m["id"] for m in meetings], 50),
                   "busy_partner_id": busy_partner}

    # --- feedback --------------------------------------------------------------------------------
    if "feedback" in features:
        state.update(_seed_feedback(rng, sessions, meetings, groups, sizes, now, today, progress, counts))
    else:
        skipped.append("feedback (package not installed)")

    # --- calendar subscriptions ------------------------------------------------------------------
    if "calendar_export" in features:
        from calendar_export import services as cal

        sub, token = cal.create_subscription(kind="partner", target_id=busy_partner, label="Benchmark partner feed",
                                             created_by=db.session.get(User, 1))
        unit, unit_token = cal.create_subscription(kind="unit", target_id=None, label="Benchmark unit feed",
                                                   created_by=db.session.get(User, 1))
        db.session.commit()
        counts["calendar_subscription"] = 2
        state["partner_feed_token"] = token
        state["unit_feed_token"] = unit_token
    else:
        skipped.append("calendar_export (package not installed)")

    # --- reminder policies ----------------------------------------------------------------------
    if "reminders" in features:
        from reminders.models import ReminderPolicy

        policies = []
        upcoming_groups = [g["id"] for g in groups if g["status"] in ("running", "enrolling", "planning")]
        upcoming_meetings = [m["id"] for m in meetings if m["status"] == "planned"]
        for kind, ids in (("group", upcoming_groups), ("meeting", upcoming_meetings)):
            for target in ids:
                policies.append({"id": len(policies) + 1, "target_kind": kind, "target_id": target, "day_before": True,
                                 "day_before_at": time(16, 0), "same_morning": rng.random() < 0.3,
                                 "same_morning_at": time(8, 0), "by_sms": True, "by_email": False,
                                 "updated_by_id": None, "created_at": stamp, "updated_at": stamp, "version": 1})
        counts["reminder_policy"] = _insert(ReminderPolicy.__table__, policies, progress)
        skipped.append("reminders: outbox and follow-ups start empty (send-reminders fills the outbox)")
    else:
        skipped.append("reminders (package not installed)")
    if "outreach" in features:
        skipped.append("outreach (installed; its tables are left empty by the seed)")
    _reset_sequences()
    state["counts"] = counts
    state["skipped"] = skipped
    return state


def sample_ids(rng: random.Random, ids: list[int], k: int) -> list[int]:
    return sorted(rng.sample(ids, k=min(k, len(ids))))


def _seed_feedback(rng, sessions, meetings, groups, sizes, now, today, progress, counts) -> dict:
    from core.extensions import db
    from feedback import services as fb
    from feedback.models import FeedbackAnswer, FeedbackResponse, FeedbackWindow

    sets = {kind: fb.builtin_set(kind) for kind in ("session", "group_end", "meeting")}
    db.session.commit()
    item_ids = {kind: [item.id for item in s.items] for kind, s in sets.items()}
    windows = []
    alphabet = fb.CODE_ALPHABET

    def code():
        return "".join(rng.choice(alphabet) for _ in range(fb.CODE_LENGTH))

    closed = []  # (window id, kind, the day it was answered)
    for s in sessions:
        if s["status"] != "scheduled" or s["starts_at"] >= now:
            continue
        wid = len(windows) + 1
        windows.append({"id": wid, "kind": "session", "group_id": s["group_id"], "session_id": s["id"],
                        "meeting_id": None, "item_set_id": sets["session"].id, "code": code(),
                        "opens_at": s["starts_at"], "closes_at": s["starts_at"] + timedelta(hours=48),
                        "created_at": s["starts_at"], "version": 1})
        closed.append((wid, "session", s["starts_at"].date()))
    for m in meetings:
        if m["status"] != "held":
            continue
        wid = len(windows) + 1
        windows.append({"id": wid, "kind": "meeting", "group_id": None, "session_id": None,
                        "meeting_id": m["id"], "item_set_id": sets["meeting"].id, "code": code(),
                        "opens_at": m["starts_at"], "closes_at": m["starts_at"] + timedelta(hours=48),
                        "created_at": m["starts_at"], "version": 1})
        closed.append((wid, "meeting", m["starts_at"].date()))
    # Windows open now, for the load test and the 200-participant fault (upcoming sessions).
    upcoming = [s for s in sessions if s["starts_at"] >= now and s["status"] == "scheduled"]
    open_windows = []
    for s in upcoming[:OPEN_WINDOWS]:
        wid = len(windows) + 1
        windows.append({"id": wid, "kind": "session", "group_id": s["group_id"], "session_id": s["id"],
                        "meeting_id": None, "item_set_id": sets["session"].id, "code": code(),
                        "opens_at": now - timedelta(hours=1), "closes_at": now + timedelta(days=30),
                        "created_at": now, "version": 1})
        open_windows.append({"id": wid, "code": windows[-1]["code"]})
    counts["feedback_window"] = _insert(FeedbackWindow.__table__, windows, progress)

    responses, answers = [], []
    mean = sizes.responses / max(1, len(closed))
    total_target = sizes.responses
    for wid, kind, day in closed:
        n = rng.randint(0, max(1, int(round(2 * mean))))
        for _r in range(n):
            if len(responses) >= total_target:
                break
            rid = "%032x" % rng.getrandbits(128)
            responses.append({"id": rid, "window_id": wid, "answered_on": day,
                              "comment": rng.choice(COMMENTS) if rng.random() < 0.15 else ""})
            base = rng.randint(5, 10)
            for item_id in item_ids[kind]:
                answers.append({"response_id": rid, "item_id": item_id,
                                "value": max(0, min(10, base + rng.randint(-2, 1)))})
    counts["feedback_response"] = _insert(FeedbackResponse.__table__, responses, progress)
    counts["feedback_answer"] = _insert(FeedbackAnswer.__table__, answers, progress)
    return {"open_windows": open_windows, "session_item_ids": item_ids["session"]}


def _reset_sequences() -> None:
    """Rows went in with explicit ids; PostgreSQL's sequences must continue after them."""
    from core.extensions import db

    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, sa.Integer) and pk[0].autoincrement in (True, "auto"):
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{pk[0].name}'), "
                f"COALESCE((SELECT MAX(\"{pk[0].name}\") FROM \"{table.name}\"), 0) + 1, false)"))
    db.session.commit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--state", help="write the state (ids, tokens) as JSON here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    started = _time.monotonic()
    state = seed(args.database_url, scale=args.scale, seed_value=args.seed, progress=not args.quiet)
    state["seconds"] = round(_time.monotonic() - started, 1)
    if args.state:
        Path(args.state).parent.mkdir(parents=True, exist_ok=True)
        Path(args.state).write_text(json.dumps(state, indent=2))
    print(json.dumps({"seconds": state["seconds"], "counts": state["counts"], "skipped": state["skipped"]}, indent=2))


if __name__ == "__main__":
    main()
