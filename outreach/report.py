"""The outreach figures for the city (#25.4): the lead's report page, its charts, the CSV by month
or quarter, the yearly board page and a venue's trial review all read them from ``suppressed``,
the one k-suppression rule (threshold FEEDBACK_MIN_RESPONSES, as feedback).

The rule: figures are first counted per venue and month (the finest cell any view can show). A
figure about people is hidden when it is about fewer than k people (zero is shown, it names no
one). Every shown number is a sum of such monthly cells, and a sum is hidden as soon as one of its
cells is hidden. So whatever anyone shows next to anything else (a total against its venues, a
quarter against its months, 6 months against 7, one venue against all), every shown number is
built only from cells that could be shown on their own, and no difference of shown numbers can
give a hidden cell. No names and nothing but counts leave the app."""
from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, time
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_babel import format_decimal, format_percent, gettext as _
from flask_login import current_user

from core.csvfile import csv_bytes
from core.extensions import db
from core.timeutil import local_to_utc, to_local
from feedback import suppression
from outreach.services import reported_venue_ids

from .forms import TOPIC_LABELS
from .models import TOPICS, OutreachVenue, OutreachVisit, VisitReport, VisitStatus
from .services import add_months

VISIT_FIELDS = ("held", "cancelled")
# people_known (met less new) is never shown as a column, but the share new would give it away
# next to the people met, so it is a cell of its own that can hide the share.
PEOPLE_FIELDS = ("people_met", "people_new", "people_known", *(f"topic_{t}" for t in TOPICS), "errands_sorted",
                 "referred", "appointments_booked")

Row = dict[str, int | None]   # None: hidden
Key = TypeVar("Key", bound=Hashable)   # what ``suppressed`` sums the monthly cells into


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


_COUNTED = ("people_met", "people_new", *(f"topic_{t}" for t in TOPICS), "errands_sorted", "appointments_booked")


def figures(months: list[date], *, venue_id: int | None = None) -> dict[tuple[int, date], dict[str, int]]:
    """The raw counts, (venue id, month start) -> held and cancelled visits and the people fields.
    Never shown as such: every page goes through ``suppressed``. One query, once per request
    for the same months and venue (the report page sums them three ways)."""
    if not has_request_context():  # a shell's or test's long app context may change the data between calls
        return _figures(months, venue_id)
    key = (tuple(months), venue_id, getattr(current_user, "id", None))
    memo = g.setdefault("outreach_figures", {})
    if key not in memo:
        memo[key] = _figures(months, venue_id)
    return {cell: dict(row) for cell, row in memo[key].items()}


def _figures(months: list[date], venue_id: int | None) -> dict[tuple[int, date], dict[str, int]]:
    start_utc = local_to_utc(months[0], time(0, 0))
    end_utc = local_to_utc(add_months(months[-1], 1), time(0, 0))
    # Columns, not ORM objects: a county lead's year is thousands of visits, each loaded with its
    # report and tracked by the session only to be summed.
    stmt = (sa.select(OutreachVisit.venue_id, OutreachVisit.starts_at, OutreachVisit.status, VisitReport.held,
                      *(getattr(VisitReport, name) for name in _COUNTED),
                      VisitReport.referred_office, VisitReport.referred_kela, VisitReport.guided_onward)
            .outerjoin(VisitReport, VisitReport.visit_id == OutreachVisit.id)
            .where(OutreachVisit.starts_at >= start_utc, OutreachVisit.starts_at < end_utc,
                   OutreachVisit.status != VisitStatus.SCHEDULED.value,
                   OutreachVisit.venue_id.in_(reported_venue_ids(current_user))))  # the lead's units'
    if venue_id is not None:
        stmt = stmt.where(OutreachVisit.venue_id == venue_id)
    out: dict[tuple[int, date], dict[str, int]] = {}
    for visit in db.session.execute(stmt).mappings():
        local = to_local(visit["starts_at"]).date()
        row = out.setdefault((visit["venue_id"], date(local.year, local.month, 1)),
                             dict.fromkeys((*VISIT_FIELDS, *PEOPLE_FIELDS), 0))
        reported = visit["held"] is not None  # the outer join found a report
        # A visit recorded as not held counts as cancelled.
        if visit["status"] == VisitStatus.CANCELLED.value or (reported and not visit["held"]):
            row["cancelled"] += 1
            continue
        row["held"] += 1
        if not reported:
            continue
        for name in _COUNTED:
            row[name] += visit[name]
        row["people_known"] += visit["people_met"] - visit["people_new"]
        # Referred on anywhere: the office, Kela or a partner.
        row["referred"] += visit["referred_office"] + visit["referred_kela"] + visit["guided_onward"]
    return out


def empty_row() -> Row:
    return dict.fromkeys((*VISIT_FIELDS, *PEOPLE_FIELDS), 0)


def suppressed(months: list[date], group: Callable[[int, date], Key], *,
               venue_id: int | None = None) -> dict[Key, Row]:
    """The one rule (see the module's docstring): monthly cells of ``figures`` summed into the
    groups ``group(venue id, month)`` gives; a people figure is None (hidden) when any of its
    monthly cells is about 1..k-1 people. Visit counts name no one and are always shown."""
    k = threshold()
    out: dict[Key, Row] = {}
    for (venue_id_, month), cells in figures(months, venue_id=venue_id).items():
        total = out.setdefault(group(venue_id_, month), empty_row())
        for name, value in cells.items():
            current = total[name]
            if current is None:
                continue
            total[name] = None if name in PEOPLE_FIELDS and 0 < value < k else current + value
    return out


def by_period(months: list[date], by: str, *, venue_id: int | None = None) -> dict[tuple[int, date], Row]:
    """(venue id, start of the month, quarter or year) -> figures."""
    return suppressed(months, lambda v, m: (v, period_of(m, by)), venue_id=venue_id)


def by_venue(months: list[date], *, venue_id: int | None = None) -> dict[int, Row]:
    return suppressed(months, lambda v, m: v, venue_id=venue_id)


def overall(months: list[date]) -> Row:
    return suppressed(months, lambda v, m: None).get(None) or empty_row()


def share_new(row: Row) -> float | None:
    """The share new to services, or None when hidden: the share times the people met gives the
    new and the already known, so it is shown only when all three are."""
    if row["people_met"] is None or row["people_new"] is None or row["people_known"] is None:
        return None
    return row["people_new"] / row["people_met"] if row["people_met"] else 0.0


def per_visit(row: Row) -> float | None:
    """People met per visit held: times the visits it gives the people met, so hidden with them."""
    if row["people_met"] is None:
        return None
    return row["people_met"] / row["held"] if row["held"] else 0.0


def hidden_text(k: int | None = None) -> str:
    return _("fewer than %(k)d", k=threshold() if k is None else k)


def report_csv(months: list[date], by: str) -> bytes:
    header, rows = table(months, by)
    return csv_bytes([header, *rows])


def table(months: list[date], by: str) -> tuple[list[str], list[list[str]]]:
    """The CSV's and the yearly page's rows: one per venue and period."""
    hidden = hidden_text()

    def show(value: int | None) -> str:
        return hidden if value is None else format_decimal(value)

    header = [_("Venue"), _("Period"), _("Visits held"), _("Visits cancelled"), _("People met"),
              _("Share new to services"), *(str(TOPIC_LABELS[t]) for t in TOPICS), _("Errand sorted on the spot"),
              _("Referred on")]
    venues = {v.id: v.name for v in db.session.scalars(sa.select(OutreachVenue))}
    rows: list[list[str]] = []
    data = by_period(months, by)
    for (venue_id, start), row in sorted(data.items(), key=lambda item: (venues[item[0][0]], item[0][1])):
        share = share_new(row)
        rows.append([venues[venue_id], period_label(start, by), show(row["held"]), show(row["cancelled"]),
                     show(row["people_met"]),
                     "" if row["people_met"] == 0 else (hidden if share is None else format_percent(share)),
                     *(show(row[f"topic_{t}"]) for t in TOPICS), show(row["errands_sorted"]), show(row["referred"])])
    return header, rows
