"""The outreach figures for the city as a CSV (#25.4): one row per venue and month or quarter, in
the download's language, with k-suppression by the same threshold as feedback
(FEEDBACK_MIN_RESPONSES): a figure about fewer than k people is not shown (zero is shown, it
names no one). No names and nothing but counts leave the app."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, time

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal, format_percent, gettext as _
from sqlalchemy.orm import joinedload

from core.csvfile import csv_bytes
from core.extensions import db
from core.timeutil import local_to_utc, to_local
from feedback import suppression

from .forms import TOPIC_LABELS
from .models import TOPICS, OutreachVenue, OutreachVisit, VisitStatus
from .services import add_months

PEOPLE_FIELDS = ("people_met", "people_new", *(f"topic_{t}" for t in TOPICS), "errands_sorted", "referred")


def threshold() -> int:
    return suppression.min_responses(current_app.config.get("FEEDBACK_MIN_RESPONSES"))


def period_of(day: date, by: str) -> date:
    if by == "year":
        return date(day.year, 1, 1)
    month = day.month if by == "month" else (day.month - 1) // 3 * 3 + 1
    return date(day.year, month, 1)


def period_label(start: date, by: str) -> str:
    if by == "year":
        return str(start.year)
    return f"{start:%Y-%m}" if by == "month" else f"{start.year} Q{(start.month - 1) // 3 + 1}"


def figures(months: list[date], by: str) -> dict[tuple[int, date], dict[str, int]]:
    """(venue id, period start) -> counts: visits held and cancelled, and the people fields."""
    start_utc = local_to_utc(months[0], time(0, 0))
    end_utc = local_to_utc(add_months(months[-1], 1), time(0, 0))
    stmt = (sa.select(OutreachVisit)
            .where(OutreachVisit.starts_at >= start_utc, OutreachVisit.starts_at < end_utc,
                   OutreachVisit.status != VisitStatus.SCHEDULED.value)
            .options(joinedload(OutreachVisit.report)))
    out: dict[tuple[int, date], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("held", "cancelled", *PEOPLE_FIELDS), 0))
    for visit in db.session.scalars(stmt):
        row = out[(visit.venue_id, period_of(to_local(visit.starts_at).date(), by))]
        report = visit.report
        if visit.status == VisitStatus.CANCELLED.value or (report is not None and not report.held):
            row["cancelled"] += 1
            continue
        row["held"] += 1
        if report is None:
            continue
        for name in PEOPLE_FIELDS[:-1]:
            row[name] += getattr(report, name)
        row["referred"] += report.referred_office + report.referred_kela + report.guided_onward
    return out


def _few(n: int, k: int) -> bool:
    return 0 < n < k


def report_csv(months: list[date], by: str) -> bytes:
    header, rows = table(months, by)
    return csv_bytes([header, *rows])


def table(months: list[date], by: str) -> tuple[list[str], list[list[str]]]:
    """Each people figure is hidden when it is about fewer than k people. A quarter's figure is
    hidden too when the figure of any of its months is hidden, so the quarter file less the shown
    months cannot give a hidden month. The share new is hidden when the new or the already known
    are fewer than k (the share times the people met would give them)."""
    k = threshold()
    hidden = _("fewer than %(k)d", k=k)
    monthly = figures(months, "month")
    if by == "month":
        data = {key: (row, set()) for key, row in monthly.items()}
    else:
        data = {}
        for (venue_id, start), row in monthly.items():
            key = (venue_id, period_of(start, by))
            total, tainted = data.setdefault(key, (dict.fromkeys(row, 0), set()))
            for name, value in row.items():
                total[name] += value
                if _few(value, k):
                    tainted.add(name)
            if _few(row["people_new"], k) or _few(row["people_met"] - row["people_new"], k):
                tainted.add("share")

    header = [_("Venue"), _("Period"), _("Visits held"), _("Visits cancelled"), _("People met"),
              _("Share new to services"), *(str(TOPIC_LABELS[t]) for t in TOPICS), _("Errand sorted on the spot"),
              _("Referred on")]
    rows: list[list] = []
    venues = {v.id: v.name for v in db.session.scalars(sa.select(OutreachVenue))}
    for (venue_id, start), (row, tainted) in sorted(data.items(), key=lambda item: (venues[item[0][0]], item[0][1])):

        def people(name: str, row=row, tainted=tainted):  # called within this iteration only
            n = row[name]
            return hidden if _few(n, k) or name in tainted else format_decimal(n)

        met, new = row["people_met"], row["people_new"]
        if not met:
            share = ""
        elif _few(met, k) or _few(new, k) or _few(met - new, k) or "share" in tainted or "people_met" in tainted:
            share = hidden
        else:
            share = format_percent(new / met)
        rows.append([venues[venue_id], period_label(start, by), format_decimal(row["held"]),
                     format_decimal(row["cancelled"]), people("people_met"), share,
                     *(people(f"topic_{t}") for t in TOPICS), people("errands_sorted"), people("referred")])
    return header, rows
