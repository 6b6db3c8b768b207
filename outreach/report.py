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
    month = day.month if by == "month" else (day.month - 1) // 3 * 3 + 1
    return date(day.year, month, 1)


def period_label(start: date, by: str) -> str:
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


def report_csv(months: list[date], by: str) -> bytes:
    k = threshold()
    hidden = _("fewer than %(k)d", k=k)

    def people(n: int):
        return hidden if 0 < n < k else format_decimal(n)

    header = [_("Venue"), _("Period"), _("Visits held"), _("Visits cancelled"), _("People met"),
              _("Share new to services"), *(str(TOPIC_LABELS[t]) for t in TOPICS), _("Errand sorted on the spot"),
              _("Referred on")]
    rows: list[list] = [header]
    venues = {v.id: v.name for v in db.session.scalars(sa.select(OutreachVenue))}
    data = figures(months, by)
    for (venue_id, start), row in sorted(data.items(), key=lambda item: (venues[item[0][0]], item[0][1])):
        met = row["people_met"]
        share = (format_percent(row["people_new"] / met) if met >= k else
                 (hidden if met else ""))
        rows.append([venues[venue_id], period_label(start, by), format_decimal(row["held"]),
                     format_decimal(row["cancelled"]), people(met), share,
                     *(people(row[f"topic_{t}"]) for t in TOPICS), people(row["errands_sorted"]),
                     people(row["referred"])])
    return csv_bytes(rows)
