"""A large, realistic, deterministic data set for the benchmark: five years of a 50-worker unit.

At ``--scale 1``: 50 staff, 40 partner organisations, 5,000 clients, about 2,000 groups,
15,000 sessions, 10,000 network meetings, 60,000 action items and 100,000 feedback responses,
plus what ties them together (enrolments, attendance, participants, follow-up meetings with
carried-over items, next rounds of groups, feedback windows and answers, a partner calendar
subscription), and outreach: 20 partner venues with their agreed schedules, about 1,700 visits
made in pairs and the anonymous counts recorded after them. Rows go in with bulk ``insert()``
in batches and explicit ids, so seeding takes a minute or two rather than hours.

The benchmark's user (the lead) has the same kinds of rows at every scale: sessions today and
this week, open tasks (more than the start page shows), outreach visits coming and waiting for
counts; ``state["measured"]`` names a group, meeting, outreach venue and visit chosen by shape
(see ``pick``), so the query counts of a tiny and a large data set compare like with like.

The same ``--seed`` gives the same data on the same day (times are laid out around today, so
that feeds, open feedback windows and "my tasks" have current data). Works on SQLite and
PostgreSQL. Every feature is always installed (app.FEATURES), so every table is seeded.

    .venv/bin/python -m bench.seed --database-url sqlite:///bench/data/bench.db --scale 0.1

``--scale 10`` (fifty years of the unit's growth in five: 50,000 clients, 100,000 meetings,
600,000 action items, a million feedback responses; staff, partners and outreach venues stay at
their scale-1 sizes) builds every table in memory first (a few GB) and prints each step and
each table's progress to stderr; expect many minutes on SQLite and more on PostgreSQL.
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
OPEN_WINDOWS = 1000
# The last of them are left to the fault checks (10 for the burst of 200, the rest for the SIGKILL
# run, enough that the anti-abuse limit never answers there either); the load test takes the others.
RESERVED_WINDOWS = 250

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
OUTREACH_PLACES = ["Avoin kahvila", "Olohuone", "Päiväkeskus", "Asukastupa", "Kohtaamispaikka", "Nuorten tila",
                   "Verstas", "Ruokajakelu", "Lähiötupa", "Kirjaston aula"]
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
    venues: int = 20

    @classmethod
    def scaled(cls, scale: float) -> Sizes:
        base = cls()
        # Staff: a unit's 50 from scale 0.25 on (a small data set keeps a few), and beyond scale 1
        # a county's units of 50 each (500 staff at scale 10). Partners and outreach venues are
        # the county's shared ones: they stop growing at scale 0.25.
        staff = min(1.0, scale * 4) if scale <= 1 else scale
        return cls(users=max(6, round(base.users * staff)), partners=max(3, round(base.partners * min(1.0, scale * 4))),
                   clients=max(20, round(base.clients * scale)), groups=max(6, round(base.groups * scale)),
                   meetings=max(10, round(base.meetings * scale)), items=max(30, round(base.items * scale)),
                   responses=max(30, round(base.responses * scale)),
                   venues=max(3, round(base.venues * min(1.0, scale * 4))))


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


    def phase(self, text: str) -> None:
        """A line before a step that builds rows in memory (at --scale 10 such a step takes
        minutes, with no table to show progress on yet)."""
        if self.enabled:
            sys.stderr.write(f"[seed] {text} … {_time.monotonic() - self.started:6.1f}s\n")
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
    from core.extensions import db

    schema = create_schema(app)
    with app.app_context():
        try:
            shown = Progress(progress)
            state = _seed(app, scale=scale, seed_value=seed_value, progress=shown, today=today)
            # A database that grew to this size over five years has planner statistics (PostgreSQL's
            # autovacuum, SQLite's PRAGMA optimize on the app's connections); a bulk insert has
            # none yet, so gather them now rather than measure the first minutes without. On
            # PostgreSQL also VACUUM: otherwise the first reads of every fresh row write its hint
            # bits, and autovacuum starts on the new tables, both during the first pages measured.
            started = _time.perf_counter()
            shown.phase("gathering planner statistics (ANALYZE)")
            _gather_statistics(db.engine)
            state["analyze_seconds"] = round(_time.perf_counter() - started, 1)
        finally:
            # Also when refusing a database with data: no connection is left for the GC to close.
            db.session.remove()
            db.engine.dispose()
        state["schema"] = schema
    return state


def _gather_statistics(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def upgrade_seeded(url: str) -> bool:
    """Bring a database seeded earlier (``--reuse-seed``) to the code's schema: its migrations fill
    any new column (a copied unit) from the seeded rows. Statistics are gathered again when a
    migration ran, as after a seed (a new index has none). Returns whether one ran."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    from app import create_app
    from core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-seed", "TESTING": False})
    with app.app_context():
        try:
            head = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()
            with db.engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
            if current == head:
                return False
            upgrade()
            _gather_statistics(db.engine)
            return True
        finally:
            db.session.remove()
            db.engine.dispose()


@dataclass
class SeedContext:
    """What the seed's steps share: the random source (one stream, consumed in the same order
    every run, so the same ``--seed`` gives the same data), the sizes, the five years' dates, the
    row counts and the rows later steps refer to."""
    rng: random.Random
    seed_value: int
    scale: float
    sizes: Sizes
    now: datetime
    today: date
    first_day: date
    last_day: date
    progress: Progress
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    # Filled in by the steps, in order.
    users: list[dict] = field(default_factory=list)
    workers: list[int] = field(default_factory=list)
    partners: list[dict] = field(default_factory=list)
    partner_ids: list[int] = field(default_factory=list)
    contact_by_partner: dict[int, list[int]] = field(default_factory=dict)
    unit_of: dict[int, int] = field(default_factory=dict)  # user id -> unit id
    clients: list[dict] = field(default_factory=list)
    client_ids: list[int] = field(default_factory=list)
    relatives_of: dict[int, list[int]] = field(default_factory=dict)
    workers_of: dict[int, list[int]] = field(default_factory=dict)
    groups: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    group_partners: list[dict] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)
    meetings: list[dict] = field(default_factory=list)
    measured_meeting: dict = field(default_factory=dict)

    @property
    def span(self) -> int:
        return (self.last_day - self.first_day).days

    @property
    def stamp(self) -> datetime:
        return self.now

    def staff_by_unit(self) -> dict[int, list[int]]:
        """The workers of each unit, in the order of ``workers``."""
        staff: dict[int, list[int]] = {}
        for worker in self.workers:
            staff.setdefault(self.unit_of[worker], []).append(worker)
        return staff

    @property
    def lead_share(self) -> float:
        """How often the lead (user 1) is among a record's workers: a unit lead's share at scale
        1, the same number of records at larger scales (a county's lead leads one unit, not all),
        so the lead's own rows ("my tasks", the feeds) stay the same size as the data grows."""
        return 1.0 / max(1.0, self.scale)


BUSY_PARTNER = 1  # the feed benchmark's partner: co-hosts many groups


def _seed(app, *, scale: float, seed_value: int, progress: Progress, today: date | None) -> dict:
    """Seed every kind of record, one step per kind, in the order of their foreign keys."""
    from accounts.models import User
    from core.extensions import db

    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        raise RuntimeError("the benchmark database is not empty; seed only into an empty database")

    now = datetime.now(UTC).replace(microsecond=0)
    # Helsinki's date, as the pages' "today" (the UTC date is yesterday's late in the evening).
    today = today or _local_date(now)
    # Five years of the unit: four and a half behind us, half a year planned ahead.
    ctx = SeedContext(rng=random.Random(seed_value), seed_value=seed_value, scale=scale, sizes=Sizes.scaled(scale),
                      now=now, today=today, first_day=today - timedelta(days=int(4.5 * 365)),
                      last_day=today + timedelta(days=int(0.5 * 365)), progress=progress)
    sizes = ctx.sizes
    progress.phase(f"scale {scale}: {sizes.users} staff, {sizes.clients} clients, {sizes.groups} groups, "
                   f"{sizes.meetings} meetings, {sizes.items} action items, {sizes.responses} feedback responses")
    _seed_staff(ctx)
    _seed_units(ctx)
    _seed_partners(ctx)
    _seed_clients(ctx)
    _seed_groups(ctx)
    _seed_meetings(ctx)
    # The measured lead (user 1) leads the first unit: the pages measured are of its records.
    lead_clients = {c["id"] for c in ctx.clients if c["unit_id"] == 1}
    state: dict = {"scale": scale, "seed": seed_value, "today": today.isoformat(), "password": BENCH_PASSWORD,
                   "lead_email": LEAD_EMAIL, "facilitator_email": FACILITATOR_EMAIL,
                   "group_ids": sample_ids(ctx.rng, [g["id"] for g in ctx.groups if g["unit_id"] == 1
                                                     and g["status"] in ("running", "evaluated")], 50),
                   "meeting_ids": sample_ids(ctx.rng, [m["id"] for m in ctx.meetings
                                                       if m["client_id"] in lead_clients], 50),
                   # Client pages for the load test: the lead's unit's active clients with meetings.
                   "client_ids": sample_ids(random.Random(f"{seed_value}:clients"), sorted(
                       {m["client_id"] for m in ctx.meetings} & {c["id"] for c in ctx.clients if c["active"]}
                       & lead_clients), 50),
                   "busy_partner_id": BUSY_PARTNER}
    answered_groups = _seed_feedback_step(ctx, state)
    _seed_calendar(ctx, state)
    _seed_reminder_policies(ctx)
    outreach = _seed_outreach_step(ctx)
    state["measured"] = _measured([g for g in ctx.groups if g["unit_id"] == 1], ctx.group_partners, ctx.evaluations, answered_groups,
                                  ctx.measured_meeting, outreach)
    _reset_sequences()
    state["counts"] = ctx.counts
    state["skipped"] = ctx.skipped
    return state


def _seed_units(ctx: SeedContext) -> None:
    """Units of a wellbeing-services county: 50 staff per unit (10 units at scale 10), staff ``i``
    in unit ``(i - 1) // 50 + 1`` with its two leads (users 1 and 2 lead the first unit). Clients
    belong to the unit of the worker who added them, groups to their first facilitator's; partners
    and outreach venues stay shared (no unit). Draws nothing from the random stream, so a seed
    gives the same records as before units existed."""
    from accounts.models import Unit, UnitMembership

    count = max(1, -(-len(ctx.users) // 50))
    units = [{"id": u, "name": f"Aikuissosiaalityö {u:02d}", "slug": f"yksikko-{u:02d}", "created_at": ctx.stamp}
             for u in range(1, count + 1)]
    ctx.counts["unit"] = _insert(Unit.__table__, units, ctx.progress)
    ctx.unit_of = {u["id"]: (u["id"] - 1) // 50 + 1 for u in ctx.users}
    ctx.counts["unit_membership"] = _insert(UnitMembership.__table__, [
        {"user_id": user_id, "unit_id": unit_id} for user_id, unit_id in ctx.unit_of.items()], ctx.progress)


def _seed_staff(ctx: SeedContext) -> None:
    from accounts.models import User
    from accounts.passwords import hash_password

    password_hash = hash_password(BENCH_PASSWORD)
    rng, stamp = ctx.rng, ctx.stamp
    for i in range(1, ctx.sizes.users + 1):
        # Two leads per 50 staff (users 1 and 2 at scale 1; the first two of each 50 at county scale).
        role = "lead" if (i - 1) % 50 < 2 else "facilitator"
        email = LEAD_EMAIL if i == 1 else f"worker{i:02d}@bench.kohtaamo.example"
        ctx.users.append({"id": i, "email": email, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "title":
                          "Johtava sosiaalityöntekijä" if role == "lead" else "Sosiaaliohjaaja",
                          "phone": f"+35840{1000000 + i}", "password_hash": password_hash, "role": role,
                          "language": "sv" if i % 9 == 0 else "fi", "active": True, "created_at": stamp,
                          "updated_at": stamp, "version": 1})
    ctx.counts["user"] = _insert(User.__table__, ctx.users, ctx.progress)
    user_ids = [u["id"] for u in ctx.users]
    ctx.workers = user_ids[2:] or user_ids


def _seed_partners(ctx: SeedContext) -> None:
    from register.models import PartnerContact, PartnerOrganisation

    rng, stamp = ctx.rng, ctx.stamp
    contacts = []
    for p in range(1, ctx.sizes.partners + 1):
        kind = PARTNER_KINDS[(p - 1) % len(PARTNER_KINDS)]
        ctx.partners.append({"id": p, "name": f"Kumppani {p:02d} ({kind})", "kind": kind,
                             "address": f"Yhteistyökatu {p}, Helsinki", "phone": f"+3589{3100000 + p}", "notes": "",
                             "active": True, "created_at": stamp, "updated_at": stamp, "version": 1})
        for _c in range(3):
            cid = len(contacts) + 1
            contacts.append({"id": cid, "organisation_id": p, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                             "title": "Ohjaaja", "email": f"contact{cid}@partner{p}.example", "phone": "",
                             "language": "fi", "active": True})
            ctx.contact_by_partner.setdefault(p, []).append(cid)
    ctx.counts["partner_organisation"] = _insert(PartnerOrganisation.__table__, ctx.partners, ctx.progress)
    ctx.counts["partner_contact"] = _insert(PartnerContact.__table__, contacts, ctx.progress)
    ctx.partner_ids = [p["id"] for p in ctx.partners]


def _seed_clients(ctx: SeedContext) -> None:
    """Clients, their relatives and their workers."""
    from register.models import Client, ClientWorker, Relative

    rng, stamp, workers = ctx.rng, ctx.stamp, ctx.workers
    staff_of = ctx.staff_by_unit()
    relatives, client_workers = [], []
    for c in range(1, ctx.sizes.clients + 1):
        ctx.clients.append({"id": c, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                            "phone": f"+35850{2000000 + c}" if rng.random() < 0.8 else "",
                            "email": "", "reminder_consent": rng.random() < 0.6, "consent_date": None,
                            "language": "sv" if rng.random() < 0.06 else "fi", "active": rng.random() < 0.85,
                            "created_by_id": rng.choice(workers), "created_at": stamp, "updated_at": stamp,
                            "version": 1})
        unit = ctx.clients[-1]["unit_id"] = ctx.unit_of[ctx.clients[-1]["created_by_id"]]
        # A client's workers are of the client's unit (the county's staff were drawn at random
        # before, so nine in ten of a worker's clients were another unit's at scale 10); now and
        # then a worker of another unit is named too (a specialist), so that path has data.
        team = staff_of[unit]
        chosen = rng.sample(team, k=min(len(team), 1 + (rng.random() < 0.3)))
        if len(staff_of) > 1 and rng.random() < 0.02:
            chosen = sorted(set(chosen) | {rng.choice(workers)})
        # The lead (of unit 1) works with a share of the unit's clients too (so "my tasks" and
        # feeds have data): the same number at every scale.
        if rng.random() < (0.05 if unit == 1 else 0.0):
            chosen = sorted(set(chosen) | {1})
        ctx.workers_of[c] = chosen
        for w in chosen:
            client_workers.append({"id": len(client_workers) + 1, "client_id": c, "user_id": w})
        if rng.random() < 0.5:
            rid = len(relatives) + 1
            relatives.append({"id": rid, "client_id": c, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                              "relation": rng.choice(["äiti", "isä", "sisar", "puoliso", "ystävä"]),
                              "phone": f"+35844{3000000 + rid}", "email": "", "reminder_consent": False,
                              "consent_date": None, "language": "fi"})
            ctx.relatives_of.setdefault(c, []).append(rid)
    ctx.counts["client"] = _insert(Client.__table__, ctx.clients, ctx.progress)
    ctx.counts["relative"] = _insert(Relative.__table__, relatives, ctx.progress)
    ctx.counts["client_worker"] = _insert(ClientWorker.__table__, client_workers, ctx.progress)
    ctx.client_ids = [c["id"] for c in ctx.clients]


def _seed_groups(ctx: SeedContext) -> None:
    """Groups, their sessions, partners, enrolments, attendance and evaluations; next rounds."""
    from groups.models import Attendance, Enrolment, Group, GroupEvaluation, GroupPartner, GroupSession

    ctx.progress.phase("building groups, sessions, enrolments and attendance")
    rng, stamp, now, today, workers = ctx.rng, ctx.stamp, ctx.now, ctx.today, ctx.workers
    sizes, first_day, span = ctx.sizes, ctx.first_day, ctx.span
    groups, sessions, group_partners, evaluations = ctx.groups, ctx.sessions, ctx.group_partners, ctx.evaluations
    enrolments, attendance = [], []
    staff_of = ctx.staff_by_unit()
    clients_of: dict[int, list[int]] = {}
    for client in ctx.clients:
        clients_of.setdefault(client["unit_id"], []).append(client["id"])
    sessions_of: dict[int, list[dict]] = {}
    spans: dict[int, tuple[datetime, datetime]] = {}
    per_group = 15000 / 2000  # sessions per group, at any scale
    # Two more groups, the lead's own running ones, at every scale: one meets today (its third
    # session), one on the next working day of this week (its second), so the start page's "today"
    # and "my week" panels have rows in a tiny data set too. Otherwise they are like any group.
    lead_groups = {sizes.groups + 1: today - timedelta(weeks=2),
                   sizes.groups + 2: _next_working_day(today) - timedelta(weeks=1)}
    for g in range(1, sizes.groups + len(lead_groups) + 1):
        start_day = first_day + timedelta(days=rng.randrange(span))
        start_day -= timedelta(days=start_day.weekday())
        start_day += timedelta(days=rng.randrange(5))
        if g in lead_groups:
            start_day = lead_groups[g]
        n_sessions = max(1, int(round(rng.uniform(per_group - 2.5, per_group + 2.5))))
        starts_at_local = time(rng.choice([9, 10, 12, 13, 14]), rng.choice([0, 30]))
        minutes = rng.choice([60, 90, 90, 120])
        f1, f2 = rng.sample(workers, 2) if len(workers) >= 2 else (workers[0], None)
        if rng.random() < 0.04 * ctx.lead_share or g in lead_groups:
            f1 = 1  # the lead facilitates now and then
        # The group is its first facilitator's unit's, and so are the second and the participants
        # (at scale 1, with one unit, the same draws as before units existed).
        unit = ctx.unit_of[f1]
        if f2 is not None and (f2 == f1 or ctx.unit_of[f2] != unit):
            pair = [w for w in staff_of[unit] if w != f1]
            f2 = rng.choice(pair) if pair else None
        theme = rng.choice(THEMES)
        group_sessions = []
        for n in range(1, n_sessions + 1):
            day = start_day + timedelta(weeks=n - 1)
            starts = _local(day, starts_at_local)
            cancelled = rng.random() < 0.03
            s = {"id": len(sessions) + 1, "group_id": g, "unit_id": ctx.unit_of[f1], "number": n, "starts_at": starts,
                 "ends_at": starts + timedelta(minutes=minutes), "topic": rng.choice(TOPICS), "room": "",
                 "plan_notes": "", "status": "cancelled" if cancelled else "scheduled",
                 "sequence": 1 if cancelled else 0, "created_at": stamp, "updated_at": stamp, "version": 1}
            sessions.append(s)
            group_sessions.append(s)
        sessions_of[g] = group_sessions
        first, last = group_sessions[0]["starts_at"], group_sessions[-1]["ends_at"]
        spans[g] = (first, last)
        if last < now:
            status = "evaluated" if rng.random() < 0.7 else "finished"
        elif first < now:
            status = "running"
        else:
            status = rng.choice(["enrolling", "planning"])
        groups.append({"id": g, "title": f"{theme} {g}", "theme": theme,
                       "description": "Ryhmä aikuissosiaalityön asiakkaille.",
                       "target_clients": "Aikuissosiaalityön asiakkaat", "venue": rng.choice(VENUES),
                       "room": rng.choice(ROOMS), "capacity": rng.choice([6, 8, 8, 10]),
                       "language": "sv" if rng.random() < 0.05 else "fi", "planning_notes": "", "break_weeks": "",
                       "session_minutes": minutes, "status": status, "facilitator1_id": f1, "facilitator2_id": f2,
                       "previous_round_id": None, "created_by_id": f1, "unit_id": ctx.unit_of[f1],
                       "created_at": _local(start_day - timedelta(days=30), time(12)),
                       "updated_at": stamp, "version": 1})
        hosts = set()
        if rng.random() < 0.3:
            hosts.add(BUSY_PARTNER)
        for _h in range(rng.choice([0, 1, 1, 2])):
            hosts.add(rng.choice(ctx.partner_ids))
        for p in sorted(hosts):
            group_partners.append({"id": len(group_partners) + 1, "group_id": g, "partner_id": p})
        members = rng.sample(clients_of[unit], k=min(len(clients_of[unit]), rng.randint(4, 8)))
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
            evaluations.append({"id": len(evaluations) + 1, "group_id": g,
                                "interesting": rng.choice(["yes", "partly"]),
                                "continue_decision": rng.choice(["yes", "with_changes", "no"]),
                                "what_worked": "Vertaistuki toimi.", "improvements": "Enemmän aikaa keskustelulle.",
                                "recorded_by_id": f1, "recorded_at": last})
    _link_rounds(random.Random(f"{ctx.seed_value}:rounds"), groups, evaluations, spans)
    progress, counts = ctx.progress, ctx.counts
    # In time order, so a next round's previous round is always in the table already (foreign key).
    counts["client_group"] = _insert(Group.__table__, sorted(groups, key=lambda g: (spans[g["id"]][0], g["id"])),
                                     progress)
    counts["group_session"] = _insert(GroupSession.__table__, sessions, progress)
    counts["group_partner"] = _insert(GroupPartner.__table__, group_partners, progress)
    counts["enrolment"] = _insert(Enrolment.__table__, enrolments, progress)
    counts["attendance"] = _insert(Attendance.__table__, attendance, progress)
    counts["group_evaluation"] = _insert(GroupEvaluation.__table__, evaluations, progress)


def _seed_meetings(ctx: SeedContext) -> None:
    """Network meetings, their participants and action items; follow-ups and carried items."""
    from meetings.models import ActionItem, Meeting, MeetingParticipant

    rng, stamp, now, today, sizes = ctx.rng, ctx.stamp, ctx.now, ctx.today, ctx.sizes
    first_day, last_day, span = ctx.first_day, ctx.last_day, ctx.span
    client_ids, workers_of, relatives_of = ctx.client_ids, ctx.workers_of, ctx.relatives_of
    partner_ids, contact_by_partner = ctx.partner_ids, ctx.contact_by_partner
    progress, counts = ctx.progress, ctx.counts
    progress.phase("building network meetings, participants and action items")
    # A share of meetings continue a client's series: the follow-up of an earlier meeting, four to
    # twelve weeks later, with the same participants (as schedule_follow_up arranges it). A held
    # follow-up has reviewed the previous meeting's open items (_review).
    meetings, participants, items = ctx.meetings, [], []
    per_meeting_items = sizes.items / sizes.meetings
    frng = random.Random(f"{ctx.seed_value}:follow-ups")
    series_ends: list[dict] = []  # meetings that have no follow-up yet
    parts_of: dict[int, list[dict]] = {}
    items_of: dict[int, list[dict]] = {}
    unit_of = {c["id"]: c["unit_id"] for c in ctx.clients}
    for m in range(1, sizes.meetings + 1):
        client = rng.choice(client_ids)
        day = first_day + timedelta(days=rng.randrange(span))
        previous = None
        if series_ends and frng.random() < FOLLOW_UP_SHARE:
            k = frng.randrange(len(series_ends))
            next_day = _local_date(series_ends[k]["starts_at"]) + timedelta(weeks=frng.randint(4, 12))
            if next_day <= last_day:
                previous = series_ends[k]
                series_ends[k] = series_ends[-1]
                series_ends.pop()
                client, day = previous["client_id"], next_day
        starts = _local(day, time(rng.choice([9, 10, 11, 13, 14]), rng.choice([0, 30])))
        past = starts < now
        cancelled = rng.random() < 0.04
        status = "cancelled" if cancelled else ("held" if past else "planned")
        creator = rng.choice(workers_of[client])
        meeting = {"id": m, "client_id": client, "unit_id": unit_of[client], "purpose": rng.choice(PURPOSES), "starts_at": starts,
                   "ends_at": starts + timedelta(minutes=rng.choice([60, 90])),
                   "place_kind": rng.choice(["office", "office", "partner_venue", "remote", "home_visit"]),
                   "place": "Sosiaaliasema", "remote_link": "", "status": status,
                   "worries": "" if not past else "Asuminen ja toimeentulo.",
                   "summary": "" if not past else "Sovittiin seuraavista askelista.",
                   "client_identification": "initials", "previous_meeting_id": previous["id"] if previous else None,
                   "sequence": 1 if cancelled else 0, "created_by_id": creator,
                   "created_at": min(now, starts - timedelta(days=14)), "updated_at": stamp, "version": 1}
        meetings.append(meeting)
        mine = []

        # Called only within this iteration: the defaults bind this meeting's values.
        def add(kind, m=m, past=past, cancelled=cancelled, mine=mine, **ids):
            pid = len(participants) + 1
            participants.append({"id": pid, "meeting_id": m, "kind": kind, "user_id": ids.get("user_id"),
                                 "contact_id": ids.get("contact_id"), "relative_id": ids.get("relative_id"),
                                 "invitation_status": "accepted", "attended": True if past and not cancelled else None})
            parts_of.setdefault(m, []).append(participants[-1])
            mine.append((kind, pid, ids.get("user_id")))

        if previous is not None:
            for p in parts_of[previous["id"]]:
                add(p["kind"], user_id=p["user_id"], contact_id=p["contact_id"], relative_id=p["relative_id"])
        else:
            add("client")
            for w in workers_of[client]:
                add("staff", user_id=w)
            partner_pool = [BUSY_PARTNER] if rng.random() < 0.2 else []
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
            items.append({"id": len(items) + 1, "meeting_id": m, "unit_id": meeting["unit_id"], "responsible_id": pid,
                          "what": rng.choice(TASKS),
                          "with_whom": "", "due_date": due, "status": item_status,
                          "status_changed_by": "", "status_changed_at": None, "carried_from_id": None,
                          "created_at": starts, "updated_at": stamp, "version": 1})
            items_of.setdefault(m, []).append(items[-1])
        if cancelled:
            if previous is not None:
                series_ends.append(previous)  # arranged again later, perhaps
            continue
        if previous is not None and status == "held":
            _review(frng, previous, meeting, parts_of, items_of, participants, items, today)
        series_ends.append(meeting)
    # An item is "carried" only when it continues in a follow-up; the rest were finished without one.
    continued = {i["carried_from_id"] for i in items if i["carried_from_id"]}
    for item in items:
        if item["status"] == "carried" and item["id"] not in continued:
            item["status"] = "done"
    _lead_open_tasks(meetings, participants, items, today, now)
    _relatives_listed(meetings, participants, parts_of, relatives_of, now)
    # The measured lead (user 1) leads unit 1: its meeting page is of a unit-1 client (another
    # unit's meeting answers 404, and a 404 is not the page measured).
    unit_one = {c["id"] for c in ctx.clients if c["unit_id"] == 1}
    ctx.measured_meeting = _measured_meeting([m for m in meetings if m["client_id"] in unit_one], participants,
                                             parts_of, items, relatives_of)
    counts["meeting"] = _insert(Meeting.__table__, meetings, progress)
    counts["meeting_participant"] = _insert(MeetingParticipant.__table__, participants, progress)
    counts["action_item"] = _insert(ActionItem.__table__, items, progress)



def _seed_feedback_step(ctx: SeedContext, state: dict) -> set[int]:
    """Feedback windows, responses and answers; returns the groups that have answers."""

    ctx.progress.phase("building feedback windows, responses and answers")
    state.update(_seed_feedback(ctx.rng, ctx.sessions, ctx.meetings, ctx.groups, ctx.sizes, ctx.now, ctx.today,
                                ctx.progress, ctx.counts))
    return state.pop("_answered_groups")


def _seed_calendar(ctx: SeedContext, state: dict) -> None:
    """A partner feed and the unit feed, subscribed through the feature's own service."""
    from accounts.models import User
    from calendar_export import services as cal
    from core.extensions import db

    _sub, token = cal.create_subscription(kind="partner", target_id=BUSY_PARTNER, label="Benchmark partner feed",
                                          created_by=db.session.get(User, 1))
    _unit, unit_token = cal.create_subscription(kind="unit", target_id=1, label="Benchmark unit feed",
                                                created_by=db.session.get(User, 1))
    db.session.commit()
    ctx.counts["calendar_subscription"] = 2
    state["partner_feed_token"] = token
    state["unit_feed_token"] = unit_token


def _seed_reminder_policies(ctx: SeedContext) -> None:

    from reminders.models import ReminderPolicy

    policies = []
    upcoming_groups = [g["id"] for g in ctx.groups if g["status"] in ("running", "enrolling", "planning")]
    upcoming_meetings = [m["id"] for m in ctx.meetings if m["status"] == "planned"]
    for kind, ids in (("group", upcoming_groups), ("meeting", upcoming_meetings)):
        for target in ids:
            policies.append({"id": len(policies) + 1, "target_kind": kind, "target_id": target, "day_before": True,
                             "day_before_at": time(16, 0), "same_morning": ctx.rng.random() < 0.3,
                             "same_morning_at": time(8, 0), "by_sms": True, "by_email": False,
                             "updated_by_id": None, "created_at": ctx.stamp, "updated_at": ctx.stamp, "version": 1})
    ctx.counts["reminder_policy"] = _insert(ReminderPolicy.__table__, policies, ctx.progress)
    ctx.skipped.append("reminders: outbox and follow-ups start empty (send-reminders fills the outbox)")


def _seed_outreach_step(ctx: SeedContext) -> dict:

    ctx.progress.phase("building outreach venues, schedules and visits")
    return _seed_outreach(random.Random(f"{ctx.seed_value}:outreach"), sizes=ctx.sizes, partners=ctx.partners,
                          workers=ctx.workers, first_day=ctx.first_day, today=ctx.today, now=ctx.now,
                          progress=ctx.progress, counts=ctx.counts)


def sample_ids(rng: random.Random, ids: list[int], k: int) -> list[int]:
    return sorted(rng.sample(ids, k=min(k, len(ids))))


def _local_date(moment: datetime) -> date:
    from core.timeutil import to_local

    return to_local(moment).date()


def _next_working_day(day: date) -> date:
    """The next weekday after ``day`` that is not a Finnish public holiday."""
    from core.timeutil import finnish_holiday

    day += timedelta(days=1)
    while day.weekday() >= 5 or finnish_holiday(day):
        day += timedelta(days=1)
    return day


# --- groups: next rounds ---------------------------------------------------------------------------

ROUND_GAP = timedelta(days=200)  # a next round starts within about half a year of the previous one


def _link_rounds(rng: random.Random, groups: list[dict], evaluations: list[dict],
                 spans: dict[int, tuple[datetime, datetime]]) -> None:
    """A group evaluated as worth continuing gets a next round: a later group with the same theme
    that starts within ROUND_GAP after it ended points back to it (``previous_round_id``)."""
    go_on = {e["group_id"] for e in evaluations if e["continue_decision"] in ("yes", "with_changes")}
    by_theme: dict[str, list[dict]] = {}
    for g in groups:
        by_theme.setdefault(g["theme"], []).append(g)
    for theme in sorted(by_theme):
        waiting: list[dict] = []  # earlier rounds not yet continued
        for g in sorted(by_theme[theme], key=lambda g: (spans[g["id"]][0], g["id"])):
            first = spans[g["id"]][0]
            candidates = [p for p in waiting if spans[p["id"]][1] <= first <= spans[p["id"]][1] + ROUND_GAP]
            if candidates and rng.random() < 0.7:
                previous = max(candidates, key=lambda p: (spans[p["id"]][1], p["id"]))
                g["previous_round_id"] = previous["id"]
                waiting.remove(previous)
            if g["id"] in go_on:
                waiting.append(g)


# --- meetings: follow-ups and carried items --------------------------------------------------------

FOLLOW_UP_SHARE = 0.6  # of the meetings, how many continue a series as a follow-up
LEAD_OPEN_TASKS = 8  # more than the start page's task panel shows (5), at every scale


def _same_person(a: dict, b: dict) -> bool:
    return all(a[k] == b[k] for k in ("kind", "user_id", "contact_id", "relative_id"))


def _review(rng: random.Random, previous: dict, meeting: dict, parts_of: dict[int, list[dict]],
            items_of: dict[int, list[dict]], participants: list[dict], items: list[dict], today: date) -> None:
    """A held follow-up has reviewed the previous meeting's open items (meetings.plan.review_item):
    each is done, dropped or carried, and a carried item continues as a new item of the follow-up
    (carried_from_id) with the same responsible person."""
    part_by_id = {p["id"]: p for p in parts_of[previous["id"]]}
    for item in list(items_of.get(previous["id"], [])):
        if item["status"] == "open":
            item["status"] = rng.choices(["done", "carried", "dropped"], [6, 3, 1])[0]
            item["status_changed_at"] = meeting["starts_at"]
        if item["status"] != "carried":
            continue
        who = part_by_id[item["responsible_id"]]
        match = next((p for p in parts_of[meeting["id"]] if _same_person(p, who)), None)
        if match is None:  # left out of the follow-up: invited to it, as the service does
            match = {**who, "id": len(participants) + 1, "meeting_id": meeting["id"], "invitation_status": "invited",
                     "attended": None}
            participants.append(match)
            parts_of[meeting["id"]].append(match)
        due = _local_date(meeting["starts_at"]) + timedelta(days=rng.randint(7, 60))
        status = (rng.choices(["done", "dropped"], [9, 1])[0] if due < today - timedelta(days=60)
                  else rng.choices(["open", "done"], [3, 1])[0])
        new = {**item, "id": len(items) + 1, "meeting_id": meeting["id"], "unit_id": meeting["unit_id"],
               "responsible_id": match["id"],
               "due_date": due, "status": status, "status_changed_by": "", "status_changed_at": None,
               "carried_from_id": item["id"], "created_at": meeting["starts_at"], "version": 1}
        items.append(new)
        items_of.setdefault(meeting["id"], []).append(new)


def _lead_open_tasks(meetings: list[dict], participants: list[dict], items: list[dict], today: date,
                     now: datetime) -> None:
    """Give the lead LEAD_OPEN_TASKS open tasks at every scale (a tiny data set may have none):
    new items in the lead's meetings nearest to now that no held follow-up has reviewed; when the
    lead is in too few meetings, the lead joins the nearest ones."""
    lead_part = {p["meeting_id"]: p for p in participants if p["kind"] == "staff" and p["user_id"] == 1}
    live = [m for m in meetings if m["status"] != "cancelled"]
    live_ids = {m["id"] for m in live}
    have = sum(1 for i in items if i["status"] == "open" and i["meeting_id"] in live_ids
               and i["meeting_id"] in lead_part and lead_part[i["meeting_id"]]["id"] == i["responsible_id"])
    missing = LEAD_OPEN_TASKS - have
    if missing <= 0:
        return
    reviewed = {m["previous_meeting_id"] for m in meetings if m["status"] == "held" and m["previous_meeting_id"]}
    open_to_tasks = sorted((m for m in live if m["id"] not in reviewed), key=lambda m: (abs(m["starts_at"] - now), m["id"]))
    chosen = [m for m in open_to_tasks if m["id"] in lead_part][:3]
    for m in open_to_tasks:
        if len(chosen) >= 3:
            break
        if m["id"] not in lead_part:
            p = {"id": len(participants) + 1, "meeting_id": m["id"], "kind": "staff", "user_id": 1, "contact_id": None,
                 "relative_id": None, "invitation_status": "accepted",
                 "attended": True if m["status"] == "held" else None}
            participants.append(p)
            lead_part[m["id"]] = p
            chosen.append(m)
    for n in range(missing if chosen else 0):
        m = chosen[n % len(chosen)]
        items.append({"id": len(items) + 1, "meeting_id": m["id"], "unit_id": m["unit_id"],
                      "responsible_id": lead_part[m["id"]]["id"],
                      "what": TASKS[n % len(TASKS)], "with_whom": "",
                      "due_date": max(_local_date(m["starts_at"]), today) + timedelta(days=7 * (n + 1)),
                      "status": "open", "status_changed_by": "", "status_changed_at": None, "carried_from_id": None,
                      "created_at": min(now, m["starts_at"]), "updated_at": now, "version": 1})


def _relatives_listed(meetings: list[dict], participants: list[dict], parts_of: dict[int, list[dict]],
                      relatives_of: dict[int, list[int]], now: datetime) -> None:
    """The meeting list's first rows, coming and past, have a relative among the participants at
    every scale (a tiny data set may by chance have none there, which skips a load)."""
    coming = sorted((m for m in meetings if m["ends_at"] >= now), key=lambda m: (m["starts_at"], m["id"]))
    past = sorted((m for m in meetings if m["ends_at"] < now), key=lambda m: (m["starts_at"], m["id"]), reverse=True)
    for rows in (coming[:5], past[:5]):
        if any(p["kind"] == "relative" for m in rows for p in parts_of.get(m["id"], [])):
            continue
        for m in rows:
            if relatives_of.get(m["client_id"]) and m["status"] != "cancelled":
                held = m["status"] == "held"
                p = {"id": len(participants) + 1, "meeting_id": m["id"], "kind": "relative", "user_id": None,
                     "contact_id": None, "relative_id": relatives_of[m["client_id"]][0],
                     "invitation_status": "accepted", "attended": True if held else None}
                participants.append(p)
                parts_of.setdefault(m["id"], []).append(p)
                break


# --- outreach ----------------------------------------------------------------------------------

def _seed_outreach(rng: random.Random, *, sizes: Sizes, partners: list[dict], workers: list[int], first_day: date,
                   today: date, now: datetime, progress: Progress, counts: dict) -> dict:
    """Outreach as the feature's own ``outreach generate`` and visit pages would have left five
    years of it: venues at partners with their agreed schedule (monthly on the nth or last
    weekday, fortnightly or weekly; summer breaks, now and then a break range; public holidays
    skipped), every visit of the schedule from its start to the generation horizon (three
    months ahead), a few moved or added by hand, staff pairs from each venue's team (which
    changes a little every year; now and then someone new to the venue), cancelled visits, the
    anonymous counts of visits done, recent ones still waiting for their counts and coming ones
    not yet fully staffed. The lead is in the team of venue 1 (the busy partner's weekly drop-in)
    and has, at every scale, a visit in the next two weeks and one waiting for counts."""
    from outreach import services as osv
    from outreach.models import LAST, OutreachRule, OutreachVenue, OutreachVisit, VisitReport

    horizon = osv.horizon_end(today)
    span = (today - first_day).days
    venues, rules, visits, reports = [], [], [], []
    teams: dict[int, dict[int, list[int]]] = {}  # venue -> year -> team
    for v in range(1, sizes.venues + 1):
        partner = partners[(v - 1) % len(partners)]
        valid_from = first_day if v == 1 or rng.random() < 0.5 else first_day + timedelta(days=rng.randrange(span - 120))
        valid_until = None
        if v != 1 and rng.random() < 0.15:  # the venue closed or the partner ended the visits
            latest = (today - timedelta(days=30) - valid_from).days
            if latest > 180:
                valid_until = valid_from + timedelta(days=rng.randrange(180, latest))
        frequency = "weekly" if v == 1 else rng.choices(["monthly", "fortnightly", "weekly"], [55, 25, 20])[0]
        weekday = rng.randrange(5)
        nth = rng.choice([1, 2, 3, 4, LAST])
        start = time(rng.choice([9, 10, 12, 13, 14]), rng.choice([0, 0, 30]))
        end = (datetime.combine(today, start) + timedelta(minutes=rng.choice([90, 120, 120, 180]))).time()
        break_months = "" if v == 1 else rng.choices(["7", "6,7", "6,7,8", ""], [45, 25, 10, 20])[0]
        break_from = break_until = None
        if rng.random() < 0.1:  # renovation, the partner's own break
            break_from = valid_from + timedelta(days=rng.randrange(max(1, (horizon - valid_from).days)))
            break_until = break_from + timedelta(days=rng.randint(14, 42))
        created = _local(valid_from - timedelta(days=14), time(12))
        changed = _local(valid_until, time(16)) if valid_until else created
        active = valid_until is None
        venues.append({"id": v, "partner_id": partner["id"],
                       "name": f"{OUTREACH_PLACES[(v - 1) % len(OUTREACH_PLACES)]} {v}",
                       "address": partner["address"], "active": active, "created_at": created,
                       "updated_at": changed, "version": 2 if valid_until else 1})
        rules.append({"id": v, "venue_id": v, "frequency": "monthly" if frequency == "monthly" else "weekly",
                      "nth": nth, "weekday": weekday, "interval_weeks": 2 if frequency == "fortnightly" else 1,
                      "start_time": start, "end_time": end, "valid_from": valid_from, "valid_until": valid_until,
                      "break_months": break_months, "break_from": break_from, "break_until": break_until,
                      "updated_at": changed, "version": 2 if valid_until else 1})
        spec = osv.RuleSpec(frequency=rules[-1]["frequency"], weekday=weekday, valid_from=valid_from, nth=nth,
                            interval_weeks=rules[-1]["interval_weeks"], valid_until=valid_until,
                            break_months=tuple(int(m) for m in break_months.split(",") if m),
                            break_from=break_from, break_until=break_until)
        days = osv.rule_dates(spec, valid_from, horizon if active else valid_until + timedelta(days=1))
        # The venue's team: three or four workers, one changed every year; the lead goes to venue 1.
        team = rng.sample(workers, k=min(len(workers), rng.choice([3, 4])))
        if v == 1:
            team[0] = 1
        by_year: dict[int, list[int]] = {}
        for year in range(first_day.year, horizon.year + 1):
            by_year[year] = list(team)
            others = [w for w in workers if w not in team]
            if others:
                team[rng.randrange(1 if v == 1 else 0, len(team))] = rng.choice(others)
        teams[v] = by_year
        popularity = rng.uniform(2, 9)
        for day in days:
            _outreach_visit(rng, visits, reports, v, day, day, start, end, by_year[day.year], workers, popularity,
                            created, now)
            if rng.random() < 0.02:  # an extra visit agreed by hand (no rule date)
                extra = _next_working_day(day)
                if extra < (horizon if active else valid_until):
                    _outreach_visit(rng, visits, reports, v, None, extra, start, end, by_year[extra.year], workers,
                                    popularity, created, now)
    _lead_outreach(visits, reports, teams, now, start_of_venue_1=rules[0]["start_time"],
                   end_of_venue_1=rules[0]["end_time"])
    counts["outreach_venue"] = _insert(OutreachVenue.__table__, venues, progress)
    counts["outreach_rule"] = _insert(OutreachRule.__table__, rules, progress)
    counts["outreach_visit"] = _insert(OutreachVisit.__table__, visits, progress)
    counts["outreach_visit_report"] = _insert(VisitReport.__table__, reports, progress)
    return {"venues": venues, "rules": rules, "visits": visits, "reports": reports}


def _outreach_visit(rng, visits, reports, venue_id, rule_date, day, start, end, team, workers, popularity,
                    venue_created, now) -> dict:
    starts, ends = _local(day, start), _local(day, end)
    sequence = 0
    if rng.random() < 0.04:  # moved: an hour later, or the next working day
        if rng.random() < 0.5:
            starts, ends = starts + timedelta(hours=1), ends + timedelta(hours=1)
        else:
            moved = _next_working_day(day)
            starts, ends = _local(moved, start), _local(moved, end)
        sequence += 1
    ahead = starts - now
    if ahead <= timedelta(0):
        if rng.random() < 0.06:
            status = "cancelled"
        elif ahead > -timedelta(days=14) and rng.random() < 0.4:
            status = "scheduled"  # counts not recorded yet
        else:
            status = "done"
        staffed = rng.choices([2, 1], [97, 3])[0]
    else:
        status = "cancelled" if rng.random() < 0.03 else "scheduled"
        staffed = rng.choices([2, 1, 0], [90, 7, 3] if ahead < timedelta(days=28) else [55, 25, 20])[0]
    pair = rng.sample(team, k=min(staffed, len(team)))
    if pair and rng.random() < 0.1:  # someone new to the venue stands in
        others = [w for w in workers if w not in pair]
        if others:
            pair[-1] = rng.choice(others)
    staff1, staff2 = (pair + [None, None])[:2]
    created = max(venue_created, min(now, starts - timedelta(days=rng.randint(60, 100))))
    updated = created
    if pair:
        sequence += 1
        updated = min(now, max(updated, starts - timedelta(days=rng.randint(3, 40))))
    if status == "cancelled":
        sequence += 1
        updated = min(now, max(created, starts - timedelta(days=rng.randint(0, 10))))
    visit = {"id": len(visits) + 1, "venue_id": venue_id, "starts_at": starts, "ends_at": ends, "status": status,
             "sequence": sequence, "rule_date": rule_date, "staff1_id": staff1, "staff2_id": staff2,
             "created_at": created, "updated_at": updated, "version": 1 + sequence}
    visits.append(visit)
    if status == "done":
        recorded = min(now, ends + timedelta(hours=rng.randint(1, 30)))
        visit["sequence"] += 1
        visit["version"] += 1
        visit["updated_at"] = max(updated, recorded)
        people = max(0, round(rng.gauss(popularity, popularity / 2)))

        def share(p):
            return sum(1 for _ in range(people) if rng.random() < p)

        reports.append({"id": len(reports) + 1, "visit_id": visit["id"], "people_met": people,
                        "topic_benefits": share(0.35), "topic_housing": share(0.2), "topic_money": share(0.25),
                        "topic_health": share(0.15), "topic_other": share(0.1), "guided_onward": share(0.15),
                        "appointments_booked": share(0.1), "recorded_by_id": staff1 or staff2,
                        "created_at": recorded, "updated_at": recorded, "version": 1})
    return visit


def _lead_outreach(visits, reports, teams, now, *, start_of_venue_1, end_of_venue_1) -> None:
    """At every scale the lead has an outreach visit in the next two weeks and one from the last
    two weeks waiting for counts (the start page's outreach panel), paired with a worker."""
    def with_lead(visit):
        if 1 in (visit["staff1_id"], visit["staff2_id"]):
            return
        partner = visit["staff1_id"] or next(w for w in teams[visit["venue_id"]][_local_date(visit["starts_at"]).year]
                                             if w != 1)
        visit["staff1_id"], visit["staff2_id"] = 1, partner
        visit["sequence"] += 1
        visit["version"] += 1

    def lead_has(lo, hi):
        return any(v["status"] == "scheduled" and lo <= v["starts_at"] < hi and 1 in (v["staff1_id"], v["staff2_id"])
                   for v in visits)

    soon = now + timedelta(days=14)
    if not lead_has(now, soon):
        coming = [v for v in visits if v["status"] == "scheduled" and now <= v["starts_at"] < soon]
        if coming:
            with_lead(min(coming, key=lambda v: (v["starts_at"], v["id"])))
        else:  # no visit anywhere in the next two weeks (holidays, breaks): one agreed by hand at venue 1
            day = _next_working_day(_local_date(now))
            visits.append({"id": len(visits) + 1, "venue_id": 1, "starts_at": _local(day, start_of_venue_1),
                           "ends_at": _local(day, end_of_venue_1), "status": "scheduled", "sequence": 0,
                           "rule_date": None, "staff1_id": None, "staff2_id": None, "created_at": now,
                           "updated_at": now, "version": 1})
            with_lead(visits[-1])
    recent = now - timedelta(days=14)
    if not lead_has(recent, now):
        past = [v for v in visits if v["status"] != "cancelled" and recent <= v["starts_at"] < now]
        if past:
            visit = max(past, key=lambda v: (v["starts_at"], v["id"]))
            if visit["status"] == "done":  # the counts are not in yet after all
                reports[:] = [r for r in reports if r["visit_id"] != visit["id"]]
                for n, r in enumerate(reports, start=1):
                    r["id"] = n
                visit["status"] = "scheduled"
            with_lead(visit)
        else:
            day = _local_date(now) - timedelta(days=1)
            while day.weekday() >= 5:
                day -= timedelta(days=1)
            visits.append({"id": len(visits) + 1, "venue_id": 1, "starts_at": _local(day, start_of_venue_1),
                           "ends_at": _local(day, end_of_venue_1), "status": "scheduled", "sequence": 0,
                           "rule_date": None, "staff1_id": None, "staff2_id": None,
                           "created_at": now - timedelta(days=7), "updated_at": now - timedelta(days=7), "version": 1})
            with_lead(visits[-1])


# --- the records the query counts measure --------------------------------------------------------

def pick(rows: list[dict], checks: list[tuple[str, object]]) -> tuple[int | None, list[str]]:
    """The first row (in id order) that passes every check; when none does, the first that passes
    the longest run of checks from the start (they are listed most important first). Returns the
    row's id and the names of the checks it passes, so a report can say when two data sets could
    not give the same shape."""
    rows = sorted(rows, key=lambda r: r["id"])
    for n in range(len(checks), -1, -1):
        for row in rows:
            if all(check(row) for _name, check in checks[:n]):
                return row["id"], [name for name, _check in checks[:n]]
    return None, []


def _measured_meeting(meetings: list[dict], participants: list[dict], parts_of: dict[int, list[dict]],
                      items: list[dict], relatives_of: dict[int, list[int]]) -> dict:
    """The meeting page's record, picked before the meetings go in: when the chosen meeting has
    no relative among its participants but its client has one, the relative is invited (a tiny
    data set may have no meeting with everything; a relative's name is one more load)."""
    kinds: dict[int, set[str]] = {}
    lead_in: set[int] = set()
    for p in participants:
        kinds.setdefault(p["meeting_id"], set()).add(p["kind"])
        if p["kind"] == "staff" and p["user_id"] == 1:
            lead_in.add(p["meeting_id"])
    carried_in = {i["meeting_id"] for i in items if i["carried_from_id"]}
    # item_histories runs one query per step back: the measured meeting's history is one step deep.
    item_by_id = {i["id"]: i for i in items}
    deeper = {i["meeting_id"] for i in items if i["carried_from_id"] and item_by_id[i["carried_from_id"]]["carried_from_id"]}
    carried_on = {i["meeting_id"] for i in items if i["status"] == "carried"}
    statuses: dict[int, set[str]] = {}
    for i in items:
        statuses.setdefault(i["meeting_id"], set()).add(i["status"])
    checks = [
        ("held", lambda m: m["status"] == "held"),
        ("the lead not a participant", lambda m: m["id"] not in lead_in),
        ("staff and partner participants", lambda m: {"staff", "partner"} <= kinds.get(m["id"], set())),
        ("a previous meeting", lambda m: m["previous_meeting_id"] is not None),
        ("items carried in, from the previous meeting only", lambda m: m["id"] in carried_in - deeper),
        ("items carried on", lambda m: m["id"] in carried_on),
        ("items done", lambda m: "done" in statuses.get(m["id"], set())),
    ]
    with_relative = ("a relative", lambda m: "relative" in kinds.get(m["id"], set()))
    meeting_id, shape = pick(meetings, checks + [with_relative])
    if "a relative" not in shape:
        chosen, shape = pick(meetings, checks + [("the client has a relative", lambda m: bool(relatives_of.get(m["client_id"])))])
        if "the client has a relative" in shape:
            m = next(m for m in meetings if m["id"] == chosen)
            p = {"id": len(participants) + 1, "meeting_id": chosen, "kind": "relative", "user_id": None,
                 "contact_id": None, "relative_id": relatives_of[m["client_id"]][0], "invitation_status": "accepted",
                 "attended": True}
            participants.append(p)
            parts_of.setdefault(chosen, []).append(p)
            meeting_id, shape = chosen, shape[:-1] + ["a relative"]
    return {"meeting_id": meeting_id, "meeting_shape": shape}


def _measured(groups, group_partners, evaluations, answered_groups, measured_meeting, outreach) -> dict:
    """One group, meeting, outreach venue and visit with the same shape in any data set, for the
    query counts: a difference in the count of statements then means a query per row, not a
    list that happened to be empty (an empty list skips its eager loads)."""
    partnered = {gp["group_id"] for gp in group_partners}
    evaluated = {e["group_id"] for e in evaluations}
    group_id, group_shape = pick(groups, [
        ("evaluated", lambda g: g["status"] == "evaluated" and g["id"] in evaluated),
        ("two facilitators, neither the lead", lambda g: g["facilitator2_id"] is not None
         and 1 not in (g["facilitator1_id"], g["facilitator2_id"])),
        ("partners", lambda g: g["id"] in partnered),
        ("feedback responses", lambda g: g["id"] in answered_groups),
        ("a previous round", lambda g: g["previous_round_id"] is not None),
    ])
    measured = {"group_id": group_id, "group_shape": group_shape, **measured_meeting}
    if outreach:
        now_visits = outreach["visits"]
        reported = {r["visit_id"] for r in outreach["reports"]}
        venue_visits: dict[int, set[str]] = {}
        for v in now_visits:
            venue_visits.setdefault(v["venue_id"], set()).add(v["status"])
        visit_id, visit_shape = pick(now_visits, [
            ("done", lambda v: v["status"] == "done"),
            ("counts recorded", lambda v: v["id"] in reported),
            ("two workers, neither the lead", lambda v: v["staff2_id"] is not None
             and 1 not in (v["staff1_id"], v["staff2_id"])),
            ("from the schedule", lambda v: v["rule_date"] is not None),
        ])
        venue_id, venue_shape = pick(outreach["venues"], [
            ("active", lambda v: v["active"]),
            ("visits done and coming", lambda v: {"done", "scheduled"} <= venue_visits.get(v["id"], set())),
            ("not the lead's venue", lambda v: v["id"] != 1),
            ("a cancelled visit", lambda v: "cancelled" in venue_visits.get(v["id"], set())),
        ])
        measured.update({"outreach_venue_id": venue_id, "outreach_venue_shape": venue_shape,
                         "outreach_visit_id": visit_id, "outreach_visit_shape": visit_shape})
    return measured


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
            rid = f"{rng.getrandbits(128):032x}"
            responses.append({"id": rid, "window_id": wid, "answered_on": day,
                              "comment": rng.choice(COMMENTS) if rng.random() < 0.15 else ""})
            base = rng.randint(5, 10)
            for item_id in item_ids[kind]:
                answers.append({"response_id": rid, "item_id": item_id,
                                "value": max(0, min(10, base + rng.randint(-2, 1)))})
    counts["feedback_response"] = _insert(FeedbackResponse.__table__, responses, progress)
    counts["feedback_answer"] = _insert(FeedbackAnswer.__table__, answers, progress)
    group_of_window = {w["id"]: w["group_id"] for w in windows if w["group_id"]}
    answered = {group_of_window[r["window_id"]] for r in responses if r["window_id"] in group_of_window}
    return {"open_windows": open_windows, "reserved_windows": min(RESERVED_WINDOWS, len(open_windows) // 2),
            "session_item_ids": item_ids["session"], "_answered_groups": answered}


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
    parser.add_argument("--upgrade", action="store_true",
                        help="only bring a database seeded earlier to the code's schema (its migrations)")
    args = parser.parse_args(argv)
    if args.upgrade:
        print("migrated" if upgrade_seeded(args.database_url) else "already at the code's schema")
        return
    started = _time.monotonic()
    state = seed(args.database_url, scale=args.scale, seed_value=args.seed, progress=not args.quiet)
    state["seconds"] = round(_time.monotonic() - started, 1)
    if args.state:
        Path(args.state).parent.mkdir(parents=True, exist_ok=True)
        Path(args.state).write_text(json.dumps(state, indent=2))
    print(json.dumps({"seconds": state["seconds"], "counts": state["counts"], "skipped": state["skipped"]}, indent=2))


if __name__ == "__main__":
    main()
